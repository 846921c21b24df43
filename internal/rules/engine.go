package rules

import (
	"embed"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/shell"
)

//go:embed defaults/*.yaml defaults/tests/*.yaml
var defaultFS embed.FS

// maxThreshold caps a threshold count, which bounds per-session memory.
const maxThreshold = 10000

// Engine evaluates rules. Evaluate keeps per-session state (windows and
// sequences) behind a mutex, so an Engine is safe for concurrent use;
// Decide and ScanContent are stateless.
type Engine struct {
	rules      []*Rule // every rule, enabled or not, in load order
	plain      []*Rule
	derived    []*Rule
	thresholds []*Rule
	sequences  []*Rule
	seeds      []*SeedFile
	now        func() time.Time
	// deciders are the enabled plain block/ask rules; decideAll is set
	// when a derived rule blocks or asks, so Decide needs every rule.
	deciders  []*Rule
	decideAll bool
	// decideOnly is set for an engine loaded WithDecidersOnly: it holds
	// only the default rules that can block or ask.
	decideOnly bool

	mu       sync.Mutex
	sessions *sessionLRU
}

// Option tunes Load.
type Option func(*options)

type options struct {
	noDefaults  bool
	decideOnly  bool
	sources     []Source
	maxSessions int
	sessionTTL  time.Duration
	now         func() time.Time
}

// Source is a rule file's name and content, for callers that already hold it.
type Source struct {
	Name string
	Data []byte
}

// WithSources adds rule files held in memory (after cfg.Files).
func WithSources(s ...Source) Option { return func(o *options) { o.sources = append(o.sources, s...) } }

// WithoutDefaults leaves the embedded default set out even when
// cfg.Defaults is true.
func WithoutDefaults() Option { return func(o *options) { o.noDefaults = true } }

// WithDecidersOnly loads, of the default set, only the rules that can
// block or ask (defaults/deciders.json, generated with default.json): the
// hook's start-up path in enforce mode, where nothing else can change the
// answer. The engine it gives serves Decide only; Evaluate and
// ScanContent panic on it, since they would miss the other rules. When a
// loaded rule file makes a derived rule decide (which needs every rule's
// hits), Load falls back to the whole default set.
func WithDecidersOnly() Option { return func(o *options) { o.decideOnly = true } }

// WithSessionLimits bounds the per-session state: at most n sessions, each
// forgotten after ttl without events.
func WithSessionLimits(n int, ttl time.Duration) Option {
	return func(o *options) { o.maxSessions, o.sessionTTL = n, ttl }
}

// WithClock sets the time used for events without a timestamp.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// DefaultSources returns the embedded default rule files.
func DefaultSources() []Source {
	var out []Source
	ents, _ := fs.ReadDir(defaultFS, "defaults")
	for _, e := range ents {
		if e.IsDir() || path.Ext(e.Name()) != ".yaml" {
			continue
		}
		b, err := defaultFS.ReadFile("defaults/" + e.Name())
		if err != nil {
			continue
		}
		out = append(out, Source{Name: "builtin:" + e.Name(), Data: b})
	}
	return out
}

