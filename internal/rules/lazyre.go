package rules

import (
	"regexp"
	"sync"
)

// lazyRE compiles expr on first use. Every vigil process links this
// package, the hook included, and pays for package-level regexps at start
// even when it never matches one.
func lazyRE(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
