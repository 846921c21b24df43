// Package redact removes secrets from text before anything touches disk, and
// reports which kinds it removed. It knows AWS keys, GitHub/GitLab/Slack
// tokens, JWTs, private key blocks, password=..., mysql-style -p<pw>,
// Authorization headers, URLs with credentials and values of variables named
// *TOKEN*/*SECRET*/*PASSWORD*/*KEY*, plus vendor keys with a recognisable
// prefix (Stripe, Google, npm, OpenAI, Anthropic, Hugging Face, SendGrid,
// PyPI).
//
// It runs inside the hook on every string of every event, so it is built
// for the common case of no secret at all: String makes one pass over the
// input, and only at bytes that can start a trigger ("ghp_", "AKIA",
// "password", "://", ...) does it look further, with hand-written matchers
// rather than regular expressions. The cost is linear in the input with no
// compile step in New.
//
// Only the secret is replaced; the key, the scheme or the user name around
// it stay, so a redacted command is still readable:
//
//	mysql -uroot -p[REDACTED:mysql_password] shop
//	https://deploy:[REDACTED:url_credentials]@git.example.com/x.git
//
// Redaction is idempotent: markers are never matched again.
package redact

import (
	"slices"
	"strings"
)

// Marker replaces a secret: "[REDACTED:<kind>]".
const Marker = "[REDACTED:%s]"

// markerPrefix starts every marker; a candidate secret starting with it is
// an earlier redaction and is left alone.
const markerPrefix = "[REDACTED:"

// Kinds, as reported by String and stored in security_flags.redactions.
const (
	KindAWSAccessKey   = "aws_access_key"
	KindAWSSecretKey   = "aws_secret_key"
	KindGitHubToken    = "github_token"
	KindGitLabToken    = "gitlab_token"
	KindSlackToken     = "slack_token"
	KindSlackWebhook   = "slack_webhook"
	KindJWT            = "jwt"
	KindPrivateKey     = "private_key"
	KindPassword       = "password"
	KindMySQLPassword  = "mysql_password"
	KindAuthorization  = "authorization_header"
	KindURLCredentials = "url_credentials"
	KindSecretVar      = "secret_var"
	KindStripeKey      = "stripe_key"
	KindGoogleAPIKey   = "google_api_key"
	KindNPMToken       = "npm_token"
	KindOpenAIKey      = "openai_key"
	KindAnthropicKey   = "anthropic_key"
	KindHuggingFace    = "huggingface_token"
	KindSendGridKey    = "sendgrid_key"
	KindPyPIToken      = "pypi_token"
)

// Kinds lists every kind String can report.
func Kinds() []string {
	return []string{
		KindAWSAccessKey, KindAWSSecretKey, KindGitHubToken, KindGitLabToken, KindSlackToken,
		KindSlackWebhook, KindJWT, KindPrivateKey, KindPassword, KindMySQLPassword,
		KindAuthorization, KindURLCredentials, KindSecretVar, KindStripeKey, KindGoogleAPIKey,
		KindNPMToken, KindOpenAIKey, KindAnthropicKey, KindHuggingFace, KindSendGridKey, KindPyPIToken,
	}
}

// charset is a byte class.
type charset [256]bool

func newCharset(classes ...string) *charset {
	var c charset
	for _, cl := range classes {
		for i := 0; i < len(cl); i++ {
			if i+2 < len(cl) && cl[i+1] == '-' {
				for b := cl[i]; b <= cl[i+2]; b++ {
					c[b] = true
				}
				i += 2
				continue
			}
			c[cl[i]] = true
		}
	}
	return &c
}

// token is a secret recognised by a fixed prefix followed by a run of
// characters from a class (ghp_..., AKIA..., sk_live_...).
type token struct {
	kind     string
	cs       *charset
	min, max int  // length of the run after the prefix
	cut      bool // a longer run is cut at max instead of rejected
	// boundary requires a non-word character after the token.
	boundary bool
	// trim returns the part of the token to redact, or ok=false.
	trim func(tok string) (string, bool)
}

// trigger is one prefix that starts a matcher at a position.
type trigger struct {
	prefix string
	fold   bool // compared case-insensitively (prefix is lower case)
	// at examines position i, appends any secrets found to ms, and
	// returns the position before which this trigger group need not look
	// again.
	at   func(r *Redactor, s string, i int, t *trigger, ms *[]match) int
	tok  *token
	prio int
}

