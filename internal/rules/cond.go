package rules

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// cond is a compiled condition.
type cond interface {
	eval(c *evalCtx) bool
}

// evalCtx is one evaluation of one rule's condition on one event.
type evalCtx struct {
	f       *facts
	matched []hit // plain-rule hits so far on this event (for `matched`)
	prog    int   // program that satisfied the condition, -1 if none
	via     string
}

// ctx returns f's context for one condition over hits. Conditions are
// called through an interface, so a context made per rule escaped to the
// heap: ~5 KB of garbage per event over the default rules. One is reused
// per facts instead; a condition never evaluates another, and exceptions
// (checked while a rule's context is still read) have their own.
func (f *facts) ctx(hits []hit) *evalCtx {
	f.cx = evalCtx{f: f, prog: -1, matched: hits}
	return &f.cx
}

// exceptCtx is ctx for a rule's exceptions.
func (f *facts) exceptCtx(hits []hit) *evalCtx {
	f.xcx = evalCtx{f: f, prog: -1, matched: hits}
	return &f.xcx
}

type allCond []cond

func (a allCond) eval(c *evalCtx) bool {
	for _, x := range a {
		if !x.eval(c) {
			return false
		}
	}
	return true
}

type anyCond []cond

func (a anyCond) eval(c *evalCtx) bool {
	for _, x := range a {
		if x.eval(c) {
			return true
		}
	}
	return false
}

type notCond struct{ c cond }

func (n notCond) eval(c *evalCtx) bool {
	saved, via := c.prog, c.via
	r := n.c.eval(c)
	c.prog, c.via = saved, via
	return !r
}

// macroCond lets macros be used before they are defined.
type macroCond struct{ c cond }

func (m *macroCond) eval(c *evalCtx) bool { return m.c != nil && m.c.eval(c) }

type trueCond struct{}

func (trueCond) eval(*evalCtx) bool { return true }

// lazyRe compiles on first use so loading the default set stays cheap in
// the hook; files a user writes are compiled eagerly to report errors.
type lazyRe struct {
	src  string
	once sync.Once
	re   *regexp.Regexp
}

func (l *lazyRe) get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.src) })
	return l.re
}

func (l *lazyRe) match(s string) bool { return l.get().MatchString(s) }

// strMatcher matches one string against exact values, globs and a regex.
type strMatcher struct {
	exact map[string]bool
	globs []globPat
	re    *lazyRe
	fold  bool
}

func (m *strMatcher) match(s string) bool {
	if m == nil {
		return true
	}
	if m.fold {
		s = strings.ToLower(s)
	}
	if m.exact[s] {
		return true
	}
	for i := range m.globs {
		if m.globs[i].match(s) {
			return true
		}
	}
	return m.re != nil && m.re.match(s)
}

func (m *strMatcher) empty() bool {
	return m == nil || (len(m.exact) == 0 && len(m.globs) == 0 && m.re == nil)
}

func newStrMatcher(vals []string, fold bool) *strMatcher {
	m := &strMatcher{exact: map[string]bool{}, fold: fold}
	for _, v := range vals {
		if fold {
			v = strings.ToLower(v)
		}
		if strings.ContainsAny(v, "*?[") {
			m.globs = append(m.globs, compileGlob(v))
		} else {
			m.exact[v] = true
		}
	}
	return m
}

// fieldCond tests a named event field.
type fieldCond struct {
	name     string
	get      func(f *facts) []string
	m        *strMatcher
	contains []string
	exists   *bool
	nonEmpty *bool
}

