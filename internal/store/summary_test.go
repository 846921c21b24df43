package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestSummariesMatchEvents: after many batches (sessions interleaved and
// spread over batches, timestamps out of order, empty sessions, projects
// and hosts, decisions, resent duplicates), every UI summary row equals
// its definition computed from the stored events (the backfill queries of
// migrations 0200 and 0210).
func TestSummariesMatchEvents(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	g := newGenerator(t, time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), 7*time.Second)
	rng := rand.New(rand.NewPCG(7, 9))
	all := g.records(6000)
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	decisions := []string{"", "", "", event.DecisionAllow, event.DecisionDeny, event.DecisionWouldDeny, event.DecisionWouldAsk}
	for i := range all {
		e := all[i].Event
		e.Timestamp = e.Timestamp.Add(time.Duration(rng.IntN(7200)-3600) * time.Second)
		switch rng.IntN(40) {
		case 0:
			e.SessionID = ""
		case 1:
			e.Project, e.Host = "", ""
		case 2:
			e.User = ""
		}
		if d := decisions[rng.IntN(len(decisions))]; d != "" {
			e.Decision = &event.Decision{Action: d}
		}
	}
	var stored []Record
	for len(all) > 0 {
		n := min(len(all), 1+rng.IntN(700))
		batch := append([]Record(nil), all[:n]...)
		all = all[n:]
		// Resend a few stored events in the batch: skipped, not counted.
		for k := 0; k < 5 && len(stored) > 0; k++ {
			batch = append(batch, stored[rng.IntN(len(stored))])
		}
		rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		if _, err := s.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, batch...)
	}
	checkSummaries(t, s.wdb)
}

// checkSummaries compares each summary table with its definition.
func checkSummaries(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, c := range []struct{ name, got, want string }{
		{"ui_sessions",
			`SELECT session_id, project, host, user, first_ts, last_ts, first_seq, last_seq, events, prompts,
				tool_calls, subagents, flagged, blocked, failures, ended FROM ui_sessions ORDER BY session_id`,
			`SELECT session_id, max(project), max(host), max(user), min(ts), max(ts), min(seq), max(seq), count(*),
				sum(event_type = 'user_prompt'), sum(hook_event = 'PreToolUse'), sum(event_type = 'subagent_start'),
				sum(outside_scope OR sensitive OR redacted), sum(decision NOT IN ('', 'allow')),
				sum(hook_event = 'PostToolUseFailure' OR event_type = 'tool_failure'),
				coalesce(max(CASE WHEN event_type = 'session_end' THEN seq END), 0) >
					coalesce(max(CASE WHEN event_type = 'session_start' THEN seq END), 0)
			FROM events WHERE session_id != '' GROUP BY session_id ORDER BY session_id`},
		{"ui_activity",
			`SELECT bucket, events, flagged, blocked FROM ui_activity ORDER BY bucket`,
			`SELECT ts / 300000000000, count(*), sum(outside_scope OR sensitive OR redacted), sum(decision NOT IN ('', 'allow'))
			FROM events GROUP BY 1 ORDER BY 1`},
		{"ui_rollup",
			`SELECT hour, project, tool_name, event_type, events FROM ui_rollup ORDER BY 1, 2, 3, 4`,
			`SELECT ts / 3600000000000, project, tool_name, event_type, count(*) FROM events GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`},
	} {
		got, want := rowsOf(t, db, c.got), rowsOf(t, db, c.want)
		if len(want) < 10 {
			t.Fatalf("%s: only %d rows expected: fixture too small", c.name, len(want))
		}
		if !reflect.DeepEqual(got, want) {
			for i := range min(len(got), len(want)) {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%s row %d:\n got %v\nwant %v", c.name, i, got[i], want[i])
				}
			}
			t.Fatalf("%s: %d rows, want %d", c.name, len(got), len(want))
		}
	}
}

func rowsOf(t *testing.T, db *sql.DB, q string) [][]string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = fmt.Sprint(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
