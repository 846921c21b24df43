package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Op is a comparison in a label or field matcher.
type Op string

// Matcher operators. The regex operators are RE2 and, as in Loki, anchored:
// =~ "file_.*" must match the whole value.
const (
	OpEq  Op = "="
	OpNe  Op = "!="
	OpRe  Op = "=~"
	OpNre Op = "!~"
	OpGt  Op = ">"
	OpGe  Op = ">="
	OpLt  Op = "<"
	OpLe  Op = "<="
)

// LineOp is a line filter over the stored JSON line.
type LineOp string

// Line filter operators, as in LogQL. Contains is case-sensitive.
const (
	LineContains    LineOp = "|="
	LineNotContains LineOp = "!="
	LineMatch       LineOp = "|~"
	LineNotMatch    LineOp = "!~"
)

// Columns a LabelMatcher may name.
const (
	ColProject   = "project"
	ColSession   = "session_id"
	ColTool      = "tool_name"
	ColEventType = "event_type"
	ColHookEvent = "hook_event"
	ColHost      = "host"
	ColUser      = "user"
	ColAgentID   = "agent_id"
	ColDecision  = "decision" // decision.action
)

// isColumn reports whether name is a filterable text column.
func isColumn(name string) bool {
	switch name {
	case ColProject, ColSession, ColTool, ColEventType, ColHookEvent, ColHost, ColUser, ColAgentID, ColDecision:
		return true
	}
	return false
}

// LabelMatcher compares an indexed column (Col* constants) with a value.
// Only =, !=, =~ and !~ are allowed.
type LabelMatcher struct {
	Name  string
	Op    Op
	Value string
}

// LineFilter tests the stored JSON line.
type LineFilter struct {
	Op    LineOp
	Value string
}

// FieldFilter tests one field of the event as LogQL's `| json` parser sees
// it: nested keys joined with "_" (action_details_command); a dotted path
// (action_details.command) means the same. Arrays are not fields. A missing
// field compares as "". With >, >=, <, <= both sides must be numbers.
type FieldFilter struct {
	Field string
	Op    Op
	Value string
	// Numeric makes = and != compare as numbers (LogQL's `== 1`, `!= 1`);
	// >, >=, < and <= always do.
	Numeric bool
}

// Order of results.
type Order int

// Orders. Both are by seq (ingest order), which is the cursor.
const (
	NewestFirst Order = iota
	OldestFirst
)

// Filter selects events. Within one list the values are alternatives (OR);
// everything set must hold (AND). The zero Filter matches every event.
type Filter struct {
	Projects   []string
	Sessions   []string
	Tools      []string
	EventTypes []string
	HookEvents []string
	Hosts      []string
	Users      []string
	AgentIDs   []string
	Labels     []LabelMatcher
	Lines      []LineFilter
	Fields     []FieldFilter
	// Flags: nil means either.
	OutsideScope *bool
	Sensitive    *bool
	Redacted     *bool
	HasDecision  *bool
	// From (inclusive) and To (exclusive) bound the event timestamp.
	From, To time.Time
	// AfterSeq and BeforeSeq bound seq exclusively (0 = unbounded).
	AfterSeq, BeforeSeq int64
	// Limit caps the result (0 = no limit for Query/Count).
	Limit int
	Order Order
	// None makes the filter match nothing (e.g. a query for another
	// service's streams).
	None bool
}

// Bool returns a pointer to b, for the flag fields of Filter.
func Bool(b bool) *bool { return &b }

// ErrBadFilter is returned (wrapped) for an invalid Filter.
var ErrBadFilter = errors.New("bad filter")

// plan is a compiled Filter: SQL for what the database can decide, Go
// predicates for the rest.
type plan struct {
	where []string
	args  []any
	terms []string // `|=` terms the index may serve, before the side-value check
	// grams are the trigrams the text index is asked for (none: no index
	// use), text how far it reached when the plan was made.
	grams []uint32
	text  textState
	// labelGrams stand for the single-value equality filters on labelCols;
	// narrow is set when a project or session filter has its own index.
	labelGrams []uint32
	narrow     bool
	// cands, when set, restricts the statement to these seqs (a JSON array:
	// the text index's candidates of one window).
	cands string
	// residual predicates, checked on each candidate row
	labels []compiledLabel
	lines  []compiledLine
	fields []compiledField
}

type compiledLabel struct {
	col string
	neg bool
	re  *regexp.Regexp
}

type compiledLine struct {
	neg bool
	sub []byte
	re  *regexp.Regexp
}

