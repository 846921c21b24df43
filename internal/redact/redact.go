// Package redact removes secrets from text before anything touches disk, and
// reports which kinds it removed. It knows AWS keys, GitHub/GitLab/Slack
// tokens, JWTs, private key blocks, password=..., mysql-style -p<pw>,
// Authorization headers, URLs with credentials and values of variables named
// *TOKEN*/*SECRET*/*PASSWORD*/*KEY*, plus vendor keys with a recognisable
// prefix (Stripe, Google, npm, OpenAI, Anthropic, Hugging Face, SendGrid,
// PyPI).
//
// It runs inside the hook on every string of every event, so the common case
// (no secret) costs a handful of substring searches: every detector has
// trigger substrings, and its regular expression only runs on the lines
// around a trigger. Regular expressions are RE2 (linear time) and compiled
// once in New.
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
	"fmt"
	"regexp"
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

// classify decides the kind of a key=value match from the key; "" means
// the value is not a secret.
type classifyFunc func(key string) string

// detector finds one family of secrets.
type detector struct {
	kind string
	// triggers are substrings one of which must occur for the detector to
	// run; fold means they are lower case and matched against the
	// lower-cased input.
	triggers []string
	fold     bool
	re       *regexp.Regexp
	// groups are submatch indexes holding the secret (the first non-empty
	// one is redacted); nil means the whole match.
	groups []int
	// keyGroup, when > 0, is the submatch holding a key name passed to
	// classify, which picks the kind or rejects the match.
	keyGroup int
	classify classifyFunc
}

// Redactor is compiled once and safe for concurrent use.
type Redactor struct {
	detectors []detector
}

// quotedValue matches a secret value: double-quoted, single-quoted or a bare
// word. Groups: 1 double-quoted body, 2 single-quoted body, 3 bare.
const quotedValue = `(?:"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'|([^\s"'` + "`" + `,;&|)}\]<>]+))`

