package redact

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const typicalCommand = `cd /home/dev/projects/shop-api && npm run build 2>&1 | tail -20 && git add -A && git commit -m "build: bump deps" && curl -s https://ci.example.com/api/v1/status | jq .`

func csv2MB() string {
	var b strings.Builder
	b.WriteString("cat > tests/fixtures/orders-large.csv <<'EOF'\nid,customer_id,status,total_cents,created_at\n")
	for i := 1; b.Len() < 2<<20; i++ {
		fmt.Fprintf(&b, "%d,%d,pending,%d,2025-02-02T01:01:00Z\n", i, i*7919%50000, i*3571%100000)
	}
	return b.String() + "EOF"
}

func inputs() map[string]string {
	return map[string]string{
		"typical 200B":             typicalCommand,
		"typical with secret":      typicalCommand + " -H 'Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0' && export GITHUB_TOKEN=" + ghToken,
		"2MB csv":                  csv2MB(),
		"2MB code with keys":       strings.Repeat("const key = lookup(monkey.keyboard, token_count); // password policy\n", 2<<20/70),
		"2MB one line of triggers": strings.Repeat("password token secret key ", 2<<20/26),
		"2MB kv secrets":           strings.Repeat("API_TOKEN=abcdef123456 ", 2<<20/23),
		"2MB private key":          "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n", 2<<20/65),
		"2MB sk- prefixes":         strings.Repeat("sk-", 2<<20/3),
		"2MB mysql":                strings.Repeat("mysql -u x ", 2<<20/11),
		"2MB unterminated quotes":  strings.Repeat(`token="`, 2<<20/7),
		"2MB schemes":              strings.Repeat("a://b:c", 2<<20/7),
		"2MB echo quotes":          strings.Repeat("echo '", 2<<20/6),
		"2MB auth headers":         strings.Repeat("Authorization: ", 2<<20/15),
		"2MB pem headers":          strings.Repeat("-----BEGIN PRIVATE KEY-----", 2<<20/27),
		"2MB flags":                strings.Repeat("--password ", 2<<20/11),
		"2MB long key":             strings.Repeat("tokenkeysecret_", 2<<20/15) + "=x",
		"2MB netrc":                "machine h login u\n" + strings.Repeat("password ", 2<<20/9),
		"2MB sudo pipes":           strings.Repeat("echo x | sudo ", 2<<20/14),
		"2MB jwt-ish":              strings.Repeat("eyJ.", 2<<20/4),
	}
}

// TestRedactIsLinear guards against super-linear blow-ups on 2 MB inputs
// (a quadratic matcher takes seconds here). The limit leaves room for the
// race detector and a machine shared with other jobs; the budget itself
// (20 ms of CPU for 2 MB) is checked with the benchmarks.
func TestRedactIsLinear(t *testing.T) {
	r := New()
	limit := time.Second
	if raceEnabled {
		limit *= 20
	}
	for name, in := range inputs() {
		t.Run(name, func(t *testing.T) {
			best := time.Hour
			for range 3 {
				start := time.Now()
				r.String(in)
				best = min(best, time.Since(start))
			}
			if best > limit {
				t.Errorf("took %v, limit %v", best, limit)
			}
		})
	}
}

func BenchmarkRedact(b *testing.B) {
	r := New()
	for name, in := range inputs() {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				r.String(in)
			}
		})
	}
}

func BenchmarkRedactShort(b *testing.B) {
	r := New()
	b.ReportAllocs()
	for b.Loop() {
		r.String("npm test -- orders")
	}
}

func BenchmarkRedactJSON(b *testing.B) {
	r := New()
	in := []byte(`{"server":"github","tool":"create_issue","arguments":{"owner":"acme","repo":"shop","title":"Fix build","body":"The build fails on main since 9c41e2d; see https://ci.example.com/run/123","labels":["bug","ci"],"token":"` + ghToken + `"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r.JSON(in)
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		New()
	}
}
