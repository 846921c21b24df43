package rules

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
)

const seedPath = "testdata/seed/security-rules.yaml"

func TestSeedLoadsAsIs(t *testing.T) {
	eng, err := Load(config.Rules{Files: []string{seedPath}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		sev      Severity
		kind     string
		cooldown int
		escalate int
	}{
		"scope_violation":           {Critical, kindPlain, 5, 1},
		"dangerous_commands":        {High, kindPlain, 10, 2},
		"privilege_escalation":      {High, kindPlain, 15, 1},
		"sensitive_files":           {Medium, kindPlain, 5, 3},
		"network_activity":          {Medium, kindPlain, 30, 5},
		"high_frequency_operations": {Medium, kindThreshold, 15, 1},
		"repeated_scope_violations": {High, kindThreshold, 60, 1},
		"system_file_modification":  {High, kindPlain, 0, 1},
		"configuration_tampering":   {Medium, kindPlain, 10, 2},
	}
	if len(eng.Rules()) != len(want) {
		t.Fatalf("got %d rules, want %d", len(eng.Rules()), len(want))
	}
	for _, r := range eng.Rules() {
		w, ok := want[r.ID]
		if !ok {
			t.Errorf("unexpected rule %s", r.ID)
			continue
		}
		if r.Severity != w.sev || r.Kind != w.kind || r.Response.CooldownMinutes != w.cooldown || r.Response.EscalateAfter != w.escalate || !r.Enabled {
			t.Errorf("%s: got %v %s cooldown %d escalate %d enabled %v", r.ID, r.Severity, r.Kind, r.Response.CooldownMinutes, r.Response.EscalateAfter, r.Enabled)
		}
	}
	if r := ruleByID(eng, "network_activity"); r.Response.ImmediateAlert {
		t.Error("network_activity: immediate_alert false not honoured")
	}
	if r := ruleByID(eng, "high_frequency_operations"); r.threshold.Count != 100 || r.threshold.Window != 5*time.Minute {
		t.Errorf("high_frequency_operations threshold = %+v, want 100 in 5m", r.threshold)
	}
	if r := ruleByID(eng, "repeated_scope_violations"); r.threshold.Count != 3 || r.threshold.Window != 30*time.Minute {
		t.Errorf("repeated_scope_violations threshold = %+v, want 3 in 30m", r.threshold)
	}
	sf := eng.SeedFiles()
	if len(sf) != 1 || sf[0].Settings.MaxAlertsPerMinute != 10 || !sf[0].Settings.Enabled {
		t.Fatalf("seed settings = %+v", sf)
	}
	for _, s := range []string{"settings", "rules", "notifications", "deduplication", "performance", "reliability"} {
		if !strings.Contains(strings.Join(sf[0].Sections, ","), s) {
			t.Errorf("section %s not seen", s)
		}
	}
}

func ruleByID(e *Engine, id string) *Rule {
	for _, r := range e.Rules() {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func TestSeedGoldens(t *testing.T) {
	b, err := os.ReadFile("testdata/seed_rules_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunTestFile(Source{Name: "testdata/seed_rules_test.yml", Data: b}, config.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Run(r.Name, func(t *testing.T) {
			if !r.Passed() {
				t.Errorf("%s\n  got:\n    %s", strings.Join(r.Failures, "\n"), strings.Join(r.Got, "\n    "))
			}
		})
	}
}

// TestSeedHighFrequency: operations_per_minute 20 over window_minutes 5
// fires on the 100th tool call within 5 minutes, and not for a slower pace.
func TestSeedHighFrequency(t *testing.T) {
	tests := []struct {
		name  string
		every time.Duration
		n     int
		want  int // event (1-based) that fires, 0 for none
	}{
		{"burst", time.Second, 120, 100},
		{"slow", 4 * time.Second, 120, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng, err := Load(config.Rules{Files: []string{seedPath}})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			got := 0
			for i := 1; i <= tc.n; i++ {
				ev := &event.Event{ID: "e", SessionID: "s", HookEvent: "PreToolUse", ToolName: "Read", EventType: event.TypeFileRead,
					Timestamp: start.Add(time.Duration(i) * tc.every), ProjectDir: "/home/dev/p", Cwd: "/home/dev/p"}
				ev.Action.FilePath = "/home/dev/p/a.go"
				for _, m := range eng.Evaluate(ev) {
					if m.RuleID == "high_frequency_operations" && got == 0 {
						got = i
					}
				}
			}
			if got != tc.want {
				t.Errorf("fired at event %d, want %d", got, tc.want)
			}
		})
	}
}
