package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

var at0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func openAlertStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "vigil.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mkAlert(id, rule, session, project string, sev rules.Severity, first time.Time, count int) alert.Alert {
	return alert.Alert{
		ID: id, Key: rule + "|" + session, Rule: rule, Description: rule + " desc", Severity: sev, Category: "cat_" + rule,
		Tags: []string{"T1"}, SessionID: session, Project: project, EventIDs: []string{"e1"}, FirstSeen: first,
		LastSeen: first.Add(time.Duration(count-1) * time.Minute), Count: count, Summary: "s", Status: alert.StatusOpen,
		Context: map[string]string{"command": "x"},
	}
}

func TestSaveAlertsUpsertKeepsAck(t *testing.T) {
	s := openAlertStore(t)
	ctx := context.Background()
	a := mkAlert("0193a5b2-0000-7000-8000-000000000001", "r", "s1", "web", rules.High, at0, 1)
	if err := s.SaveAlerts(ctx, []alert.Alert{a}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AckAlert(ctx, a.ID[:13], "alice", at0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The dispatcher keeps counting the open copy it holds.
	a.Count, a.LastSeen, a.Escalated = 5, at0.Add(2*time.Hour), true
	if err := s.SaveAlerts(ctx, []alert.Alert{a}); err != nil {
		t.Fatal(err)
	}
	// A late, stale snapshot must not roll it back.
	stale := a
	stale.Count, stale.LastSeen, stale.Escalated = 2, at0, false
	if err := s.SaveAlerts(ctx, []alert.Alert{stale}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Alert(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 5 || !got.LastSeen.Equal(at0.Add(2*time.Hour)) || !got.Escalated || got.Status != alert.StatusAcked || got.AckedBy != "alice" || !got.AckedAt.Equal(at0.Add(time.Hour)) {
		t.Errorf("got %+v", got)
	}
	if got.Context["command"] != "x" || got.Tags[0] != "T1" || got.Description != "r desc" {
		t.Errorf("json fields lost: %+v", got)
	}
	// Acking again keeps the first ack.
	again, err := s.AckAlert(ctx, a.ID, "bob", at0.Add(3*time.Hour))
	if err != nil || again.AckedBy != "alice" {
		t.Errorf("second ack: %v %+v", err, again)
	}
}

func TestAlertLookupErrors(t *testing.T) {
	s := openAlertStore(t)
	ctx := context.Background()
	s.SaveAlerts(ctx, []alert.Alert{
		mkAlert("0193a5b2-0000-7000-8000-000000000001", "r", "s1", "web", rules.High, at0, 1),
		mkAlert("0193a5b2-0000-7000-8000-000000000002", "r", "s2", "web", rules.High, at0, 1),
	})
	tests := []struct {
		id   string
		want error
	}{
		{"0193a5b2-0000", ErrAmbiguous},
		{"ffffffff", ErrNotFound},
		{"", ErrNotFound},
		{"0193a5b2-0000-7000-8000-00000000000", ErrAmbiguous},
		{"0193a5b2-0000-7000-8000-000000000009", ErrNotFound},
	}
	for _, tc := range tests {
		if _, err := s.Alert(ctx, tc.id); !errors.Is(err, tc.want) {
			t.Errorf("Alert(%q) = %v, want %v", tc.id, err, tc.want)
		}
	}
	if _, err := s.AckAlert(ctx, "ffffffff", "x", at0); !errors.Is(err, ErrNotFound) {
		t.Errorf("ack unknown = %v", err)
	}
}

func TestAlertsFilterAndStats(t *testing.T) {
	s := openAlertStore(t)
	ctx := context.Background()
	day := 24 * time.Hour
	as := []alert.Alert{
		mkAlert("0193a5b2-0000-7000-8000-000000000001", "exfil", "s1", "web", rules.Critical, at0, 3),
		mkAlert("0193a5b2-0000-7000-8000-000000000002", "exfil", "s2", "api", rules.Critical, at0.Add(day), 1),
		mkAlert("0193a5b2-0000-7000-8000-000000000003", "sudo", "s1", "web", rules.High, at0.Add(day), 2),
		mkAlert("0193a5b2-0000-7000-8000-000000000004", "net", "s3", "web", rules.Medium, at0.Add(2*day), 10),
		mkAlert("0193a5b2-0000-7000-8000-000000000005", "old", "s0", "web", rules.Low, at0.Add(-30*day), 1),
	}
	as[3].Escalated = true
	if err := s.SaveAlerts(ctx, as); err != nil {
		t.Fatal(err)
	}
	s.AckAlert(ctx, as[2].ID, "alice", at0.Add(day))
	ids := func(f AlertFilter) string {
		got, err := s.Alerts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out string
		for _, a := range got {
			out += a.ID[len(a.ID)-1:]
		}
		return out
	}
	tests := []struct {
		name string
		f    AlertFilter
		want string
	}{
		{"all newest first", AlertFilter{}, "43215"},
		{"limit", AlertFilter{Limit: 2}, "43"},
		{"min severity", AlertFilter{MinSeverity: rules.High}, "321"},
		{"project", AlertFilter{Project: "web"}, "4315"},
		{"session", AlertFilter{Session: "s1"}, "31"},
		{"rule", AlertFilter{Rule: "exfil"}, "21"},
		{"status", AlertFilter{Status: alert.StatusOpen}, "4215"},
		{"since", AlertFilter{Since: at0.Add(day)}, "432"},
	}
	for _, tc := range tests {
		if got := ids(tc.f); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	st, err := s.AlertStats(ctx, at0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%d %d %d %d %v %v %v %v", st.Alerts, st.Occurrences, st.Open, st.Escalated, st.BySeverity, st.ByCategory, st.ByRule, st.ByDay)
	want := "4 16 3 1 [{CRITICAL 2 4} {HIGH 1 2} {MEDIUM 1 10}] [{cat_exfil 2 4} {cat_net 1 10} {cat_sudo 1 2}] [{exfil 2 4} {net 1 10} {sudo 1 2}] [{2026-11-20 1 3} {2026-11-21 2 3} {2026-11-22 1 10}]"
	if got != want {
		t.Errorf("stats\n got %s\nwant %s", got, want)
	}
	open, err := s.OpenAlerts(ctx, at0)
	if err != nil || len(open) != 3 || open[0].ID != as[0].ID {
		t.Errorf("open alerts: %v %d", err, len(open))
	}
}

// TestDispatcherPersists runs the live dispatcher against a real store: every
// occurrence is counted in the database, and a restarted dispatcher
// restored from it keeps counting on the same alert.
func TestDispatcherPersists(t *testing.T) {
	s := openAlertStore(t)
	ctx := context.Background()
	cfg := config.Default(config.Paths{}).Alerts
	resp := rules.Response{ImmediateAlert: true, CooldownMinutes: 5}
	run := func(restore []alert.Alert, n int) string {
		d, err := alert.New(cfg, nil, alert.Options{Store: s, Restore: restore, FlushInterval: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		var id string
		for i := range n {
			id = d.Handle(rules.Match{RuleID: "r", Severity: rules.High, Category: "c", SessionID: "s1", Project: "web",
				EventID: fmt.Sprint("e", i), Time: time.Now(), Response: resp})
		}
		if err := d.Close(ctx); err != nil {
			t.Fatal(err)
		}
		return id
	}
	id := run(nil, 14)
	got, err := s.Alert(ctx, id)
	if err != nil || got.Count != 14 {
		t.Fatalf("after first run: %v count %d", err, got.Count)
	}
	open, err := s.OpenAlerts(ctx, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if id2 := run(open, 3); id2 != id {
		t.Errorf("restarted dispatcher opened %s, want to continue %s", id2, id)
	}
	got, _ = s.Alert(ctx, id)
	if got.Count != 17 {
		t.Errorf("count %d after restart, want 17", got.Count)
	}
}

func TestPruneAlerts(t *testing.T) {
	s := openAlertStore(t)
	ctx := context.Background()
	s.SaveAlerts(ctx, []alert.Alert{
		mkAlert("0193a5b2-0000-7000-8000-000000000001", "r", "s1", "web", rules.High, at0, 1),
		mkAlert("0193a5b2-0000-7000-8000-000000000002", "r", "s2", "web", rules.High, at0.Add(48*time.Hour), 1),
	})
	n, err := s.PruneAlerts(ctx, at0.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	if as, _ := s.Alerts(ctx, AlertFilter{}); len(as) != 1 || as[0].SessionID != "s2" {
		t.Errorf("left %v", as)
	}
}
