// Package query owns Vigil's query language: a subset of LogQL that runs
// both locally (translated to a store.Filter) and, unchanged, on Grafana
// Loki against the streams the Loki forwarder writes; and the plain flag
// form the CLI offers (--project, --tool, --since …).
//
// # The subset
//
//	{project="shop", tool="Bash", event=~"file_.*", hook_event!="Stop"}
//	    |= "curl" != "localhost" |~ "https?://" !~ "example\\.com"
//	    | json | action_details_command=~".*sh$" and security_flags_outside_project_scope="true"
//	    | outcome_duration_ms > 1000
//
// Stream selector labels (those the forwarder sets): service, stream,
// project, tool (tool_name), event (event_type), hook_event. Local
// extensions, accepted in the selector too: session_id, host, user,
// agent_id, decision. The selector may be left out locally ({} is
// implied); Loki needs one.
//
// Line filters |=, !=, |~, !~ test the event's JSON line; regexes are RE2
// and unanchored, as in Loki.
//
// `| json` makes every field of the event a label, nested keys joined with
// "_" (action_details.command → action_details_command), as Loki's json
// parser does; a dotted name is accepted locally as the same thing. Label
// filters then compare with = != =~ !~ (strings; regexes anchored) or
// == != > >= < <= against a number. Several filters join with "and" or ",".
// Labels that exist without `| json` (the stream labels and the
// forwarder's structured metadata: session_id, host, user, agent_id,
// tool_use_id, event_id) may be filtered before it.
//
// Not supported (clear error): "or" in filters, other parsers (logfmt,
// regexp, pattern), line_format, label_format, unwrap and metric queries.
package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/store"
)

// Options tune how a query maps onto the local store.
type Options struct {
	// Service is the value of the service stream label (config
	// loki.service). A selector that cannot match it matches nothing.
	Service string
}

// DefaultService is the forwarder's default service label.
const DefaultService = "claude-telemetry"

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("query syntax error")

// Error is a parse error at a position of the query.
type Error struct {
	Query string
	Pos   int // byte offset
	Msg   string
}

func (e *Error) Error() string {
	col := utf8.RuneCountInString(e.Query[:min(e.Pos, len(e.Query))]) + 1
	return fmt.Sprintf("%v at column %d: %s\n  %s\n  %s^", ErrSyntax, col, e.Msg, e.Query, strings.Repeat(" ", col-1))
}

func (e *Error) Unwrap() error { return ErrSyntax }

// Parse parses a LogQL-subset query into a store filter.
func Parse(q string, opts Options) (store.Filter, error) {
	if opts.Service == "" {
		opts.Service = DefaultService
	}
	p := &parser{lex: lexer{src: q}, opts: opts}
	p.next()
	if err := p.query(); err != nil {
		return store.Filter{}, err
	}
	return p.f, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tLBrace
	tRBrace
	tComma
	tPipe   // |
	tOp     // = != =~ !~ == > >= < <=
	tLineOp // |= |~ (!= and !~ are tOp and become line filters by position)
	tIllegal
)

type token struct {
	kind tokKind
	text string // raw text; for strings the unquoted value
	pos  int
}

type lexer struct {
	src string
	pos int
}

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		r, w := utf8.DecodeRuneInString(l.src[l.pos:])
		if !unicode.IsSpace(r) {
			break
		}
		l.pos += w
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	two := ""
	if l.pos+1 < len(l.src) {
		two = l.src[l.pos : l.pos+2]
	}
	switch {
	case c == '{':
		l.pos++
		return token{tLBrace, "{", start}, nil
	case c == '}':
		l.pos++
		return token{tRBrace, "}", start}, nil
	case c == ',':
		l.pos++
		return token{tComma, ",", start}, nil
	case two == "|=" || two == "|~":
		l.pos += 2
		return token{tLineOp, two, start}, nil
	case c == '|':
		l.pos++
		return token{tPipe, "|", start}, nil
	case two == "!=" || two == "!~" || two == "=~" || two == "==" || two == ">=" || two == "<=":
		l.pos += 2
		return token{tOp, two, start}, nil
	case c == '=' || c == '>' || c == '<':
		l.pos++
		return token{tOp, string(c), start}, nil
	case c == '"':
		return l.quoted(start)
	case c == '`':
		end := strings.IndexByte(l.src[l.pos+1:], '`')
		if end < 0 {
			return token{}, &Error{l.src, start, "unterminated raw string (missing `)"}
		}
		l.pos += end + 2
		return token{tString, l.src[start+1 : l.pos-1], start}, nil
	case c == '-' || c == '.' || c >= '0' && c <= '9':
		for l.pos < len(l.src) && strings.IndexByte("0123456789.eE+-", l.src[l.pos]) >= 0 {
			l.pos++
		}
		txt := l.src[start:l.pos]
		if _, err := strconv.ParseFloat(txt, 64); err != nil {
			return token{}, &Error{l.src, start, fmt.Sprintf("bad number %q", txt)}
		}
		return token{tNumber, txt, start}, nil
	case c == '_' || c < utf8.RuneSelf && unicode.IsLetter(rune(c)):
		for l.pos < len(l.src) {
			c := l.src[l.pos]
			if c == '_' || c == '.' || c >= '0' && c <= '9' || c < utf8.RuneSelf && unicode.IsLetter(rune(c)) {
				l.pos++
				continue
			}
			break
		}
		return token{tIdent, l.src[start:l.pos], start}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return token{}, &Error{l.src, start, fmt.Sprintf("unexpected %q", r)}
}

