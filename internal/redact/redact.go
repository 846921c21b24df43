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
	add((*Redactor).kvAt, true, "pass", "pwd", "secret", "token", "key")
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

// run returns the end of the run of cs characters starting at i, stopping
// at limit.
func run(s string, i int, cs *charset, limit int) int {
	j := i
	for j < len(s) && j-i < limit && cs[s[j]] {
		j++
	}
	return j
}

// tokenAt matches prefix tokens.
func (r *Redactor) tokenAt(s string, i int, t *trigger, ms *[]match) int {
	tk := t.tok
	if i > 0 && r.word[s[i-1]] {
		return i + 1 // \b before the prefix
	}
	start := i + len(t.prefix)
	end := run(s, start, tk.cs, tk.max+1)
	n := end - start
	if n > tk.max {
		if !tk.cut {
			return end
		}
		end = start + tk.max
		n = tk.max
	}
	if n < tk.min {
		return end
	}
	if tk.boundary && end < len(s) && r.word[s[end]] {
		return end
	}
	tokStr := s[i:end]
	if tk.trim != nil {
		trimmed, ok := tk.trim(tokStr)
		if !ok {
			return end
		}
		end = i + len(trimmed)
	}
	*ms = append(*ms, match{start: i, end: end, kind: tk.kind, prio: t.prio})
	return end
}

// trimJWT accepts header.payload.signature with base64url JSON header and
// payload, and drops anything after the signature.
func trimJWT(t string) (string, bool) {
	parts := strings.SplitN(t, ".", 4)
	if len(parts) < 3 || len(parts[0]) < 8 || !strings.HasPrefix(parts[1], "eyJ") || len(parts[1]) < 8 {
		return "", false
	}
	return t[:len(parts[0])+len(parts[1])+len(parts[2])+2], true
}

// privateKeyAt matches a PEM private key block through its END line, or to
// the end of s when the block was cut.
func (r *Redactor) privateKeyAt(s string, i int, t *trigger, ms *[]match) int {
	hdr := i + len(t.prefix)
	e := strings.Index(s[hdr:min(len(s), hdr+80)], "-----")
	if e < 0 || !strings.Contains(s[hdr:hdr+e], "PRIVATE KEY") {
		return hdr
	}
	end := len(s)
	if j := strings.Index(s[hdr+e:], "-----END "); j >= 0 {
		j += hdr + e + len("-----END ")
		if c := strings.Index(s[j:min(len(s), j+80)], "-----"); c >= 0 {
			end = j + c + 5
		} else {
			end = j
		}
	}
	*ms = append(*ms, match{start: i, end: end, kind: KindPrivateKey, prio: t.prio})
	return end
}

// slackHookAt redacts the path of a Slack incoming webhook URL.
func (r *Redactor) slackHookAt(s string, i int, t *trigger, ms *[]match) int {
	p := i + len(t.prefix)
	for _, kind := range []string{"services/", "workflows/", "triggers/"} {
		if strings.HasPrefix(s[p:], kind) {
			st := p + len(kind)
			end := st
			for end < len(s) && (r.word[s[end]] || s[end] == '/' || s[end] == '+' || s[end] == '-') {
				end++
			}
			if end-st >= 8 {
				*ms = append(*ms, match{start: st, end: end, kind: KindSlackWebhook, prio: t.prio})
				return end
			}
			return end
		}
	}
	return p
}

// urlCredAt redacts the password of scheme://user:password@host.
func (r *Redactor) urlCredAt(s string, i int, t *trigger, ms *[]match) int {
	// a scheme must precede ://
	if i == 0 || !(r.word[s[i-1]] || s[i-1] == '+' || s[i-1] == '.' || s[i-1] == '-') {
		return i + 3
	}
	p := i + 3
	colon, at := -1, -1
	j := p
	for ; j < len(s) && j-p < 512; j++ {
		c := s[j]
		if c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '[' || c == ']' {
			break
		}
		if c == ':' && colon < 0 {
			colon = j
		}
		if c == '@' {
			at = j
			break
		}
	}
	if colon < 0 || at < 0 || colon+1 >= at {
		// the authority part was read up to j; a later "://" inside it
		// cannot start a URL with credentials that ends past j
		return max(p, j-8)
	}
	*ms = append(*ms, match{start: colon + 1, end: at, kind: KindURLCredentials, prio: t.prio})
	return at
}

// authSchemes may precede the credential in an Authorization header.
var authSchemes = []string{"bearer", "basic", "token", "digest", "negotiate", "bot", "sso-key", "apikey", "aws4-hmac-sha256"}