// Load builds an Engine from the default set (when cfg.Defaults), the files
// in cfg.Files (native or seed format, detected from their content) and
// any WithSources. A rule id defined again by a later file replaces the
// earlier rule, so a user file can override a default. cfg.Disabled
// switches rules off by id. Every problem in every file is reported at
// once as LoadErrors.
func Load(cfg config.Rules, opts ...Option) (*Engine, error) {
	o := options{maxSessions: 10000, sessionTTL: 24 * time.Hour, now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	var all []*Rule
	var errs LoadErrors
	e := &Engine{now: o.now, sessions: newSessionLRU(o.maxSessions, o.sessionTTL)}
	add := func(src Source, eager bool) {
		rs, seed, es := parseFile(src.Name, src.Data, eager)
		errs = append(errs, es...)
		all = append(all, rs...)
		if seed != nil {
			e.seeds = append(e.seeds, seed)
		}
	}
	if cfg.Defaults && !o.noDefaults {
		name := defaultJSON
		if o.decideOnly {
			name = decidersJSON
		}
		rs, es := loadCompiledDefaults(name)
		errs = append(errs, es...)
		all = append(all, rs...)
	}
	for _, f := range cfg.Files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, &LoadError{File: f, Msg: fmt.Sprintf("read rule file: %v", err)})
			continue
		}
		add(Source{Name: f, Data: b}, true)
	}
	for _, s := range o.sources {
		add(s, true)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	// Later definitions replace earlier ones with the same id.
	idx := map[string]int{}
	for _, r := range all {
		if i, ok := idx[r.ID]; ok {
			e.rules[i] = r
			continue
		}
		idx[r.ID] = len(e.rules)
		e.rules = append(e.rules, r)
	}
	disabled := map[string]bool{}
	for _, id := range cfg.Disabled {
		disabled[id] = true
	}
	for _, r := range e.rules {
		if disabled[r.ID] {
			r.Enabled = false
		}
		if !r.Enabled {
			continue
		}
		decides := r.Action == ActionBlock || r.Action == ActionAsk
		switch r.Kind {
		case kindPlain:
			e.plain = append(e.plain, r)
			if decides {
				e.deciders = append(e.deciders, r)
			}
		case kindDerived:
			e.derived = append(e.derived, r)
			e.decideAll = e.decideAll || decides
		case kindThreshold:
			e.thresholds = append(e.thresholds, r)
		case kindSequence:
			e.sequences = append(e.sequences, r)
		}
	}
	if o.decideOnly && cfg.Defaults && !o.noDefaults {
		if e.decideAll {
			// A derived rule decides on other rules' hits: it needs them all.
			return Load(cfg, append(opts, func(o *options) { o.decideOnly = false })...)
		}
		e.decideOnly = true
	}
	return e, nil
}

