package config

import (
	"bytes"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Alerts configures the alert dispatcher and its channels. Owned by the
// detection work (issue 3).
//
// The dispatcher folds repeated matches of one rule into one counted alert
// (Dedup), sends at most MaxPerMinute notifications a minute across all
// channels and summarises what it held back. Each channel has its own
// queue, minimum severity, timeout and retry policy (AlertChannel).
type Alerts struct {
	// MaxPerMinute caps notifications per minute across all channels;
	// 0 means no cap. The seed's settings.max_alerts_per_minute.
	MaxPerMinute int `yaml:"max_alerts_per_minute"`
	// DefaultCooldown applies to rules whose own cooldown is 0 (rules that
	// say nothing). 0 means every occurrence may notify.
	DefaultCooldown time.Duration `yaml:"default_cooldown"`
	Dedup           Dedup         `yaml:"deduplication"`

	Console  ConsoleChannel   `yaml:"console"`
	File     JSONFileChannel  `yaml:"file"`
	Webhooks []WebhookChannel `yaml:"webhooks"`
	Email    EmailChannel     `yaml:"email"`
	Grafana  GrafanaChannel   `yaml:"grafana"`
	Slack    SlackChannel     `yaml:"slack"`
}

// Dedup key fields.
const (
	KeyRule     = "rule"
	KeySession  = "session"
	KeyCategory = "category"
	KeyProject  = "project"
	KeyHost     = "host"
)

// Dedup says which matches are the same alert.
type Dedup struct {
	// KeyFields name what makes two matches the same alert: rule, session,
	// category, project, host. The seed's rule_name and session_id are
	// accepted as rule and session.
	KeyFields []string `yaml:"key_fields"`
	// Window is how long an alert stays open for new occurrences after its
	// last one; a later occurrence opens a new alert.
	Window time.Duration `yaml:"window"`
	// MaxNotifications caps notifications per alert (the first, repeats
	// after cooldown, the escalation); 0 means no cap. Occurrences past
	// the cap are still counted and stored. The seed's max_occurrences.
	MaxNotifications int `yaml:"max_notifications"`
}

// AlertChannel holds what every channel has.
type AlertChannel struct {
	Enabled bool `yaml:"enabled"`
	// MinSeverity is the lowest severity sent: LOW, MEDIUM, HIGH, CRITICAL.
	MinSeverity string `yaml:"min_severity"`
	// Timeout bounds one delivery attempt.
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how many times a failed attempt is retried, with
	// exponential backoff and jitter.
	Retries int `yaml:"retries"`
	// QueueSize bounds the notifications waiting for this channel; when
	// it is full new notifications for it are dropped and counted.
	QueueSize int `yaml:"queue_size"`
	// Workers is how many notifications of this channel are delivered at
	// once (default 4 for network channels, 1 for console and file, which
	// keep their order). A slow endpoint then costs throughput only when
	// all of them wait.
	Workers int `yaml:"workers"`
}

// ConsoleChannel prints one line per notification to stderr.
type ConsoleChannel struct {
	AlertChannel `yaml:",inline"`
	// Color is "auto" (when stderr is a terminal), "always" or "never".
	Color string `yaml:"color"`
}

// JSONFileChannel appends one JSON object per notification to a file.
type JSONFileChannel struct {
	AlertChannel `yaml:",inline"`
	Path         string `yaml:"path"`
	MaxSizeMB    int    `yaml:"max_size_mb"`
	KeepFiles    int    `yaml:"keep_files"`
}

// WebhookChannel sends an HTTP request per notification.
type WebhookChannel struct {
	AlertChannel `yaml:",inline"`
	// Name labels the channel in metrics and logs (default webhook, webhook-2, ...).
	Name    string            `yaml:"name"`
	URL     string            `yaml:"url"`
	Method  string            `yaml:"method"`
	Headers map[string]string `yaml:"headers"`
	// Body is a Go text/template over the notification; the seed's
	// {alert_id}-style placeholders are accepted too. Empty sends the
	// notification as JSON.
	Body string `yaml:"body"`
	// AllowPrivate permits loopback, private and link-local targets.
	AllowPrivate bool `yaml:"allow_private"`
}

// UnmarshalYAML starts each webhook from DefaultWebhook, so a list entry
// that sets only url gets the common defaults (enabled, MEDIUM, 10s, 3
// retries). Decoding stays strict: unknown keys are errors.
func (w *WebhookChannel) UnmarshalYAML(n *yaml.Node) error {
	type plain WebhookChannel
	p := plain(DefaultWebhook())
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*w = WebhookChannel(p)
	return nil
}

// TLS modes for email.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
	TLSNone     = "none" // only for a relay on loopback
)

