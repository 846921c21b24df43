package query

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

// Flags is the CLI's flag form of a query. Repeated or comma-separated
// values of one flag are alternatives; different flags must all hold.
type Flags struct {
	Projects, Sessions, Tools, EventTypes, HookEvents []string
	OutsideScope, Sensitive, Redacted                 *bool
	// Text are substrings the event line must contain (|=).
	Text []string
	// Since is a duration back from now: 90s, 2h, 7d, 1w.
	Since string
	// From and To are RFC 3339 times, or a date (2026-11-23) or a date and
	// time without zone (2026-11-23T14:00, 2026-11-23 14:00) in loc.
	From, To string
}

// Filter turns the flags into a store filter, relative to now.
func (fl Flags) Filter(now time.Time, loc *time.Location) (store.Filter, error) {
	f := store.Filter{
		Projects: splitAll(fl.Projects), Sessions: splitAll(fl.Sessions), Tools: splitAll(fl.Tools),
		EventTypes: splitAll(fl.EventTypes), HookEvents: splitAll(fl.HookEvents),
		OutsideScope: fl.OutsideScope, Sensitive: fl.Sensitive, Redacted: fl.Redacted,
	}
	for _, t := range fl.Text {
		if t != "" {
			f.Lines = append(f.Lines, store.LineFilter{Op: store.LineContains, Value: t})
		}
	}
	if fl.Since != "" {
		d, err := ParseSince(fl.Since)
		if err != nil {
			return f, err
		}
		f.From = now.Add(-d)
	}
	if fl.From != "" {
		t, err := ParseTime(fl.From, loc)
		if err != nil {
			return f, fmt.Errorf("--from: %w", err)
		}
		if t.After(f.From) {
			f.From = t
		}
	}
	if fl.To != "" {
		t, err := ParseTime(fl.To, loc)
		if err != nil {
			return f, fmt.Errorf("--to: %w", err)
		}
		f.To = t
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return f, fmt.Errorf("the time range is empty: --to %s is not after the start %s", f.To.Format(time.RFC3339), f.From.Format(time.RFC3339))
	}
	return f, nil
}

func splitAll(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// ParseSince parses a look-back duration: Go durations (90s, 2h30m) plus
// whole days (7d) and weeks (2w).
func ParseSince(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("bad duration %q: want e.g. 30m, 2h, 7d", s)
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q: want e.g. 30m, 2h, 7d", s)
	}
	return d, nil
}

// ParseTime parses RFC 3339 (with or without fractional seconds), a date,
// or a date and time without a zone (taken in loc).
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if loc == nil {
		loc = time.Local
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q: want RFC 3339 (2026-11-23T14:00:00Z), a date (2026-11-23) or a local date and time (2026-11-23 14:00)", s)
}

// Merge returns a filter that holds where both a and b hold. Lists of
// alternatives for the same field intersect.
func Merge(a, b store.Filter) store.Filter {
	out := a
	out.None = a.None || b.None
	both := func(x, y []string) []string {
		switch {
		case len(x) == 0:
			return y
		case len(y) == 0:
			return x
		}
		var r []string
		for _, v := range x {
			if slices.Contains(y, v) {
				r = append(r, v)
			}
		}
		if len(r) == 0 {
			out.None = true
		}
		return r
	}
	out.Projects = both(a.Projects, b.Projects)
	out.Sessions = both(a.Sessions, b.Sessions)
	out.Tools = both(a.Tools, b.Tools)
	out.EventTypes = both(a.EventTypes, b.EventTypes)
	out.HookEvents = both(a.HookEvents, b.HookEvents)
	out.Hosts = both(a.Hosts, b.Hosts)
	out.Users = both(a.Users, b.Users)
	out.AgentIDs = both(a.AgentIDs, b.AgentIDs)
	out.Labels = append(slices.Clone(a.Labels), b.Labels...)
	out.Lines = append(slices.Clone(a.Lines), b.Lines...)
	out.Fields = append(slices.Clone(a.Fields), b.Fields...)
	flag := func(x, y *bool) *bool {
		switch {
		case x == nil:
			return y
		case y == nil:
			return x
		case *x != *y:
			out.None = true
		}
		return x
	}
	out.OutsideScope = flag(a.OutsideScope, b.OutsideScope)
	out.Sensitive = flag(a.Sensitive, b.Sensitive)
	out.Redacted = flag(a.Redacted, b.Redacted)
	out.HasDecision = flag(a.HasDecision, b.HasDecision)
	if b.From.After(out.From) {
		out.From = b.From
	}
	if !b.To.IsZero() && (out.To.IsZero() || b.To.Before(out.To)) {
		out.To = b.To
	}
	out.AfterSeq = max(a.AfterSeq, b.AfterSeq)
	if b.BeforeSeq > 0 && (out.BeforeSeq == 0 || b.BeforeSeq < out.BeforeSeq) {
		out.BeforeSeq = b.BeforeSeq
	}
	if b.Limit > 0 && (out.Limit == 0 || b.Limit < out.Limit) {
		out.Limit = b.Limit
	}
	return out
}