// Validate parses rule files without building an engine and returns every
// problem (LoadErrors) or nil.
func Validate(srcs ...Source) error {
	var errs LoadErrors
	for _, s := range srcs {
		_, _, es := parseFile(s.Name, s.Data, true)
		errs = append(errs, es...)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Rules returns every loaded rule, enabled or not, in load order.
func (e *Engine) Rules() []*Rule { return e.rules }

// SeedFiles returns the seed-format files loaded, for their settings.
func (e *Engine) SeedFiles() []*SeedFile { return e.seeds }

// Input is an event plus what the caller already knows about it.
type Input struct {
	Event *event.Event
	// Shell is the parsed Bash command, when the caller has it (the hook
	// parses once for normalisation); nil makes the engine parse.
	Shell *shell.Analysis
	// Content are facts about Write/Edit content (see ContentFacts).
	Content *ContentFacts
}

// Evaluate runs every enabled rule on ev and returns the matches, most
// severe first. It updates per-session windows and sequences.
func (e *Engine) Evaluate(ev *event.Event) []Match {
	return e.EvaluateInput(Input{Event: ev})
}

// EvaluateInput is Evaluate with precomputed facts.
func (e *Engine) EvaluateInput(in Input) []Match {
	e.mustBeWhole("Evaluate")
	ev := in.Event
	if ev == nil {
		return nil
	}
	if e.repeatOfPre(ev) {
		return nil
	}
	f := buildFacts(ev, in.Shell, in.Content)
	e.userPaths(f)
	hits := e.stateless(f)
	hits = append(hits, e.stateful(f, hits)...)
	return e.matches(f, hits)
}

// Decide evaluates the block and ask rules on a PreToolUse event without
// touching session state, for the hook. It returns "" when nothing
// applies, else ActionBlock or ActionAsk with the deciding match (blocks
// win over asks, then higher severity).
func (e *Engine) Decide(ev *event.Event) (string, *Match) {
	return e.DecideInput(Input{Event: ev})
}

// DecideInput is Decide with precomputed facts.
func (e *Engine) DecideInput(in Input) (string, *Match) {
	ev := in.Event
	if ev == nil || ev.HookEvent != "PreToolUse" {
		return "", nil
	}
	f := buildFacts(ev, in.Shell, in.Content)
	var hits []hit
	if e.decideAll {
		hits = e.stateless(f)
	} else {
		// Only block and ask rules can change the answer; the others are
		// left uncompiled in the hook.
		for _, r := range e.deciders {
			r.ensure()
			c := f.ctx(hits)
			if r.cond.eval(c) && !excepted(r, f, hits) {
				hits = append(hits, hit{rule: r, prog: c.prog, via: c.via})
			}
		}
	}
	var best *hit
	for _, h := range hits {
		if h.rule.Action != ActionBlock && h.rule.Action != ActionAsk {
			continue
		}
		if best == nil || better(h, *best) {
			h := h
			best = &h
		}
	}
	if best == nil {
		return "", nil
	}
	ms := e.matches(f, []hit{*best})
	return best.rule.Action, &ms[0]
}

// userPaths records what the session's events tell about its intent (the
// paths and hosts a UserPromptSubmit names, the databases a command
// creates) and
// gives f what the session has recorded so far.
func (e *Engine) userPaths(f *facts) {
	ev := f.ev
	if ev.SessionID == "" {
		return
	}
	ts := ev.Timestamp
	if ts.IsZero() {
		ts = e.now()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.sessions.get(ev.SessionID, ts)
	if s.distrust {
		return
	}
	if ev.EventType == event.TypeUserPrompt {
		for _, p := range promptPaths(ev.Action.Prompt, f.cwd) {
			if len(s.named) < maxUserPaths && !slices.Contains(s.named, p) {
				s.named = append(s.named, p)
			}
		}
		for _, h := range promptHosts(ev.Action.Prompt) {
			if len(s.hosts) < maxUserPaths && !slices.Contains(s.hosts, h) {
				s.hosts = append(s.hosts, h)
			}
		}
		prompt := ev.Action.Prompt
		if len(prompt) > maxPromptBytes {
			prompt = prompt[:maxPromptBytes]
		}
		if len(s.prompts) == maxPrompts {
			s.prompts = append(s.prompts[:0:0], s.prompts[1:]...)
		}
		s.prompts = append(s.prompts, prompt)
	}
	f.userPaths, f.createdDBs, f.userHosts = slices.Clip(s.named), slices.Clip(s.createdDBs), slices.Clip(s.hosts)
	f.userPrompts = slices.Clip(s.prompts)
	// Databases this command creates count for later commands only
	// ("DROP SCHEMA x; CREATE SCHEMA x" does not make x a scratch copy).
	if ev.HookEvent == "PreToolUse" {
		for _, d := range f.databases("create") {
			if len(s.createdDBs) < maxUserPaths && !slices.Contains(s.createdDBs, d) {
				s.createdDBs = append(s.createdDBs, d)
			}
		}
	}
}

// The prompts a session remembers for user_said conditions: the newest
// maxPrompts, each cut to maxPromptBytes.
const (
	maxPrompts     = 8
	maxPromptBytes = 4096
)

// mustBeWhole stops a caller from getting silently partial answers out of
// an engine loaded WithDecidersOnly: a programming error.
func (e *Engine) mustBeWhole(op string) {
	if e.decideOnly {
		panic("rules: " + op + " on an engine loaded WithDecidersOnly")
	}
}

func better(a, b hit) bool {
	if (a.rule.Action == ActionBlock) != (b.rule.Action == ActionBlock) {
		return a.rule.Action == ActionBlock
	}
	return a.rule.Severity > b.rule.Severity
}

// stateless evaluates plain rules, then derived rules over their hits.
func (e *Engine) stateless(f *facts) []hit {
	var hits []hit
	for _, r := range e.plain {
		r.ensure()
		c := f.ctx(hits)
		if !r.cond.eval(c) || excepted(r, f, hits) {
			continue
		}
		hits = append(hits, hit{rule: r, prog: c.prog, via: c.via})
		if r.InheritContent > 0 && f.content != nil {
			hits = append(hits, inheritContent(r, f.content, c.prog, c.via)...)
		}
	}
	n := len(hits)
	for _, r := range e.derived {
		r.ensure()
		c := f.ctx(hits[:n])
		if !r.cond.eval(c) || excepted(r, f, hits[:n]) {
			continue
		}
		for _, h := range hits[:n] {
			d := r.derived
			if h.severity() < d.MinSeverity || d.CategoriesNot[h.category()] || h.rule.Kind == kindDerived || h.via == "content" {
				continue
			}
			if sig := signalOf(f, h, hits[:n], d.Signals); sig != "" {
				hits = append(hits, hit{rule: r, prog: h.prog, via: h.via, detail: sig + " around " + h.id()})
				break
			}
		}
	}
	return hits
}

// inheritContent reports content findings as matches of their own rules,
// capped at r.InheritContent.
func inheritContent(r *Rule, cf *ContentFacts, prog int, via string) []hit {
	var out []hit
	for _, fd := range cf.Findings {
		sev := min(fd.Severity, r.InheritContent)
		out = append(out, hit{rule: r, prog: -1, via: "content", asID: fd.Rule, asCategory: fd.Category, asSeverity: sev,
			detail: cf.Kind + " content runs a command matching " + fd.Rule})
	}
	return out
}

func excepted(r *Rule, f *facts, hits []hit) bool {
	for _, x := range r.exceptions {
		if x.eval(f.exceptCtx(hits)) {
			return true
		}
	}
	return false
}

var setupProgs = map[string]bool{"cd": true, "pushd": true, "popd": true, "set": true, "true": true, ":": true, "which": true, "command": true, "type": true, "test": true, "[": true, "export": true, "mkdir": true, "sleep": true}

// signalOf returns the first wanted signal the program behind h shows.
func signalOf(f *facts, h hit, hits []hit, want map[string]bool) string {
	if h.prog < 0 || h.prog >= len(f.progs) {
		return ""
	}
	p := &f.progs[h.prog]
	progVia := h.via == "program"
	if want["decoded"] && p.decoded {
		return "decoded"
	}
	if want["dynamic_name"] && p.dynamic {
		return "dynamic_name"
	}
	// A pipeline is one action: "$a -s URL | sh" hides its downloader even
	// though the rule matched the shell at the end.
	if p.pipeline >= 0 && p.pipeline < len(f.pipes) && (want["decoded"] || want["dynamic_name"]) {
		for _, j := range f.pipes[p.pipeline] {
			q := &f.progs[j]
			if want["decoded"] && q.decoded {
				return "decoded"
			}
			if want["dynamic_name"] && q.dynamic {
				return "dynamic_name"
			}
		}
	}
	if want["shell_wrapper"] && progVia && !p.script {
		for _, w := range p.wrappers {
			first := strings.Fields(w + " x")[0]
			// A shell reading downloaded code on stdin is how the code runs,
			// not a wrapper hiding it.
			if strings.HasSuffix(w, " stdin") && h.category() == "remote_code_execution" {
				continue
			}
			if (shells[first] && (strings.Contains(w, "-c") || strings.HasSuffix(w, " stdin"))) || first == "eval" || interpFlags[interpBase(first)] != "" {
				return "shell_wrapper"
			}
		}
	}
	if want["env_prefix"] && progVia && len(p.env) > 0 {
		return "env_prefix"
	}
	if want["privileged"] {
		for _, w := range p.wrappers {
			first := strings.Fields(w + " x")[0]
			if first == "sudo" || first == "doas" || first == "pkexec" || first == "su" || first == "runuser" {
				return "privileged"
			}
		}
	}
	if want["script"] && p.script {
		return "script"
	}
	if want["chained"] && p.depth == 0 && !p.script {
		harmful := map[int]bool{}
		for _, o := range hits {
			if o.prog >= 0 {
				harmful[o.prog] = true
			}
		}
		for j := 0; j < h.prog; j++ {
			q := &f.progs[j]
			if q.depth != 0 || harmful[j] || setupProgs[q.name] || (q.pipeline >= 0 && q.pipeline == p.pipeline) {
				continue
			}
			if related(f, q, p) {
				continue
			}
			return "chained"
		}
	}
	return ""
}

// related: two programs share a name or a path (one inside the other); the
// program's own path counts, so "wget -O /tmp/x && /tmp/x" is one story.
func related(f *facts, a, b *prog) bool {
	if a.name == b.name {
		return true
	}
	words := func(p *prog) []string {
		w := p.args
		if strings.ContainsRune(p.path, '/') {
			w = append([]string{p.path}, w...)
		}
		for _, r := range p.redirects {
			if !strings.HasPrefix(r.Target, "&") && r.Op != "<<" && r.Op != "<<<" {
				w = append(w, r.Target)
			}
		}
		return w
	}
	bw := words(b)
	for _, x := range words(a) {
		px := globDir(normPath(pathInWord(x), f.cwd))
		if px == "" {
			continue
		}
		for _, y := range bw {
			py := globDir(normPath(pathInWord(y), f.cwd))
			if py != "" && (under(px, py) || under(py, px)) {
				return true
			}
		}
	}
	return false
}

// globDir cuts a path at its first wildcard, back to the folder before it
// ("~/projects/*/config" -> "~/projects").
func globDir(p string) string {
	i := strings.IndexAny(p, "*?[")
	if i < 0 {
		return p
	}
	p = p[:i]
	if j := strings.LastIndexByte(p, '/'); j > 0 {
		return p[:j]
	}
	return ""
}

// matches turns hits into Matches, most severe first.
func (e *Engine) matches(f *facts, hits []hit) []Match {
	if len(hits) == 0 {
		return nil
	}
	ev := f.ev
	ts := ev.Timestamp
	if ts.IsZero() {
		ts = e.now()
	}
	out := make([]Match, 0, len(hits))
	for _, h := range hits {
		r := h.rule
		m := Match{
			RuleID: r.ID, Description: r.Description, Severity: r.Severity, Category: r.Category,
			Tags: r.Tags, Action: r.Action, EventID: ev.ID, EventIDs: h.events, SessionID: ev.SessionID,
			Project: ev.Project, Host: ev.Host, Time: ts, Response: r.Response,
		}
		if h.asID != "" {
			m.RuleID, m.Category, m.Severity = h.asID, h.asCategory, h.asSeverity
		}
		m.Context = contextOf(f, h)
		m.Summary = summaryOf(r, f, h)
		out = append(out, m)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity > out[j].Severity })
	return out
}

func capStr(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func summaryOf(r *Rule, f *facts, h hit) string {
	what := ""
	switch {
	case h.detail != "":
		what = h.detail
	case h.prog >= 0 && h.prog < len(f.progs):
		what = renderProg(&f.progs[h.prog])
	case f.ev.Action.FilePath != "":
		what = f.ev.ToolName + " " + f.ev.Action.FilePath
	case f.ev.Action.URL != "":
		what = f.ev.ToolName + " " + f.ev.Action.URL
	case f.ev.Action.Command != "":
		what = f.ev.Action.Command
	default:
		what = f.ev.ToolName
	}
	d := r.Description
	if d == "" {
		d = r.ID
	}
	return capStr(d+": "+what, 300)
}

func contextOf(f *facts, h hit) map[string]string {
	ev := f.ev
	c := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			c[k] = capStr(v, 512)
		}
	}
	set("tool_name", ev.ToolName)
	set("event_type", ev.EventType)
	set("command", ev.Action.Command)
	set("file_path", ev.Action.FilePath)
	set("url", ev.Action.URL)
	set("agent_type", ev.AgentType)
	if h.prog >= 0 && h.prog < len(f.progs) {
		set("program", renderProg(&f.progs[h.prog]))
	}
	set("detail", h.detail)
	if f.content != nil && len(f.content.Findings) > 0 {
		var fs []string
		for _, fd := range f.content.Findings {
			fs = append(fs, fd.Rule+" "+fd.Severity.String())
		}
		set("content_findings", strings.Join(fs, ", "))
	}
	for _, name := range h.rule.ContextFields {
		if g, ok := lookupField(name); ok {
			set(name, strings.Join(g(f), ","))
		}
	}
	return c
}

// stateful runs threshold and sequence rules and suppresses the repeat of a
// PreToolUse finding on its PostToolUse.
func (e *Engine) stateful(f *facts, hits []hit) []hit {
	ev := f.ev
	key := ev.SessionID
	ts := ev.Timestamp
	if ts.IsZero() {
		ts = e.now()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.sessions.get(key, ts)
	var extra []hit
	for _, r := range e.thresholds {
		r.ensure()
		c := f.ctx(hits)
		if !r.cond.eval(c) || excepted(r, f, hits) {
			continue
		}
		if ids, ok := s.window(r, ts, ev.ID); ok {
			extra = append(extra, hit{rule: r, prog: -1, events: ids, detail: fmt.Sprintf("%d events within %s", r.threshold.Count, r.threshold.Window)})
		}
	}
	all := append(append([]hit(nil), hits...), extra...)
	for _, r := range e.sequences {
		r.ensure()
		extra = append(extra, s.sequence(r, f, all, ts)...)
	}
	if ev.HookEvent == "PreToolUse" && ev.ToolUseID != "" {
		s.notePre(ev.ToolUseID)
	}
	if ev.Action.FilePath != "" && f.toolAccess == "write" {
		s.noteWrite(f.toolPath, ev.ID, f.content)
	}
	// An agent caught blinding the monitor (or forging events into it)
	// loses the benefit of the doubt: what the session's prompts seem to
	// ask for is no longer trusted, since they may be forged.
	for _, h := range append(hits, extra...) {
		if h.rule.Category == "defense_evasion" && h.rule.Severity >= High {
			s.distrust = true
		}
	}
	// A session's state ends with it, rather than waiting out the TTL
	// (thousands of ended sessions a day would otherwise hold memory). A
	// distrusted session keeps its state: a forged SessionEnd must not
	// give it back the benefit of the doubt.
	if ev.HookEvent == "SessionEnd" && !s.distrust {
		e.sessions.remove(key)
	}
	return extra
}

// repeatOfPre reports a PostToolUse(Failure) whose PreToolUse this engine
// already evaluated: the tool input is the same, so are the findings.
func (e *Engine) repeatOfPre(ev *event.Event) bool {
	if ev.ToolUseID == "" || (ev.HookEvent != "PostToolUse" && ev.HookEvent != "PostToolUseFailure") {
		return false
	}
	ts := ev.Timestamp
	if ts.IsZero() {
		ts = e.now()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions.get(ev.SessionID, ts).sawPre(ev.ToolUseID)
}

// ScanContent analyses text a Write, Edit or NotebookEdit puts into the
// file ev names (old is the text an Edit replaces). Shell scripts, git
// hooks, shell start-up files, crontabs and systemd/desktop units have
// their commands evaluated by the plain rules; Claude Code settings are
// checked for removed hooks. It returns nil when there is nothing to say.
func (e *Engine) ScanContent(ev *event.Event, text, old string) *ContentFacts {
	e.mustBeWhole("ScanContent")
	if ev == nil {
		return nil
	}
	p := normPath(ev.Action.FilePath, ev.Cwd)
	kind := contentKind(p, text)
	if kind == "" {
		return nil
	}
	cf := &ContentFacts{Kind: kind}
	if kind == "claude_settings" {
		hasHooks := func(s string) bool { return strings.Contains(s, `"hooks"`) || strings.Contains(s, "vigil") }
		// An edit removes the hooks when it drops Vigil's hook commands or
		// the whole "hooks" map; dropping one of the user's own hooks
		// (a formatter, a linter) from inside it is not evasion.
		hooksMap := claudeHooksMap()
		switch {
		case old != "" && (strings.Contains(old, "vigil") && !strings.Contains(text, "vigil") || hooksMap.MatchString(old) && !hooksMap.MatchString(text)):
			cf.Tags = append(cf.Tags, "claude_hooks_removed")
		case old == "" && !hasHooks(text):
			cf.Tags = append(cf.Tags, "claude_settings_without_hooks")
		}
		if compact := strings.Join(strings.Fields(text), ""); strings.Contains(compact, `"disableAllHooks":true`) || strings.Contains(compact, `"hooks":{}`) {
			cf.Tags = append(cf.Tags, "claude_hooks_disabled")
		}
		return cf
	}
	cmd := text
	switch kind {
	case "unit", "desktop":
		cmd = execLines(text)
	case "plist":
		cmd = plistCommand(text)
	case "vscode_tasks":
		var auto bool
		cmd, auto = vscodeTaskCommands(text)
		if auto {
			cf.Tags = append(cf.Tags, "vscode_folder_open")
		}
	case "npm_package":
		cmd = npmLifecycleCommands(text)
	case "ssh_config":
		var local bool
		cmd, local = sshConfigCommands(text)
		if local {
			cf.Tags = append(cf.Tags, "ssh_local_command")
		}
	case "crontab":
		cmd = ""
	case "gitconfig":
		var hooks bool
		cmd, hooks = gitConfigCommands(text)
		if hooks {
			cf.Tags = append(cf.Tags, "git_hooks_path")
		}
	case "makefile":
		cmd = makeRecipes(text)
	}
	if len(cmd) > 256<<10 {
		cmd = cmd[:256<<10]
	}
	syn := &event.Event{ID: ev.ID, SessionID: ev.SessionID, Cwd: ev.Cwd, ProjectDir: ev.ProjectDir,
		HookEvent: "Content", EventType: event.TypeCommand}
	syn.Action.Command = cmd
	var f *facts
	if kind == "python" {
		f = &facts{ev: syn, cwd: ev.Cwd, project: normPath(ev.ProjectDir, ""), code: []string{text}, reBudget: maxRegexBytes}
		py := &prog{name: "python3", pipeline: -1}
		f.addCodeCommands(text, py)
		for _, m := range b64Literal().FindAllString(text, 8) {
			if d, ok := decodeB64(m); ok {
				f.decoded = append(f.decoded, d)
				f.code = append(f.code, d)
				f.addCodeCommands(d, &prog{name: "python3", pipeline: -1, decoded: true})
			}
		}
	} else {
		f = buildFacts(syn, nil, nil)
		if kind == "crontab" {
			f.addCronTable(text, prog{}, strings.HasPrefix(p, "/etc/"))
		}
		for i := range f.progs {
			f.progs[i].script = true
		}
	}
	seen := map[string]bool{}
	for _, h := range e.stateless(f) {
		// Scope is about what the agent itself touches now; a start-up file
		// or script that reads ~/.cargo/env when it runs later is not.
		// Derived rules about how a command line is written (obfuscation)
		// do not apply to a file's lines; the others (root rights used
		// for a harmful step) do.
		if h.rule.Kind == kindDerived && h.rule.Category == "obfuscation" || h.rule.Severity < Medium || h.rule.Category == "scope_violation" || seen[h.rule.ID] {
			continue
		}
		seen[h.rule.ID] = true
		cf.Findings = append(cf.Findings, ContentFinding{Rule: h.rule.ID, Severity: h.rule.Severity, Category: h.rule.Category})
	}
	return cf
}

// makeRecipes returns the shell commands of a Makefile's recipes (the
// tab-indented lines), one per line, with make's $(HOME) and $$ written
// as the shell sees them. The file may be a fragment (an Edit).
func makeRecipes(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "\t") {
			continue
		}
		line = strings.TrimLeft(line[1:], "@-+ \t")
		line = strings.NewReplacer("$(HOME)", "$HOME", "${HOME}", "$HOME", "$$", "$", "$(CURDIR)", ".").Replace(line)
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// claudeHooksMap finds the "hooks" map of Claude Code settings.
var claudeHooksMap = lazyRE(`"hooks"\s*:\s*\{`)

var rcFiles = map[string]bool{".bashrc": true, ".bash_profile": true, ".bash_login": true, ".bash_logout": true, ".profile": true, ".zshrc": true, ".zprofile": true, ".zshenv": true, ".zlogin": true, "config.fish": true, "bash.bashrc": true}

func contentKind(p, text string) string {
	base := path.Base(p)
	ext := path.Ext(base)
	switch {
	case strings.Contains(p, "/.claude/") && (base == "settings.json" || base == "settings.local.json"):
		return "claude_settings"
	case strings.HasSuffix(p, "/.vscode/tasks.json"):
		return "vscode_tasks"
	case base == "package.json":
		return "npm_package"
	case p == "~/.gitconfig" || p == "~/.config/git/config" || p == "/etc/gitconfig" || strings.HasSuffix(p, "/.git/config"):
		return "gitconfig"
	case p == "~/.ssh/config" || strings.HasPrefix(p, "~/.ssh/config.d/") || p == "/etc/ssh/ssh_config" || strings.HasPrefix(p, "/etc/ssh/ssh_config.d/"):
		return "ssh_config"
	case strings.Contains(p, "/.git/hooks/") || strings.Contains(p, "/.husky/"):
		return "git_hook"
	case rcFiles[base] || strings.HasPrefix(p, "/etc/profile"):
		return "shell_rc"
	case ext == ".service" || ext == ".timer" || ext == ".socket" || ext == ".path":
		return "unit"
	case ext == ".desktop":
		return "desktop"
	case ext == ".plist" && (strings.Contains(text, "ProgramArguments") || strings.Contains(text, "<key>Program</key>")):
		return "plist"
	case strings.HasPrefix(p, "/etc/cron") || strings.HasPrefix(p, "/var/spool/cron") || base == "crontab":
		return "crontab"
	case ext == ".sh" || ext == ".bash" || ext == ".zsh" || ext == ".ksh" || ext == ".command":
		return "script"
	case strings.HasPrefix(text, "#!"):
		line, _, _ := strings.Cut(text, "\n")
		if strings.Contains(line, "python") {
			return "python"
		}
		if strings.Contains(line, "sh") {
			return "script"
		}
	case base == "Makefile" || base == "makefile" || base == "GNUmakefile" || ext == ".mk":
		return "makefile"
	case ext == ".py", ext == ".ipynb", ext == ".pth" && strings.Contains(p, "-packages/"):
		// A notebook edit's content is a cell's source (NotebookEdit).
		// A .pth file's "import" lines run at every interpreter start.
		return "python"
	}
	return ""
}

var (
	vscodeCommand = lazyRE(`"command"\s*:\s*"((?:[^"\\]|\\.)*)"`)
	vscodeRunOn   = lazyRE(`"runOn"\s*:\s*"folderOpen"`)
	npmLifecycle  = lazyRE(`"(preinstall|install|postinstall|prepare|preprepare|postprepare|prepublish|prepack|postpack)"\s*:\s*"((?:[^"\\]|\\.)*)"`)
)

// vscodeTaskCommands returns the shell commands of a VS Code tasks.json,
// one per line, and whether a task runs when the folder opens. The file
// may be a fragment (an Edit), so it is scanned, not parsed.
func vscodeTaskCommands(text string) (string, bool) {
	var b strings.Builder
	for _, m := range vscodeCommand().FindAllStringSubmatch(text, 64) {
		b.WriteString(jsonUnquote(m[1]))
		b.WriteByte('\n')
	}
	return b.String(), vscodeRunOn().MatchString(text)
}

// npmLifecycleCommands returns the scripts npm runs by itself on install
// or pack (preinstall, postinstall, prepare, ...), one per line.
func npmLifecycleCommands(text string) string {
	var b strings.Builder
	for _, m := range npmLifecycle().FindAllStringSubmatch(text, 64) {
		b.WriteString(jsonUnquote(m[2]))
		b.WriteByte('\n')
	}
	return b.String()
}

// jsonUnquote decodes the body of a JSON string, or returns it as is.
func jsonUnquote(s string) string {
	var out string
	if json.Unmarshal([]byte(`"`+s+`"`), &out) == nil {
		return out
	}
	return s
}

// sshConfigCommands returns the commands an ssh client config runs
// (LocalCommand, ProxyCommand, Match exec), one per line, and whether it
// has a LocalCommand, which runs on every connection.
// gitConfigCommands returns the shell commands a git config file makes git
// run later (core.sshCommand, pager, editor, fsmonitor, "!" aliases and
// credential helpers), one per line, and whether it sets core.hooksPath.
// The file may be a fragment (an Edit), so it is scanned, not parsed.
func gitConfigCommands(text string) (string, bool) {
	var b strings.Builder
	hooks := false
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.Trim(strings.TrimSpace(v), `"`)
		switch {
		case k == "hookspath":
			hooks = true
			continue
		case k == "sshcommand" || k == "pager" || k == "editor" || k == "fsmonitor" || k == "external":
		case strings.HasPrefix(v, "!"):
			v = v[1:] // an alias or a credential helper run by the shell
		default:
			continue
		}
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String(), hooks
}

func sshConfigCommands(text string) (string, bool) {
	var b strings.Builder
	local := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			k, v, ok = strings.Cut(line, "=")
		}
		if !ok {
			continue
		}
		v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "="))
		switch strings.ToLower(k) {
		case "localcommand":
			local = true
		case "proxycommand":
		case "match":
			if i := strings.Index(strings.ToLower(v), "exec "); i >= 0 {
				v = strings.Trim(strings.TrimSpace(v[i+5:]), `"`)
			} else {
				continue
			}
		default:
			continue
		}
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String(), local
}