// New returns a Redactor with the built-in secret kinds.
func New() *Redactor {
	mk := func(kind string, triggers []string, fold bool, expr string, groups ...int) detector {
		return detector{kind: kind, triggers: triggers, fold: fold, re: regexp.MustCompile(expr), groups: groups}
	}
	// Order is priority: when two matches start at the same place the
	// earlier, more specific detector names the kind.
	ds := []detector{
		mk(KindAWSAccessKey, []string{"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "APKA", "ABIA", "ACCA"}, false,
			`\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|APKA|ABIA|ACCA)[A-Z0-9]{16}\b`),
		mk(KindAWSSecretKey, []string{"secret"}, true,
			`(?i)(?:aws_?)?secret_?(?:access_?)?key["']?\s*(?:=>|:=|[:=])\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`, 1),
		mk(KindGitHubToken, []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, false,
			`\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})`),
		mk(KindGitLabToken, []string{"glpat-", "gldt-", "glrt-", "glptt-"}, false,
			`\b(?:glpat|gldt|glrt|glptt)-[A-Za-z0-9_-]{20,}`),
		mk(KindSlackWebhook, []string{"hooks.slack.com"}, false,
			`hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/+-]+)`, 1),
		mk(KindSlackToken, []string{"xox"}, false,
			`\bxox[abposre]-[A-Za-z0-9-]{10,}`),
		mk(KindStripeKey, []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"}, false,
			`\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9+/=]{20,})`),
		mk(KindGoogleAPIKey, []string{"AIza"}, false,
			`\bAIza[0-9A-Za-z_-]{35}`),
		mk(KindNPMToken, []string{"npm_"}, false,
			`\bnpm_[A-Za-z0-9]{36}\b`),
		mk(KindAnthropicKey, []string{"sk-ant-"}, false,
			`\bsk-ant-[A-Za-z0-9]+-[A-Za-z0-9_-]{20,}`),
		mk(KindOpenAIKey, []string{"sk-"}, false,
			`\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}`),
		mk(KindHuggingFace, []string{"hf_"}, false,
			`\bhf_[A-Za-z0-9]{30,}\b`),
		mk(KindSendGridKey, []string{"SG."}, false,
			`\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,64}`),
		mk(KindPyPIToken, []string{"pypi-"}, false,
			`\bpypi-AgE[A-Za-z0-9_-]{50,}`),
		mk(KindJWT, []string{"eyJ"}, false,
			`\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`),
		mk(KindURLCredentials, []string{"://"}, false,
			`\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@"'<>]+:([^\s/@"'<>]+)@`, 1),
		mk(KindAuthorization, []string{"authorization", "api-key", "auth-token", "private-token", "access-token", "vault-token", "apikey"}, true,
			`(?i)\b(?:proxy-)?(?:authorization|x-api-key|api-key|apikey|x-auth-token|auth-token|private-token|x-access-token|access-token|x-vault-token)["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|negotiate|bot|sso-key|apikey)[ \t]+)?([^\s"',;]+)`, 1),
		mk(KindMySQLPassword, []string{"mysql", "mariadb"}, true,
			`(?:^|[\s;&|(/])(?:mysql|mariadb|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlpump|mysqlsh|mariadb-dump|mariadb-admin)\b[^\n;&|]*?[ \t]-p("[^"\n]*"|'[^'\n]*'|[^\s'"]+)`, 1),
		mk(KindPassword, []string{"sshpass"}, false,
			`\bsshpass\s+(?:-[a-zA-Z]\s+)*-p\s*("[^"\n]*"|'[^'\n]*'|\S+)`, 1),
		mk(KindPassword, []string{"curl"}, true,
			`(?i)\bcurl\b[^\n;&|]*?\s(?:-u|--user)(?:\s+|=)["']?[^:\s"']+:([^\s"']+)`, 1),
	}
	// key=value, "key": "value", key: value, --key value, --key=value
	kv := detector{
		kind:     KindSecretVar,
		triggers: []string{"pass", "pwd", "secret", "token", "key"},
		fold:     true,
		re: regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9_.-])["']?([A-Za-z0-9_][A-Za-z0-9_.-]*)["']?[ \t]*(?:=>|:=|=|:)[ \t]*` +
			quotedValue),
		groups:   []int{2, 3, 4},
		keyGroup: 1,
		classify: classifyKey,
	}
	flag := detector{
		kind:     KindSecretVar,
		triggers: []string{"pass", "pwd", "secret", "token", "key"},
		fold:     true,
		re: regexp.MustCompile(`(?i)(?:^|[\s"'])--?([A-Za-z0-9][A-Za-z0-9_-]*)(?:=|[ \t]+)` +
			quotedValue),
		groups:   []int{2, 3, 4},
		keyGroup: 1,
		classify: classifyFlag,
	}
	ds = append(ds, kv, flag)
	return &Redactor{detectors: ds}
}

// match is one secret span in the input.
type match struct {
	start, end int
	kind       string
	prio       int
}

// String returns s with every secret replaced by its marker, and the kinds
// found (deduplicated, sorted). It returns s itself when nothing matched.
func (r *Redactor) String(s string) (string, []string) {
	if len(s) < 8 {
		return s, nil
	}
	var ms []match
	var lower string
	lowered := false
	for prio := range r.detectors {
		d := &r.detectors[prio]
		text := s
		if d.fold {
			if !lowered {
				lower = asciiLower(s)
				lowered = true
			}
			text = lower
		}
		if !containsAny(text, d.triggers) {
			continue
		}
		ms = d.find(s, text, prio, ms)
	}
	ms = findPrivateKeys(s, ms)
	if len(ms) == 0 {
		return s, nil
	}
	return apply(s, ms)
}

func containsAny(s string, subs []string) bool {
	for _, t := range subs {
		if strings.Contains(s, t) {
			return true
		}
	}
	return false
}

// asciiLower lower-cases ASCII letters only, keeping byte offsets intact.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

const (
	// windowBefore and windowAfter bound the text around a trigger that a
	// detector's expression sees, so a 2 MB input with a few triggers costs
	// a few short regexp runs rather than several full scans.
	windowBefore = 256
	windowAfter  = 4096
)

