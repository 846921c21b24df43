package config

import (
	"net/url"
	"time"
)

// Loki configures the optional forwarder to Grafana Loki. Owned by the Loki
// work (issue 4). An empty URL leaves the forwarder off.
type Loki struct {
	// URL is Loki's base URL, e.g. http://127.0.0.1:3100.
	URL string `yaml:"url"`
	// TenantID is sent as X-Scope-OrgID when set (multi-tenant Loki).
	TenantID string `yaml:"tenant_id"`
	// Username/Password select basic auth; BearerToken a bearer token.
	Username    string `yaml:"username"`
	Password    string `yaml:"password"`
	BearerToken string `yaml:"bearer_token"`
	// Format is "protobuf" (protobuf + snappy, the default) or "json".
	Format string `yaml:"format"`
	// Service is the service label of every stream (default claude-telemetry).
	Service string `yaml:"service"`
	// BatchMaxEvents and BatchMaxBytes bound one push; BatchWait is how
	// long a batch waits to fill when the store is quiet.
	BatchMaxEvents int           `yaml:"batch_max_events"`
	BatchMaxBytes  int           `yaml:"batch_max_bytes"`
	BatchWait      time.Duration `yaml:"batch_wait"`
	// Timeout bounds each HTTP request.
	Timeout time.Duration `yaml:"timeout"`
	// MinBackoff and MaxBackoff bound the wait between retries.
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// Alerts also pushes every alert to Loki, in the stream
	// {service=..., stream="alerts"} (default true).
	Alerts bool `yaml:"alerts"`
}

// Enabled reports whether the forwarder should run.
func (l Loki) Enabled() bool { return l.URL != "" }

func defaultLoki() Loki {
	return Loki{
		Format:         "protobuf",
		Service:        "claude-telemetry",
		BatchMaxEvents: 2000,
		BatchMaxBytes:  2 << 20,
		BatchWait:      time.Second,
		Timeout:        10 * time.Second,
		MinBackoff:     250 * time.Millisecond,
		MaxBackoff:     5 * time.Second,
		Alerts:         true,
	}
}

func (l Loki) validate() Errors {
	var errs Errors
	add := func(field string, value any, msg string) {
		errs = append(errs, &FieldError{Field: "loki." + field, Value: value, Msg: msg})
	}
	if l.URL != "" {
		u, err := url.Parse(l.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("url", l.URL, "must be http(s)://host[:port][/prefix]")
		}
	}
	if l.Username != "" && l.BearerToken != "" {
		add("bearer_token", "[REDACTED]", "set either username/password or bearer_token, not both")
	}
	if l.Password != "" && l.Username == "" {
		add("username", l.Username, "is required when password is set")
	}
	if l.Format != "protobuf" && l.Format != "json" {
		add("format", l.Format, `must be "protobuf" or "json"`)
	}
	if !validLabelValue(l.Service) {
		add("service", l.Service, "must be a non-empty label value")
	}
	if l.BatchMaxEvents <= 0 {
		add("batch_max_events", l.BatchMaxEvents, "must be positive")
	}
	if l.BatchMaxBytes < 1<<10 {
		add("batch_max_bytes", l.BatchMaxBytes, "must be at least 1024")
	}
	if l.BatchWait <= 0 {
		add("batch_wait", l.BatchWait, "must be positive")
	}
	if l.Timeout <= 0 {
		add("timeout", l.Timeout, "must be positive")
	}
	if l.MinBackoff <= 0 {
		add("min_backoff", l.MinBackoff, "must be positive")
	}
	if l.MaxBackoff < l.MinBackoff {
		add("max_backoff", l.MaxBackoff, "must be at least min_backoff")
	}
	return errs
}

func validLabelValue(s string) bool {
	return s != "" && len(s) <= 1024
}

func (l Loki) redacted() Loki {
	if l.Password != "" {
		l.Password = "[REDACTED]"
	}
	if l.BearerToken != "" {
		l.BearerToken = "[REDACTED]"
	}
	if u, err := url.Parse(l.URL); err == nil && u.User != nil {
		u.User = url.UserPassword("[REDACTED]", "[REDACTED]")
		l.URL = u.String()
	}
	return l
}
