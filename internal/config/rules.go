package config

import (
	"fmt"
	"os"
	"regexp"
	"sync"
)

// Rules configures the rule engine. Owned by the detection work (issue 3).
type Rules struct {
	// Defaults turns the built-in rule set on (default true).
	Defaults bool `yaml:"defaults"`
	// Files are extra rule files: native YAML or the seed's security-rules.yaml
	// format (detected from the content). A rule id defined again replaces
	// the earlier rule, so a file can override a default.
	Files []string `yaml:"files"`
	// Disabled lists rule ids to switch off.
	Disabled []string `yaml:"disabled"`
}

func defaultRules() Rules { return Rules{Defaults: true} }

// Compiled on first use: every vigil process (the hook too) would pay at start.
var ruleIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`) })

func (r Rules) validate() Errors {
	var errs Errors
	for i, f := range r.Files {
		field := fmt.Sprintf("rules.files[%d]", i)
		if f == "" {
			errs = append(errs, &FieldError{Field: field, Value: f, Msg: "must be a file path"})
			continue
		}
		if st, err := os.Stat(f); err != nil {
			errs = append(errs, &FieldError{Field: field, Value: f, Msg: "cannot read the rule file: " + err.Error()})
		} else if st.IsDir() {
			errs = append(errs, &FieldError{Field: field, Value: f, Msg: "is a directory; list the rule files"})
		}
	}
	for i, id := range r.Disabled {
		if !ruleIDRe().MatchString(id) {
			errs = append(errs, &FieldError{Field: fmt.Sprintf("rules.disabled[%d]", i), Value: id, Msg: "is not a rule id (letters, digits, '.', '_', '-')"})
		}
	}
	return errs
}
