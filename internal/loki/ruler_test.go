package loki

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite golden files")

func readRuleFiles(t testing.TB, paths ...string) []RuleFile {
	t.Helper()
	var out []RuleFile
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, RuleFile{Name: p, Data: b})
	}
	return out
}

func TestExportRulerGolden(t *testing.T) {
	files := readRuleFiles(t,
		filepath.Join("testdata", "rules", "seed-security-rules.yaml"),
		filepath.Join("testdata", "rules", "block.yaml"),
		filepath.Join("testdata", "ruler", "native.yaml"),
	)
	x, err := ExportRuler(files, RulerOptions{Service: "claude-telemetry", Disabled: []string{"configuration_tampering"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := x.YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "ruler", "export.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestExportRulerGolden -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("export differs from %s (rerun with -update after checking):\n%s", golden, got)
	}
	reasons := map[string]string{}
	for _, u := range x.Untranslated {
		reasons[u.Rule] = u.Reason
	}
	for _, id := range []string{"netcat_anywhere", "ssh_dir_touched", "secret_file_read", "many_writes"} {
		if _, ok := reasons[id]; ok {
			t.Errorf("%s was not translated: %s", id, reasons[id])
		}
	}
	var back RuleGroups
	if err := yaml.Unmarshal(got, &back); err != nil {
		t.Fatalf("export is not YAML: %v", err)
	}
	for _, tc := range []struct{ rule, reason string }{
		{"rm_rf_parsed", `uses "command"`},
		{"exfil_sequence", "sequence rule"},
		{"switched_off", "disabled"},
		{"configuration_tampering", "disabled"},
		{"ssh_dir_written", "path.access: write"},
	} {
		if !strings.Contains(reasons[tc.rule], tc.reason) {
			t.Errorf("%s: reason %q, want it to mention %q", tc.rule, reasons[tc.rule], tc.reason)
		}
	}
}