// Redactor is built once and safe for concurrent use.
type Redactor struct {
	// byFirst maps a byte to the triggers whose prefix starts with it; for
	// fold triggers both cases are listed.
	byFirst [256][]*trigger
	// second[c] is the set of bytes that can follow c in some trigger
	// prefix (both cases for fold triggers): a cheap filter before the
	// triggers of c are tried.
	second  [256][4]uint64
	word    *charset
	keyChar *charset
	// bareStop ends an unquoted value; blank ends a .env value.
	bareStop *charset
	blank    *charset
}

// maxTriggers bounds the number of trigger groups (priorities).
const maxTriggers = 32

// match is one secret span in the input.
type match struct {
	start, end int
	kind       string
	prio       int
}

// New returns a Redactor with the built-in secret kinds.
func New() *Redactor {
	r := &Redactor{
		word:    newCharset("A-Z", "a-z", "0-9", "_"),
		keyChar: newCharset("A-Z", "a-z", "0-9", "_.-"),
		// no ranges here: '-' is not in the class
		bareStop: newCharset(" \t\r\n\"'`,;&|)}]<>"),
		blank:    newCharset(" \t\r\n"),
	}
	upperDigits := newCharset("A-Z", "0-9")
	alnum := newCharset("A-Z", "a-z", "0-9")
	alnumU := newCharset("A-Z", "a-z", "0-9", "_")
	alnumUD := newCharset("A-Z", "a-z", "0-9", "_-")
	alnumD := newCharset("A-Z", "a-z", "0-9", "-")
	b64 := newCharset("A-Z", "a-z", "0-9", "+/=")
	jwtCs := newCharset("A-Z", "a-z", "0-9", "_.-")

	prio := 0
	addTok := func(t token, prefixes ...string) {
		tt := t
		for _, p := range prefixes {
			r.add(&trigger{prefix: p, tok: &tt, at: (*Redactor).tokenAt, prio: prio})
		}
		prio++
	}
	add := func(at func(*Redactor, string, int, *trigger, *[]match) int, fold bool, prefixes ...string) {
		for _, p := range prefixes {
			r.add(&trigger{prefix: p, fold: fold, at: at, prio: prio})
		}
		prio++
	}
	// Order is priority: when two matches start at the same place the
	// earlier, more specific one names the kind.
	add((*Redactor).privateKeyAt, false, "-----BEGIN ")
	addTok(token{kind: KindAWSAccessKey, cs: upperDigits, min: 16, max: 16, boundary: true},
		"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "APKA", "ABIA", "ACCA")
	addTok(token{kind: KindGitHubToken, cs: alnum, min: 30, max: 255, boundary: true}, "ghp_", "gho_", "ghu_", "ghs_", "ghr_")
	addTok(token{kind: KindGitHubToken, cs: alnumU, min: 22, max: 255}, "github_pat_")
	addTok(token{kind: KindGitLabToken, cs: alnumUD, min: 20, max: 255}, "glpat-", "gldt-", "glrt-", "glptt-")
	addTok(token{kind: KindSlackToken, cs: alnumD, min: 10, max: 255}, "xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe-")
	addTok(token{kind: KindStripeKey, cs: alnum, min: 16, max: 255}, "sk_live_", "sk_test_", "rk_live_", "rk_test_")
	addTok(token{kind: KindStripeKey, cs: b64, min: 20, max: 255}, "whsec_")
	addTok(token{kind: KindGoogleAPIKey, cs: alnumUD, min: 35, max: 35, cut: true}, "AIza")
	addTok(token{kind: KindNPMToken, cs: alnum, min: 36, max: 36, boundary: true}, "npm_")
	addTok(token{kind: KindAnthropicKey, cs: alnumUD, min: 20, max: 512}, "sk-ant-")
	addTok(token{kind: KindOpenAIKey, cs: alnumUD, min: 20, max: 512, trim: func(t string) (string, bool) {
		return t, !strings.HasPrefix(t, "sk-ant-")
	}}, "sk-")
	addTok(token{kind: KindHuggingFace, cs: alnum, min: 30, max: 255, boundary: true}, "hf_")
	addTok(token{kind: KindSendGridKey, cs: jwtCs, min: 40, max: 128, trim: func(t string) (string, bool) {
		return t, strings.Count(t, ".") == 2
	}}, "SG.")
	addTok(token{kind: KindPyPIToken, cs: alnumUD, min: 50, max: 1024}, "pypi-AgE")
	addTok(token{kind: KindJWT, cs: jwtCs, min: 17, max: 16384, trim: trimJWT}, "eyJ")
	add((*Redactor).slackHookAt, false, "hooks.slack.com/")
	add((*Redactor).urlCredAt, false, "://")
	add((*Redactor).authAt, true, "authorization", "x-api-key", "api-key", "apikey", "auth-token", "private-token", "access-token", "vault-token", "cookie")
	add((*Redactor).mysqlAt, true, "mysql", "mariadb")
	add((*Redactor).sshpassAt, true, "sshpass")
	add((*Redactor).clientPasswordAt, true, "docker", "podman", "nerdctl", "buildah", "skopeo", "helm", "redis-cli", "mongo", "sqlcmd")
	add((*Redactor).curlUserAt, true, "curl")
	add((*Redactor).echoPipeAt, true, "echo ", "printf ")
	add((*Redactor).kvAt, true, "pass", "pwd", "secret", "token", "key", "auth")
	if prio > maxTriggers {
		panic("redact: too many trigger groups") // programmer error
	}
	return r
}

func (r *Redactor) add(t *trigger) {
	firsts := []byte{t.prefix[0]}
	seconds := []byte{t.prefix[1]}
	if t.fold {
		firsts = append(firsts, upperASCII(t.prefix[0]))
		seconds = append(seconds, upperASCII(t.prefix[1]))
	}
	for _, c := range firsts {
		if !slices.Contains(r.byFirst[c], t) {
			r.byFirst[c] = append(r.byFirst[c], t)
		}
		for _, d := range seconds {
			r.second[c][d>>6] |= 1 << (d & 63)
		}
	}
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 32
	}
	return c
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix p,
// ignoring case.
func hasPrefixFold(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		if c != p[i] {
			return false
		}
	}
	return true
}

