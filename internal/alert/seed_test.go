package alert

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

func TestFromSeed(t *testing.T) {
	b, err := os.ReadFile("testdata/security-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base := config.Default(config.Paths{}).Alerts
	a, err := FromSeed(b, base, "/data")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"max per minute", a.MaxPerMinute, 10},
		{"dedup window", a.Dedup.Window, 5 * time.Minute},
		{"dedup keys", a.Dedup.KeyFields, []string{"rule_name", "session_id", "category"}},
		{"dedup max notifications", a.Dedup.MaxNotifications, 3},
		{"console enabled", a.Console.Enabled, true},
		{"console min", a.Console.MinSeverity, "MEDIUM"},
		{"console color", a.Console.Color, "auto"},
		{"logfile enabled", a.File.Enabled, true},
		{"logfile path", a.File.Path, "/data/data/alerts/security-alerts.log"},
		{"logfile size", a.File.MaxSizeMB, 100},
		{"logfile keep", a.File.KeepFiles, 5},
		{"email enabled", a.Email.Enabled, false},
		{"email host", a.Email.Host, "localhost"},
		{"email port", a.Email.Port, 587},
		{"email tls", a.Email.TLS, config.TLSStartTLS},
		{"email from", a.Email.From, "claude-alerts@localhost"},
		{"email high", a.Email.Recipients["HIGH"], []string{"security@example.com", "admin@example.com"}},
		{"email min", a.Email.MinSeverity, "MEDIUM"},
		{"email subject", a.Email.Subject, "[CLAUDE-ALERT-{severity}] {description}"},
		{"webhooks", len(a.Webhooks), 0}, // disabled with no URL: nothing to honour
		{"grafana enabled", a.Grafana.Enabled, true},
		{"grafana url", a.Grafana.URL, "http://localhost:3000"},
		{"grafana private", a.Grafana.AllowPrivate, true},
		{"grafana dashboard", a.Grafana.DashboardUID, "claude-performance-fixed"},
		{"grafana tags", a.Grafana.Tags, []string{"security", "alert"}},
	}
	for _, c := range checks {
		g, _ := json.Marshal(c.got)
		w, _ := json.Marshal(c.want)
		if string(g) != string(w) {
			t.Errorf("%s = %s, want %s", c.name, g, w)
		}
	}
	cfg := config.Default(config.Paths{DBPath: "x"})
	cfg.Alerts = a
	if err := cfg.Validate(); err != nil {
		t.Errorf("seed-derived config does not validate: %v", err)
	}
	// The seed's key fields drive dedup: same rule+session but another
	// category is another alert.
	c := NewCollector(a, nil)
	m1 := m("r", "s", 0, rules.High, rules.Response{})
	m2 := m1
	m2.Category = "other"
	c.Handle(m1)
	c.Handle(m2)
	if n := len(c.Alerts()); n != 2 {
		t.Errorf("%d alerts, want 2 (category is a key field)", n)
	}
}

func TestFromSeedWebhook(t *testing.T) {
	seed := []byte(`
notifications:
  webhook:
    enabled: true
    url: "https://hooks.example.com/x"
    method: "post"
    headers: {"X-Token": "abc"}
    timeout_seconds: 3
    retry_attempts: 2
    payload_template: '{"id": "{alert_id}", "context": {context}}'
`)
	a, err := FromSeed(seed, config.Default(config.Paths{}).Alerts, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Webhooks) != 1 {
		t.Fatalf("%d webhooks", len(a.Webhooks))
	}
	w := a.Webhooks[0]
	if !w.Enabled || w.Method != "POST" || w.Timeout != 3*time.Second || w.Retries != 2 || w.Headers["X-Token"] != "abc" || w.URL != "https://hooks.example.com/x" {
		t.Errorf("webhook %+v", w)
	}
	if _, err := ParseTemplate("body", w.Body, true); err != nil {
		t.Error(err)
	}
}

func TestParseTemplate(t *testing.T) {
	n := Notification{
		Kind: KindNew, Severity: rules.High, Title: `x "quoted"`, Time: t0,
		Alert: Alert{ID: "id1", Rule: "r", Description: `say "hi"`, Category: "c", SessionID: "s", Count: 2, Context: map[string]string{"command": "rm -rf ~"}},
	}
	tests := []struct {
		name, text string
		json       bool
		want       string
		wantErr    bool
	}{
		{"seed json body", `{"alert_id": "{alert_id}", "description": "{description}", "severity": "{severity}", "timestamp": "{timestamp}", "context": {context}}`, true,
			`{"alert_id": "id1", "description": "say \"hi\"", "severity": "HIGH", "timestamp": "2026-11-23T10:00:00Z", "context": {"command":"rm -rf ~"}}`, false},
		{"seed subject", `[CLAUDE-ALERT-{severity}] {description}`, false, `[CLAUDE-ALERT-HIGH] say "hi"`, false},
		{"go template", `{{.Severity}} {{.Alert.Rule}} x{{.Alert.Count}} {{json .Alert.Context}}`, false, `HIGH r x2 {"command":"rm -rf ~"}`, false},
		{"unknown placeholder", `{nope}`, false, "", true},
		{"bad go template", `{{.Nope`, false, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := ParseTemplate(tc.name, tc.text, tc.json)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := Render(tpl, n)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if tc.json && !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

func TestPrivateAddr(t *testing.T) {
	tests := []struct {
		ip      string
		private bool
	}{
		{"127.0.0.1", true}, {"::1", true}, {"10.1.2.3", true}, {"192.168.1.1", true}, {"172.16.0.1", true},
		{"169.254.169.254", true}, {"fe80::1", true}, {"fc00::1", true}, {"0.0.0.0", true}, {"100.64.1.1", true},
		{"::ffff:127.0.0.1", true}, {"64:ff9b::a00:1", true}, {"224.0.0.1", true},
		{"8.8.8.8", false}, {"2001:4860:4860::8888", false}, {"1.1.1.1", false},
	}
	for _, tc := range tests {
		if got := privateAddr(netip.MustParseAddr(tc.ip)); got != tc.private {
			t.Errorf("privateAddr(%s) = %v, want %v", tc.ip, got, tc.private)
		}
	}
}

func TestHTTPClientRefusesLoopback(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer srv.Close()
	ctx := context.Background()
	// By name too: "localhost" resolves to loopback and is refused at dial time.
	for _, u := range []string{srv.URL, "http://localhost:" + srv.Listener.Addr().(interface{ String() string }).String()[len("127.0.0.1:"):]} {
		req, _ := http.NewRequest("POST", u, nil)
		err := Do(ctx, NewHTTPClient(false), req)
		if !errors.Is(err, ErrPrivateTarget) || !IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent ErrPrivateTarget", u, err)
		}
	}
	req, _ := http.NewRequest("POST", srv.URL, nil)
	if err := Do(ctx, NewHTTPClient(true), req); err != nil {
		t.Errorf("allow_private: %v", err)
	}
	if calls != 1 {
		t.Errorf("server saw %d requests, want 1", calls)
	}
}
