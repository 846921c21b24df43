package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/rules"
)

func TestOverview(t *testing.T) {
	ctx := context.Background()
	s := openUITestStore(t)
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, err := s.Append(ctx, uiSessionFixture(t, base)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                    string
		from, to                time.Time
		bucket                  time.Duration
		wantBuckets             int
		events, flagged, blockd int64
		sessions                int64
		tools                   string
		projects                string
	}{
		{"both hours", base, base.Add(2 * time.Hour), time.Hour, 2, 12, 2, 1, 2,
			"[{Bash 3} {Read 2} {Grep 1}]", "[{api 9} {web 2} { 1}]"},
		{"first hour by 5 min", base, base.Add(time.Hour), 0, 12, 9, 2, 1, 1,
			"[{Bash 2} {Read 2} {Grep 1}]", "[{api 9}]"},
		{"nothing before", base.Add(-48 * time.Hour), base.Add(-24 * time.Hour), 6 * time.Hour, 5, 0, 0, 0, 0, "[]", "[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := s.Overview(ctx, tc.from, tc.to, tc.bucket)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Times) != tc.wantBuckets || len(o.Events) != tc.wantBuckets {
				t.Errorf("buckets: %d, want %d", len(o.Times), tc.wantBuckets)
			}
			if o.TotalEvents != tc.events || o.TotalFlagged != tc.flagged || o.TotalBlocked != tc.blockd || o.Sessions != tc.sessions {
				t.Errorf("totals: events %d flagged %d blocked %d sessions %d", o.TotalEvents, o.TotalFlagged, o.TotalBlocked, o.Sessions)
			}
			var sum int64
			for _, n := range o.Events {
				sum += n
			}
			if sum != o.TotalEvents {
				t.Errorf("series sum %d != total %d", sum, o.TotalEvents)
			}
			if got := fmt.Sprint(nonNil(o.Tools)); got != tc.tools {
				t.Errorf("tools %s, want %s", got, tc.tools)
			}
			if got := fmt.Sprint(nonNil(o.Projects)); got != tc.projects {
				t.Errorf("projects %s, want %s", got, tc.projects)
			}
		})
	}
	if _, err := s.Overview(ctx, base, base.Add(365*24*time.Hour), 0); err == nil {
		t.Error("a year in 5-minute buckets: want an error")
	}
}

func nonNil(c []Count) []Count {
	if c == nil {
		return []Count{}
	}
	return c
}

// TestAlertCounts: the per-severity counts follow inserts, dispatcher
// upserts that raise the severity, acks and deletes.
func TestAlertCounts(t *testing.T) {
	ctx := context.Background()
	s := openUITestStore(t)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	mk := func(id string, sev rules.Severity, cat string) alert.Alert {
		return alert.Alert{ID: id, Key: id, Rule: "r-" + id, Severity: sev, Category: cat, SessionID: "S", Project: "p",
			FirstSeen: now, LastSeen: now, Count: 1, Status: alert.StatusOpen}
	}
	counts := func() string {
		t.Helper()
		cs, err := s.AlertSeverityCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(cs)
	}
	if got := counts(); got != "[]" {
		t.Fatalf("empty store: %s", got)
	}
	if err := s.SaveAlerts(ctx, []alert.Alert{mk("a1", rules.High, "x"), mk("a2", rules.High, "y"), mk("a3", rules.Low, "x")}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"inserted", func() error { return nil }, "[{HIGH 2 2} {LOW 1 1}]"},
		{"escalated upsert", func() error {
			a := mk("a3", rules.Critical, "x")
			a.Count = 2
			return s.SaveAlerts(ctx, []alert.Alert{a})
		}, "[{CRITICAL 1 1} {HIGH 2 2}]"},
		{"acked", func() error { _, err := s.AckAlert(ctx, "a1", "me", now); return err }, "[{CRITICAL 1 1} {HIGH 1 2}]"},
		{"acked twice", func() error { _, err := s.AckAlert(ctx, "a1", "me", now); return err }, "[{CRITICAL 1 1} {HIGH 1 2}]"},
		{"deleted", func() error { _, err := s.wdb.ExecContext(ctx, `DELETE FROM alerts WHERE id = 'a2'`); return err }, "[{CRITICAL 1 1} {HIGH 0 1}]"},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := counts(); got != st.want {
			t.Errorf("%s: counts %s, want %s", st.name, got, st.want)
		}
	}
	bySev, byCat, err := s.AlertBreakdown(ctx, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(bySev) != "[{CRITICAL 1} {HIGH 1}]" || fmt.Sprint(byCat) != "[{x 2}]" {
		t.Errorf("breakdown %v %v", bySev, byCat)
	}
	// An upsert that moves first_seen to an earlier hour moves the alert.
	a := mk("a1", rules.High, "x")
	a.FirstSeen, a.Count = now.Add(-3*time.Hour), 2
	if err := s.SaveAlerts(ctx, []alert.Alert{a}); err != nil {
		t.Fatal(err)
	}
	if bySev, _, _ := s.AlertBreakdown(ctx, now.Add(-time.Hour)); fmt.Sprint(bySev) != "[{CRITICAL 1}]" {
		t.Errorf("after first_seen moved back: %v", bySev)
	}
	if bySev, _, _ := s.AlertBreakdown(ctx, now.Add(-3*time.Hour)); fmt.Sprint(bySev) != "[{CRITICAL 1} {HIGH 1}]" {
		t.Errorf("range with the moved alert: %v", bySev)
	}
	if bySev, _, _ := s.AlertBreakdown(ctx, now.Add(2*time.Hour)); len(bySev) != 0 {
		t.Errorf("breakdown after the last alert: %v", bySev)
	}
}

// TestAlertCountsRepair: a store that ran the first 0310 (an index only)
// gets ui_alert_counts, with the right counts, from 0330.
func TestAlertCountsRepair(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if err := s.SaveAlerts(ctx, []alert.Alert{{ID: "a1", Key: "k", Rule: "r", Severity: rules.High, SessionID: "S",
		FirstSeen: now, LastSeen: now, Count: 1, Status: alert.StatusOpen}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE ui_alert_counts`, `DROP TRIGGER ui_alert_counts_ins`, `DROP TRIGGER ui_alert_counts_upd`,
		`DROP TRIGGER ui_alert_counts_del`, `DELETE FROM schema_migrations WHERE name = '0330_ui_alert_counts'`} {
		if _, err := s.wdb.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cs, err := s.AlertSeverityCounts(ctx)
	if err != nil || fmt.Sprint(cs) != "[{HIGH 1 1}]" {
		t.Fatalf("after repair: %v %v", cs, err)
	}
}
