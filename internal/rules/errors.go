package rules

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidRules marks rule files that failed to load.
var ErrInvalidRules = errors.New("invalid rules")

// LoadError names one problem in a rule file: where, which field, which value.
type LoadError struct {
	File  string
	Line  int
	Field string
	Value string
	Msg   string
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Value != "" {
		v := e.Value
		if len(v) > 80 {
			v = v[:77] + "..."
		}
		fmt.Fprintf(&b, " (got %q)", v)
	}
	return b.String()
}

// LoadErrors is every problem found while loading; it matches
// ErrInvalidRules with errors.Is.
type LoadErrors []*LoadError

func (es LoadErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Is makes errors.Is(err, ErrInvalidRules) true.
func (es LoadErrors) Is(target error) bool { return target == ErrInvalidRules }
