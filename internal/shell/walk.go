package shell

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

const (
	// maxSteps bounds the statements and words visited for one Parse call,
	// independently of MaxPrograms, so that inputs made of many statements
	// that emit nothing (assignments, arithmetic) still finish quickly.
	maxSteps = 200_000
	// maxHereDocs and maxHereDocBytes cap what HereDocs keeps.
	maxHereDocs     = 32
	maxHereDocBytes = 64 << 10
	// maxArgBytes caps each rendered argument kept in Program.Args.
	maxArgBytes = 64 << 10
)

// walker holds the state of one Parse call. It is never shared.
type walker struct {
	opts Options
	a    *Analysis
	// vars holds literal values of shell variables assigned earlier in the
	// command, used to resolve "$a$b" style names.
	vars map[string]string
	// parseBudget is how many bytes nested parses (bash -c, eval, decoded
	// payloads) may still consume.
	parseBudget int
	steps       int
	// static memoises the literal output of command substitutions so that
	// deeply nested $(...) are resolved in linear time.
	static map[*syntax.CmdSubst]staticOut
	seen   map[string]struct{}
	// aliases defined earlier in the command (alias x='rm -rf').
	aliases map[string]string
	// remote is > 0 while walking a command that runs on another host.
	remote int
	// cwd is the directory relative paths resolve against: Options.Cwd,
	// moved by cd/pushd; "" when a cd went somewhere unknown.
	cwd string
	// inStatic bounds recursion of static evaluation.
	inStatic int
}

// frame is the context a statement is walked in.
type frame struct {
	src      string // source text the positions refer to
	depth    int
	wrappers []string
	wargs    [][]string
}

// with returns a copy of f with one more wrapper, without aliasing f's slices.
func (f frame) with(wrapper string, args []string) frame {
	n := f
	n.wrappers = append(f.wrappers[:len(f.wrappers):len(f.wrappers)], wrapper)
	if args == nil {
		args = []string{}
	}
	n.wargs = append(f.wargs[:len(f.wargs):len(f.wargs)], args)
	return n
}

// text returns the source text of n.
func (f frame) text(n syntax.Node) string {
	s, e := int(n.Pos().Offset()), int(n.End().Offset())
	if s < 0 || e > len(f.src) || s > e {
		return ""
	}
	return f.src[s:e]
}

func newWalker(opts Options, a *Analysis) *walker {
	return &walker{
		opts:        opts,
		a:           a,
		vars:        map[string]string{},
		parseBudget: opts.MaxBytes,
		seen:        map[string]struct{}{},
		cwd:         opts.Cwd,
	}
}

func newParser(recover bool) *syntax.Parser {
	if recover {
		return syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.RecoverErrors(16))
	}
	return syntax.NewParser(syntax.Variant(syntax.LangBash))
}

// top parses and walks the whole input.
func (w *walker) top(cmd string) {
	w.parseAndWalk(cmd, frame{src: cmd}, true)
}

// parseAndWalk parses src and walks it in f, one top-level statement at a
// time so that the walk stops parsing as soon as a limit is hit. On a parse
// error the rest of the input is parsed again with error recovery, and
// failing that split into words, so a broken "curl x | sh '" is still seen.
// Only the top level records ParseError.
func (w *walker) parseAndWalk(src string, f frame, top bool) {
	if parenDepth(src) > maxParenDepth {
		// The parser recurses per level (and ~15 frames per level inside
		// arithmetic); nothing legitimate nests this deep.
		if top {
			w.a.ParseError = "nesting too deep"
		}
		w.fallback(src, f)
		return
	}
	done, err := w.walkStream(src, f, false)
	if err == nil {
		return
	}
	if top {
		w.a.ParseError = err.Error()
	}
	rest := src[min(done, len(src)):]
	if strings.TrimSpace(rest) == "" {
		return
	}
	if _, err := w.walkStream(rest, f, true); err != nil {
		w.fallback(rest, frame{src: rest, depth: f.depth, wrappers: f.wrappers, wargs: f.wargs})
	}
}

// maxParenDepth bounds ( nesting handed to the parser.
const maxParenDepth = 1500

// parenDepth returns the maximum nesting of parentheses in s, ignoring
// quoting: a cheap upper bound of the parser's recursion.
func parenDepth(s string) int {
	d, m := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			d++
			m = max(m, d)
		case ')':
			d = max(0, d-1)
		}
	}
	return m
}

