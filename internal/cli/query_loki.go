package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/loki"
	"github.com/vigil-sec/vigil/internal/store"
)

// lokiDefaultRange is how far back `vigil query --loki` looks without
// --since/--from (Loki's own default is one hour).
const lokiDefaultRange = 24 * time.Hour

// runQueryLoki is `vigil query --loki URL`: the LogQL goes unchanged to
// Loki's query_range and the events print the way local results do (the
// same table, JSON lines or CSV). The loki section of the config supplies
// the tenant and credentials. A query without a stream selector gets the
// forwarder's, {service="…", stream="events"}, since Loki needs one.
func runQueryLoki(ctx context.Context, env *Env, lokiURL string, qf *queryFlags, args []string, limit int, format, order string) error {
	fl := qf.fl
	if len(fl.Projects)+len(fl.Sessions)+len(fl.Tools)+len(fl.EventTypes)+len(fl.HookEvents)+len(fl.Text) > 0 ||
		qf.flags.outside.set || qf.flags.sensitive.set || qf.flags.redacted.set || qf.db != "" {
		return fmt.Errorf("%w: with --loki only --since, --from, --to, --limit, --order and --format apply; put filters in the LogQL query", ErrUsage)
	}
	if order != "newest" && order != "oldest" {
		return fmt.Errorf("%w: --order must be newest or oldest, got %q", ErrUsage, order)
	}
	cfg, err := env.LoadConfig()
	if err != nil {
		return err
	}
	q := strings.TrimSpace(strings.Join(args, " "))
	if q == "" || !strings.HasPrefix(q, "{") {
		q = strings.TrimSpace(fmt.Sprintf(`{service=%q, stream="events"} %s`, cfg.Loki.Service, q))
	}
	// Only the time flags are set, so the filter carries just From/To.
	tf, err := fl.Filter(time.Now(), time.Local)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	end := tf.To
	if end.IsZero() {
		end = time.Now().Add(time.Second)
	}
	start := tf.From
	if start.IsZero() {
		start = end.Add(-lokiDefaultRange)
	}
	lc := cfg.Loki
	lc.URL = lokiURL
	c, err := loki.NewClientFromConfig(lc)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	var entries []loki.LabeledEntry
	qr := loki.QueryRange{Query: q, Start: start, End: end}
	if limit == 0 {
		entries, err = c.QueryAll(ctx, qr, 5000)
	} else {
		qr.Limit = limit
		qr.Direction = loki.Backward
		if order == "oldest" {
			qr.Direction = loki.Forward
		}
		var r *loki.Result
		r, err = c.QueryRange(ctx, qr)
		if err == nil {
			if r.Type != "streams" {
				return fmt.Errorf("%w: --loki prints log queries; %q is a metric query (result %s)", ErrUsage, q, r.Type)
			}
			entries = r.Entries()
		}
	}
	if err != nil {
		return fmt.Errorf("query %s: %w", lokiURL, err)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if order == "oldest" {
			return entries[i].Time.Before(entries[j].Time)
		}
		return entries[i].Time.After(entries[j].Time)
	})
	if limit > 0 && len(entries) > limit {
		entries = entries[:limit]
	}
	w := newEventWriter(env.Stdout, format)
	for i := range entries {
		r := rowFromLoki(&entries[i])
		if err := w.write(&r); err != nil {
			return err
		}
	}
	return w.flush()
}

// rowFromLoki rebuilds a store row from a line Loki returned, so the local
// printer prints it. Lines that are not events (the alerts stream) keep
// Loki's time and labels.
func rowFromLoki(e *loki.LabeledEntry) store.Row {
	r := store.Row{Time: e.Time, JSON: []byte(e.Line)}
	var ev event.Event
	if err := json.Unmarshal(r.JSON, &ev); err != nil || ev.ID == "" {
		r.Project, r.SessionID, r.Host, r.User = e.Labels["project"], e.Labels["session_id"], e.Labels["host"], e.Labels["user"]
		r.EventType = e.Labels["stream"]
		return r
	}
	r.ID, r.Project, r.SessionID, r.ToolName, r.EventType, r.HookEvent = ev.ID, ev.Project, ev.SessionID, ev.ToolName, ev.EventType, ev.HookEvent
	r.Host, r.User, r.AgentID = ev.Host, ev.User, ev.AgentID
	r.OutsideScope, r.Sensitive, r.Redacted = ev.Security.OutsideProjectScope, ev.Security.SensitivePath, len(ev.Security.Redactions) > 0
	if !ev.Timestamp.IsZero() {
		r.Time = ev.Timestamp
	}
	if ev.Decision != nil {
		r.Decision = ev.Decision.Action
	}
	return r
}