type compiledField struct {
	name    string
	op      Op
	val     string
	numeric bool
	num     float64
	re      *regexp.Regexp
}

func (p *plan) residual() bool {
	return len(p.labels) > 0 || len(p.lines) > 0 || len(p.fields) > 0
}

func (p *plan) sql(cond string, args ...any) {
	p.where = append(p.where, cond)
	p.args = append(p.args, args...)
}

func (p *plan) in(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	if len(vals) == 1 {
		p.eq(col, vals[0])
		return
	}
	p.narrowBy(col)
	ph := strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	p.sql(quoteCol(col)+" IN ("+ph+")", args...)
}

// eq adds col = v, noting what the block index can do with it.
func (p *plan) eq(col, v string) {
	p.sql(quoteCol(col)+" = ?", v)
	if isLabelCol(col) {
		p.labelGrams = append(p.labelGrams, labelGram(col, v))
	}
	p.narrowBy(col)
}

func (p *plan) narrowBy(col string) {
	if col == ColProject || col == ColSession {
		p.narrow = true
	}
}

func (p *plan) flag(col string, v *bool) {
	if v == nil {
		return
	}
	if *v {
		p.sql(col + " = 1")
	} else {
		p.sql(col + " = 0")
	}
}

// quoteCol quotes a column name (user is a keyword in some SQL dialects).
func quoteCol(c string) string { return `"` + c + `"` }

// pushdownColumn maps a `| json` field name to the indexed column that
// holds the same value, so such field filters run in SQL.
func pushdownColumn(field string) (string, bool) {
	switch field {
	case ColProject, ColSession, ColTool, ColEventType, ColHookEvent, ColHost, ColUser, ColAgentID:
		return field, true
	case "decision_action":
		return ColDecision, true
	}
	return "", false
}

func (s *Store) compile(f Filter) (*plan, error) {
	p := &plan{}
	if f.None {
		p.sql("0")
	}
	p.in(ColProject, f.Projects)
	p.in(ColSession, f.Sessions)
	p.in(ColTool, f.Tools)
	p.in(ColEventType, f.EventTypes)
	p.in(ColHookEvent, f.HookEvents)
	p.in(ColHost, f.Hosts)
	p.in(ColUser, f.Users)
	p.in(ColAgentID, f.AgentIDs)
	p.flag("outside_scope", f.OutsideScope)
	p.flag("sensitive", f.Sensitive)
	p.flag("redacted", f.Redacted)
	if f.HasDecision != nil {
		if *f.HasDecision {
			p.sql("decision != ''")
		} else {
			p.sql("decision = ''")
		}
	}
	if !f.From.IsZero() {
		p.sql("ts >= ?", f.From.UnixNano())
	}
	if !f.To.IsZero() {
		p.sql("ts < ?", f.To.UnixNano())
	}
	if f.AfterSeq > 0 {
		p.sql("seq > ?", f.AfterSeq)
	}
	if f.BeforeSeq > 0 {
		p.sql("seq < ?", f.BeforeSeq)
	}
	for _, m := range f.Labels {
		if err := p.label(m); err != nil {
			return nil, err
		}
	}
	var terms []string
	for _, l := range f.Lines {
		switch l.Op {
		case LineContains, LineNotContains:
			p.lines = append(p.lines, compiledLine{neg: l.Op == LineNotContains, sub: []byte(l.Value)})
			if l.Op == LineContains && s.termIndexable(l.Value) {
				terms = append(terms, l.Value)
			}
		case LineMatch, LineNotMatch:
			re, err := regexp.Compile(l.Value)
			if err != nil {
				return nil, fmt.Errorf("%w: line filter %s %q: %v", ErrBadFilter, l.Op, l.Value, err)
			}
			p.lines = append(p.lines, compiledLine{neg: l.Op == LineNotMatch, re: re})
			// Every match of a regex starts with its literal prefix, so a
			// line without it cannot match: the index may pre-filter on it.
			if prefix, _ := re.LiteralPrefix(); l.Op == LineMatch && s.termIndexable(prefix) {
				terms = append(terms, prefix)
			}
		default:
			return nil, fmt.Errorf("%w: unknown line filter operator %q", ErrBadFilter, l.Op)
		}
	}
	p.terms = terms
	for _, ff := range f.Fields {
		name := strings.ReplaceAll(ff.Field, ".", "_")
		if name == "" {
			return nil, fmt.Errorf("%w: empty field name", ErrBadFilter)
		}
		if col, ok := pushdownColumn(name); ok && !ff.Numeric && (ff.Op == OpEq || ff.Op == OpNe || ff.Op == OpRe || ff.Op == OpNre) {
			if err := p.label(LabelMatcher{Name: col, Op: ff.Op, Value: ff.Value}); err != nil {
				return nil, err
			}
			continue
		}
		cf := compiledField{name: name, op: ff.Op, val: ff.Value, numeric: ff.Numeric}
		switch {
		case (ff.Op == OpEq || ff.Op == OpNe) && !ff.Numeric:
		case ff.Op == OpRe || ff.Op == OpNre:
			re, err := regexp.Compile("^(?:" + ff.Value + ")$")
			if err != nil {
				return nil, fmt.Errorf("%w: field %s %s %q: %v", ErrBadFilter, ff.Field, ff.Op, ff.Value, err)
			}
			cf.re = re
		case ff.Op == OpEq || ff.Op == OpNe || ff.Op == OpGt || ff.Op == OpGe || ff.Op == OpLt || ff.Op == OpLe:
			cf.numeric = true
			n, err := strconv.ParseFloat(ff.Value, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: field %s %s %q: not a number", ErrBadFilter, ff.Field, ff.Op, ff.Value)
			}
			cf.num = n
		default:
			return nil, fmt.Errorf("%w: unknown field operator %q", ErrBadFilter, ff.Op)
		}
		p.fields = append(p.fields, cf)
	}
	return p, nil
}