func (fc *fieldCond) eval(c *evalCtx) bool {
	vals := fc.get(c.f)
	if fc.exists != nil {
		has := false
		for _, v := range vals {
			if v != "" {
				has = true
			}
		}
		if has != *fc.exists {
			return false
		}
		if fc.m.empty() && len(fc.contains) == 0 {
			return true
		}
	}
	if fc.nonEmpty != nil {
		if (len(vals) > 0 && vals[0] != "") != *fc.nonEmpty {
			return false
		}
		if fc.m.empty() && len(fc.contains) == 0 {
			return true
		}
	}
	for _, v := range vals {
		if !fc.m.empty() && !fc.m.match(v) {
			continue
		}
		ok := true
		for _, s := range fc.contains {
			if !strings.Contains(v, s) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// cmdCond matches one program; every set part must hold for the same one.
type cmdCond struct {
	name, nameNot     *strMatcher
	sub               *strMatcher
	argsAny, argsNone *strMatcher
	argsAll           []*strMatcher
	flags             [][]string
	argPath           *strMatcher
	argPathOutside    bool
	argPathWide       bool
	argPathCovers     bool
	argPathAbove      bool // a strict ancestor of the project (holds other projects)
	stdinPiped        *bool
	argRe, argsRe     *lazyRe
	wrapper           *strMatcher
	dynamic, decoded  *bool
	env               *bool
	externalHost      *bool
	localOnly         *bool
	redirect          *redirCond
	minDepth          int
	maxDepth          int // -1: any
}

func (cc *cmdCond) eval(c *evalCtx) bool {
	for i := range c.f.progs {
		if cc.matchProg(c.f, i) {
			c.prog = i
			if c.via == "" {
				c.via = "program"
			}
			return true
		}
	}
	return false
}

func (cc *cmdCond) matchProg(f *facts, i int) bool {
	p := &f.progs[i]
	if cc.name != nil && !cc.name.match(p.name) {
		return false
	}
	if cc.nameNot != nil && cc.nameNot.match(p.name) {
		return false
	}
	if p.depth < cc.minDepth || (cc.maxDepth >= 0 && p.depth > cc.maxDepth) {
		return false
	}
	if cc.dynamic != nil && p.dynamic != *cc.dynamic {
		return false
	}
	if cc.decoded != nil && p.decoded != *cc.decoded {
		return false
	}
	if cc.env != nil && (len(p.env) > 0) != *cc.env {
		return false
	}
	if cc.sub != nil && !cc.sub.match(subcommand(p)) {
		return false
	}
	if cc.argsAny != nil && !anyArg(p.args, cc.argsAny) {
		return false
	}
	if cc.argsNone != nil && anyArg(p.args, cc.argsNone) {
		return false
	}
	for _, m := range cc.argsAll {
		if !anyArg(p.args, m) {
			return false
		}
	}
	for _, alts := range cc.flags {
		if !hasAnyFlag(p.args, alts) {
			return false
		}
	}
	// Wrappers before regular expressions: checking them is cheap.
	if cc.wrapper != nil {
		ok := false
		for j, w := range p.wrappers {
			if cc.wrapper.match(w) || (j < len(p.wrapFull) && cc.wrapper.match(p.wrapFull[j])) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if cc.argRe != nil {
		ok := false
		for _, a := range p.args {
			if f.reArg(cc.argRe, a) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if cc.argsRe != nil && !f.reArg(cc.argsRe, strings.Join(p.args, " ")) {
		return false
	}
	if cc.stdinPiped != nil && stdinPiped(f, i) != *cc.stdinPiped {
		return false
	}
	if cc.argPath != nil || cc.argPathOutside || cc.argPathWide || cc.argPathCovers || cc.argPathAbove {
		ok := false
		for _, np := range f.pathArgs(p) {
			if np == "" {
				continue
			}
			if cc.argPath != nil && !cc.argPath.match(np) {
				continue
			}
			if cc.argPathOutside && (under(np, f.project) || !strings.HasPrefix(np, "~")) {
				continue
			}
			if cc.argPathWide && !widePath(np) {
				continue
			}
			if cc.argPathCovers && (f.project == "" || !under(f.project, strings.TrimSuffix(np, "/")) && np != "~/") {
				continue
			}
			if cc.argPathAbove {
				d := strings.TrimSuffix(np, "/")
				root := np == "/"
				if f.project == "" || (!root && (d == "" || d == f.project || !under(f.project, d))) {
					continue
				}
			}
			ok = true
			break
		}
		if !ok {
			return false
		}
	}
	if cc.externalHost != nil || cc.localOnly != nil {
		ext, local := progHosts(p)
		if cc.externalHost != nil && ext != *cc.externalHost {
			return false
		}
		if cc.localOnly != nil && (local && !ext) != *cc.localOnly {
			return false
		}
	}
	if cc.redirect != nil && !cc.redirect.matchProg(f, p) {
		return false
	}
	return true
}

// stdinPiped reports whether program i reads the output of an earlier
// program of its pipeline.
func stdinPiped(f *facts, i int) bool {
	p := f.progs[i].pipeline
	if p < 0 || p >= len(f.pipes) {
		return false
	}
	pl := f.pipes[p]
	return len(pl) > 0 && pl[0] != i
}

// widePath: the filesystem root, a home directory, a top-level system
// directory, or a wildcard directly under / or ~ ("~/*", "~/.[a-z]*").
func widePath(np string) bool {
	np = strings.TrimSuffix(np, "/")
	switch np {
	case "", "~", "/home", "/Users", "/root", "/etc", "/usr", "/var", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/opt", "/srv", "/System", "/Library", "/Applications", "/usr/bin", "/usr/lib", "/usr/local", "/mnt", "/media":
		return true
	}
	rest := ""
	switch {
	case strings.HasPrefix(np, "~/"):
		rest = np[2:]
	case strings.HasPrefix(np, "/"):
		rest = np[1:]
	default:
		return false
	}
	return !strings.Contains(rest, "/") && strings.ContainsAny(rest, "*?[")
}

var netBare = map[string]bool{"nc": true, "ncat": true, "netcat": true, "telnet": true, "socat": true, "ssh": true, "curl": true, "wget": true, "ping": true, "nmap": true, "http": true, "https": true, "xh": true, "openssl": true, "ztcp": true, "zsocket": true}

// progHosts reports whether p names a non-local host and whether it names
// a local one.
func progHosts(p *prog) (external, local bool) {
	bare := netBare[p.name]
	for _, a := range p.args {
		h := hostOf(a, bare)
		if h == "" {
			continue
		}
		if isLocalHost(h) {
			local = true
		} else {
			external = true
		}
	}
	return external, local
}

func anyArg(args []string, m *strMatcher) bool {
	for _, a := range args {
		if m.match(a) {
			return true
		}
	}
	return false
}

// hasAnyFlag: alternatives of one letter are short flags ("r"), longer ones
// long flags ("recursive").
func hasAnyFlag(args []string, alts []string) bool {
	for _, alt := range alts {
		if len(alt) == 1 {
			if hasFlag(args, alt) {
				return true
			}
			continue
		}
		for _, a := range args {
			if a == "--"+alt || strings.HasPrefix(a, "--"+alt+"=") {
				return true
			}
		}
	}
	return false
}

// redirCond matches a redirection.
type redirCond struct {
	op     *strMatcher
	target *strMatcher
}

func (rc *redirCond) matchProg(f *facts, p *prog) bool {
	for _, r := range p.redirects {
		if rc.op != nil && !rc.op.match(r.Op) {
			continue
		}
		if rc.target != nil {
			t := strings.Trim(r.Target, `"'`)
			if !rc.target.match(t) {
				np := normPath(t, f.cwd)
				if np == "" || !rc.target.match(np) {
					continue
				}
			}
		}
		return true
	}
	return false
}

func (rc *redirCond) eval(c *evalCtx) bool {
	for i := range c.f.progs {
		if rc.matchProg(c.f, &c.f.progs[i]) {
			c.prog, c.via = i, "redirect"
			return true
		}
	}
	return false
}

// pipeCond: a program matching from feeds (directly or later in the same
// pipeline) a program matching to.
type pipeCond struct{ from, to *cmdCond }

func (pc *pipeCond) eval(c *evalCtx) bool {
	for _, pl := range c.f.pipes {
		// next[i] is the first stage at or after i that matches "to", or
		// -1; computed once per pipeline, so a broad "from" over 10,000
		// stages stays linear.
		var next []int
		for a := 0; a < len(pl); a++ {
			if !pc.from.matchProg(c.f, pl[a]) {
				continue
			}
			if next == nil {
				next = make([]int, len(pl)+1)
				next[len(pl)] = -1
				for b := len(pl) - 1; b >= 0; b-- {
					next[b] = next[b+1]
					if pc.to.matchProg(c.f, pl[b]) {
						next[b] = b
					}
				}
			}
			if b := next[a+1]; b >= 0 {
				c.prog, c.via = pl[b], "program"
				return true
			}
		}
	}
	return false
}

// pathCond matches the files an event touches.
type pathCond struct {
	m       *strMatcher
	exclude *strMatcher
	access  string // read | write | any
	outside bool
	shell   bool // also paths inside Bash commands (default true)
	tool    bool // also file-tool paths (default true)
	// notUserNamed leaves out paths the user named in a prompt of the
	// session (user_named: false): what the user asked for is not a
	// scope violation.
	notUserNamed bool
}

func (pc *pathCond) eval(c *evalCtx) bool {
	f := c.f
	test := func(p string) bool {
		if p == "" {
			return false
		}
		if pc.outside && under(p, f.project) {
			return false
		}
		if pc.outside && f.project == "" {
			return false
		}
		if pc.m != nil && !pc.m.match(p) {
			return false
		}
		if pc.exclude != nil && pc.exclude.match(p) {
			return false
		}
		if pc.notUserNamed && f.sanctioned(p) {
			return false
		}
		return true
	}
	if pc.tool && f.toolPath != "" && (pc.access == "any" || pc.access == f.toolAccess) && test(f.toolPath) {
		c.via = "path"
		return true
	}
	if !pc.shell {
		return false
	}
	lists := [][]string{}
	switch pc.access {
	case "read":
		lists = append(lists, f.reads)
	case "write":
		lists = append(lists, f.writes)
	default:
		lists = append(lists, f.reads, f.writes, f.anyPaths)
	}
	for _, l := range lists {
		for _, p := range l {
			if test(p) {
				c.prog, c.via = progOfPath(f, p), "path"
				return true
			}
		}
	}
	return false
}

// progOfPath finds the program that names path p in an argument or a
// redirection, so findings on shell paths still point at a program.
func progOfPath(f *facts, p string) int {
	for i := range f.progs {
		q := &f.progs[i]
		for _, r := range q.redirects {
			if normPath(r.Target, f.cwd) == p {
				return i
			}
		}
		for _, a := range q.args {
			if w := pathInWord(a); w != "" && normPath(w, f.cwd) == p {
				return i
			}
		}
	}
	return -1
}

// textCond applies a regex to decoded payloads or interpreter code.
type textCond struct {
	decoded bool
	re      *lazyRe
}

func (tc *textCond) eval(c *evalCtx) bool {
	src := c.f.code
	if tc.decoded {
		src = c.f.decoded
	}
	for _, s := range src {
		if c.f.reArg(tc.re, s) {
			return true
		}
	}
	return false
}

// matchedCond looks at plain rules that already matched this event.
type matchedCond struct {
	cats   *strMatcher
	rules  *strMatcher
	tags   *strMatcher
	minSev Severity
}

func (mc *matchedCond) eval(c *evalCtx) bool {
	for _, h := range c.matched {
		if h.severity() < mc.minSev {
			continue
		}
		if mc.cats != nil && !mc.cats.match(h.category()) {
			continue
		}
		if mc.rules != nil && !mc.rules.match(h.id()) {
			continue
		}
		if mc.tags != nil {
			ok := false
			for _, t := range h.rule.Tags {
				if mc.tags.match(t) {
					ok = true
				}
			}
			if !ok {
				continue
			}
		}
		c.prog, c.via = h.prog, h.via
		return true
	}
	return false
}

// contentCond matches facts computed from Write/Edit content.
type contentCond struct {
	tags   *strMatcher
	cats   *strMatcher
	minSev Severity
}

func (cc *contentCond) eval(c *evalCtx) bool {
	cf := c.f.content
	if cf == nil {
		return false
	}
	if cc.tags != nil {
		for _, t := range cf.Tags {
			if cc.tags.match(t) {
				return true
			}
		}
	}
	if cc.minSev > 0 || cc.cats != nil {
		for _, fd := range cf.Findings {
			if fd.Severity < cc.minSev {
				continue
			}
			if cc.cats != nil && !cc.cats.match(fd.Category) {
				continue
			}
			return true
		}
	}
	return false
}

// globalOptsWithValue are options a program takes before its subcommand
// whose value is the next argument (git -c k=v -C dir status).
var globalOptsWithValue = map[string]map[string]bool{
	"git":     {"-c": true, "-C": true, "--git-dir": true, "--work-tree": true, "--namespace": true, "--config-env": true},
	"kubectl": {"-n": true, "--namespace": true, "--context": true, "--kubeconfig": true},
	"docker":  {"-H": true, "--host": true, "--context": true, "-c": true, "--config": true},
}

// subcommand is p's first argument that is neither an option nor a
// global option's value.
func subcommand(p *prog) string {
	if i := subcommandAt(p.name, p.args); i >= 0 {
		return p.args[i]
	}
	return ""
}

// subcommandAt is the index of name's subcommand in args, or -1.
func subcommandAt(name string, args []string) int {
	skip := globalOptsWithValue[name]
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") {
			if skip[args[i]] {
				i++
			}
			continue
		}
		return i
	}
	return -1
}

// userSaidCond: a prompt of the session (the user's own words, never tool
// output) matches re: the user asked for what the rule would flag.
type userSaidCond struct{ re *lazyRe }

func (uc *userSaidCond) eval(c *evalCtx) bool {
	for _, p := range c.f.userPrompts {
		if uc.re.match(p) {
			return true
		}
	}
	return false
}

// userHostCond: the command talks to a host the user named in a prompt.
type userHostCond struct{}

func (userHostCond) eval(c *evalCtx) bool {
	if len(c.f.userHosts) == 0 {
		return false
	}
	for i := range c.f.progs {
		for _, a := range c.f.progs[i].args {
			if h := hostOf(a, false); h != "" && hostNamedByUser(h, c.f.userHosts) {
				c.prog = i
				return true
			}
		}
	}
	return false
}

// throwawayDropCond: the command drops databases or schemas, and every one
// of them is throw-away: created earlier in the session, or named as a
// test/dev/scratch database. One real database among them is enough to
// make it false (an exception must not cover a drop beside it).
type throwawayDropCond struct{}

// throwawayName matches database names of test, dev and scratch copies.
var throwawayName = lazyRE(`(?i)^([a-z0-9]+[_-])*(test|tests|testing|dev|local|tmp|temp|scratch|ci|e2e|sandbox)([_-][a-z0-9]+)*$`)

func (throwawayDropCond) eval(c *evalCtx) bool {
	dropped := c.f.databases("drop")
	if len(dropped) == 0 {
		return false
	}
	for _, d := range dropped {
		if !slices.Contains(c.f.createdDBs, d) && !throwawayName().MatchString(d) {
			return false
		}
	}
	return true
}

// fetchRunCond: a downloader saves a file that the same command then runs.
type fetchRunCond struct{}

// downloaders are the programs whose saved files progDownloads finds.
var downloaders = map[string]bool{"curl": true, "wget": true, "fetch": true, "aria2c": true, "http": true, "https": true, "xh": true}

func (fetchRunCond) eval(c *evalCtx) bool {
	f := c.f
	saved := map[string]bool{}
	var dirs []string // folders a downloaded archive was unpacked into
	for i := range f.progs {
		p := &f.progs[i]
		if downloaders[p.name] {
			for _, t := range f.progDownloads(p) {
				saved[t] = true
			}
			continue
		}
		if d := unpackDir(f, p, saved); d != "" {
			dirs = append(dirs, d)
			continue
		}
		runs := ""
		if strings.Contains(p.path, "/") {
			runs = p.path
		} else if shells[p.name] || interpFlags[interpBase(p.name)] != "" || p.name == "source" || p.name == "." {
			for _, a := range p.args {
				if !strings.HasPrefix(a, "-") {
					runs = a
					break
				}
			}
		}
		if runs == "" {
			continue
		}
		r := normPath(runs, f.cwd)
		if saved[r] {
			c.prog, c.via = i, "program"
			return true
		}
		for _, d := range dirs {
			if under(r, d) {
				c.prog, c.via = i, "program"
				return true
			}
		}
	}
	return false
}

// unpackDir returns the folder an archive extractor writes a downloaded
// archive into ("curl URL | tar xz -C /tmp", "unzip f.zip -d x" after
// "curl -o f.zip"), when it names one; "" otherwise.
func unpackDir(f *facts, p *prog, saved map[string]bool) string {
	var dirFlag string
	switch p.name {
	case "tar", "bsdtar", "gtar":
		dirFlag = "-C"
	case "unzip":
		dirFlag = "-d"
	default:
		return ""
	}
	fromDownload := false
	if p.pipeline >= 0 && p.pipeline < len(f.pipes) {
		for _, j := range f.pipes[p.pipeline] {
			if downloaders[f.progs[j].name] {
				fromDownload = true
			}
		}
	}
	for _, a := range p.args {
		if saved[normPath(a, f.cwd)] {
			fromDownload = true
		}
	}
	if !fromDownload {
		return ""
	}
	if v := flagValue(p.args, dirFlag, "--directory"); v != "" {
		return normPath(v, f.cwd)
	}
	return ""
}

// assignCond matches shell variable assignments (HISTFILE=/dev/null),
// whether bare, exported or as a command prefix.
type assignCond struct{ re *lazyRe }

func (ac *assignCond) eval(c *evalCtx) bool {
	for _, a := range c.f.assigns {
		if ac.re.match(a) {
			return true
		}
	}
	for i := range c.f.progs {
		for _, e := range c.f.progs[i].env {
			if ac.re.match(e) {
				c.prog, c.via = i, "program"
				return true
			}
		}
	}
	return false
}

// fieldGetters maps the names a condition may use to event fields.
var fieldGetters = map[string]func(f *facts) []string{
	"tool_name":       func(f *facts) []string { return []string{f.ev.ToolName} },
	"event_type":      func(f *facts) []string { return []string{f.ev.EventType} },
	"hook_event":      func(f *facts) []string { return []string{f.ev.HookEvent} },
	"permission_mode": func(f *facts) []string { return []string{f.ev.PermissionMode} },
	"agent_type":      func(f *facts) []string { return []string{f.ev.AgentType} },
	"agent_id":        func(f *facts) []string { return []string{f.ev.AgentID} },
	"session_id":      func(f *facts) []string { return []string{f.ev.SessionID} },
	"project":         func(f *facts) []string { return []string{f.ev.Project} },
	"project_dir":     func(f *facts) []string { return []string{f.ev.ProjectDir} },
	"cwd":             func(f *facts) []string { return []string{f.ev.Cwd} },
	"user":            func(f *facts) []string { return []string{f.ev.User} },
	"host":            func(f *facts) []string { return []string{f.ev.Host} },
	"command":         func(f *facts) []string { return []string{f.ev.Action.Command} },
	"description":     func(f *facts) []string { return []string{f.ev.Action.Description} },
	"file_path": func(f *facts) []string {
		return append([]string{f.ev.Action.FilePath}, f.ev.Action.Paths...)
	},
	"paths":   func(f *facts) []string { return f.ev.Action.Paths },
	"pattern": func(f *facts) []string { return []string{f.ev.Action.Pattern} },
	"glob":    func(f *facts) []string { return []string{f.ev.Action.Glob} },
	"url":     func(f *facts) []string { return []string{f.ev.Action.URL} },
	"domain":  func(f *facts) []string { return []string{f.ev.Action.Domain} },
	"query":   func(f *facts) []string { return []string{f.ev.Action.Query} },
	"prompt":  func(f *facts) []string { return []string{f.ev.Action.Prompt} },
	"subagent_type": func(f *facts) []string {
		return []string{f.ev.Action.SubagentType}
	},
	"mcp_server": func(f *facts) []string { return []string{f.ev.Action.MCPServer} },
	"mcp_tool":   func(f *facts) []string { return []string{f.ev.Action.MCPTool} },
	"input":      func(f *facts) []string { return []string{string(f.ev.Action.Input)} },
	"programs": func(f *facts) []string {
		out := make([]string, 0, len(f.progs))
		for _, p := range f.progs {
			out = append(out, p.name)
		}
		return out
	},
	"outside_project_scope": func(f *facts) []string { return []string{strconv.FormatBool(f.ev.Security.OutsideProjectScope)} },
	"sensitive_path":        func(f *facts) []string { return []string{strconv.FormatBool(f.ev.Security.SensitivePath)} },
	"redactions":            func(f *facts) []string { return f.ev.Security.Redactions },
	"sensitive_kinds":       func(f *facts) []string { return f.ev.Security.SensitiveKinds },
	"outside_paths":         func(f *facts) []string { return f.ev.Security.OutsidePaths },
	"sensitive_paths":       func(f *facts) []string { return f.ev.Security.SensitivePaths },
	"url_host": func(f *facts) []string {
		if f.ev.Action.URL == "" {
			return nil
		}
		return []string{hostOf(f.ev.Action.URL, false)}
	},
	"url_external": func(f *facts) []string {
		if f.ev.Action.URL == "" {
			return nil
		}
		h := hostOf(f.ev.Action.URL, false)
		return []string{strconv.FormatBool(h != "" && !isLocalHost(h))}
	},
	"content_bytes": func(f *facts) []string {
		if f.ev.Action.Content == nil {
			return nil
		}
		return []string{strconv.Itoa(f.ev.Action.Content.Bytes)}
	},
	"edit_removes_text": func(f *facts) []string {
		a := f.ev.Action
		if a.OldString == nil || a.NewString == nil {
			return nil
		}
		return []string{strconv.FormatBool(a.NewString.Bytes*2 < a.OldString.Bytes)}
	},
	"has_content_facts": func(f *facts) []string { return []string{strconv.FormatBool(f.content != nil)} },
	"outcome_success": func(f *facts) []string {
		if f.ev.Outcome == nil {
			return nil
		}
		return []string{strconv.FormatBool(f.ev.Outcome.Success)}
	},
}

// fieldAliases accept the seed's and the event JSON's spellings.
var fieldAliases = map[string]string{
	"action_details.command":               "command",
	"action_details.file_path":             "file_path",
	"action_details.paths":                 "paths",
	"action_details.url":                   "url",
	"action_details.domain":                "domain",
	"action_details.pattern":               "pattern",
	"action_details.query":                 "query",
	"action_details.prompt":                "prompt",
	"action_details.description":           "description",
	"action_details.programs":              "programs",
	"action_details.mcp_server":            "mcp_server",
	"action_details.mcp_tool":              "mcp_tool",
	"action_details.input":                 "input",
	"action_details.subagent_type":         "subagent_type",
	"security_flags.outside_project_scope": "outside_project_scope",
	"security_flags.sensitive_path":        "sensitive_path",
	"security_flags.redactions":            "redactions",
	"security_flags.sensitive_kinds":       "sensitive_kinds",
	"security_flags.outside_paths":         "outside_paths",
	"security_flags.sensitive_paths":       "sensitive_paths",
	"project_path":                         "project_dir",
	"tool":                                 "tool_name",
}

func lookupField(name string) (func(f *facts) []string, bool) {
	if a, ok := fieldAliases[name]; ok {
		name = a
	}
	g, ok := fieldGetters[name]
	return g, ok
}