var plistString = lazyRE(`(?s)<string>(.*?)</string>`)

// plistCommand returns the command a launchd plist runs: the body of
// "sh -c BODY" in ProgramArguments, or its words quoted for the shell, or
// the Program key.
func plistCommand(text string) string {
	var args []string
	if i := strings.Index(text, "<key>ProgramArguments</key>"); i >= 0 {
		rest := text[i:]
		if j := strings.Index(rest, "</array>"); j >= 0 {
			rest = rest[:j]
		}
		for _, m := range plistString().FindAllStringSubmatch(rest, 64) {
			args = append(args, html.UnescapeString(m[1]))
		}
	} else if i := strings.Index(text, "<key>Program</key>"); i >= 0 {
		if m := plistString().FindStringSubmatch(text[i:]); m != nil {
			args = []string{html.UnescapeString(m[1])}
		}
	}
	if len(args) >= 3 && shells[path.Base(args[0])] && strings.HasPrefix(args[1], "-") && strings.Contains(args[1], "c") {
		return args[2]
	}
	for i, a := range args {
		args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(args, " ")
}

// execLines returns the commands of a unit's Exec*= (or a desktop file's
// Exec=) lines, one per line.
func execLines(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, "Exec") {
			continue
		}
		v = strings.TrimLeft(strings.TrimSpace(v), "-@:+!")
		// systemd specifiers: %h is the user's home, %u the user name.
		v = strings.NewReplacer("%h", "$HOME", "%u", "$USER", "%%", "%").Replace(v)
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String()
}