func (p *plan) label(m LabelMatcher) error {
	if !isColumn(m.Name) {
		return fmt.Errorf("%w: unknown label %q", ErrBadFilter, m.Name)
	}
	col := quoteCol(m.Name)
	switch m.Op {
	case OpEq:
		p.eq(m.Name, m.Value)
	case OpNe:
		p.sql(col+" != ?", m.Value)
	case OpRe, OpNre:
		re, err := regexp.Compile("^(?:" + m.Value + ")$")
		if err != nil {
			return fmt.Errorf("%w: label %s %s %q: %v", ErrBadFilter, m.Name, m.Op, m.Value, err)
		}
		p.labels = append(p.labels, compiledLabel{col: m.Name, neg: m.Op == OpNre, re: re})
	default:
		return fmt.Errorf("%w: operator %q not allowed on label %s", ErrBadFilter, m.Op, m.Name)
	}
	return nil
}

// match applies the residual predicates to a candidate row.
func (p *plan) match(r *Row) bool {
	for _, l := range p.labels {
		if l.re.MatchString(r.column(l.col)) == l.neg {
			return false
		}
	}
	for _, l := range p.lines {
		var ok bool
		if l.re != nil {
			ok = l.re.Match(r.JSON)
		} else {
			ok = bytes.Contains(r.JSON, l.sub)
		}
		if ok == l.neg {
			return false
		}
	}
	if len(p.fields) > 0 {
		fields := flattenJSON(r.JSON)
		for _, f := range p.fields {
			if !f.match(fields[f.name]) {
				return false
			}
		}
	}
	return true
}

func (f *compiledField) match(v string) bool {
	switch {
	case f.op == OpEq && !f.numeric:
		return v == f.val
	case f.op == OpNe && !f.numeric:
		return v != f.val
	}
	switch f.op {
	case OpRe:
		return f.re.MatchString(v)
	case OpNre:
		return !f.re.MatchString(v)
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return false
	}
	switch f.op {
	case OpEq:
		return n == f.num
	case OpNe:
		return n != f.num
	case OpGt:
		return n > f.num
	case OpGe:
		return n >= f.num
	case OpLt:
		return n < f.num
	case OpLe:
		return n <= f.num
	}
	return false
}

// flattenJSON extracts fields the way LogQL's `| json` does: nested object
// keys joined with "_", arrays skipped, numbers as written, booleans as
// true/false, null as "".
func flattenJSON(line []byte) map[string]string {
	out := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return out
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, x := range m {
			name := prefix + sanitizeLabel(k)
			switch x := x.(type) {
			case map[string]any:
				walk(name+"_", x)
			case string:
				out[name] = x
			case json.Number:
				out[name] = x.String()
			case bool:
				out[name] = strconv.FormatBool(x)
			case nil:
				out[name] = ""
			}
		}
	}
	walk("", v)
	return out
}

// sanitizeLabel replaces characters Loki does not allow in label names.
func sanitizeLabel(k string) string {
	ok := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			ok = false
			break
		}
	}
	if ok {
		return k
	}
	b := []byte(k)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}
