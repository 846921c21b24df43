package rules

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestLoadBad checks that every *.bad.yml fails with exactly the errors in
// its .err golden file: each naming file:line, field and value.
func TestLoadBad(t *testing.T) {
	files, _ := filepath.Glob("testdata/load/*.bad.yml")
	if len(files) == 0 {
		t.Fatal("no bad rule files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			err = Validate(Source{Name: filepath.Base(f), Data: b})
			if err == nil {
				t.Fatal("loaded without error")
			}
			got := err.Error() + "\n"
			golden := f + ".err"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
			for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
				if !strings.HasPrefix(line, filepath.Base(f)+":") {
					t.Errorf("error does not name the file and line: %s", line)
				}
			}
		})
	}
}

func TestLoadGood(t *testing.T) {
	files, _ := filepath.Glob("testdata/load/*.good.yml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			eng, err := Load(config.Rules{Files: []string{f}})
			if err != nil {
				t.Fatal(err)
			}
			if len(eng.Rules()) == 0 {
				t.Fatal("no rules")
			}
		})
	}
}

// TestDefaultsCompileEagerly compiles every regular expression of the
// embedded set, which the hook compiles lazily.
func TestDefaultsCompileEagerly(t *testing.T) {
	if err := Validate(DefaultSources()...); err != nil {
		t.Fatal(err)
	}
}

func TestLoadOverridesAndDisabled(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "local.yml")
	os.WriteFile(f, []byte("rules:\n  - id: sudo-use\n    severity: HIGH\n    category: privilege_escalation\n    condition: {command: {wrapper: [sudo]}}\n"), 0o644)
	eng, err := Load(config.Rules{Defaults: true, Files: []string{f}, Disabled: []string{"destructive-rm-wide"}})
	if err != nil {
		t.Fatal(err)
	}
	var sudo, rm *Rule
	for _, r := range eng.Rules() {
		switch r.ID {
		case "sudo-use":
			sudo = r
		case "destructive-rm-wide":
			rm = r
		}
	}
	if sudo == nil || sudo.Severity != High || !strings.HasPrefix(sudo.Source, f) {
		t.Errorf("override not applied: %+v", sudo)
	}
	if rm == nil || rm.Enabled {
		t.Errorf("disabled rule still enabled: %+v", rm)
	}
}

// TestResponseImmediateAlertDefault: a response block that does not
// mention immediate_alert keeps the default (true); only an explicit false
// turns it off.
func TestResponseImmediateAlertDefault(t *testing.T) {
	const src = `
rules:
  - id: no-response
    description: d
    severity: LOW
    category: c
    condition: {command: {name: [a]}}
  - id: cooldown-only
    description: d
    severity: LOW
    category: c
    response: {cooldown_minutes: 5}
    condition: {command: {name: [b]}}
  - id: explicit-false
    description: d
    severity: LOW
    category: c
    response: {cooldown_minutes: 5, immediate_alert: false}
    condition: {command: {name: [c]}}
`
	eng, err := Load(config.Rules{}, WithoutDefaults(), WithSources(Source{Name: "r.yaml", Data: []byte(src)}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"no-response": true, "cooldown-only": true, "explicit-false": false}
	for _, r := range eng.Rules() {
		if got := r.Response.ImmediateAlert; got != want[r.ID] {
			t.Errorf("%s: ImmediateAlert = %v, want %v", r.ID, got, want[r.ID])
		}
	}
	if len(eng.Rules()) != len(want) {
		t.Errorf("loaded %d rules, want %d", len(eng.Rules()), len(want))
	}
}

func TestValidIDAndCategory(t *testing.T) {
	ids := map[string]bool{"a": true, "rce-1.x_y": true, "9a": true, "": false, "-a": false, "_a": false, "a b": false, "a/b": false, "é": false}
	for s, want := range ids {
		if got := validID(s); got != want {
			t.Errorf("validID(%q) = %v, want %v", s, got, want)
		}
	}
	cats := map[string]bool{"exfiltration": true, "reverse_shell": true, "a1": true, "": false, "1a": false, "_a": false, "Reverse": false, "a-b": false}
	for s, want := range cats {
		if got := validCategory(s); got != want {
			t.Errorf("validCategory(%q) = %v, want %v", s, got, want)
		}
	}
}