// String returns s with every secret replaced by its marker, and the kinds
// found (deduplicated, sorted). It returns s itself when nothing matched.
func (r *Redactor) String(s string) (string, []string) {
	if len(s) < 8 {
		return s, nil
	}
	var ms []match
	// skip[p] is the position before which trigger priority p does not
	// look again: a key, token or block already examined is not rescanned
	// for every trigger inside it, which keeps adversarial inputs linear.
	var skip [maxTriggers]int
	blockEnd := 0 // end of a private key block: nothing inside is examined
	for i := 0; i+1 < len(s); i++ {
		c, d := s[i], s[i+1]
		if r.second[c][d>>6]&(1<<(d&63)) == 0 || i < blockEnd {
			continue
		}
		ts := r.byFirst[c]
		for _, t := range ts {
			if i < skip[t.prio] {
				continue
			}
			if t.fold {
				if !hasPrefixFold(s[i:], t.prefix) {
					continue
				}
			} else if !strings.HasPrefix(s[i:], t.prefix) {
				continue
			}
			n := len(ms)
			next := t.at(r, s, i, t, &ms)
			if next > skip[t.prio] {
				skip[t.prio] = next
			}
			for _, m := range ms[n:] {
				if m.kind == KindPrivateKey {
					blockEnd = max(blockEnd, m.end)
				}
			}
		}
	}
	if len(ms) == 0 {
		return s, nil
	}
	return apply(s, ms)
}

// apply replaces the spans, merging overlaps so that no part of a secret
// survives, and returns the kinds found.
func apply(s string, ms []match) (string, []string) {
	cmp := func(a, b match) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.prio != b.prio {
			return a.prio - b.prio
		}
		return b.end - a.end
	}
	if !slices.IsSortedFunc(ms, cmp) { // usually found in order already
		slices.SortFunc(ms, cmp)
	}
	var b strings.Builder
	b.Grow(len(s))
	var kinds []string
	last := 0
	flush := func(m match) {
		b.WriteString(s[last:m.start])
		b.WriteString(markerPrefix)
		b.WriteString(m.kind)
		b.WriteByte(']')
		last = m.end
	}
	addKind := func(k string) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	open := ms[0]
	addKind(open.kind)
	for _, m := range ms[1:] {
		addKind(m.kind)
		if m.start < open.end {
			// Overlapping (a JWT inside an Authorization header, a token
			// inside TOKEN=...): one marker, named by the first match,
			// extended over both; both kinds are reported.
			open.end = max(open.end, m.end)
			continue
		}
		flush(open)
		open = m
	}
	flush(open)
	b.WriteString(s[last:])
	slices.Sort(kinds)
	return b.String(), kinds
}
