// Package webhook delivers alert notifications as HTTP requests: a method,
// headers and a body built from a template (Go text/template or the seed's
// {placeholder} form), or the notification as JSON when no template is set.
// Private-network targets are refused unless allow_private is set. Retries
// with backoff are the dispatcher's; Notify makes one attempt.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/template"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
)

var _ alert.Notifier = (*Webhook)(nil)

// UserAgent is sent unless the configuration sets one.
const UserAgent = "vigil-alerts/1"

// Webhook is one configured endpoint.
type Webhook struct {
	name    string
	url     string
	method  string
	headers http.Header
	body    *template.Template // nil: JSON of the notification
	client  *http.Client
}

// New builds a Webhook from its configuration.
func New(c config.WebhookChannel) (*Webhook, error) {
	name := c.Name
	if name == "" {
		name = "webhook"
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook %s: url %q must be an http(s) URL", name, config.RedactURL(c.URL))
	}
	w := &Webhook{
		name:    name,
		url:     c.URL,
		method:  strings.ToUpper(c.Method),
		headers: http.Header{},
		client:  alert.NewHTTPClient(c.AllowPrivate),
	}
	if w.method == "" {
		w.method = http.MethodPost
	}
	for k, v := range c.Headers {
		w.headers.Set(k, v)
	}
	if w.headers.Get("Content-Type") == "" {
		w.headers.Set("Content-Type", "application/json")
	}
	if w.headers.Get("User-Agent") == "" {
		w.headers.Set("User-Agent", UserAgent)
	}
	if strings.TrimSpace(c.Body) != "" {
		jsonBody := strings.Contains(w.headers.Get("Content-Type"), "json")
		w.body, err = alert.ParseTemplate(name+" body", c.Body, jsonBody)
		if err != nil {
			return nil, fmt.Errorf("webhook %s: %w", name, err)
		}
	}
	return w, nil
}

// Name implements alert.Notifier.
func (w *Webhook) Name() string { return w.name }

// Payload is the request body for n.
func (w *Webhook) Payload(n alert.Notification) ([]byte, error) {
	if w.body == nil {
		return json.Marshal(n)
	}
	return alert.Render(w.body, n)
}

// Notify implements alert.Notifier.
func (w *Webhook) Notify(ctx context.Context, n alert.Notification) error {
	body, err := w.Payload(n)
	if err != nil {
		return alert.Permanent(fmt.Errorf("webhook %s: %w", w.name, err))
	}
	req, err := http.NewRequestWithContext(ctx, w.method, w.url, bytes.NewReader(body))
	if err != nil {
		return alert.Permanent(fmt.Errorf("webhook %s: %w", w.name, err))
	}
	for k, v := range w.headers {
		req.Header[k] = v
	}
	if err := alert.Do(ctx, w.client, req); err != nil {
		return fmt.Errorf("webhook %s: %w", w.name, err)
	}
	return nil
}
