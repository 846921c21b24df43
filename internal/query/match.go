package query

import (
	"regexp"

	"github.com/vigil-sec/vigil/internal/store"
)

// checkRegex reports whether re compiles (RE2, as Loki).
func checkRegex(re string) error {
	_, err := regexp.Compile(re)
	return err
}

// constMatches evaluates a matcher against a constant label value (service,
// stream). Regexes are anchored, as in Loki.
func constMatches(op store.Op, val, constant string) bool {
	switch op {
	case store.OpEq:
		return constant == val
	case store.OpNe:
		return constant != val
	case store.OpRe, store.OpNre:
		re, err := regexp.Compile("^(?:" + val + ")$")
		if err != nil {
			return false
		}
		return re.MatchString(constant) == (op == store.OpRe)
	}
	return false
}
