package alert

import (
	"container/list"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

// maxOpen bounds the alerts held in memory for dedup (~1.3 KB each, so
// ~5 MB of serve's memory budget); the least recently seen are forgotten
// first (they stay in the store; a new occurrence opens a new alert).
const maxOpen = 4096

// engine is the policy as a pure state machine over an explicit clock, so
// the live Dispatcher and the offline Collector (replay on event time)
// share it. It is not safe for concurrent use.
type engine struct {
	keyFields       []string
	window          time.Duration
	maxNotes        int
	defaultCooldown time.Duration
	perMinute       int
	newID           func(time.Time) string

	open map[string]*list.Element // key → *entry, ordered by last touch
	lru  *list.List

	rlStart time.Time
	rlCount int
	held    map[string]*Held
	heldN   int
}

type entry struct {
	a *Alert
	// since counts occurrences since the last notification.
	since int
}

// outcome is what one match did.
type outcome struct {
	alert *Alert
	isNew bool
	notes []Notification
	held  int
}

func newEngine(cfg config.Alerts) *engine {
	e := &engine{
		window:          cfg.Dedup.Window,
		maxNotes:        cfg.Dedup.MaxNotifications,
		defaultCooldown: cfg.DefaultCooldown,
		perMinute:       cfg.MaxPerMinute,
		newID:           newID,
		open:            map[string]*list.Element{},
		lru:             list.New(),
		held:            map[string]*Held{},
	}
	for _, f := range cfg.Dedup.KeyFields {
		if k := config.NormalizeKeyField(f); k != "" {
			e.keyFields = append(e.keyFields, k)
		}
	}
	if len(e.keyFields) == 0 {
		e.keyFields = []string{config.KeyRule, config.KeySession}
	}
	if e.window <= 0 {
		e.window = time.Hour
	}
	return e
}

func (e *engine) key(m *rules.Match) string {
	var b strings.Builder
	for i, f := range e.keyFields {
		if i > 0 {
			b.WriteByte('|')
		}
		switch f {
		case config.KeyRule:
			b.WriteString(m.RuleID)
		case config.KeySession:
			b.WriteString(m.SessionID)
		case config.KeyCategory:
			b.WriteString(m.Category)
		case config.KeyProject:
			b.WriteString(m.Project)
		case config.KeyHost:
			b.WriteString(m.Host)
		}
	}
	return b.String()
}

func (e *engine) cooldown(r rules.Response) time.Duration {
	if r.CooldownMinutes > 0 {
		return time.Duration(r.CooldownMinutes) * time.Minute
	}
	return e.defaultCooldown
}

// immediate reports whether a rule's first occurrence notifies. A zero
// Response means the rule gave no response block: the default is to alert.
func immediate(r rules.Response) bool {
	if r == (rules.Response{}) {
		return true
	}
	return r.ImmediateAlert
}

// handle applies one match at time now.
func (e *engine) handle(now time.Time, m *rules.Match) outcome {
	var out outcome
	out.notes = e.roll(now, out.notes)
	e.expire(now)
	k := e.key(m)
	at := m.Time
	if at.IsZero() {
		at = now
	}
	var en *entry
	if el, ok := e.open[k]; ok {
		en = el.Value.(*entry)
		e.lru.MoveToBack(el)
		a := en.a
		a.Count++
		if at.After(a.LastSeen) {
			a.LastSeen = at
		}
		if at.Before(a.FirstSeen) {
			a.FirstSeen = at
		}
		a.EventIDs = appendIDs(a.EventIDs, m)
		if m.Summary != "" {
			a.Summary = m.Summary
		}
		for kk, v := range m.Context {
			if a.Context == nil {
				a.Context = map[string]string{}
			}
			a.Context[kk] = v
		}
		if m.Severity > a.Severity {
			a.Severity = m.Severity
		}
		en.since++
	} else {
		a := &Alert{
			ID:          e.newID(at),
			Key:         k,
			Rule:        m.RuleID,
			Description: m.Description,
			Severity:    m.Severity,
			Category:    m.Category,
			Tags:        append([]string(nil), m.Tags...),
			Action:      m.Action,
			SessionID:   m.SessionID,
			Project:     m.Project,
			Host:        m.Host,
			EventIDs:    appendIDs(nil, m),
			FirstSeen:   at,
			LastSeen:    at,
			Count:       1,
			Summary:     m.Summary,
			Status:      StatusOpen,
		}
		if len(m.Context) > 0 {
			a.Context = make(map[string]string, len(m.Context))
			for kk, v := range m.Context {
				a.Context[kk] = v
			}
		}
		en = &entry{a: a, since: 1}
		e.open[k] = e.lru.PushBack(en)
		out.isNew = true
		if e.lru.Len() > maxOpen {
			e.forget(e.lru.Front())
		}
	}
	a := en.a
	out.alert = a

	var kind Kind
	switch {
	case m.Response.EscalateAfter > 0 && !a.Escalated && a.Count > m.Response.EscalateAfter:
		a.Escalated = true
		kind = KindEscalated
	case out.isNew:
		if immediate(m.Response) {
			kind = KindNew
		}
	case e.maxNotes > 0 && a.Notified >= e.maxNotes:
	case now.Sub(a.LastNotified) >= e.cooldown(m.Response) && (a.Notified > 0 || immediate(m.Response)):
		kind = KindRepeat
	}
	if kind == "" {
		return out
	}
	sev := a.Severity
	if kind == KindEscalated && sev < rules.Critical {
		sev++
	}
	n := Notification{Kind: kind, Severity: sev, Since: en.since, Time: at}
	a.Notified++
	a.LastNotified = now
	en.since = 0
	if !e.allow(now) {
		e.hold(a.Rule, sev)
		out.held = 1
		return out
	}
	n.Alert = a.clone()
	n.Title = title(n)
	out.notes = append(out.notes, n)
	return out
}

// allow counts one notification against the rate limit.
func (e *engine) allow(now time.Time) bool {
	if e.perMinute <= 0 {
		return true
	}
	if e.rlStart.IsZero() || now.Sub(e.rlStart) >= time.Minute {
		e.rlStart, e.rlCount = now, 0
	}
	if e.rlCount < e.perMinute {
		e.rlCount++
		return true
	}
	return false
}

func (e *engine) hold(rule string, sev rules.Severity) {
	h := e.held[rule]
	if h == nil {
		h = &Held{Rule: rule}
		e.held[rule] = h
	}
	h.Count++
	if sev > h.Severity {
		h.Severity = sev
	}
	e.heldN++
}

// roll ends the rate-limit minute when it is over and, if anything was
// held back, appends the one summary notification, which opens the next
// minute.
func (e *engine) roll(now time.Time, notes []Notification) []Notification {
	if e.heldN == 0 || now.Sub(e.rlStart) < time.Minute {
		return notes
	}
	hs := make([]Held, 0, len(e.held))
	var sev rules.Severity
	for _, h := range e.held {
		hs = append(hs, *h)
		if h.Severity > sev {
			sev = h.Severity
		}
	}
	sort.Slice(hs, func(i, j int) bool {
		if hs[i].Count != hs[j].Count {
			return hs[i].Count > hs[j].Count
		}
		return hs[i].Rule < hs[j].Rule
	})
	n := Notification{Kind: KindSummary, Severity: sev, Held: hs, Time: now}
	n.Title = summaryTitle(e.heldN, hs, e.perMinute)
	clear(e.held)
	e.heldN = 0
	e.rlStart, e.rlCount = now, 1
	return append(notes, n)
}

// expire forgets alerts whose last occurrence is older than the window.
func (e *engine) expire(now time.Time) {
	for el := e.lru.Front(); el != nil; el = e.lru.Front() {
		if now.Sub(el.Value.(*entry).a.LastSeen) <= e.window {
			return
		}
		e.forget(el)
	}
}

func (e *engine) forget(el *list.Element) {
	delete(e.open, el.Value.(*entry).a.Key)
	e.lru.Remove(el)
}

// restore puts a stored open alert back, so dedup survives a restart.
func (e *engine) restore(a Alert) {
	if _, ok := e.open[a.Key]; ok || a.Key == "" {
		return
	}
	c := a.clone()
	e.open[a.Key] = e.lru.PushBack(&entry{a: &c})
}

func appendIDs(ids []string, m *rules.Match) []string {
	add := func(id string) {
		if id == "" || (len(ids) > 0 && ids[len(ids)-1] == id) {
			return
		}
		if len(ids) >= MaxEventIDs {
			// Keep the first half; slide the recent half.
			h := MaxEventIDs / 2
			copy(ids[h:], ids[h+1:])
			ids = ids[:len(ids)-1]
		}
		ids = append(ids, id)
	}
	if len(m.EventIDs) > 0 {
		for _, id := range m.EventIDs {
			add(id)
		}
		if m.EventID != "" && m.EventIDs[len(m.EventIDs)-1] != m.EventID {
			add(m.EventID)
		}
		return ids
	}
	add(m.EventID)
	return ids
}

func title(n Notification) string {
	a := &n.Alert
	what := a.Summary
	if what == "" {
		what = a.Description
	}
	var b strings.Builder
	switch n.Kind {
	case KindEscalated:
		fmt.Fprintf(&b, "ESCALATED %s: %s", a.Rule, what)
	default:
		fmt.Fprintf(&b, "%s: %s", a.Rule, what)
	}
	fmt.Fprintf(&b, " (session %s", short(a.SessionID))
	if a.Project != "" {
		fmt.Fprintf(&b, ", project %s", a.Project)
	}
	b.WriteByte(')')
	if a.Count > 1 {
		fmt.Fprintf(&b, " — fired %d times in %s", a.Count, human(a.LastSeen.Sub(a.FirstSeen)))
		if n.Kind == KindRepeat && n.Since > 0 && n.Since != a.Count {
			fmt.Fprintf(&b, ", %d since last notice", n.Since)
		}
	}
	return b.String()
}

func summaryTitle(total int, hs []Held, perMinute int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "held back %d alerts (limit %d/min): ", total, perMinute)
	for i, h := range hs {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 10 {
			fmt.Fprintf(&b, "and %d more rules", len(hs)-i)
			break
		}
		fmt.Fprintf(&b, "%d× %s", h.Count, h.Rule)
	}
	return b.String()
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func human(d time.Duration) string {
	switch {
	case d < time.Second:
		return "<1s"
	case d < time.Minute:
		return d.Truncate(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}
