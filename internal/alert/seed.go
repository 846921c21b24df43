package alert

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigil-sec/vigil/internal/config"
)

// seedFile is the part of the seed's security-rules.yaml the alert side
// honours. Other sections (rules, performance, reliability) belong to the
// rule engine or are obsolete, and are ignored here.
type seedFile struct {
	Settings struct {
		MaxAlertsPerMinute *int `yaml:"max_alerts_per_minute"`
	} `yaml:"settings"`
	Notifications struct {
		Console *struct {
			Enabled     bool   `yaml:"enabled"`
			MinSeverity string `yaml:"min_severity"`
			Colors      *bool  `yaml:"colors"`
		} `yaml:"console"`
		Logfile *struct {
			Enabled  bool   `yaml:"enabled"`
			Path     string `yaml:"path"`
			Rotation struct {
				MaxSizeMB *int `yaml:"max_size_mb"`
				KeepFiles *int `yaml:"keep_files"`
			} `yaml:"rotation"`
		} `yaml:"logfile"`
		Email *struct {
			Enabled         bool                `yaml:"enabled"`
			SMTPServer      string              `yaml:"smtp_server"`
			SMTPPort        int                 `yaml:"smtp_port"`
			UseTLS          bool                `yaml:"use_tls"`
			Username        string              `yaml:"username"`
			Password        string              `yaml:"password"`
			FromAddress     string              `yaml:"from_address"`
			Recipients      map[string][]string `yaml:"recipients"`
			SubjectTemplate string              `yaml:"subject_template"`
		} `yaml:"email"`
		Webhook *struct {
			Enabled         bool              `yaml:"enabled"`
			URL             string            `yaml:"url"`
			Method          string            `yaml:"method"`
			Headers         map[string]string `yaml:"headers"`
			TimeoutSeconds  int               `yaml:"timeout_seconds"`
			RetryAttempts   *int              `yaml:"retry_attempts"`
			PayloadTemplate string            `yaml:"payload_template"`
		} `yaml:"webhook"`
		Grafana *struct {
			Enabled        bool     `yaml:"enabled"`
			URL            string   `yaml:"url"`
			APIKey         string   `yaml:"api_key"`
			DashboardUID   string   `yaml:"dashboard_uid"`
			AnnotationTags []string `yaml:"annotation_tags"`
		} `yaml:"grafana"`
	} `yaml:"notifications"`
	Deduplication *struct {
		Enabled        bool     `yaml:"enabled"`
		WindowMinutes  int      `yaml:"window_minutes"`
		KeyFields      []string `yaml:"key_fields"`
		MaxOccurrences int      `yaml:"max_occurrences"`
	} `yaml:"deduplication"`
}

