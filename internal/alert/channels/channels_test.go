package channels

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
)

func TestBuild(t *testing.T) {
	cfg := config.Default(config.Paths{}).Alerts
	cfg.File.Enabled = true
	cfg.File.Path = filepath.Join(t.TempDir(), "alerts.log")
	w1, w2 := config.DefaultWebhook(), config.DefaultWebhook()
	w1.URL, w2.URL = "https://a.example/x", "https://b.example/y"
	cfg.Webhooks = []config.WebhookChannel{w1, w2}
	cfg.Grafana.Enabled, cfg.Grafana.URL = true, "https://grafana.example"
	cfg.Slack.Enabled, cfg.Slack.WebhookURL = true, "https://hooks.slack.com/services/x"
	cfg.Email.Enabled, cfg.Email.Host, cfg.Email.From, cfg.Email.To = true, "smtp.example", "v@example.com", []string{"a@example.com"}
	full := config.Default(config.Paths{DBPath: "x"})
	full.Alerts = cfg
	if err := full.Validate(); err != nil {
		t.Fatal(err)
	}
	chans, err := Build(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range chans {
		names = append(names, c.Notifier.Name())
	}
	if got := strings.Join(names, ","); got != "console,file,webhook,webhook-2,email,grafana,slack" {
		t.Errorf("channels %s", got)
	}
	d, err := alert.New(cfg, chans, alert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestBuildErrors(t *testing.T) {
	cfg := config.Default(config.Paths{}).Alerts
	w := config.DefaultWebhook()
	w.URL = "https://a.example/x"
	w.Body = "{nope}"
	cfg.Webhooks = []config.WebhookChannel{w}
	if _, err := Build(cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "unknown placeholder {nope}") {
		t.Errorf("err = %v", err)
	}
}
