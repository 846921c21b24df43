package config

import (
	"strings"
	"testing"
	"time"
)

func TestAlertsDefaultsValid(t *testing.T) {
	c := Default(ResolvePaths(func(string) string { return "" }))
	if errs := c.Alerts.validate(); len(errs) > 0 {
		t.Fatalf("defaults invalid: %v", errs)
	}
}

func TestAlertsValidate(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each error names field and value
	}{
		{"negative rate", "alerts: {max_alerts_per_minute: -1}", []string{"alerts.max_alerts_per_minute: must be >= 0 (0 means no cap) (got -1)"}},
		{"bad key field", "alerts: {deduplication: {key_fields: [rule, user]}}", []string{"alerts.deduplication.key_fields[1]: must be one of rule, session, category, project, host (got user)"}},
		{"seed key names", "alerts: {deduplication: {key_fields: [rule_name, session_id, category], window: 5m}}", nil},
		{"console", "alerts: {console: {min_severity: SEVERE, color: rainbow}}", []string{"alerts.console.min_severity: must be LOW, MEDIUM, HIGH or CRITICAL (got SEVERE)", `alerts.console.color: must be "auto", "always" or "never" (got rainbow)`}},
		{"file without path", "alerts: {file: {enabled: true}}", []string{"alerts.file.path: must be set when the file channel is enabled (got )"}},
		{"webhook", "alerts: {webhooks: [{enabled: true, min_severity: HIGH, timeout: 1s, queue_size: 1, url: 'ftp://x?token=s3cret', method: DELETE}]}",
			[]string{"alerts.webhooks[0].url: must be an http(s) URL with a host (got ftp://x?token=REDACTED)", "alerts.webhooks[0].method: must be POST, PUT or PATCH (got DELETE)"}},
		{"webhook defaults", "alerts: {webhooks: [{url: 'https://x'}]}", nil},
		{"webhook retries", "alerts: {webhooks: [{enabled: true, min_severity: HIGH, timeout: 0s, retries: 11, queue_size: 0, url: 'https://x'}]}",
			[]string{"alerts.webhooks[0].timeout: must be positive (got 0s)", "alerts.webhooks[0].retries: must be between 0 and 10 (got 11)", "alerts.webhooks[0].queue_size: must be at least 1 (got 0)"}},
		{"email", "alerts: {email: {enabled: true, host: '', port: 0, tls: ssl, auth: cram, from: nobody, recipients: {URGENT: [x]}}}",
			[]string{"alerts.email.host: must be set when email is enabled (got )", "alerts.email.port: must be a TCP port (got 0)", `alerts.email.tls: must be "starttls", "tls" or "none" (got ssl)`,
				`alerts.email.auth: must be "plain" or "login" (got cram)`, "alerts.email.from: must be an email address (got nobody)",
				"alerts.email.recipients: keys must be LOW, MEDIUM, HIGH or CRITICAL (got URGENT)", "alerts.email.recipients.URGENT[0]: must be an email address (got x)"}},
		{"email password in clear", "alerts: {email: {enabled: true, host: smtp.example.com, tls: none, password: pw, from: a@example.com, to: [b@example.com]}}",
			[]string{"alerts.email.tls: would send the password in clear to smtp.example.com: use starttls or tls (none is only for a relay on localhost) (got none)"}},
		{"email clear on loopback", "alerts: {email: {enabled: true, host: 127.0.0.1, tls: none, password: pw, from: a@example.com, to: [b@example.com]}}", nil},
		{"slack url is not echoed", "alerts: {slack: {enabled: true, webhook_url: 'hooks.slack.com/services/SECRET'}}", []string{"alerts.slack.webhook_url: must be an http(s) URL with a host (got [REDACTED])"}},
		{"grafana", "alerts: {grafana: {enabled: true, url: ''}}", []string{"alerts.grafana.url: must be an http(s) URL with a host (got )"}},
		{"disabled channels are not checked", "alerts: {email: {enabled: false, port: 0}, slack: {webhook_url: x}}", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default(Paths{DBPath: "x"})
			if err := Decode([]byte(tc.yaml), &c); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range c.Alerts.validate() {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestAlertsStrictYAML(t *testing.T) {
	c := Default(Paths{})
	err := Decode([]byte("alerts: {webhooks: [{url: 'https://x', bodyy: 'typo'}]}"), &c)
	if err == nil || !strings.Contains(err.Error(), "bodyy") {
		t.Errorf("unknown key accepted: %v", err)
	}
	if err := Decode([]byte("alerts: {console: {timeout: 3s, retries: 1}}"), &c); err != nil || c.Alerts.Console.Timeout != 3*time.Second {
		t.Errorf("inline common fields: %v %v", err, c.Alerts.Console.Timeout)
	}
	c = Default(Paths{})
	if err := Decode([]byte("alerts: {webhooks: [{url: 'https://x', min_severity: HIGH}]}"), &c); err != nil {
		t.Fatal(err)
	}
	if w := c.Alerts.Webhooks[0]; !w.Enabled || w.Method != "POST" || w.Timeout != 10*time.Second || w.Retries != 3 || w.QueueSize != 1024 || w.MinSeverity != "HIGH" {
		t.Errorf("webhook entry without defaults: %+v", w)
	}
}

func TestAlertsRedacted(t *testing.T) {
	c := Default(Paths{})
	y := `alerts:
  email: {password: hunter2, username: vigil}
  grafana: {token: glsa_secret}
  slack: {webhook_url: "https://hooks.slack.com/services/T0/B0/SECRET"}
  webhooks:
    - url: "https://user:pw@siem.example/hook?token=SECRET&team=sec"
      headers: {Authorization: "Bearer SECRET", X-Api-Key: SECRET, X-Team: sec}
`
	if err := Decode([]byte(y), &c); err != nil {
		t.Fatal(err)
	}
	orig := c.Alerts.Webhooks[0].Headers["Authorization"]
	r := c.Redacted().Alerts
	checks := map[string][2]string{
		"password": {r.Email.Password, "[REDACTED]"},
		"username": {r.Email.Username, "vigil"},
		"token":    {r.Grafana.Token, "[REDACTED]"},
		"slack":    {r.Slack.WebhookURL, "https://hooks.slack.com/[REDACTED]"},
		"url":      {r.Webhooks[0].URL, "https://user:REDACTED@siem.example/hook?team=REDACTED&token=REDACTED"},
		"auth":     {r.Webhooks[0].Headers["Authorization"], "[REDACTED]"},
		"api key":  {r.Webhooks[0].Headers["X-Api-Key"], "[REDACTED]"},
		"team":     {r.Webhooks[0].Headers["X-Team"], "sec"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if c.Alerts.Webhooks[0].Headers["Authorization"] != orig || orig != "Bearer SECRET" {
		t.Error("Redacted modified the original config's headers")
	}
}
