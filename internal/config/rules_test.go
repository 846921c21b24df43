package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(good, []byte("rules: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    Rules
		want []string // substrings of the errors, in order
	}{
		{"defaults only", Rules{Defaults: true}, nil},
		{"existing file and ids", Rules{Files: []string{good}, Disabled: []string{"sudo-use", "seed.rule_1"}}, nil},
		{"missing file", Rules{Files: []string{filepath.Join(dir, "nope.yml")}}, []string{"rules.files[0]: cannot read the rule file"}},
		{"directory", Rules{Files: []string{dir}}, []string{"rules.files[0]: is a directory"}},
		{"empty path and bad id", Rules{Files: []string{""}, Disabled: []string{"bad id"}}, []string{"rules.files[0]: must be a file path", `rules.disabled[0]: is not a rule id`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := tc.r.validate()
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i].Error(), w)
				}
			}
		})
	}
}