// FromSeed overlays the alert settings of a seed security-rules.yaml on
// base, so the old file's channels and limits are honoured:
// settings.max_alerts_per_minute, notifications (console, logfile, email,
// webhook, grafana) and deduplication. Relative logfile paths are resolved
// against dataDir. Sections the seed leaves out keep base's values.
//
// Decisions: a seed Grafana URL on localhost implies allow_private (the
// old system posted to a local Grafana); the seed's use_tls means implicit
// TLS on port 465 and STARTTLS otherwise; dedup "enabled: false" keys
// alerts on rule + session + category anyway, since Vigil never drops
// occurrences; "max_occurrences" caps notifications per alert.
func FromSeed(b []byte, base config.Alerts, dataDir string) (config.Alerts, error) {
	var s seedFile
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return base, fmt.Errorf("seed alert settings: %w", err)
	}
	a := base
	if v := s.Settings.MaxAlertsPerMinute; v != nil {
		a.MaxPerMinute = *v
	}
	if d := s.Deduplication; d != nil {
		if d.WindowMinutes > 0 {
			a.Dedup.Window = time.Duration(d.WindowMinutes) * time.Minute
		}
		if len(d.KeyFields) > 0 {
			a.Dedup.KeyFields = append([]string(nil), d.KeyFields...)
		}
		if d.Enabled {
			a.Dedup.MaxNotifications = d.MaxOccurrences
		}
	}
	n := s.Notifications
	if c := n.Console; c != nil {
		a.Console.Enabled = c.Enabled
		if c.MinSeverity != "" {
			a.Console.MinSeverity = strings.ToUpper(c.MinSeverity)
		}
		if c.Colors != nil && !*c.Colors {
			a.Console.Color = "never"
		}
	}
	if l := n.Logfile; l != nil {
		a.File.Enabled = l.Enabled
		if l.Path != "" {
			p := l.Path
			if !filepath.IsAbs(p) && dataDir != "" {
				p = filepath.Join(dataDir, p)
			}
			a.File.Path = p
		}
		if v := l.Rotation.MaxSizeMB; v != nil {
			a.File.MaxSizeMB = *v
		}
		if v := l.Rotation.KeepFiles; v != nil {
			a.File.KeepFiles = *v
		}
	}
	if e := n.Email; e != nil {
		a.Email.Enabled = e.Enabled
		if e.SMTPServer != "" {
			a.Email.Host = e.SMTPServer
		}
		if e.SMTPPort != 0 {
			a.Email.Port = e.SMTPPort
		}
		switch {
		case e.UseTLS && e.SMTPPort == 465:
			a.Email.TLS = config.TLSImplicit
		case e.UseTLS:
			a.Email.TLS = config.TLSStartTLS
		default:
			a.Email.TLS = config.TLSNone
		}
		a.Email.Username, a.Email.Password = e.Username, e.Password
		if e.FromAddress != "" {
			a.Email.From = e.FromAddress
		}
		if len(e.Recipients) > 0 {
			a.Email.Recipients = map[string][]string{}
			lowest := ""
			for _, sev := range []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"} {
				for k, v := range e.Recipients {
					if strings.EqualFold(k, sev) {
						a.Email.Recipients[sev] = append([]string(nil), v...)
						if lowest == "" {
							lowest = sev
						}
					}
				}
			}
			if lowest != "" {
				a.Email.MinSeverity = lowest
			}
		}
		if e.SubjectTemplate != "" {
			a.Email.Subject = e.SubjectTemplate
		}
	}
	if w := n.Webhook; w != nil && (w.Enabled || w.URL != "") {
		wc := config.DefaultWebhook()
		wc.Name = "webhook"
		wc.Enabled = w.Enabled
		wc.MinSeverity = "LOW"
		wc.URL = w.URL
		if w.Method != "" {
			wc.Method = strings.ToUpper(w.Method)
		}
		if len(w.Headers) > 0 {
			wc.Headers = map[string]string{}
			for k, v := range w.Headers {
				wc.Headers[k] = v
			}
		}
		if w.TimeoutSeconds > 0 {
			wc.Timeout = time.Duration(w.TimeoutSeconds) * time.Second
		}
		if w.RetryAttempts != nil {
			wc.Retries = *w.RetryAttempts
		}
		wc.Body = w.PayloadTemplate
		ws := make([]config.WebhookChannel, 0, len(a.Webhooks)+1)
		for _, old := range a.Webhooks {
			if old.Name != wc.Name {
				ws = append(ws, old)
			}
		}
		a.Webhooks = append(ws, wc)
	}
	if g := n.Grafana; g != nil {
		a.Grafana.Enabled = g.Enabled
		if g.URL != "" {
			a.Grafana.URL = g.URL
			a.Grafana.AllowPrivate = a.Grafana.AllowPrivate || loopbackURL(g.URL)
		}
		a.Grafana.Token = g.APIKey
		a.Grafana.DashboardUID = g.DashboardUID
		if len(g.AnnotationTags) > 0 {
			a.Grafana.Tags = append([]string(nil), g.AnnotationTags...)
		}
		a.Grafana.MinSeverity = "LOW"
	}
	return a, nil
}

func loopbackURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
