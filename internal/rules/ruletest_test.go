package rules

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/config"
)

// TestDefaultRuleGoldens runs the embedded rule tests (events in, matches
// out) against the default set.
func TestDefaultRuleGoldens(t *testing.T) {
	srcs := DefaultTests()
	if len(srcs) == 0 {
		t.Fatal("no embedded rule tests")
	}
	for _, src := range srcs {
		res, err := RunTestFile(src, config.Rules{Defaults: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			t.Run(strings.TrimPrefix(src.Name, "builtin:tests/")+"/"+r.Name, func(t *testing.T) {
				if !r.Passed() {
					t.Errorf("%s\n  got:\n    %s", strings.Join(r.Failures, "\n"), strings.Join(r.Got, "\n    "))
				}
			})
		}
	}
}
