package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesListValidateTest(t *testing.T) {
	cliHome(t)
	r := vigil(t, "rules", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "destructive-rm-wide") || !strings.Contains(r.stdout, "builtin:default.yaml:") {
		t.Fatalf("list: %+v", r)
	}
	r = vigil(t, "rules", "list", "--format", "json")
	var row struct{ ID, Severity, Category, Action, Source string }
	if err := json.Unmarshal([]byte(strings.SplitN(r.stdout, "\n", 2)[0]), &row); err != nil || row.ID == "" || row.Severity == "" {
		t.Fatalf("list json: %v %+v", err, r)
	}
	if r := vigil(t, "rules", "validate"); r.code != 0 || !strings.HasPrefix(r.stdout, "ok: ") {
		t.Errorf("validate configured: %+v", r)
	}
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("rules:\n  - id: x\n    severity: SEVERE\n    category: c\n    condition: {tool: [Bash], nope: 1}\n"), 0o644)
	r = vigil(t, "rules", "validate", bad)
	if r.code != 1 || !strings.Contains(r.stderr, bad+":3: rules[0].severity: must be LOW, MEDIUM, HIGH or CRITICAL (got \"SEVERE\")") ||
		!strings.Contains(r.stderr, bad+":5: rules[0].condition.nope: unknown field") {
		t.Errorf("validate bad: %+v", r)
	}
	if r := vigil(t, "rules", "test"); r.code != 0 || !strings.Contains(r.stdout, "rule tests passed") {
		t.Errorf("rules test: %+v", r)
	}
	failing := filepath.Join(t.TempDir(), "t.yml")
	os.WriteFile(failing, []byte("tests:\n  - name: wrong\n    events: [{tool_name: Bash, tool_input: {command: ls}}]\n    expect: [{rule: destructive-rm-wide}]\n"), 0o644)
	if r := vigil(t, "rules", "test", "--data", failing); r.code != 1 || !strings.Contains(r.stdout, "FAIL "+failing+": wrong") {
		t.Errorf("failing rule test: %+v", r)
	}
}

func TestReplay(t *testing.T) {
	cliHome(t)
	file := filepath.Join("testdata", "replay", "session.jsonl")
	r := vigil(t, "replay", file)
	if r.code != 0 {
		t.Fatalf("replay: %+v", r)
	}
	// Malformed lines are reported and skipped; the rest is replayed.
	if !strings.Contains(r.stderr, file+":4: skipped") || !strings.Contains(r.stderr, file+":14: skipped") {
		t.Errorf("malformed lines not reported: %s", r.stderr)
	}
	var first map[string]any
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("alert line %q: %v", lines[0], err)
	}
	for _, k := range []string{"rule", "severity", "category", "session_id", "event_id", "file", "line"} {
		if _, ok := first[k]; !ok {
			t.Errorf("alert lacks %s: %s", k, lines[0])
		}
	}
	if first["rule"] != "rce-download-pipe-shell" || first["line"] != float64(8) || first["severity"] != "CRITICAL" {
		t.Errorf("first alert = %v", first)
	}
	r = vigil(t, "replay", "--format", "table", file)
	if r.code != 0 || !strings.Contains(r.stdout, "session.jsonl:8  CRITICAL  rce-download-pipe-shell") {
		t.Errorf("table: %+v", r)
	}
}

func TestReplayScore(t *testing.T) {
	cliHome(t)
	corpus := filepath.Join("..", "rules", "testdata", "corpus")
	r := vigil(t, "replay", "-q", "--score", filepath.Join(corpus, "labels.json"), filepath.Join(corpus, "sessions"))
	if r.code != 0 {
		t.Fatalf("replay --score: %+v", r)
	}
	for _, want := range []string{"Detection rate:       20/20 (100.0%)", "False-positive rate:  0/20 (0.0%)", "Missed:               none", "Falsely flagged:      none", "category", "Detection latency"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("score table lacks %q:\n%s", want, r.stdout)
		}
	}
}
