package alert

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

// FuzzSeedJSONBody: whatever an agent puts in a command (and so in an
// alert's summary, context or session id), a seed-style JSON webhook body
// stays valid JSON: values are escaped, never spliced raw.
func FuzzSeedJSONBody(f *testing.F) {
	for _, s := range []string{"rm -rf ~", `"}, "x": {"`, "\\", "\x00\xff", "{context}", "</script>", "line\nbreak\u2028"} {
		f.Add(s, s, s)
	}
	b, err := os.ReadFile("testdata/security-rules.yaml")
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := FromSeed(append(b, []byte(`
  webhook:
    enabled: true
    url: https://x.example/
`)...), config.Default(config.Paths{}).Alerts, "")
	_ = cfg
	if err != nil {
		f.Fatal(err)
	}
	body := `{"alert_id": "{alert_id}", "severity": "{severity}", "description": "{description}", "timestamp": "{timestamp}", "category": "{category}", "session_id": "{session_id}", "context": {context}, "tags": {tags}, "count": {count}}`
	tpl, err := ParseTemplate("body", body, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, summary, session, ctxval string) {
		n := Notification{Kind: KindNew, Severity: rules.High, Title: summary,
			Alert: Alert{ID: session, Rule: summary, Description: summary, Category: ctxval, SessionID: session, Count: 1,
				Tags: []string{ctxval}, Context: map[string]string{ctxval: summary, "command": ctxval}}}
		out, err := Render(tpl, n)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %s", out)
		}
	})
}

// FuzzFromSeed: a seed file is user input; reading it never panics, and
// anything it accepts is either valid config or rejected by Validate with
// field errors, not by a crash later.
func FuzzFromSeed(f *testing.F) {
	b, err := os.ReadFile("testdata/security-rules.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("settings: {max_alerts_per_minute: -5}\ndeduplication: {key_fields: [x]}"))
	f.Add([]byte("notifications: {email: {enabled: true, recipients: {NOPE: [1]}}}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		base := config.Default(config.Paths{DBPath: "x"})
		a, err := FromSeed(in, base.Alerts, "/data")
		if err != nil {
			return
		}
		base.Alerts = a
		if base.Validate() != nil {
			return
		}
		c := NewCollector(a, nil)
		c.Handle(rules.Match{RuleID: "r", Severity: rules.High, SessionID: "s"})
	})
}
