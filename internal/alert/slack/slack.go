// Package slack delivers alert notifications to a Slack incoming webhook:
// a text line for notifications and mobile previews, and an attachment
// coloured by severity holding Block Kit sections with the details.
package slack

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
	"github.com/vigil-sec/vigil/internal/rules"
)

var _ alert.Notifier = (*Slack)(nil)

// Slack posts to one incoming webhook.
type Slack struct {
	url    string
	client *http.Client
}

// New builds a Slack channel. The webhook URL is a secret: errors never
// show it.
func New(c config.SlackChannel) (*Slack, error) {
	u, err := url.Parse(c.WebhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("slack: webhook_url must be an http(s) URL")
	}
	return &Slack{url: c.WebhookURL, client: alert.NewHTTPClient(c.AllowPrivate)}, nil
}

// Name implements alert.Notifier.
func (s *Slack) Name() string { return "slack" }

// Colors by severity (attachment side bar).
func Color(s rules.Severity) string {
	switch s {
	case rules.Critical:
		return "#b00020"
	case rules.High:
		return "#e8590c"
	case rules.Medium:
		return "#f2c744"
	default:
		return "#4a90d9"
	}
}

type text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type block struct {
	Type     string `json:"type"`
	Text     *text  `json:"text,omitempty"`
	Fields   []text `json:"fields,omitempty"`
	Elements []text `json:"elements,omitempty"`
}

type attachment struct {
	Color    string  `json:"color"`
	Fallback string  `json:"fallback"`
	Blocks   []block `json:"blocks"`
}

// Message is the incoming-webhook body.
type Message struct {
	Text        string       `json:"text"`
	Attachments []attachment `json:"attachments"`
}

// escape makes s safe inside Slack mrkdwn (&, <, > are control characters).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Payload builds the message for n.
func Payload(n alert.Notification) Message {
	head := fmt.Sprintf("[%s] %s", n.Severity, n.Title)
	a := n.Alert
	var blocks []block
	blocks = append(blocks, block{Type: "section", Text: &text{"mrkdwn", "*" + escape(head) + "*"}})
	if n.Kind == alert.KindSummary {
		var b strings.Builder
		for _, h := range n.Held {
			fmt.Fprintf(&b, "• %d× `%s` (%s)\n", h.Count, escape(h.Rule), h.Severity)
		}
		blocks = append(blocks, block{Type: "section", Text: &text{"mrkdwn", strings.TrimSpace(b.String())}})
	} else {
		fields := []text{
			{"mrkdwn", "*Rule*\n`" + escape(a.Rule) + "`"},
			{"mrkdwn", "*Category*\n" + escape(a.Category)},
			{"mrkdwn", "*Session*\n`" + escape(a.SessionID) + "`"},
			{"mrkdwn", "*Project*\n" + escape(a.Project)},
			{"mrkdwn", fmt.Sprintf("*Count*\n%d", a.Count)},
			{"mrkdwn", "*Kind*\n" + string(n.Kind)},
		}
		blocks = append(blocks, block{Type: "section", Fields: fields})
		if a.Summary != "" {
			blocks = append(blocks, block{Type: "section", Text: &text{"mrkdwn", "```" + escape(a.Summary) + "```"}})
		}
		blocks = append(blocks, block{Type: "context", Elements: []text{{"mrkdwn", "alert " + escape(a.ID) + " · " + escape(strings.Join(a.Tags, ", "))}}})
	}
	return Message{
		Text:        escape(head),
		Attachments: []attachment{{Color: Color(n.Severity), Fallback: escape(head), Blocks: blocks}},
	}
}

// Notify implements alert.Notifier.
func (s *Slack) Notify(ctx context.Context, n alert.Notification) error {
	body, err := json.Marshal(Payload(n))
	if err != nil {
		return alert.Permanent(fmt.Errorf("slack: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return alert.Permanent(fmt.Errorf("slack: bad webhook url"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigil-alerts/1")
	if err := alert.Do(ctx, s.client, req); err != nil {
		return fmt.Errorf("slack: %w", redactErr(err, s.url))
	}
	return nil
}

// redactErr removes the secret webhook URL from err's text.
func redactErr(err error, secret string) error {
	msg := err.Error()
	if !strings.Contains(msg, secret) {
		u, perr := url.Parse(secret)
		if perr != nil || !strings.Contains(msg, u.Path) || u.Path == "" || u.Path == "/" {
			return err
		}
		secret = u.Path
	}
	red := strings.ReplaceAll(msg, secret, "[REDACTED]")
	if alert.IsPermanent(err) {
		return alert.Permanent(redacted{red, err})
	}
	return redacted{red, err}
}

type redacted struct {
	msg string
	err error
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.err }