// authAt redacts the credential of Authorization-style headers.
func (r *Redactor) authAt(s string, i int, t *trigger, ms *[]match) int {
	if i > 0 && r.word[s[i-1]] {
		return i + 1
	}
	p := i + len(t.prefix)
	if p < len(s) && (s[p] == '"' || s[p] == '\'') {
		p++
	}
	p = skipBlanks(s, p)
	if p >= len(s) || (s[p] != ':' && s[p] != '=') {
		return p
	}
	p = skipBlanks(s, p+1)
	if p < len(s) && (s[p] == '"' || s[p] == '\'') {
		p++
	}
	for _, sc := range authSchemes {
		if hasPrefixFold(s[p:], sc) && p+len(sc) < len(s) && (s[p+len(sc)] == ' ' || s[p+len(sc)] == '\t') {
			p = skipBlanks(s, p+len(sc))
			break
		}
	}
	stops := " \t\r\n\"',;"
	if t.prefix == "cookie" {
		stops = "\r\n\"'" // every cookie of the header is a credential
	}
	end := p
	for end < len(s) && !strings.ContainsRune(stops, rune(s[end])) {
		end++
	}
	v := s[p:end]
	if len(v) < 4 || strings.HasPrefix(v, markerPrefix) || v[0] == '$' || v[0] == '<' || v[0] == '{' {
		return end
	}
	*ms = append(*ms, match{start: p, end: end, kind: KindAuthorization, prio: t.prio})
	return end
}

func skipBlanks(s string, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	return p
}

// commandEnd returns the end of the simple command starting at i (up to a
// newline, ; & or |), bounded.
func commandEnd(s string, i int) int {
	end := min(len(s), i+4096)
	if j := strings.IndexAny(s[i:end], "\n;&|"); j >= 0 {
		return i + j
	}
	return end
}

// wordValue returns the end of the argument at p and the span of its
// content (inside quotes when quoted).
func wordValue(s string, p, limit int) (st, en, next int) {
	if p >= limit {
		return p, p, p
	}
	if q := s[p]; q == '"' || q == '\'' {
		j := strings.IndexByte(s[p+1:limit], q)
		if j < 0 {
			return p + 1, limit, limit
		}
		return p + 1, p + 1 + j, p + 2 + j
	}
	j := p
	for j < limit && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' {
		j++
	}
	return p, j, j
}

// mysqlAt redacts -p<password> given to a MySQL/MariaDB client.
func (r *Redactor) mysqlAt(s string, i int, t *trigger, ms *[]match) int {
	if i > 0 && !strings.ContainsRune(" \t\n;&|(/\"'", rune(s[i-1])) {
		return i + 1
	}
	p := i + len(t.prefix)
	for p < len(s) && (s[p] >= 'a' && s[p] <= 'z' || s[p] == '-') {
		p++ // mysqldump, mariadb-dump, ...
	}
	if p < len(s) && s[p] != ' ' && s[p] != '\t' {
		return p
	}
	end := commandEnd(s, p)
	for j := p; j+2 < end; j++ {
		if (s[j] == ' ' || s[j] == '\t') && s[j+1] == '-' && s[j+2] == 'p' {
			st, en, next := wordValue(s, j+3, end)
			v := s[st:en]
			if v == "" || strings.HasPrefix(v, markerPrefix) {
				continue
			}
			*ms = append(*ms, match{start: st, end: en, kind: KindMySQLPassword, prio: t.prio})
			j = max(j, next-1)
		}
	}
	return end
}

// clientPasswordAt redacts the password option of clients that take one
// on the command line: docker/podman/helm ... login -p PW, redis-cli -a PW,
// mongo -p PW, sqlcmd -P PW. (--password is handled with the other keys.)
func (r *Redactor) clientPasswordAt(s string, i int, t *trigger, ms *[]match) int {
	if i > 0 && !strings.ContainsRune(" \t\n;&|(/\"'", rune(s[i-1])) {
		return i + 1
	}
	p := i + len(t.prefix)
	for p < len(s) && (s[p] >= 'a' && s[p] <= 'z' || s[p] == '-') {
		p++ // mongosh, helm-registry ...
	}
	if p < len(s) && s[p] != ' ' && s[p] != '\t' {
		return p
	}
	end := commandEnd(s, p)
	flag := byte('p')
	switch strings.ToLower(t.prefix) {
	case "redis-cli":
		flag = 'a'
	case "sqlcmd":
		flag = 'P'
	case "mongo":
	default: // container tools: only their login subcommand
		if !strings.Contains(s[p:end], " login") {
			return end
		}
	}
	for j := p; j+2 < end; j++ {
		if (s[j] == ' ' || s[j] == '\t') && s[j+1] == '-' && s[j+2] == flag {
			vp := j + 3
			if vp < end && (s[vp] == ' ' || s[vp] == '\t') {
				vp = skipBlanks(s, vp)
			}
			st, en, next := wordValue(s, vp, end)
			v := s[st:en]
			if v == "" || v[0] == '-' || strings.HasPrefix(v, markerPrefix) {
				continue
			}
			*ms = append(*ms, match{start: st, end: en, kind: KindPassword, prio: t.prio})
			j = max(j, next-1)
		}
	}
	return end
}