// walkStream walks the statements of src as the parser produces them. It
// returns the offset after the last statement walked and the parse error.
// With recover, nothing is walked unless the whole of src parses (with
// error recovery), so a fallback after it does not see statements twice.
func (w *walker) walkStream(src string, f frame, recover bool) (int, error) {
	f.src = src
	p := newParser(recover)
	if recover {
		file, err := p.Parse(strings.NewReader(src), "")
		if err != nil {
			return 0, err
		}
		w.stmts(file.Stmts, f)
		return len(src), nil
	}
	done := 0
	var perr error
	for st, err := range p.StmtsSeq(strings.NewReader(src)) {
		if err != nil {
			// Keep ranging: the parser may yield the same error twice and
			// panics if the loop has already stopped.
			if perr == nil {
				perr = err
			}
			continue
		}
		if perr != nil {
			continue
		}
		if w.stopped() {
			return len(src), nil
		}
		w.stmt(st, f)
		done = int(st.End().Offset())
	}
	if perr != nil {
		return done, perr
	}
	return len(src), nil
}

// nested parses a string that a shell would run (bash -c, eval, ssh, a
// decoded payload). f already carries the deeper depth and wrappers.
func (w *walker) nested(src string, f frame) {
	if strings.TrimSpace(src) == "" {
		return
	}
	if f.depth > w.opts.MaxDepth {
		w.a.Truncated = true
		return
	}
	w.parseBudget -= len(src)
	if w.parseBudget < 0 {
		w.a.Truncated = true
		return
	}
	saved := w.cwd // a child shell's cd does not move us
	w.parseAndWalk(src, f, false)
	w.cwd = saved
}

func (w *walker) stopped() bool {
	if len(w.a.Programs) >= w.opts.MaxPrograms || w.steps > maxSteps {
		w.a.Truncated = true
		return true
	}
	return false
}

func (w *walker) stmts(ss []*syntax.Stmt, f frame) {
	for _, s := range ss {
		if w.stopped() {
			return
		}
		w.stmt(s, f)
	}
}

func (w *walker) stmt(s *syntax.Stmt, f frame) {
	if s == nil {
		return
	}
	w.steps++
	if w.stopped() {
		return
	}
	start := len(w.a.Programs)
	redirs, stdin := w.redirects(s.Redirs, f)
	switch c := s.Cmd.(type) {
	case *syntax.CallExpr:
		w.call(c, redirs, stdin, f)
	case *syntax.BinaryCmd:
		if c.Op == syntax.Pipe || c.Op == syntax.PipeAll {
			w.pipeline(s, f)
		} else {
			w.binary(c, f)
		}
	case *syntax.Subshell:
		saved := w.cwd
		w.stmts(c.Stmts, f)
		w.cwd = saved
	case *syntax.Block:
		w.stmts(c.Stmts, f)
	case *syntax.IfClause:
		for cl := c; cl != nil; cl = cl.Else {
			w.stmts(cl.Cond, f)
			w.stmts(cl.Then, f)
		}
	case *syntax.WhileClause:
		w.stmts(c.Cond, f)
		w.stmts(c.Do, f)
	case *syntax.ForClause:
		if it, ok := c.Loop.(*syntax.WordIter); ok {
			for _, wd := range it.Items {
				w.subs(wd, f)
				w.addPath(w.word(wd, f).val)
			}
		} else {
			w.subs(c.Loop, f)
		}
		w.stmts(c.Do, f)
	case *syntax.CaseClause:
		w.subs(c.Word, f)
		for _, it := range c.Items {
			w.stmts(it.Stmts, f)
		}
	case *syntax.FuncDecl:
		w.stmt(c.Body, f)
	case *syntax.DeclClause:
		w.decl(c, redirs, f)
	case *syntax.TimeClause:
		w.stmt(c.Stmt, f.with("time", nil))
	case *syntax.CoprocClause:
		w.stmt(c.Stmt, f)
	case *syntax.TestDecl:
		w.stmt(c.Body, f)
	case nil:
	default:
		// Arithmetic, [[ ]], let: nothing runs except command
		// substitutions inside them.
		w.subs(c, f)
	}
	if s.Background {
		for i := start; i < len(w.a.Programs); i++ {
			if w.a.Programs[i].Depth == f.depth {
				w.a.Programs[i].Background = true
			}
		}
	}
}

// binary walks && and || chains iteratively on the left spine, so a chain
// of thousands of commands does not recurse thousands deep.
func (w *walker) binary(c *syntax.BinaryCmd, f frame) {
	var rights []*syntax.Stmt
	for {
		rights = append(rights, c.Y)
		x, ok := c.X.Cmd.(*syntax.BinaryCmd)
		if !ok || len(c.X.Redirs) > 0 || (x.Op != syntax.AndStmt && x.Op != syntax.OrStmt) || c.X.Background || c.X.Negated {
			w.stmt(c.X, f)
			break
		}
		c = x
	}
	for i := len(rights) - 1; i >= 0; i-- {
		w.stmt(rights[i], f)
	}
}

