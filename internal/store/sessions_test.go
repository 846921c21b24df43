package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// uiEvent builds a stored record for the session/overview tests.
func uiEvent(t testing.TB, n int, ts time.Time, session, project, hook, tool, typ string, mut func(*event.Event)) Record {
	t.Helper()
	e := &event.Event{
		ID: fmt.Sprintf("0190f000-0000-7000-8000-%012d", n), SchemaVersion: event.SchemaVersion,
		Timestamp: ts, Host: "laptop", User: "dev", Agent: event.Agent, Project: project,
		SessionID: session, HookEvent: hook, ToolName: tool, EventType: typ,
		Security: event.Security{Redactions: []string{}},
	}
	if mut != nil {
		mut(e)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return Record{Event: e, JSON: b}
}

func openUITestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "vigil.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// uiSessionFixture: session A (api) with a prompt, a flagged Bash call, a
// denied call, a failure, a subagent and an end; session B (web) later.
func uiSessionFixture(t testing.TB, base time.Time) []Record {
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	return []Record{
		uiEvent(t, 1, sec(0), "A", "api", "SessionStart", "", event.TypeSessionStart, nil),
		uiEvent(t, 2, sec(1), "A", "api", "UserPromptSubmit", "", event.TypeUserPrompt, nil),
		uiEvent(t, 3, sec(2), "A", "api", "PreToolUse", "Bash", event.TypeCommand, func(e *event.Event) {
			e.Security.SensitivePath = true
			e.ToolUseID = "t1"
		}),
		uiEvent(t, 4, sec(3), "A", "api", "PostToolUse", "Bash", event.TypeCommand, func(e *event.Event) { e.ToolUseID = "t1" }),
		uiEvent(t, 5, sec(4), "A", "api", "PreToolUse", "Read", event.TypeFileRead, func(e *event.Event) {
			e.Decision = &event.Decision{Action: event.DecisionWouldDeny, Rule: "r"}
		}),
		uiEvent(t, 6, sec(5), "A", "api", "PostToolUseFailure", "Read", event.TypeFileRead, nil),
		uiEvent(t, 7, sec(6), "A", "api", "SubagentStart", "", event.TypeSubagentStart, func(e *event.Event) { e.AgentID = "ag" }),
		uiEvent(t, 8, sec(7), "A", "api", "PreToolUse", "Grep", event.TypeCodeSearch, func(e *event.Event) {
			e.AgentID = "ag"
			e.Security.Redactions = []string{"aws_access_key"}
		}),
		uiEvent(t, 9, sec(9), "A", "api", "SessionEnd", "", event.TypeSessionEnd, nil),
		uiEvent(t, 10, sec(3600), "B", "web", "SessionStart", "", event.TypeSessionStart, nil),
		uiEvent(t, 11, sec(3601), "B", "web", "PreToolUse", "Bash", event.TypeCommand, nil),
		uiEvent(t, 12, sec(3602), "", "", "", "", event.TypeHookError, nil),
	}
}

func TestSessionsSummary(t *testing.T) {
	ctx := context.Background()
	s := openUITestStore(t)
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	recs := uiSessionFixture(t, base)
	if _, err := s.Append(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// A duplicate batch must not count twice.
	if _, err := s.Append(ctx, recs); err != nil {
		t.Fatal(err)
	}
	a, err := s.Session(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	want := SessionSummary{SessionID: "A", Project: "api", Host: "laptop", User: "dev",
		First: base, Last: base.Add(9 * time.Second), FirstSeq: 1, LastSeq: 9,
		Events: 9, Prompts: 1, ToolCalls: 3, Subagents: 1, Flagged: 2, Blocked: 1, Failures: 1, Ended: true}
	if a != want {
		t.Errorf("session A\n got %+v\nwant %+v", a, want)
	}
	if _, err := s.Session(ctx, "nope"); err == nil {
		t.Error("unknown session: want ErrNotFound")
	}

	tests := []struct {
		name string
		f    SessionFilter
		want []string
	}{
		{"all newest first", SessionFilter{}, []string{"B", "A"}},
		{"by project", SessionFilter{Project: "api"}, []string{"A"}},
		{"flagged only", SessionFilter{FlaggedOnly: true}, []string{"A"}},
		{"active from", SessionFilter{ActiveFrom: base.Add(time.Hour)}, []string{"B"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.Sessions(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range p.Sessions {
				got = append(got, x.SessionID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// Paging with the cursor visits every session once.
	p1, err := s.Sessions(ctx, SessionFilter{Limit: 1})
	if err != nil || len(p1.Sessions) != 1 || p1.Next == "" {
		t.Fatalf("page 1: %+v %v", p1, err)
	}
	p2, err := s.Sessions(ctx, SessionFilter{Limit: 1, Cursor: p1.Next})
	if err != nil || len(p2.Sessions) != 1 || p2.Sessions[0].SessionID != "A" || p2.Next != "" {
		t.Fatalf("page 2: %+v %v", p2, err)
	}
	if _, err := s.Sessions(ctx, SessionFilter{Cursor: "garbage"}); err == nil {
		t.Error("bad cursor: want error")
	}

	evs, more, err := s.SessionEvents(ctx, "A", 5)
	if err != nil || len(evs) != 5 || !more || evs[0].Seq != 1 || evs[4].Seq != 5 {
		t.Fatalf("session events: %d more=%v err=%v", len(evs), more, err)
	}

	pa, err := s.ProjectsActivity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pa) != 2 || pa[0].Project != "web" || pa[1].Project != "api" || pa[1].Events != 9 || pa[1].Sessions != 1 {
		t.Errorf("projects activity: %+v", pa)
	}
}

// TestSessionsRetentionDelete: deleting events (as retention does) keeps
// the summary in step and drops sessions with no events left.
func TestSessionsRetentionDelete(t *testing.T) {
	ctx := context.Background()
	s := openUITestStore(t)
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, err := s.Append(ctx, uiSessionFixture(t, base)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.ExecContext(ctx, `DELETE FROM events WHERE seq <= 3 OR session_id = 'B'`); err != nil {
		t.Fatal(err)
	}
	a, err := s.Session(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	if a.Events != 6 || a.Prompts != 0 || a.ToolCalls != 2 || a.Flagged != 1 || a.FirstSeq != 4 {
		t.Errorf("after delete: %+v", a)
	}
	if _, err := s.Session(ctx, "B"); err == nil {
		t.Error("session B has no events left: want ErrNotFound")
	}
	o, err := s.Overview(ctx, base.Add(-time.Hour), base.Add(3*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if o.TotalEvents != 7 || o.TotalFlagged != 1 || o.TotalBlocked != 1 {
		t.Errorf("overview after delete: events %d flagged %d blocked %d", o.TotalEvents, o.TotalFlagged, o.TotalBlocked)
	}
}

// TestSessionsBackfill: a store that has events before the UI migrations
// ran gets its summaries and rollups built from them.
func TestSessionsBackfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, err := s.Append(ctx, uiSessionFixture(t, base)); err != nil {
		t.Fatal(err)
	}
	want, _ := s.Session(ctx, "A")
	wantO, _ := s.Overview(ctx, base, base.Add(2*time.Hour), time.Hour)
	for _, q := range []string{
		`DROP TABLE ui_sessions`, `DROP TABLE ui_activity`, `DROP TABLE ui_rollup`,
		`DROP TRIGGER ui_sessions_del`, `DROP TRIGGER ui_rollup_del`,
		`DELETE FROM schema_migrations WHERE name LIKE '02%_ui_%' OR name = '0400_ui_batched'`,
	} {
		if _, err := s.wdb.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Session(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("backfilled\n got %+v\nwant %+v", got, want)
	}
	gotO, err := s.Overview(ctx, base, base.Add(2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(gotO) != fmt.Sprint(wantO) {
		t.Errorf("backfilled overview\n got %+v\nwant %+v", gotO, wantO)
	}
}

// FuzzSessionsCursor: the session list's cursor and filters come from the
// URL; any value is either a page or ErrBadCursor, never a panic or an
// SQL error.
func FuzzSessionsCursor(f *testing.F) {
	s := openUITestStore(f)
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, err := s.Append(context.Background(), uiSessionFixture(f, base)); err != nil {
		f.Fatal(err)
	}
	for _, c := range []string{"", "1763632809000000000:A", "x:y", ":", "-1:", "9223372036854775807:\x00", "1:'; DROP TABLE events; --"} {
		f.Add(c, "api", 10)
	}
	f.Fuzz(func(t *testing.T, cursor, project string, limit int) {
		_, err := s.Sessions(context.Background(), SessionFilter{Cursor: cursor, Project: project, Limit: limit})
		if err != nil && !errors.Is(err, ErrBadCursor) {
			t.Fatalf("cursor %q project %q limit %d: %v", cursor, project, limit, err)
		}
	})
}