// find appends the matches of d in s. text is s or its lower-cased copy,
// used to locate triggers.
func (d *detector) find(s, text string, prio int, ms []match) []match {
	for _, w := range windows(text, d.triggers) {
		seg := s[w[0]:w[1]]
		for _, loc := range d.re.FindAllStringSubmatchIndex(seg, -1) {
			kind := d.kind
			if d.keyGroup > 0 {
				k := loc[2*d.keyGroup]
				if k < 0 {
					continue
				}
				kind = d.classify(seg[k:loc[2*d.keyGroup+1]])
				if kind == "" {
					continue
				}
			}
			st, en := loc[0], loc[1]
			if len(d.groups) > 0 {
				st = -1
				for _, g := range d.groups {
					if loc[2*g] >= 0 {
						st, en = loc[2*g], loc[2*g+1]
						break
					}
				}
				if st < 0 {
					continue
				}
			}
			v := seg[st:en]
			v = strings.Trim(v, `"'`)
			if d.keyGroup > 0 && !secretValue(v) {
				continue
			}
			if v == "" || strings.HasPrefix(v, markerPrefix) {
				continue
			}
			// quoted mysql/sshpass values keep their quotes
			if q := seg[st]; (q == '"' || q == '\'') && en-st >= 2 && seg[en-1] == q {
				st++
				en--
			}
			ms = append(ms, match{start: w[0] + st, end: w[0] + en, kind: kind, prio: prio})
		}
	}
	return ms
}

// windows returns merged [start,end) ranges around every trigger occurrence,
// extended to line boundaries within the window limits.
func windows(text string, triggers []string) [][2]int {
	var ws [][2]int
	for _, t := range triggers {
		off := 0
		for {
			i := strings.Index(text[off:], t)
			if i < 0 {
				break
			}
			i += off
			st := max(0, i-windowBefore)
			if nl := strings.LastIndexByte(text[st:i], '\n'); nl >= 0 {
				st += nl + 1
			}
			en := min(len(text), i+len(t)+windowAfter)
			if nl := strings.IndexByte(text[i+len(t):en], '\n'); nl >= 0 {
				en = i + len(t) + nl
			}
			ws = append(ws, [2]int{st, en})
			off = max(en, i+len(t))
			if off >= len(text) {
				break
			}
		}
	}
	if len(ws) <= 1 {
		return ws
	}
	slices.SortFunc(ws, func(a, b [2]int) int { return a[0] - b[0] })
	out := ws[:1]
	for _, w := range ws[1:] {
		last := &out[len(out)-1]
		if w[0] <= last[1] {
			last[1] = max(last[1], w[1])
			continue
		}
		out = append(out, w)
	}
	return out
}

// findPrivateKeys appends PEM private key blocks: from -----BEGIN ...
// PRIVATE KEY----- through the matching END line, or to the end of s when
// the block was cut.
func findPrivateKeys(s string, ms []match) []match {
	off := 0
	for {
		i := strings.Index(s[off:], "-----BEGIN ")
		if i < 0 {
			return ms
		}
		i += off
		hdrEnd := strings.Index(s[i+11:], "-----")
		if hdrEnd < 0 || hdrEnd > 64 {
			off = i + 11
			continue
		}
		label := s[i+11 : i+11+hdrEnd]
		if !strings.Contains(label, "PRIVATE KEY") {
			off = i + 11
			continue
		}
		end := len(s)
		if e := strings.Index(s[i:], "-----END "); e >= 0 {
			e += i
			if c := strings.Index(s[e+9:], "-----"); c >= 0 && c <= 64 {
				end = e + 9 + c + 5
			} else {
				end = min(len(s), e+9)
			}
		}
		ms = append(ms, match{start: i, end: end, kind: KindPrivateKey, prio: -1})
		if end >= len(s) {
			return ms
		}
		off = end
	}
}

// apply replaces the spans, merging overlaps so that no part of a secret
// survives, and returns the kinds used.
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
	addKind := func(k string) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	last := 0
	cur := -1 // index in ms of the span being written
	flush := func(m match) {
		b.WriteString(s[last:m.start])
		fmt.Fprintf(&b, Marker, m.kind)
		last = m.end
	}
	var open match
	for i, m := range ms {
		addKind(m.kind)
		if cur >= 0 && m.start < open.end {
			// Overlapping (a JWT inside an Authorization header, a token
			// inside TOKEN=...): one marker, named by the first match,
			// extended over both; both kinds are reported.
			open.end = max(open.end, m.end)
			continue
		}
		if cur >= 0 {
			flush(open)
		}
		open, cur = m, i
	}
	if cur >= 0 {
		flush(open)
	}
	b.WriteString(s[last:])
	slices.Sort(kinds)
	return b.String(), kinds
}
