package rules

import (
	"sync"
	"time"
)

// Rule kinds.
const (
	kindPlain     = "plain"
	kindThreshold = "threshold"
	kindSequence  = "sequence"
	kindDerived   = "derived"
)

// Rule is one compiled rule. Its exported fields describe it (for
// `vigil rules list`); the condition is internal.
type Rule struct {
	ID          string
	Description string
	Severity    Severity
	Category    string
	Tags        []string
	Action      string
	Enabled     bool
	Response    Response
	// Source is "file:line" of the rule's definition ("builtin:..." for the
	// embedded default set).
	Source string
	// Kind is plain, threshold, sequence or derived.
	Kind string
	// ContextFields are the seed's context_fields: event fields to copy
	// into Match.Context.
	ContextFields []string
	// InheritContent, when set, also reports each finding in the event's
	// content facts as its own match, at most at this severity.
	InheritContent Severity

	// build compiles the conditions on first use (embedded set); nil
	// when they were compiled at load.
	build func()
	once  sync.Once

	cond       cond
	exceptions []cond
	threshold  *thresholdSpec
	seq        *seqSpec
	derived    *derivedSpec
}

// thresholdSpec: the rule fires when Count events matching its condition
// fall within Window in one session.
type thresholdSpec struct {
	Count  int
	Window time.Duration
}

// seqSpec: the steps match in order, on different events of one session,
// all within Window.
type seqSpec struct {
	Steps  []cond
	Window time.Duration
	// Link requires the last step to run a file an earlier step wrote.
	Link bool
	// Inherit also emits the content findings of the linked file.
	Inherit bool
}

// derivedSpec fires on an event where another rule of at least MinSeverity
// matched through a program that shows one of Signals.
type derivedSpec struct {
	MinSeverity   Severity
	Signals       map[string]bool
	CategoriesNot map[string]bool
}

// Signals a derived rule may ask for.
var knownSignals = map[string]bool{
	"shell_wrapper": true, // bash -c / sh -c / eval around the harmful program
	"env_prefix":    true, // VAR=x in front of it
	"dynamic_name":  true, // its name is built at run time or hidden by quoting
	"decoded":       true, // it came out of a base64/hex payload
	"chained":       true, // it follows unrelated harmless commands in a && or ; chain
	"privileged":    true, // it runs under sudo, doas, su or pkexec
	"script":        true, // it came from file content (script, unit, crontab)
}

// hit is one rule matching one event, before it becomes a Match.
type hit struct {
	rule *Rule
	prog int    // program index in facts, or -1
	via  string // program | redirect | path | ""
	// events lists the event ids of a sequence or window (oldest first).
	events []string
	detail string
	// as overrides the rule's category/severity (inherited findings).
	asCategory string
	asSeverity Severity
	asID       string
}

// ContentFacts are facts derived from the content of a Write, Edit or
// NotebookEdit at hook time. The content itself is never stored; these
// facts say what it would do. The hook stores them on the event
// (event.Action.ContentFacts, computed with ScanContent), and Evaluate
// reads them from there unless Input.Content is given.
type ContentFacts struct {
	// Kind is what the content is: script, unit, crontab, shell_rc,
	// git_hook, claude_settings or "" (not analysed).
	Kind string `json:"kind,omitempty"`
	// Tags are facts that do not come from rules, e.g. claude_hooks_removed.
	Tags []string `json:"tags,omitempty"`
	// Findings are rules that match the content's commands.
	Findings []ContentFinding `json:"findings,omitempty"`
}

// ContentFinding is one rule matching a command inside file content.
type ContentFinding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Category string   `json:"category"`
}

func (h hit) severity() Severity {
	if h.asID != "" {
		return h.asSeverity
	}
	return h.rule.Severity
}

func (h hit) category() string {
	if h.asID != "" {
		return h.asCategory
	}
	return h.rule.Category
}

func (h hit) id() string {
	if h.asID != "" {
		return h.asID
	}
	return h.rule.ID
}

// ensure compiles the rule's conditions if that was deferred.
func (r *Rule) ensure() {
	if r.build != nil {
		r.once.Do(r.build)
	}
}
