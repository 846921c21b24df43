package rules

import (
	"container/list"
	"path"
	"strings"
	"time"
)

// sessionLRU holds per-session state, bounded in count (least recently
// used sessions are dropped) and in age (idle sessions expire).
type sessionLRU struct {
	max int
	ttl time.Duration
	m   map[string]*list.Element
	l   *list.List // front = most recent
}

func newSessionLRU(max int, ttl time.Duration) *sessionLRU {
	if max <= 0 {
		max = 10000
	}
	return &sessionLRU{max: max, ttl: ttl, m: map[string]*list.Element{}, l: list.New()}
}

// Len is the number of sessions held.
func (s *sessionLRU) Len() int { return s.l.Len() }

func (s *sessionLRU) get(key string, now time.Time) *session {
	if el, ok := s.m[key]; ok {
		ss := el.Value.(*session)
		if s.ttl > 0 && now.Sub(ss.last) > s.ttl {
			s.l.Remove(el)
			delete(s.m, key)
		} else {
			ss.last = now
			s.l.MoveToFront(el)
			return ss
		}
	}
	ss := &session{key: key, last: now}
	s.m[key] = s.l.PushFront(ss)
	for s.l.Len() > s.max {
		old := s.l.Back()
		s.l.Remove(old)
		delete(s.m, old.Value.(*session).key)
	}
	// Drop expired sessions from the cold end.
	for s.ttl > 0 {
		old := s.l.Back()
		if old == nil || now.Sub(old.Value.(*session).last) <= s.ttl {
			break
		}
		s.l.Remove(old)
		delete(s.m, old.Value.(*session).key)
	}
	return ss
}

// remove forgets a session's state.
func (s *sessionLRU) remove(key string) {
	if el, ok := s.m[key]; ok {
		s.l.Remove(el)
		delete(s.m, key)
	}
}

// Bounds of one session's state.
const (
	maxWritten  = 64  // files written, remembered for script-then-run
	maxToolUses = 256 // tool_use_ids remembered to skip PostToolUse repeats
)

type session struct {
	key  string
	last time.Time
	win  map[*Rule]*window
	seq  map[*Rule]*seqState
	// written maps a normalised path to the write that produced it.
	written      map[string]writeInfo
	writtenOrder []string
	pres         []string // recent PreToolUse tool_use_ids, oldest first
	named        []string // paths the user's prompts named (see promptPaths)
	createdDBs   []string // databases created by the session's commands
	hosts        []string // hosts the user's prompts named (see promptHosts)
	prompts      []string // the user's prompts, newest last (maxPrompts, each capped)
	distrust     bool     // a HIGH defense_evasion hit: prompts and named paths are ignored
}

func (s *session) notePre(id string) {
	if len(s.pres) >= maxToolUses {
		s.pres = s.pres[1:]
	}
	s.pres = append(s.pres, id)
}

func (s *session) sawPre(id string) bool {
	for i := len(s.pres) - 1; i >= 0; i-- {
		if s.pres[i] == id {
			return true
		}
	}
	return false
}

type writeInfo struct {
	eventID string
	content *ContentFacts
}

type window struct {
	times []time.Time
	ids   []string
}

// window records one matching event and reports, with the window's event
// ids, when the rule's count is reached within its window; it then starts
// counting afresh.
func (s *session) window(r *Rule, ts time.Time, id string) ([]string, bool) {
	if s.win == nil {
		s.win = map[*Rule]*window{}
	}
	w := s.win[r]
	if w == nil {
		w = &window{}
		s.win[r] = w
	}
	w.times = append(w.times, ts)
	w.ids = append(w.ids, id)
	cut := 0
	for cut < len(w.times) && ts.Sub(w.times[cut]) > r.threshold.Window {
		cut++
	}
	if cut > 0 {
		w.times = append(w.times[:0], w.times[cut:]...)
		w.ids = append(w.ids[:0], w.ids[cut:]...)
	}
	if len(w.times) < r.threshold.Count {
		return nil, false
	}
	ids := append([]string(nil), w.ids...)
	if len(ids) > 32 {
		ids = append(ids[:16:16], ids[len(ids)-16:]...)
	}
	w.times, w.ids = w.times[:0], w.ids[:0]
	return ids, true
}

