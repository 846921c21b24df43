// Package alert owns alerts: it turns rule matches (rules.Match) into
// counted, deduplicated alerts, decides which occurrences notify
// (cooldown, escalation, a global rate limit that summarises what it held
// back), persists alerts through a small Store interface and hands
// notifications to channels. Each channel (one sub-package each: console,
// jsonfile, webhook, email, grafana, slack) implements Notifier and gets its
// own bounded queue, goroutine, minimum severity, timeout and retries, so a
// slow or failing channel never delays another one or the pipeline.
//
// Policy, in order, for every match:
//   - Dedup: matches with the same key (rule + session by default) within
//     the dedup window are one alert; every occurrence increments its count
//     and last_seen and is stored. Nothing is dropped silently.
//   - First occurrence: notifies (kind "new"), unless the rule says
//     immediate_alert: false; then it is stored and only its escalation
//     notifies.
//   - Escalation: when the count exceeds the rule's escalate_after (N), the
//     alert is marked escalated and one "escalated" notification goes out at
//     one severity level higher (the stored severity stays the rule's, so
//     scoring and queries see what the rule said), bypassing cooldown.
//   - Cooldown: later occurrences notify again (kind "repeat", "fired 14
//     times in 5m") only when the rule's cooldown has passed since the last
//     notification of that alert.
//   - Rate limit: at most max_alerts_per_minute notifications per minute;
//     the rest are held back and, when the minute is over, one "summary"
//     notification says what was held ("held back 37 alerts: 30× x, 7× y").
package alert

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/rules"
)

// Alert statuses.
const (
	StatusOpen  = "open"
	StatusAcked = "acked"
)

// MaxEventIDs bounds the event ids kept on one alert: the first half and
// the most recent half. Count always holds the true number.
const MaxEventIDs = 100

// Alert is one deduplicated finding: every occurrence of a rule for one
// dedup key while the alert is open.
type Alert struct {
	ID          string            `json:"id"`
	Key         string            `json:"key"`
	Rule        string            `json:"rule"`
	Description string            `json:"description,omitempty"`
	Severity    rules.Severity    `json:"severity"`
	Category    string            `json:"category"`
	Tags        []string          `json:"tags,omitempty"`
	Action      string            `json:"action,omitempty"`
	SessionID   string            `json:"session_id"`
	Project     string            `json:"project"`
	Host        string            `json:"host,omitempty"`
	EventIDs    []string          `json:"event_ids"`
	FirstSeen   time.Time         `json:"first_seen"`
	LastSeen    time.Time         `json:"last_seen"`
	Count       int               `json:"count"`
	Summary     string            `json:"summary"`
	Context     map[string]string `json:"context,omitempty"`
	Status      string            `json:"status"`
	AckedBy     string            `json:"acked_by,omitempty"`
	AckedAt     time.Time         `json:"acked_at,omitzero"`
	Escalated   bool              `json:"escalated"`
	// Notified counts notifications sent (or held back) for this alert.
	Notified     int       `json:"notified"`
	LastNotified time.Time `json:"last_notified,omitzero"`
}

// clone returns a deep copy, safe to hand to another goroutine.
func (a *Alert) clone() Alert {
	c := *a
	c.Tags = append([]string(nil), a.Tags...)
	c.EventIDs = append([]string(nil), a.EventIDs...)
	if a.Context != nil {
		c.Context = make(map[string]string, len(a.Context))
		for k, v := range a.Context {
			c.Context[k] = v
		}
	}
	return c
}

// Kind says why a notification was sent.
type Kind string

// Notification kinds.
const (
	KindNew       Kind = "new"
	KindRepeat    Kind = "repeat"
	KindEscalated Kind = "escalated"
	KindSummary   Kind = "summary"
)

// Held is one rule's share of what the rate limit held back.
type Held struct {
	Rule     string         `json:"rule"`
	Severity rules.Severity `json:"severity"`
	Count    int            `json:"count"`
}

// Notification is what channels receive.
type Notification struct {
	Kind Kind `json:"kind"`
	// Severity is the alert's severity, one level higher when escalated;
	// for a summary, the highest severity held back. Channels filter and
	// route on it.
	Severity rules.Severity `json:"severity"`
	// Title is one human line saying what happened.
	Title string `json:"title"`
	// Alert is a snapshot of the alert; zero for summaries.
	Alert Alert `json:"alert,omitzero"`
	// Since counts occurrences since the alert's previous notification.
	Since int `json:"since,omitempty"`
	// Held lists what a summary stands for, most held first.
	Held []Held    `json:"held,omitempty"`
	Time time.Time `json:"time"`
	// Raised is when the dispatcher created the notification, for
	// delivery latency; not serialised.
	Raised time.Time `json:"-"`
}

// Description is the rule's description, or the title for summaries.
func (n Notification) Description() string {
	if n.Alert.Description != "" {
		return n.Alert.Description
	}
	return n.Title
}

// Text is a few human lines with the details a responder needs.
func (n Notification) Text() string {
	var b strings.Builder
	b.WriteString(n.Title)
	if n.Kind == KindSummary {
		for _, h := range n.Held {
			fmt.Fprintf(&b, "\n  %d× %s (%s)", h.Count, h.Rule, h.Severity)
		}
		return b.String()
	}
	a := n.Alert
	if a.Description != "" {
		fmt.Fprintf(&b, "\nRule: %s (%s) — %s", a.Rule, a.Category, a.Description)
	} else {
		fmt.Fprintf(&b, "\nRule: %s (%s)", a.Rule, a.Category)
	}
	fmt.Fprintf(&b, "\nSeverity: %s", n.Severity)
	if n.Severity != a.Severity {
		fmt.Fprintf(&b, " (escalated from %s)", a.Severity)
	}
	fmt.Fprintf(&b, "\nSession: %s  Project: %s", a.SessionID, a.Project)
	if a.Host != "" {
		fmt.Fprintf(&b, "  Host: %s", a.Host)
	}
	fmt.Fprintf(&b, "\nSeen %d× from %s to %s", a.Count, a.FirstSeen.UTC().Format(time.RFC3339), a.LastSeen.UTC().Format(time.RFC3339))
	if len(a.Tags) > 0 {
		fmt.Fprintf(&b, "\nTags: %s", strings.Join(a.Tags, ", "))
	}
	if a.Summary != "" {
		fmt.Fprintf(&b, "\nMatched: %s", a.Summary)
	}
	fmt.Fprintf(&b, "\nAlert: %s", a.ID)
	return b.String()
}

// Notifier delivers notifications to one channel. Notify makes one
// attempt: the dispatcher owns queueing, timeouts and retries. Errors
// wrapped with Permanent are not retried.
type Notifier interface {
	Name() string
	Notify(ctx context.Context, n Notification) error
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying (a 4xx answer, a refused
// target, a bad template).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// Store persists alerts. SaveAlerts upserts by id: it must keep a stored
// alert's status, acked_by and acked_at (set by `vigil alerts ack`).
// *store.Store implements it.
type Store interface {
	SaveAlerts(ctx context.Context, alerts []Alert) error
}