func (l *lexer) quoted(start int) (token, error) {
	i := l.pos + 1
	for i < len(l.src) {
		switch l.src[i] {
		case '\\':
			i += 2
			continue
		case '"':
			raw := l.src[start : i+1]
			s, err := strconv.Unquote(raw)
			if err != nil {
				return token{}, &Error{l.src, start, fmt.Sprintf("bad string %s: %v", raw, err)}
			}
			l.pos = i + 1
			return token{tString, s, start}, nil
		}
		i++
	}
	return token{}, &Error{l.src, start, `unterminated string (missing ")`}
}

type parser struct {
	lex  lexer
	tok  token
	err  error
	opts Options
	f    store.Filter
	json bool // a `| json` stage was seen
}

func (p *parser) next() {
	if p.err != nil {
		return
	}
	p.tok, p.err = p.lex.next()
	if p.err != nil {
		p.tok = token{kind: tIllegal, pos: p.lex.pos}
	}
}

func (p *parser) fail(pos int, format string, args ...any) error {
	if p.err != nil {
		return p.err
	}
	return &Error{p.lex.src, pos, fmt.Sprintf(format, args...)}
}

func (p *parser) query() error {
	if p.tok.kind == tLBrace {
		if err := p.selector(); err != nil {
			return err
		}
	}
	for p.err == nil && p.tok.kind != tEOF {
		switch {
		case p.tok.kind == tLineOp || p.tok.kind == tOp && (p.tok.text == "!=" || p.tok.text == "!~"):
			if err := p.lineFilter(); err != nil {
				return err
			}
		case p.tok.kind == tPipe:
			p.next()
			if err := p.stage(); err != nil {
				return err
			}
		case p.tok.kind == tIdent && isMetricFunc(p.tok.text):
			return p.fail(p.tok.pos, "metric queries (%s) are not supported locally; run them on Loki", p.tok.text)
		default:
			return p.fail(p.tok.pos, "expected a line filter (|= != |~ !~) or a | stage, got %s", p.describe())
		}
	}
	return p.err
}

func isMetricFunc(s string) bool {
	switch s {
	case "count_over_time", "rate", "bytes_over_time", "bytes_rate", "sum", "count", "avg", "min", "max",
		"topk", "bottomk", "sum_over_time", "avg_over_time", "quantile_over_time", "absent_over_time":
		return true
	}
	return false
}

func (p *parser) describe() string {
	switch p.tok.kind {
	case tEOF:
		return "end of query"
	case tString:
		return strconv.Quote(p.tok.text)
	}
	return fmt.Sprintf("%q", p.tok.text)
}

func (p *parser) selector() error {
	p.next() // {
	for p.err == nil && p.tok.kind != tRBrace {
		if p.tok.kind != tIdent {
			return p.fail(p.tok.pos, "expected a label name, got %s", p.describe())
		}
		name, pos := p.tok.text, p.tok.pos
		p.next()
		if p.tok.kind != tOp || !(p.tok.text == "=" || p.tok.text == "!=" || p.tok.text == "=~" || p.tok.text == "!~") {
			return p.fail(p.tok.pos, "expected = != =~ or !~ after label %s, got %s", name, p.describe())
		}
		op := store.Op(p.tok.text)
		p.next()
		if p.tok.kind != tString {
			return p.fail(p.tok.pos, "expected a quoted value for label %s, got %s", name, p.describe())
		}
		val := p.tok.text
		if err := p.matcher(name, pos, op, val, true); err != nil {
			return err
		}
		p.next()
		switch p.tok.kind {
		case tComma:
			p.next()
		case tRBrace:
		default:
			return p.fail(p.tok.pos, "expected , or } in the stream selector, got %s", p.describe())
		}
	}
	if p.err != nil {
		return p.err
	}
	p.next() // }
	return p.err
}

// labelColumn maps stream labels (and the local extensions) to store
// columns.
func labelColumn(name string) (string, bool) {
	switch name {
	case "project":
		return store.ColProject, true
	case "tool", "tool_name":
		return store.ColTool, true
	case "event", "event_type":
		return store.ColEventType, true
	case "hook_event":
		return store.ColHookEvent, true
	case "session_id":
		return store.ColSession, true
	case "host":
		return store.ColHost, true
	case "user":
		return store.ColUser, true
	case "agent_id":
		return store.ColAgentID, true
	case "decision":
		return store.ColDecision, true
	}
	return "", false
}

// metadataField maps the forwarder's structured metadata that is not a
// column to the event field holding the same value.
func metadataField(name string) (string, bool) {
	switch name {
	case "event_id":
		return "id", true
	case "tool_use_id":
		return "tool_use_id", true
	}
	return "", false
}