type seqState struct {
	step  int // steps done
	start time.Time
	ids   []string
	paths []string // files written by the first step (link)
}

// sequence advances r's progress with this event and returns its hits.
func (s *session) sequence(r *Rule, f *facts, hits []hit, ts time.Time) []hit {
	if s.seq == nil {
		s.seq = map[*Rule]*seqState{}
	}
	st := s.seq[r]
	if st == nil {
		st = &seqState{}
		s.seq[r] = st
	}
	sp := r.seq
	if st.step > 0 && ts.Sub(st.start) > sp.Window {
		*st = seqState{}
	}
	last := len(sp.Steps) - 1
	// The final step first: it completes the sequence.
	if st.step == last {
		c := f.ctx(hits)
		if sp.Steps[last].eval(c) && !excepted(r, f, hits) {
			var linked []string
			if sp.Link {
				linked = s.runsWritten(f, st.paths)
			}
			if !sp.Link || len(linked) > 0 {
				out := []hit{{rule: r, prog: c.prog, via: c.via, events: append(append([]string(nil), st.ids...), f.ev.ID)}}
				if sp.Link {
					out[0].detail = "runs " + strings.Join(linked, ", ") + " written earlier in the session"
				}
				if sp.Inherit {
					out = append(out, s.inherited(r, linked, out[0])...)
				}
				*st = seqState{}
				return out
			}
		}
	}
	// Otherwise the next step (or a fresh start on step 0).
	c := f.ctx(hits)
	switch {
	case st.step < last && st.step > 0 && sp.Steps[st.step].eval(c):
		st.step++
		st.ids = appendCapped(st.ids, f.ev.ID)
	case sp.Steps[0].eval(f.ctx(hits)):
		if st.step == 0 || !sp.Link {
			*st = seqState{step: 1, start: ts}
		}
		st.start = ts
		st.ids = appendCapped(st.ids, f.ev.ID)
		if sp.Link {
			// The file a write tool wrote, or the files a download saved.
			written := f.downloadTargets()
			if f.toolPath != "" {
				written = []string{f.toolPath}
			}
			for _, p := range written {
				st.paths = appendCapped(st.paths, p)
				// A later write of the same file replaces what we know of it.
				s.noteWrite(p, f.ev.ID, f.content)
			}
		}
	}
	return nil
}

func appendCapped(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	if len(s) >= 16 {
		s = s[1:]
	}
	return append(s, v)
}

func (s *session) noteWrite(p, id string, cf *ContentFacts) {
	if s.written == nil {
		s.written = map[string]writeInfo{}
	}
	if _, ok := s.written[p]; !ok {
		s.writtenOrder = append(s.writtenOrder, p)
		if len(s.writtenOrder) > maxWritten {
			delete(s.written, s.writtenOrder[0])
			s.writtenOrder = s.writtenOrder[1:]
		}
	}
	s.written[p] = writeInfo{eventID: id, content: cf}
}

// runsWritten returns the files among paths that this event runs: as the
// command itself (./x.sh), or as the script of a shell, interpreter or
// source (bash x.sh, python3 x.py, . x.sh).
func (s *session) runsWritten(f *facts, paths []string) []string {
	var out []string
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	for i := range f.progs {
		p := &f.progs[i]
		cands := []string{}
		if strings.Contains(p.path, "/") {
			cands = append(cands, p.path)
		}
		syntaxOnly := shells[p.name] && hasFlag(p.args, "n")
		if (shells[p.name] && !syntaxOnly) || interpFlags[interpBase(p.name)] != "" || p.name == "source" || p.name == "." {
			for _, a := range p.args {
				if !strings.HasPrefix(a, "-") {
					cands = append(cands, a)
					break
				}
			}
		}
		cands = append(cands, runnerTargets(p)...)
		for _, c := range cands {
			np := normPath(c, f.cwd)
			for _, w := range paths {
				if !want[w] {
					continue
				}
				hook, isHook := strings.CutPrefix(c, "hook:")
				switch {
				case isHook:
					// A hook of that name in any hooks folder (.git/hooks,
					// .githooks, .husky, a core.hooksPath elsewhere).
					if path.Base(w) != hook || !strings.Contains(strings.ToLower(path.Base(path.Dir(w))), "hook") && path.Base(path.Dir(w)) != ".husky" {
						continue
					}
				case w == np:
				case (c == "." || !strings.Contains(path.Base(c), ".")) && under(w, np) && isTestFile(w):
					// A test runner given a folder runs the test files in it.
				default:
					continue
				}
				out = append(out, path.Base(w))
				want[w] = false
			}
		}
	}
	return out
}

