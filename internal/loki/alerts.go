package loki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
)

var _ alert.Notifier = (*AlertNotifier)(nil)

// AlertNotifier is the alert channel that pushes every notification to
// Loki, in a stream of its own:
//
//	{service="claude-telemetry", stream="alerts", severity="HIGH", category="exfiltration"}
//
// with the rule, alert id, session and host as structured metadata and
// AlertLine's JSON as the line. Plug it into the alert dispatcher as an
// alert.Channel.
type AlertNotifier struct {
	c       *Client
	service string

	mu     sync.Mutex
	lastTS map[string]int64 // stream -> newest timestamp given
	sent   map[string]int64 // notification identity -> timestamp given
}

// NewAlertNotifier returns a notifier pushing through c with the given
// service label (DefaultService when empty).
func NewAlertNotifier(c *Client, service string) *AlertNotifier {
	if service == "" {
		service = DefaultService
	}
	return &AlertNotifier{c: c, service: service, lastTS: map[string]int64{}, sent: map[string]int64{}}
}

// Name implements alert.Notifier.
func (a *AlertNotifier) Name() string { return "loki" }

// AlertLine is the JSON line of an alert entry: flat, so that `| json`
// gives dashboards and rules plain field names (rule, severity, count…).
type AlertLine struct {
	Kind        string    `json:"kind"`
	Severity    string    `json:"severity"`
	Title       string    `json:"title"`
	AlertID     string    `json:"alert_id,omitempty"`
	Rule        string    `json:"rule,omitempty"`
	Description string    `json:"description,omitempty"`
	Category    string    `json:"category,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	Action      string    `json:"action,omitempty"`
	SessionID   string    `json:"session_id,omitempty"`
	Project     string    `json:"project,omitempty"`
	Host        string    `json:"host,omitempty"`
	Count       int       `json:"count,omitempty"`
	Since       int       `json:"since,omitempty"`
	Escalated   bool      `json:"escalated,omitempty"`
	Summary     string    `json:"summary,omitempty"`
	EventIDs    []string  `json:"event_ids,omitempty"`
	FirstSeen   time.Time `json:"first_seen,omitzero"`
	LastSeen    time.Time `json:"last_seen,omitzero"`
	Held        string    `json:"held,omitempty"`
	Time        time.Time `json:"time"`
}

// AlertStreams builds the push request for one notification. ts is the
// entry's timestamp in nanoseconds.
func AlertStreams(service string, n alert.Notification, ts int64) []Stream {
	al := n.Alert
	category := al.Category
	if n.Kind == alert.KindSummary {
		category = "summary"
	}
	line := AlertLine{
		Kind: string(n.Kind), Severity: n.Severity.String(), Title: n.Title,
		AlertID: al.ID, Rule: al.Rule, Description: al.Description, Category: category,
		Tags: al.Tags, Action: al.Action, SessionID: al.SessionID, Project: al.Project, Host: al.Host,
		Count: al.Count, Since: n.Since, Escalated: al.Escalated, Summary: al.Summary,
		EventIDs: al.EventIDs, FirstSeen: al.FirstSeen, LastSeen: al.LastSeen, Time: n.Time,
	}
	if len(n.Held) > 0 {
		parts := make([]string, len(n.Held))
		for i, h := range n.Held {
			parts[i] = fmt.Sprintf("%d× %s", h.Count, h.Rule)
		}
		line.Held = strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(line) // plain strings, numbers and times: cannot fail
	return []Stream{{
		Labels: []Label{
			{"service", service},
			{"stream", "alerts"},
			{"severity", n.Severity.String()},
			{"category", category},
		},
		Entries: []Entry{{
			Time: time.Unix(0, ts),
			Line: string(b),
			Metadata: []Label{
				{"alert_id", al.ID},
				{"rule", al.Rule},
				{"kind", string(n.Kind)},
				{"session_id", al.SessionID},
				{"project", al.Project},
				{"host", al.Host},
			},
		}},
	}}
}

// Notify implements alert.Notifier: one push attempt. A retry of the same
// notification reuses its timestamp, so Loki stores it once; a different
// notification landing on the same nanosecond of its stream is moved 1ns
// later rather than dropped. Loki refusing the entry (4xx other than 429)
// is a permanent error.
func (a *AlertNotifier) Notify(ctx context.Context, n alert.Notification) error {
	ts := a.timestamp(n)
	if _, err := a.c.Push(ctx, AlertStreams(a.service, n, ts)); err != nil {
		var pe *PushError
		if errors.As(err, &pe) && !pe.Retryable() {
			return alert.Permanent(err)
		}
		return err
	}
	return nil
}

func (a *AlertNotifier) timestamp(n alert.Notification) int64 {
	id := fmt.Sprintf("%s|%s|%s|%d|%d", n.Kind, n.Alert.ID, n.Severity, n.Alert.Count, n.Time.UnixNano())
	key := n.Severity.String() + "|" + n.Alert.Category
	a.mu.Lock()
	defer a.mu.Unlock()
	if ts, ok := a.sent[id]; ok {
		return ts
	}
	ts := n.Time.UnixNano()
	if n.Time.IsZero() {
		ts = time.Now().UnixNano()
	}
	if last, ok := a.lastTS[key]; ok && ts <= last {
		ts = last + 1
	}
	a.lastTS[key] = ts
	if len(a.sent) >= 4096 { // retries come within minutes; forget old ones
		clear(a.sent)
	}
	a.sent[id] = ts
	return ts
}

// AlertChannel returns the Loki alert channel for the alert dispatcher:
// every severity, a 10s timeout and 5 retries (the dispatcher's backoff).
func AlertChannel(cfg config.Loki, c *Client) alert.Channel {
	return alert.Channel{
		Notifier: NewAlertNotifier(c, cfg.Service),
		AlertChannel: config.AlertChannel{
			Enabled: true, MinSeverity: "LOW", Timeout: 10 * time.Second, Retries: 5, QueueSize: 10000,
		},
	}
}
