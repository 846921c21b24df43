package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestRulesExportLokiRuler(t *testing.T) {
	home, _ := cliHome(t)
	file := filepath.Join(home, "seed.yaml")
	if err := os.WriteFile(file, []byte(`rules:
  dangerous_commands:
    severity: HIGH
    category: dangerous_operation
    description: Potentially dangerous command executed
    pattern: 'command.*(?:rm\s+-rf|sudo)'
`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := vigil(t, "rules", "export", "--loki-ruler", "--no-defaults", "--rules", file, "--service", "svc")
	if r.code != 0 {
		t.Fatalf("export: %+v", r)
	}
	var groups struct {
		Groups []struct {
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Expr   string            `yaml:"expr"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(r.stdout), &groups); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, r.stdout)
	}
	if len(groups.Groups) != 1 || len(groups.Groups[0].Rules) != 1 {
		t.Fatalf("groups = %+v", groups)
	}
	rule := groups.Groups[0].Rules[0]
	if rule.Alert != "vigil_dangerous_commands" || !strings.Contains(rule.Expr, `{service="svc", stream="events"}`) || rule.Labels["severity"] != "HIGH" {
		t.Errorf("rule = %+v", rule)
	}
	if !strings.Contains(r.stderr, "exported 1 rules") {
		t.Errorf("stderr = %q", r.stderr)
	}
	if r := vigil(t, "rules", "export"); r.code != 2 {
		t.Errorf("export without --loki-ruler: %+v, want a usage error", r)
	}
}