// runnerTargets returns the files that tools which run other files take:
// make's Makefile (-f, -C), the notebooks of jupyter nbconvert --execute,
// jupyter execute and papermill, and pytest's files and folders (the
// project when none is given).
func runnerTargets(p *prog) []string {
	var out []string
	name, args := p.name, p.args
	// python -m pytest ..., python3 -m jupyter ...: the module is the runner.
	if interpBase(name) == "python" {
		for i, a := range args {
			if a == "-m" && i+1 < len(args) {
				name, args = args[i+1], args[i+2:]
				break
			}
		}
	}
	switch name {
	case "git":
		// Hooks git runs for a subcommand, wherever core.hooksPath points:
		// a file written in this session under that name in a hooks
		// folder counts as run.
		if i := subcommandAt(name, args); i >= 0 {
			out = gitHooksRun[args[i]]
		}
		return out
	case "make", "gmake":
		dir := "."
		var file string
		for i, a := range args {
			switch {
			case (a == "-f" || a == "--file" || a == "--makefile") && i+1 < len(args):
				file = args[i+1]
			case strings.HasPrefix(a, "--file=") || strings.HasPrefix(a, "--makefile="):
				_, file, _ = strings.Cut(a, "=")
			case a == "-C" && i+1 < len(args):
				dir = args[i+1]
			}
		}
		if file != "" {
			return []string{path.Join(dir, file)}
		}
		return []string{path.Join(dir, "Makefile"), path.Join(dir, "makefile"), path.Join(dir, "GNUmakefile")}
	case "jupyter", "papermill", "ipython", "nbconvert":
		for _, a := range args {
			if strings.HasSuffix(a, ".ipynb") || name == "ipython" && strings.HasSuffix(a, ".py") {
				out = append(out, a)
			}
		}
	case "pytest", "py.test":
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				a, _, _ = strings.Cut(a, "::")
				out = append(out, a)
			}
		}
		if len(out) == 0 {
			out = append(out, ".")
		}
	}
	return out
}

// gitHooksRun maps a git subcommand to the hooks it runs, as hook-name
// markers matched by runsWritten against files written in a hooks folder.
var gitHooksRun = map[string][]string{
	"commit":      {"hook:pre-commit", "hook:prepare-commit-msg", "hook:commit-msg", "hook:post-commit"},
	"push":        {"hook:pre-push"},
	"checkout":    {"hook:post-checkout"},
	"switch":      {"hook:post-checkout"},
	"clone":       {"hook:post-checkout"},
	"merge":       {"hook:pre-merge-commit", "hook:post-merge"},
	"pull":        {"hook:post-merge"},
	"rebase":      {"hook:pre-rebase", "hook:post-rewrite"},
	"am":          {"hook:applypatch-msg", "hook:pre-applypatch", "hook:post-applypatch"},
	"cherry-pick": {"hook:post-rewrite"},
}

// isTestFile reports whether pytest collects the file by default.
func isTestFile(p string) bool {
	b := path.Base(p)
	return strings.HasSuffix(b, ".py") && (strings.HasPrefix(b, "test_") || strings.HasSuffix(b, "_test.py"))
}

// inherited turns the findings of the linked files' content into hits of
// their own rule ids, categories and severities, now that they run.
func (s *session) inherited(r *Rule, linked []string, base hit) []hit {
	var out []hit
	seen := map[string]bool{}
	for p, wi := range s.written {
		if wi.content == nil {
			continue
		}
		match := false
		for _, l := range linked {
			if path.Base(p) == l {
				match = true
			}
		}
		if !match {
			continue
		}
		for _, fd := range wi.content.Findings {
			if seen[fd.Rule] || fd.Severity < High {
				continue
			}
			seen[fd.Rule] = true
			h := base
			h.asID, h.asCategory, h.asSeverity = fd.Rule, fd.Category, fd.Severity
			h.detail = "script " + path.Base(p) + " runs a command matching " + fd.Rule
			out = append(out, h)
		}
	}
	return out
}
