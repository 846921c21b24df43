package alert

import (
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

// Collector applies the dispatcher's policy offline, for `vigil replay`
// and rule tests: same dedup, cooldown, escalation and rate limit, no
// channels, no store. Its clock is the matches' own time (the event
// times), so replaying last month's data behaves as it would have live.
// It is not safe for concurrent use.
type Collector struct {
	eng    *engine
	now    func(rules.Match) time.Time
	order  []*Alert
	notes  []Notification
	latest time.Time
}

// NewCollector returns a Collector with the policy of cfg. now, when not
// nil, replaces the clock (default: the match's Time, or the latest time
// seen when a match has none).
func NewCollector(cfg config.Alerts, now func(rules.Match) time.Time) *Collector {
	return &Collector{eng: newEngine(cfg), now: now}
}

// Handle applies one match. It returns a snapshot of the alert it was
// counted on, whether that alert is new, and the notifications it caused
// (what a live dispatcher would have sent, before channel filtering).
func (c *Collector) Handle(m rules.Match) (Alert, bool, []Notification) {
	t := m.Time
	if c.now != nil {
		t = c.now(m)
	}
	if t.IsZero() {
		t = c.latest
	}
	if t.After(c.latest) {
		c.latest = t
	}
	out := c.eng.handle(t, &m)
	if out.isNew {
		c.order = append(c.order, out.alert)
	}
	c.notes = append(c.notes, out.notes...)
	return out.alert.clone(), out.isNew, out.notes
}

// Flush ends the current rate-limit minute and returns the summary of what
// it held back, if anything (call it after the last match).
func (c *Collector) Flush() []Notification {
	c.eng.rlStart = time.Time{}
	notes := c.eng.roll(c.latest, nil)
	c.notes = append(c.notes, notes...)
	return notes
}

// Alerts returns every alert opened so far, in order of first occurrence,
// with their final counts.
func (c *Collector) Alerts() []Alert {
	out := make([]Alert, len(c.order))
	for i, a := range c.order {
		out[i] = a.clone()
	}
	return out
}

// Notifications returns every notification so far, in order.
func (c *Collector) Notifications() []Notification {
	return append([]Notification(nil), c.notes...)
}