// sshpassAt redacts sshpass -p PASSWORD.
func (r *Redactor) sshpassAt(s string, i int, t *trigger, ms *[]match) int {
	end := commandEnd(s, i)
	p := skipBlanks(s, i+len(t.prefix))
	for p < end && s[p] == '-' {
		if p+1 < end && s[p+1] == 'p' {
			vp := p + 2
			if vp < end && (s[vp] == ' ' || s[vp] == '\t') {
				vp = skipBlanks(s, vp)
			}
			st, en, _ := wordValue(s, vp, end)
			if en > st && !strings.HasPrefix(s[st:en], markerPrefix) {
				*ms = append(*ms, match{start: st, end: en, kind: KindPassword, prio: t.prio})
				return en
			}
			return end
		}
		for p < end && s[p] != ' ' && s[p] != '\t' {
			p++
		}
		p = skipBlanks(s, p)
	}
	return end
}

// curlUserAt redacts the password of curl -u user:password.
func (r *Redactor) curlUserAt(s string, i int, t *trigger, ms *[]match) int {
	if i > 0 && r.word[s[i-1]] {
		return i + 1
	}
	end := commandEnd(s, i)
	for j := i + len(t.prefix); j < end; j++ {
		if s[j] != ' ' && s[j] != '\t' {
			continue
		}
		var p int
		switch rest := s[j+1 : end]; {
		case strings.HasPrefix(rest, "-u "), strings.HasPrefix(rest, "-u\t"):
			p = skipBlanks(s, j+3)
		case strings.HasPrefix(rest, "--user "):
			p = skipBlanks(s, j+7)
		case strings.HasPrefix(rest, "--user="):
			p = j + 8
		default:
			continue
		}
		st, en, _ := wordValue(s, p, end)
		c := strings.IndexByte(s[st:en], ':')
		if c <= 0 || st+c+1 >= en || strings.HasPrefix(s[st+c+1:en], markerPrefix) {
			return end
		}
		*ms = append(*ms, match{start: st + c + 1, end: en, kind: KindPassword, prio: t.prio})
		return en
	}
	return end
}

// kvAt examines the identifier around a secret word (pass, pwd, secret,
// token, key) and, when it names a secret and is assigned a value, redacts
// the value: KEY=v, "key": "v", key: v, --key v, --key=v, key => v.
func (r *Redactor) kvAt(s string, i int, t *trigger, ms *[]match) int {
	ks := i
	for ks > 0 && r.keyChar[s[ks-1]] && i-ks < 256 {
		ks--
	}
	ke := i + len(t.prefix)
	for ke < len(s) && r.keyChar[s[ke]] && ke-i < 256 {
		ke++
	}
	if ks > 0 && r.keyChar[s[ks-1]] || ke < len(s) && r.keyChar[s[ke]] {
		return ke // an identifier too long to be a key
	}
	key := s[ks:ke]
	flag := strings.HasPrefix(key, "-")
	if flag && ks > 0 && !strings.ContainsRune(" \t\n\"'", rune(s[ks-1])) {
		return ke
	}
	var kind string
	if flag {
		kind = classifyFlag(key)
	} else {
		kind = classifyKey(strings.TrimRight(key, ".-"))
	}
	if kind == "" {
		return ke
	}
	p := ke
	if !flag && ks > 0 && (s[ks-1] == '"' || s[ks-1] == '\'') && p < len(s) && s[p] == s[ks-1] {
		p++ // "key": or 'key' =>
	}
	p = skipBlanks(s, p)
	switch {
	case strings.HasPrefix(s[p:], "=>"), strings.HasPrefix(s[p:], ":="):
		p += 2
	case p < len(s) && (s[p] == '=' || s[p] == ':'):
		if s[p] == ':' && strings.HasPrefix(s[p:], "://") {
			return ke
		}
		p++
	case flag && p > ke:
		// --password VALUE
	case p > ke && kind == KindPassword && netrc(s[max(0, ks-1024):min(len(s), ke+256)]):
		// .netrc: machine h login u password VALUE
	default:
		return ke
	}
	p = skipBlanks(s, p)
	if p >= len(s) {
		return ke
	}
	var st, en int
	envLine := false
	switch q := s[p]; q {
	case '"':
		st = p + 1
		en = st
		lim := min(len(s), st+8192)
		for en < lim && s[en] != '"' && s[en] != '\n' {
			if s[en] == '\\' {
				en++
			}
			en++
		}
		en = min(en, len(s))
	case '\'':
		st = p + 1
		j := strings.IndexAny(s[st:min(len(s), st+8192)], "'\n")
		if j < 0 {
			j = min(len(s), st+8192) - st
		}
		en = st + j
	default:
		st = p
		en = p
		stops := " \t\r\n\"'`,;&|)}]<>"
		if envLine = lineStart(s, ks) && p == ke+1 && s[ke] == '='; envLine {
			// .env and shell assignment lines: the value runs to the next
			// blank, & ; ( included (Django keys hold them).
			stops = " \t\r\n"
		}
		for en < len(s) && !strings.ContainsRune(stops, rune(s[en])) {
			en++
		}
	}
	// Whatever the verdict, the value has been read: do not scan it again
	// for this matcher (keeps runs of unterminated quotes linear).
	next := max(ke, en)
	v := s[st:en]
	if envLine {
		if !secretEnvValue(v) {
			return next
		}
	} else if !secretValue(v) {
		return next
	}
	if kind == KindSecretVar && isAWSSecretKey(key) {
		kind = KindAWSSecretKey
	}
	*ms = append(*ms, match{start: st, end: en, kind: kind, prio: t.prio})
	return next
}