// EmailChannel sends mail over SMTP.
type EmailChannel struct {
	AlertChannel `yaml:",inline"`
	Host         string `yaml:"host"`
	Port         int    `yaml:"port"`
	// TLS is starttls (default), tls (implicit, port 465) or none.
	TLS      string `yaml:"tls"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Auth is plain (default) or login.
	Auth string `yaml:"auth"`
	From string `yaml:"from"`
	// To receives every notification at or above MinSeverity.
	To []string `yaml:"to"`
	// Recipients adds addresses per severity (the seed's recipients).
	Recipients map[string][]string `yaml:"recipients"`
	// Subject is a Go text/template (or seed {placeholder} string).
	Subject string `yaml:"subject"`
	// InsecureSkipVerify skips certificate checks (self-signed relays).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// GrafanaChannel posts an annotation per notification.
type GrafanaChannel struct {
	AlertChannel `yaml:",inline"`
	URL          string   `yaml:"url"`
	Token        string   `yaml:"token"`
	DashboardUID string   `yaml:"dashboard_uid"`
	Tags         []string `yaml:"tags"`
	AllowPrivate bool     `yaml:"allow_private"`
}

// SlackChannel posts to a Slack incoming webhook.
type SlackChannel struct {
	AlertChannel `yaml:",inline"`
	// WebhookURL is secret: anyone holding it can post.
	WebhookURL   string `yaml:"webhook_url"`
	AllowPrivate bool   `yaml:"allow_private"`
}

func defaultChannel(minSev string) AlertChannel {
	return AlertChannel{MinSeverity: minSev, Timeout: 10 * time.Second, Retries: 3, QueueSize: 1024, Workers: 4}
}

func serial(c AlertChannel) AlertChannel { c.Workers = 1; return c }

func defaultAlerts() Alerts {
	return Alerts{
		MaxPerMinute: 60,
		Dedup:        Dedup{KeyFields: []string{KeyRule, KeySession}, Window: time.Hour},
		Console:      ConsoleChannel{AlertChannel: serial(enabled(defaultChannel("MEDIUM"))), Color: "auto"},
		File:         JSONFileChannel{AlertChannel: serial(defaultChannel("LOW")), MaxSizeMB: 100, KeepFiles: 5},
		Email:        EmailChannel{AlertChannel: defaultChannel("HIGH"), Port: 587, TLS: TLSStartTLS, Auth: "plain", Subject: "[vigil {{.Severity}}] {{.Title}}"},
		Grafana:      GrafanaChannel{AlertChannel: defaultChannel("MEDIUM"), Tags: []string{"vigil", "security"}},
		Slack:        SlackChannel{AlertChannel: defaultChannel("HIGH")},
	}
}

func enabled(c AlertChannel) AlertChannel { c.Enabled = true; return c }

// DefaultWebhook is a webhook channel with the default common settings,
// for code that builds one outside YAML.
func DefaultWebhook() WebhookChannel {
	return WebhookChannel{AlertChannel: enabled(defaultChannel("MEDIUM")), Method: "POST"}
}

var severityWords = []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}

func validSeverity(s string) bool {
	for _, w := range severityWords {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

// NormalizeKeyField maps the seed's names (rule_name, session_id, ...) to
// ours; it returns "" for an unknown field.
func NormalizeKeyField(f string) string {
	switch strings.ToLower(f) {
	case "rule", "rule_name", "rule_id":
		return KeyRule
	case "session", "session_id":
		return KeySession
	case "category":
		return KeyCategory
	case "project":
		return KeyProject
	case "host":
		return KeyHost
	}
	return ""
}

func (a Alerts) validate() Errors {
	var errs Errors
	add := func(field string, value any, msg string) {
		errs = append(errs, &FieldError{Field: field, Value: value, Msg: msg})
	}
	if a.MaxPerMinute < 0 {
		add("alerts.max_alerts_per_minute", a.MaxPerMinute, "must be >= 0 (0 means no cap)")
	}
	if a.DefaultCooldown < 0 {
		add("alerts.default_cooldown", a.DefaultCooldown, "must be >= 0")
	}
	if len(a.Dedup.KeyFields) == 0 {
		add("alerts.deduplication.key_fields", a.Dedup.KeyFields, "must name at least one of rule, session, category, project, host")
	}
	for i, f := range a.Dedup.KeyFields {
		if NormalizeKeyField(f) == "" {
			add(fmt.Sprintf("alerts.deduplication.key_fields[%d]", i), f, "must be one of rule, session, category, project, host")
		}
	}
	if a.Dedup.Window <= 0 {
		add("alerts.deduplication.window", a.Dedup.Window, "must be positive")
	}
	if a.Dedup.MaxNotifications < 0 {
		add("alerts.deduplication.max_notifications", a.Dedup.MaxNotifications, "must be >= 0 (0 means no cap)")
	}
	common := func(prefix string, c AlertChannel) {
		if !c.Enabled {
			return
		}
		if !validSeverity(c.MinSeverity) {
			add(prefix+".min_severity", c.MinSeverity, "must be LOW, MEDIUM, HIGH or CRITICAL")
		}
		if c.Timeout <= 0 {
			add(prefix+".timeout", c.Timeout, "must be positive")
		}
		if c.Retries < 0 || c.Retries > 10 {
			add(prefix+".retries", c.Retries, "must be between 0 and 10")
		}
		if c.QueueSize < 1 {
			add(prefix+".queue_size", c.QueueSize, "must be at least 1")
		}
		if c.Workers < 0 || c.Workers > 64 {
			add(prefix+".workers", c.Workers, "must be between 1 and 64 (0 means 1)")
		}
	}
	httpURL := func(field, s string, redact bool) {
		u, err := url.Parse(s)
		shown := s
		if redact {
			shown = "[REDACTED]"
		}
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(field, shown, "must be an http(s) URL with a host")
		}
	}
	common("alerts.console", a.Console.AlertChannel)
	if a.Console.Enabled && a.Console.Color != "auto" && a.Console.Color != "always" && a.Console.Color != "never" {
		add("alerts.console.color", a.Console.Color, `must be "auto", "always" or "never"`)
	}
	common("alerts.file", a.File.AlertChannel)
	if a.File.Enabled {
		if a.File.Path == "" {
			add("alerts.file.path", a.File.Path, "must be set when the file channel is enabled")
		}
		if a.File.MaxSizeMB < 0 {
			add("alerts.file.max_size_mb", a.File.MaxSizeMB, "must be >= 0 (0 means no rotation)")
		}
		if a.File.KeepFiles < 0 {
			add("alerts.file.keep_files", a.File.KeepFiles, "must be >= 0")
		}
	}
	names := map[string]bool{}
	for i, w := range a.Webhooks {
		p := fmt.Sprintf("alerts.webhooks[%d]", i)
		common(p, w.AlertChannel)
		if !w.Enabled {
			continue
		}
		httpURL(p+".url", RedactURL(w.URL), false)
		switch strings.ToUpper(w.Method) {
		case "", "POST", "PUT", "PATCH":
		default:
			add(p+".method", w.Method, "must be POST, PUT or PATCH")
		}
		if w.Name != "" {
			if names[w.Name] {
				add(p+".name", w.Name, "must be unique")
			}
			names[w.Name] = true
		}
	}
	common("alerts.email", a.Email.AlertChannel)
	if e := a.Email; e.Enabled {
		if e.Host == "" {
			add("alerts.email.host", e.Host, "must be set when email is enabled")
		}
		if e.Port < 1 || e.Port > 65535 {
			add("alerts.email.port", e.Port, "must be a TCP port")
		}
		if e.TLS != TLSStartTLS && e.TLS != TLSImplicit && e.TLS != TLSNone {
			add("alerts.email.tls", e.TLS, `must be "starttls", "tls" or "none"`)
		}
		if e.TLS == TLSNone && e.Password != "" && !loopbackHost(e.Host) {
			add("alerts.email.tls", e.TLS, "would send the password in clear to "+e.Host+": use starttls or tls (none is only for a relay on localhost)")
		}
		if e.Auth != "plain" && e.Auth != "login" {
			add("alerts.email.auth", e.Auth, `must be "plain" or "login"`)
		}
		if _, err := mail.ParseAddress(e.From); err != nil {
			add("alerts.email.from", e.From, "must be an email address")
		}
		n := len(e.To)
		for i, to := range e.To {
			if _, err := mail.ParseAddress(to); err != nil {
				add(fmt.Sprintf("alerts.email.to[%d]", i), to, "must be an email address")
			}
		}
		for sev, list := range e.Recipients {
			if !validSeverity(sev) {
				add("alerts.email.recipients", sev, "keys must be LOW, MEDIUM, HIGH or CRITICAL")
			}
			n += len(list)
			for i, to := range list {
				if _, err := mail.ParseAddress(to); err != nil {
					add(fmt.Sprintf("alerts.email.recipients.%s[%d]", sev, i), to, "must be an email address")
				}
			}
		}
		if n == 0 {
			add("alerts.email.to", e.To, "must name at least one recipient (to or recipients)")
		}
	}
	common("alerts.grafana", a.Grafana.AlertChannel)
	if a.Grafana.Enabled {
		httpURL("alerts.grafana.url", a.Grafana.URL, false)
	}
	common("alerts.slack", a.Slack.AlertChannel)
	if a.Slack.Enabled {
		httpURL("alerts.slack.webhook_url", a.Slack.WebhookURL, true)
	}
	return errs
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

const redactedValue = "[REDACTED]"

func (a Alerts) redacted() Alerts {
	if a.Email.Password != "" {
		a.Email.Password = redactedValue
	}
	if a.Grafana.Token != "" {
		a.Grafana.Token = redactedValue
	}
	if a.Slack.WebhookURL != "" {
		a.Slack.WebhookURL = redactSlack(a.Slack.WebhookURL)
	}
	if len(a.Webhooks) > 0 {
		ws := make([]WebhookChannel, len(a.Webhooks))
		for i, w := range a.Webhooks {
			w.URL = RedactURL(w.URL)
			if len(w.Headers) > 0 {
				h := make(map[string]string, len(w.Headers))
				for k, v := range w.Headers {
					if secretHeader(k) {
						v = redactedValue
					}
					h[k] = v
				}
				w.Headers = h
			}
			ws[i] = w
		}
		a.Webhooks = ws
	}
	return a
}

// RedactURL hides a URL's password and query values, where webhook
// services put their tokens. Unparseable input is hidden whole.
func RedactURL(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return redactedValue
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// redactSlack keeps the host of a Slack webhook URL: its path is the secret.
func redactSlack(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return redactedValue
	}
	return u.Scheme + "://" + u.Host + "/" + redactedValue
}

func secretHeader(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"authorization", "token", "secret", "key", "password", "cookie", "signature"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}