// matcher adds one label matcher (selector or label filter on a known
// label). It reports false when name is not a known label.
func (p *parser) matcher(name string, pos int, op store.Op, val string, inSelector bool) error {
	if op == store.OpRe || op == store.OpNre {
		if err := checkRegex(val); err != nil {
			return p.fail(pos, "bad regex for %s: %v", name, err)
		}
	}
	switch name {
	case "service", "stream":
		constant := p.opts.Service
		if name == "stream" {
			constant = "events"
		}
		if !constMatches(op, val, constant) {
			p.f.None = true
		}
		return nil
	}
	if col, ok := labelColumn(name); ok {
		p.f.Labels = append(p.f.Labels, store.LabelMatcher{Name: col, Op: op, Value: val})
		return nil
	}
	if field, ok := metadataField(name); ok && !inSelector {
		p.f.Fields = append(p.f.Fields, store.FieldFilter{Field: field, Op: op, Value: val})
		return nil
	}
	if inSelector {
		return p.fail(pos, "unknown stream label %q (use service, project, tool, event, hook_event; locally also session_id, host, user, agent_id, decision)", name)
	}
	return errNotLabel
}

var errNotLabel = errors.New("not a label")

func (p *parser) lineFilter() error {
	op, pos := p.tok.text, p.tok.pos
	p.next()
	if p.tok.kind != tString {
		return p.fail(p.tok.pos, "expected a quoted string after %s, got %s", op, p.describe())
	}
	val := p.tok.text
	lf := store.LineFilter{Op: store.LineOp(op), Value: val}
	switch op {
	case "|~", "!~":
		if err := checkRegex(val); err != nil {
			return p.fail(pos, "bad regex after %s: %v", op, err)
		}
	}
	p.f.Lines = append(p.f.Lines, lf)
	p.next()
	if p.tok.kind == tIdent && p.tok.text == "or" {
		return p.fail(p.tok.pos, `"or" between line filters is not supported; use a regex: |~ "a|b"`)
	}
	return p.err
}

func (p *parser) stage() error {
	if p.tok.kind != tIdent {
		return p.fail(p.tok.pos, "expected json or a label filter after |, got %s", p.describe())
	}
	switch p.tok.text {
	case "json":
		pos := p.tok.pos
		p.next()
		if p.tok.kind == tIdent && !isKeyword(p.tok.text) {
			// `| json a="b"` extracts selected keys.
			return p.fail(pos, "| json with parameters is not supported; use | json and the flattened names (action_details_command)")
		}
		p.json = true
		return p.err
	case "logfmt", "regexp", "pattern", "unpack", "line_format", "label_format", "unwrap", "decolorize", "drop", "keep":
		return p.fail(p.tok.pos, "| %s is not supported; events are JSON: use | json", p.tok.text)
	}
	return p.labelFilters()
}

func isKeyword(s string) bool { return s == "and" || s == "or" }

func (p *parser) labelFilters() error {
	for {
		if err := p.labelFilter(); err != nil {
			return err
		}
		switch {
		case p.tok.kind == tComma, p.tok.kind == tIdent && p.tok.text == "and":
			p.next()
		case p.tok.kind == tIdent && p.tok.text == "or":
			return p.fail(p.tok.pos, `"or" between label filters is not supported; use a regex: name=~"a|b"`)
		default:
			return p.err
		}
	}
}

func (p *parser) labelFilter() error {
	if p.tok.kind != tIdent {
		return p.fail(p.tok.pos, "expected a label name, got %s", p.describe())
	}
	name, pos := p.tok.text, p.tok.pos
	p.next()
	if p.tok.kind != tOp {
		return p.fail(p.tok.pos, "expected an operator after %s, got %s", name, p.describe())
	}
	op := p.tok.text
	p.next()
	var val string
	numeric := false
	switch p.tok.kind {
	case tString:
		val = p.tok.text
		switch op {
		case "=", "!=", "=~", "!~":
		default:
			return p.fail(p.tok.pos, "%s needs a number, got %s", op, p.describe())
		}
	case tNumber:
		val, numeric = p.tok.text, true
		switch op {
		case "=", "==":
			op = "="
		case "!=", ">", ">=", "<", "<=":
		default:
			return p.fail(p.tok.pos, "%s needs a quoted string, got %s", op, p.describe())
		}
	default:
		return p.fail(p.tok.pos, "expected a value after %s %s, got %s", name, op, p.describe())
	}
	p.next()
	sop := store.Op(op)
	if !numeric {
		err := p.matcher(name, pos, sop, val, false)
		if err == nil {
			return p.err
		}
		if !errors.Is(err, errNotLabel) {
			return err
		}
	}
	if !p.json {
		return p.fail(pos, "%s is not a stream label or metadata; add | json before filtering on event fields", name)
	}
	if sop == store.OpRe || sop == store.OpNre {
		if err := checkRegex(val); err != nil {
			return p.fail(pos, "bad regex for %s: %v", name, err)
		}
	}
	p.f.Fields = append(p.f.Fields, store.FieldFilter{Field: name, Op: sop, Value: val, Numeric: numeric})
	return p.err
}