// lineStart reports whether the key at ks starts a line, optionally after
// "export ".
func lineStart(s string, ks int) bool {
	j := ks
	if j >= 7 && s[j-7:j] == "export " {
		j -= 7
	}
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return j == 0 || s[j-1] == '\n'
}

// netrc reports text that looks like a .netrc file.
func netrc(s string) bool {
	return strings.Contains(s, "machine ") && (strings.Contains(s, "login ") || strings.Contains(s, "password "))
}

// echoPipeAt redacts a password echoed into su or sudo -S:
// echo 'toor' | su - root -c ..., printf 'pw\n' | sudo -S cmd.
func (r *Redactor) echoPipeAt(s string, i int, t *trigger, ms *[]match) int {
	if i > 0 && r.word[s[i-1]] {
		return i + 1
	}
	end := min(len(s), i+4096)
	if nl := strings.IndexByte(s[i:end], '\n'); nl >= 0 {
		end = i + nl
	}
	p := skipBlanks(s, i+len(t.prefix))
	for p+1 < end && s[p] == '-' && (s[p+1] == 'n' || s[p+1] == 'e' || s[p+1] == 'E') {
		for p < end && s[p] != ' ' {
			p++
		}
		p = skipBlanks(s, p)
	}
	st, en, next := wordValue(s, p, end)
	q := skipBlanks(s, next)
	if q >= end || s[q] != '|' || q+1 < end && s[q+1] == '|' {
		return max(next, i+len(t.prefix))
	}
	q = skipBlanks(s, q+1)
	rest := s[q:end]
	target := false
	switch {
	case strings.HasPrefix(rest, "su ") || rest == "su" || strings.HasPrefix(rest, "su\t"):
		target = true
	case strings.HasPrefix(rest, "sudo "):
		cmd := rest
		if j := strings.IndexAny(cmd, ";&|"); j >= 0 {
			cmd = cmd[:j]
		}
		target = strings.Contains(cmd, " -S") || strings.Contains(cmd, "--stdin")
	}
	v := strings.TrimSuffix(s[st:en], "\\n")
	if !target || len(v) == 0 || strings.HasPrefix(v, markerPrefix) {
		return max(next, i+len(t.prefix))
	}
	*ms = append(*ms, match{start: st, end: st + len(v), kind: KindPassword, prio: t.prio})
	return en
}

// isAWSSecretKey recognises aws_secret_access_key and friends.
func isAWSSecretKey(key string) bool {
	for _, sub := range []string{"secret_access_key", "secretaccesskey", "aws_secret", "aws-secret"} {
		for i := 0; i+len(sub) <= len(key); i++ {
			if hasPrefixFold(key[i:], sub) {
				return true
			}
		}
	}
	return false
}

// apply replaces the spans, merging overlaps so that no part of a secret
// survives, and returns the kinds found.
func apply(s string, ms []match) (string, []string) {
	slices.SortFunc(ms, func(a, b match) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.prio != b.prio {
			return a.prio - b.prio
		}
		return b.end - a.end
	})
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
