// Package grafana delivers alert notifications as Grafana annotations
// (POST /api/annotations with a Bearer service-account token), so alerts
// appear on the dashboards next to the events that caused them.
package grafana

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
)

var _ alert.Notifier = (*Grafana)(nil)

// Grafana posts annotations to one Grafana.
type Grafana struct {
	endpoint     string
	token        string
	dashboardUID string
	tags         []string
	client       *http.Client
}

// New builds a Grafana channel from its configuration.
func New(c config.GrafanaChannel) (*Grafana, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("grafana: url %q must be an http(s) URL", config.RedactURL(c.URL))
	}
	return &Grafana{
		endpoint:     strings.TrimRight(c.URL, "/") + "/api/annotations",
		token:        c.Token,
		dashboardUID: c.DashboardUID,
		tags:         append([]string(nil), c.Tags...),
		client:       alert.NewHTTPClient(c.AllowPrivate),
	}, nil
}

// Name implements alert.Notifier.
func (g *Grafana) Name() string { return "grafana" }

// Annotation is the body of POST /api/annotations.
type Annotation struct {
	DashboardUID string   `json:"dashboardUID,omitempty"`
	Time         int64    `json:"time"`
	Tags         []string `json:"tags"`
	Text         string   `json:"text"`
}

// Payload builds the annotation for n: the configured tags plus the
// severity, rule, category and project, so dashboards can filter on them.
func (g *Grafana) Payload(n alert.Notification) Annotation {
	tags := append([]string(nil), g.tags...)
	tags = append(tags, "severity:"+n.Severity.String(), "kind:"+string(n.Kind))
	if n.Alert.Rule != "" {
		tags = append(tags, "rule:"+n.Alert.Rule, "category:"+n.Alert.Category)
	}
	if n.Alert.Project != "" {
		tags = append(tags, "project:"+n.Alert.Project)
	}
	return Annotation{
		DashboardUID: g.dashboardUID,
		Time:         n.Time.UnixMilli(),
		Tags:         tags,
		Text:         n.Text(),
	}
}

// Notify implements alert.Notifier.
func (g *Grafana) Notify(ctx context.Context, n alert.Notification) error {
	body, err := json.Marshal(g.Payload(n))
	if err != nil {
		return alert.Permanent(fmt.Errorf("grafana: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.endpoint, bytes.NewReader(body))
	if err != nil {
		return alert.Permanent(fmt.Errorf("grafana: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "vigil-alerts/1")
	if g.token != "" {
		req.Header.Set("Authorization", "Bearer "+g.token)
	}
	if err := alert.Do(ctx, g.client, req); err != nil {
		return fmt.Errorf("grafana: %w", err)
	}
	return nil
}