// flattenPipe returns the stages of a pipeline in order.
func flattenPipe(s *syntax.Stmt) []*syntax.Stmt {
	var out []*syntax.Stmt
	stack := []*syntax.Stmt{s}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if b, ok := top.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) && len(top.Redirs) == 0 && !top.Negated {
			stack = append(stack, b.Y, b.X)
			continue
		}
		out = append(out, top)
	}
	return out
}

func (w *walker) pipeline(s *syntax.Stmt, f frame) {
	stages := flattenPipe(s)
	pi := len(w.a.Pipelines)
	w.a.Pipelines = append(w.a.Pipelines, Pipeline{})
	var members []int
	stageProg := make([]int, len(stages))
	for j, st := range stages {
		stageProg[j] = -1
		if w.stopped() {
			break
		}
		start := len(w.a.Programs)
		w.stmt(st, f)
		for k := start; k < len(w.a.Programs); k++ {
			p := &w.a.Programs[k]
			if p.Depth == f.depth && p.Pipeline == -1 {
				p.Pipeline = pi
				members = append(members, k)
				stageProg[j] = k
			}
		}
	}
	w.a.Pipelines[pi].Programs = members
	// Record what decoders in the pipeline produce from literal input.
	for j := 1; j < len(stages); j++ {
		if k := stageProg[j]; k >= 0 && isDecoder(&w.a.Programs[k]) {
			if out, via, ok := w.staticPipe(stages[:j+1], f); ok && len(via) > 0 {
				w.addDecoded(out)
			}
		}
	}
	// A shell reading the pipe runs whatever the stages before it print;
	// when that is literal (echo, printf, base64 -d, xxd -r -p), run it
	// through the parser as nested commands.
	for j := 1; j < len(stages); j++ {
		k := stageProg[j]
		if k < 0 || !isStdinShell(&w.a.Programs[k]) {
			continue
		}
		out, via, ok := w.staticPipe(stages[:j], f)
		if !ok {
			continue
		}
		p := &w.a.Programs[k]
		nf := frame{depth: f.depth + 1, wrappers: p.Wrappers, wargs: p.WrapperArgs}
		nf = nf.with(p.Name+" stdin", nil)
		for _, v := range via {
			nf = nf.with(v, nil)
		}
		w.nested(out, nf)
	}
}

// subs walks the command and process substitutions inside n: they run
// before the command that contains them.
func (w *walker) subs(n syntax.Node, f frame) {
	if n == nil {
		return
	}
	if wd, ok := n.(*syntax.Word); ok && plainWord(wd) {
		return
	}
	saved := w.cwd // substitutions run in subshells
	syntax.Walk(n, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.CmdSubst:
			w.stmts(n.Stmts, frame{src: f.src, depth: f.depth + 1, wrappers: f.wrappers, wargs: f.wargs})
			w.cwd = saved
			return false
		case *syntax.ProcSubst:
			w.stmts(n.Stmts, frame{src: f.src, depth: f.depth + 1, wrappers: f.wrappers, wargs: f.wargs})
			w.cwd = saved
			return false
		}
		return true
	})
}

// plainWord reports whether wd is made of literals and single quotes only.
func plainWord(wd *syntax.Word) bool {
	for _, p := range wd.Parts {
		switch p.(type) {
		case *syntax.Lit, *syntax.SglQuoted:
		default:
			return false
		}
	}
	return true
}

// decl handles export/declare/local/readonly/typeset: the assignments
// update known variables and are recorded, and the builtin itself is a
// program (export HISTFILE=/dev/null matters to rules).
func (w *walker) decl(c *syntax.DeclClause, redirs []Redirect, f frame) {
	args := []string{}
	for _, as := range c.Args {
		if as.Name == nil {
			if as.Value != nil {
				w.subs(as.Value, f)
				args = append(args, w.word(as.Value, f).val)
			}
			continue
		}
		name := as.Name.Value
		if as.Value == nil {
			args = append(args, name)
			continue
		}
		w.subs(as.Value, f)
		v := w.word(as.Value, f)
		if v.lit && !as.Append {
			w.vars[name] = v.val
		} else {
			delete(w.vars, name)
		}
		kv := name + "=" + v.val
		w.a.Assigns = appendCapped(w.a.Assigns, kv)
		w.addPathsOf(v.val)
		args = append(args, kv)
	}
	variant := ""
	if c.Variant != nil {
		variant = c.Variant.Value
	}
	w.emit(Program{Name: variant, Path: variant, Args: args, Redirects: redirs}, f)
}

