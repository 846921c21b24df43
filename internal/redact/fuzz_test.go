package redact

import (
	"strings"
	"testing"
)

// FuzzRedact checks that redaction is idempotent and never panics on
// arbitrary text.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"export GITHUB_TOKEN=" + ghToken, "password=hunter2", "mysql -uroot -ppw db", jwtToken,
		"-----BEGIN RSA PRIVATE KEY-----\n" + pemBody, "https://u:p@h/x", `{"api_key": "x1y2z3"}`,
		"Authorization: Bearer abc.def", "AKIAZ7QW3ERT5YU8IO2P", "curl -u a:b https://x",
	} {
		f.Add(s)
	}
	r := New()
	f.Fuzz(func(t *testing.T, s string) {
		out, kinds := r.String(s)
		if kinds == nil && out != s {
			t.Fatalf("changed without kinds: %q -> %q", s, out)
		}
		again, k2 := r.String(out)
		if again != out || k2 != nil {
			t.Fatalf("not idempotent:\n in  %q\n out %q\n again %q %q", s, out, again, k2)
		}
	})
}

// secretTemplates build a secret of each kind around a random core.
var secretTemplates = []struct {
	kind     string
	alphabet string
	n        int
	build    func(core string) string
}{
	{"aws_access_key", upperDigits, 16, func(c string) string { return "AKIA" + c }},
	{"github_token", alnum, 36, func(c string) string { return "ghp_" + c }},
	{"gitlab_token", alnum, 20, func(c string) string { return "glpat-" + c }},
	{"slack_token", alnum, 24, func(c string) string { return "xoxb-" + c }},
	{"jwt", alnum, 24, func(c string) string { return "eyJ" + c[:8] + ".eyJ" + c[8:16] + "." + c[16:] }},
	{"private_key", alnum, 48, func(c string) string {
		return "-----BEGIN RSA PRIVATE KEY-----\n" + c + "\n-----END RSA PRIVATE KEY-----"
	}},
	{"password", alnum, 12, func(c string) string { return "password=Q" + c }},
	{"mysql_password", alnum, 12, func(c string) string { return "mysql -uroot -pQ" + c + " db" }},
	{"url_credentials", alnum, 12, func(c string) string { return "https://user:" + c + "@host/x" }},
	{"secret_var", alnum, 16, func(c string) string { return "export API_TOKEN=Q" + c }},
	{"authorization_header", alnum, 24, func(c string) string { return "Authorization: Bearer " + c }},
	{"stripe_key", alnum, 24, func(c string) string { return "sk_live_" + c }},
	{"google_api_key", alnum, 35, func(c string) string { return "AIza" + c }},
	{"npm_token", alnum, 36, func(c string) string { return "npm_" + c }},
	{"anthropic_key", alnum, 40, func(c string) string { return "sk-ant-api03-" + c }},
	{"openai_key", alnum, 40, func(c string) string { return "sk-proj-" + c }},
	{"aws_secret_key", alnum, 40, func(c string) string { return "aws_secret_access_key = " + c }},
	{"github_token", alnum, 40, func(c string) string { return "github_pat_11" + c }},
	{"slack_webhook", alnum, 24, func(c string) string { return "https://hooks.slack.com/services/T0/B0/" + c }},
	{"huggingface_token", alnum, 34, func(c string) string { return "hf_" + c }},
	{"sendgrid_key", alnum, 66, func(c string) string { return "SG." + c[:22] + "." + c[22:] }},
	{"pypi_token", alnum, 60, func(c string) string { return "pypi-AgE" + c }},
	{"password", alnum, 12, func(c string) string { return "sshpass -p Q" + c + " ssh h" }},
	{"password", alnum, 12, func(c string) string { return "curl -u admin:Q" + c + " https://x" }},
	{"password", alnum, 12, func(c string) string { return "docker login -u bob -p Q" + c + " r.io" }},
	{"password", alnum, 12, func(c string) string { return "echo 'Q" + c + "' | sudo -S id" }},
	{"password", alnum, 12, func(c string) string { return "machine h\nlogin u\npassword Q" + c }},
	{"authorization_header", alnum, 24, func(c string) string { return "Cookie: sid=Q" + c }},
	{"secret_var", alnum, 16, func(c string) string { return `{"client_secret": "Q` + c + `"}` }},
	{"secret_var", alnum, 16, func(c string) string { return "--api-key Q" + c }},
}

const (
	alnum       = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// FuzzRedactGenerated embeds a generated secret of every kind between
// arbitrary text and checks that no part of its random core survives.
func FuzzRedactGenerated(f *testing.F) {
	f.Add("cat x; ", " | sh", []byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789"))
	f.Add(`{"a": "`, `"}`, []byte{0xff, 0x00, 0x10})
	f.Add("password=", "\n", []byte("x"))
	r := New()
	f.Fuzz(func(t *testing.T, prefix, suffix string, seed []byte) {
		if len(seed) == 0 {
			seed = []byte{1}
		}
		for ti, tpl := range secretTemplates {
			core := make([]byte, tpl.n)
			for i := range core {
				core[i] = tpl.alphabet[int(seed[(i+ti)%len(seed)]+byte(i*7+ti))%len(tpl.alphabet)]
			}
			c := string(core)
			if strings.Contains(prefix, c) || strings.Contains(suffix, c) {
				continue
			}
			in := prefix + " " + tpl.build(c) + " " + suffix
			out, kinds := r.String(in)
			if strings.Contains(out, c) {
				t.Fatalf("%s secret survived:\n in  %q\n out %q (%q)", tpl.kind, in, out, kinds)
			}
			again, _ := r.String(out)
			if again != out {
				t.Fatalf("%s: not idempotent: %q -> %q", tpl.kind, out, again)
			}
		}
	})
}

// TestGeneratedSecretsPlain runs every template once without fuzzing, and
// checks the kind reported.
func TestGeneratedSecretsPlain(t *testing.T) {
	r := New()
	for _, tpl := range secretTemplates {
		core := strings.Repeat("aB3", tpl.n)[:tpl.n]
		if tpl.alphabet == upperDigits {
			core = strings.Repeat("AB3", tpl.n)[:tpl.n]
		}
		out, kinds := r.String("run " + tpl.build(core) + " now")
		if strings.Contains(out, core) {
			t.Errorf("%s survived: %q", tpl.kind, out)
		}
		found := false
		for _, k := range kinds {
			found = found || k == tpl.kind
		}
		if !found {
			t.Errorf("%s: kinds %q", tpl.kind, kinds)
		}
	}
}