func appendCapped(s []string, v string) []string {
	if len(s) >= 1024 {
		return s
	}
	return append(s, capString(v, maxArgBytes))
}

func capString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// redirects records the redirections of one statement and returns them,
// with the here-doc or here-string body that becomes its stdin, if any.
func (w *walker) redirects(rs []*syntax.Redirect, f frame) ([]Redirect, *string) {
	if len(rs) == 0 {
		return nil, nil
	}
	out := make([]Redirect, 0, len(rs))
	var stdin *string
	for _, r := range rs {
		fd := -1
		if r.N != nil {
			fd = atoiSmall(r.N.Value)
		}
		rd := Redirect{Op: r.Op.String(), FD: fd}
		switch r.Op {
		case syntax.Hdoc, syntax.DashHdoc:
			if r.Word != nil {
				rd.Target = w.word(r.Word, f).val
			}
			if r.Hdoc != nil {
				w.subs(r.Hdoc, f)
				body := w.hdocBody(r.Hdoc, f, r.Op == syntax.DashHdoc)
				w.addHereDoc(body)
				stdin = &body
			} else {
				empty := ""
				stdin = &empty
			}
			if rd.FD < 0 {
				rd.FD = 0
			}
		case syntax.WordHdoc:
			if r.Word != nil {
				w.subs(r.Word, f)
				body := w.word(r.Word, f).val
				rd.Target = capString(body, maxArgBytes)
				w.addHereDoc(body)
				stdin = &body
			}
			if rd.FD < 0 {
				rd.FD = 0
			}
		default:
			if r.Word != nil {
				w.subs(r.Word, f)
				rd.Target = w.word(r.Word, f).val
			}
			w.redirectFile(&rd, r.Op)
		}
		out = append(out, rd)
	}
	return out, stdin
}

// hdocBody renders a here-doc body: literal when the delimiter was quoted,
// otherwise with the expansions we can resolve.
func (w *walker) hdocBody(wd *syntax.Word, f frame, dash bool) string {
	if dash {
		var b strings.Builder
		for _, line := range strings.SplitAfter(w.hdocBody(wd, f, false), "\n") {
			b.WriteString(strings.TrimLeft(line, "\t"))
		}
		return b.String()
	}
	var b strings.Builder
	for _, p := range wd.Parts {
		if l, ok := p.(*syntax.Lit); ok {
			b.WriteString(l.Value)
			continue
		}
		var r arg
		w.part(&b, p, f, &r, true)
	}
	return b.String()
}

// isDecoder reports base64 -d and xxd -r.
func isDecoder(p *Program) bool {
	switch p.Name {
	case "base64":
		return hasFlag(p.Args, "-d", "--decode", "-D")
	case "xxd":
		return hasFlag(p.Args, "-r")
	case "base32":
		return hasFlag(p.Args, "-d", "--decode")
	case "openssl":
		return len(p.Args) > 1 && (p.Args[0] == "base64" || p.Args[0] == "enc") && hasFlag(p.Args[1:], "-d")
	}
	return false
}

func (w *walker) addDecoded(s string) {
	if s == "" || len(w.a.Decoded) >= maxHereDocs {
		return
	}
	if len(s) > maxHereDocBytes {
		s = s[:maxHereDocBytes]
		w.a.Truncated = true
	}
	for _, d := range w.a.Decoded {
		if d == s {
			return
		}
	}
	w.a.Decoded = append(w.a.Decoded, s)
}

func (w *walker) addHereDoc(body string) {
	if len(w.a.HereDocs) >= maxHereDocs {
		w.a.Truncated = true
		return
	}
	if len(body) > maxHereDocBytes {
		body = body[:maxHereDocBytes]
		w.a.Truncated = true
	}
	w.a.HereDocs = append(w.a.HereDocs, body)
}

func atoiSmall(s string) int {
	n := 0
	if s == "" || len(s) > 4 {
		return -1
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// emit appends p with the frame's depth and wrappers, and derives the files
// it touches. It returns the index of the new program or -1 when capped.
func (w *walker) emit(p Program, f frame) int {
	if len(w.a.Programs) >= w.opts.MaxPrograms {
		w.a.Truncated = true
		return -1
	}
	p.Depth = f.depth
	p.Pipeline = -1
	if len(f.wrappers) > 0 {
		p.Wrappers = f.wrappers
		p.WrapperArgs = f.wargs
	}
	w.a.Programs = append(w.a.Programs, p)
	return len(w.a.Programs) - 1
}
