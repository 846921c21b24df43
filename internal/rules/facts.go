package rules

import (
	"encoding/base64"
	"encoding/json"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/shell"
)

// prog is one program the event would run, as rules see it: the shell
// parser's view plus what this package unwraps on top (decoded payloads,
// text piped into a shell or crontab, su -c bodies, names built from
// variables or printf escapes).
type prog struct {
	name      string
	path      string
	args      []string
	env       []string
	wrappers  []string
	wrapFull  []string // wrappers with their options ("sudo -S")
	dynamic   bool     // the name was built at run time
	resolved  bool     // ...and this package worked out what it is
	decoded   bool     // came out of a base64/hex-decoded payload
	script    bool     // came from file content (script, unit, crontab)
	depth     int
	pipeline  int // index into facts.pipes, or -1
	redirects []shell.Redirect
	// argPaths caches the normalised path in each argument ("" if none).
	argPaths []string
}

// pathArgs returns the normalised paths named by p's arguments, computed
// once per event.
func (f *facts) pathArgs(p *prog) []string {
	if p.argPaths == nil {
		p.argPaths = make([]string, len(p.args))
		base := f.cwd
		dirFlag := chdirFlag[p.name]
		auth := authFileOpts[p.name]
		for j, a := range p.args {
			if auth != nil && (j > 0 && auth[p.args[j-1]] || auth[optName(a)]) {
				// ssh -i KEY, curl --cert/--key, rsync -e 'ssh -i KEY': files
				// used to authenticate, not data the command reads or sends.
				continue
			}
			if dirFlag != "" && j > 0 && p.args[j-1] == dirFlag {
				// tar -C DIR: later relative names are inside DIR.
				// The directory itself is not archived, only what is named after it.
				if d := normPath(pathInWord(a), f.cwd); d != "" {
					base = d
				}
				continue
			}
			if m := whichSubst().FindStringSubmatch(a); m != nil {
				// $(which python3): the installed program, a system binary.
				p.argPaths[j] = "/usr/bin/" + m[2]
				continue
			}
			if w := pathInWord(a); w != "" {
				p.argPaths[j] = normPath(w, base)
			}
		}
	}
	return p.argPaths
}

var whichSubst = lazyRE("^[\"']?(\\$\\(|`)\\s*(?:which|command\\s+-v|type\\s+-p)\\s+([A-Za-z0-9._+-]+)\\s*(\\)|`)[\"']?$")

// authFileOpts are, per program, the options whose value is a key,
// certificate or remote-shell command used to connect, not a file sent.
var authFileOpts = map[string]map[string]bool{
	"ssh":   {"-i": true, "-F": true, "-o": true, "-S": true},
	"scp":   {"-i": true, "-F": true, "-o": true, "-S": true},
	"sftp":  {"-i": true, "-F": true, "-o": true, "-S": true},
	"rsync": {"-e": true, "--rsh": true},
	"curl":  {"--cert": true, "-E": true, "--key": true, "--cacert": true, "--capath": true, "--proxy-cert": true, "--proxy-key": true, "--proxy-cacert": true, "--crlfile": true, "--pinnedpubkey": true},
	"wget":  {"--certificate": true, "--private-key": true, "--ca-certificate": true, "--ca-directory": true, "--crl-file": true},
	"git":   {"-c": true},
}

// optName returns "--opt" for "--opt=value" (the form whose value is glued).
func optName(a string) string {
	if strings.HasPrefix(a, "--") {
		if i := strings.IndexByte(a, '='); i > 0 {
			return a[:i]
		}
	}
	return ""
}

// chdirFlag names the option that makes a program resolve the names after
// it inside another directory ("tar czf - -C ~ .ssh" archives ~/.ssh).
var chdirFlag = map[string]string{"tar": "-C", "bsdtar": "-C", "gtar": "-C"}

// facts is everything conditions look at for one event. It is built once
// per event and shared by every rule.
type facts struct {
	cx, xcx evalCtx // reused condition contexts (ctx, exceptCtx)
	ev      *event.Event
	cwd     string
	project string // project dir in normPath form
	// userPaths are the paths the user named in the session's prompts
	// (normPath form), and createdDBs the databases the session created
	// (createdb, CREATE DATABASE): filled by Evaluate from the session.
	userPaths, createdDBs []string
	userHosts             []string // hosts the user's prompts named
	userPrompts           []string // the session's prompts, newest last (capped)
	progs                 []prog
	pipes                 [][]int
	// Shell-level file access, normalised.
	reads, writes, anyPaths []string
	// File-tool access, normalised.
	toolPath   string
	toolAccess string // read | write | ""
	// decoded holds decoded payload text (base64 blobs) for text predicates.
	decoded []string
	// code holds inline interpreter code (python -c, perl -e, node -e).
	code    []string
	content *ContentFacts
	assigns []string
	// reBudget bounds the argument bytes regular expressions may scan for
	// one event, so hostile commands (thousands of nested programs with
	// long arguments) cost milliseconds, not seconds.
	reBudget int // a shell analysis exists (Bash or script content)
}

var (
	shells      = map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "ash": true, "fish": true, "busybox": true}
	interpFlags = map[string]string{"python": "-c", "python2": "-c", "python3": "-c", "perl": "-e", "ruby": "-e", "node": "-e", "nodejs": "-e", "php": "-r", "deno": "eval", "bun": "-e"}
	b64Literal  = lazyRE(`[A-Za-z0-9+/]{16,}={0,2}`)
	assignRe    = lazyRE(`(?:^|[;&|\s(])([A-Za-z_][A-Za-z0-9_]*)=('[^']*'|"[^"]*"|[^\s;&|()]*)`)
	escRe       = lazyRE(`\\x[0-9a-fA-F]{1,2}|\\[0-7]{1,3}|\\u[0-9a-fA-F]{4}`)
)

// maxRegexBytes is the argument text regular expressions may scan per event.
const maxRegexBytes = 512 << 10

// reArg applies re to an argument within the event's regex budget.
func (f *facts) reArg(re *lazyRe, s string) bool {
	if f.reBudget < len(s) {
		return false
	}
	f.reBudget -= len(s)
	return re.match(s)
}

// maxUnwrap bounds how many payloads one event may decode and re-parse.
const maxUnwrap = 16

func interpBase(name string) string {
	n := strings.ToLower(name)
	if strings.HasPrefix(n, "python") {
		if _, err := strconv.ParseFloat(strings.TrimPrefix(n, "python"), 64); err == nil {
			return "python3"
		}
	}
	return n
}

// buildFacts prepares ev for evaluation. a may be nil: then Bash commands
// are parsed here.
func buildFacts(ev *event.Event, a *shell.Analysis, content *ContentFacts) *facts {
	if content == nil {
		content = fromEventFacts(ev.Action.ContentFacts)
	}
	f := &facts{ev: ev, content: content, reBudget: maxRegexBytes}
	f.cwd = ev.Cwd
	if f.cwd == "" {
		f.cwd = ev.ProjectDir
	}
	proj := ev.ProjectDir
	if proj == "" {
		proj = ev.Cwd
	}
	f.project = normPath(proj, "")
	toolFile := ev.Action.FilePath
	if toolFile == "" && (ev.ToolName == "Glob" || ev.ToolName == "Grep") {
		toolFile = globBase(ev.Action.Pattern, ev.Action.Glob)
	}
	if toolFile != "" {
		f.toolPath = normPath(toolFile, f.cwd)
		switch ev.EventType {
		case event.TypeFileWrite, event.TypeFileEdit, event.TypeNotebook:
			f.toolAccess = "write"
		default:
			f.toolAccess = "read"
		}
	}
	cmd := ev.Action.Command
	if cmd == "" && strings.HasPrefix(ev.ToolName, "mcp__") {
		cmd = mcpCommand(ev.Action.Input)
	}
	if cmd != "" {
		if a == nil {
			a = shell.Parse(cmd, shell.Options{Cwd: f.cwd})
		}
		f.addAnalysis(a, nil, false, false, 0)
		f.dropAuthReads()
		f.stdinCode(a)
		f.unwrap(cmd)
	}
	return f
}

// dropAuthReads removes from the shell-level reads the key and certificate
// files that ssh, scp, curl or wget are given to authenticate with (one
// read per such option), so "scp -i ~/.ssh/k.pem dist.tgz host:" does not
// read a credential store; "cat ~/.ssh/k.pem" still does.
func (f *facts) dropAuthReads() {
	var auth []string
	for i := range f.progs {
		p := &f.progs[i]
		opts := authFileOpts[p.name]
		if opts == nil || p.name == "git" {
			continue
		}
		for j, a := range p.args {
			v := ""
			if j > 0 && opts[p.args[j-1]] {
				v = a
			} else if n := optName(a); opts[n] {
				v = a[len(n)+1:]
			}
			if np := normPath(v, f.cwd); np != "" {
				auth = append(auth, np)
			}
		}
	}
	for _, ap := range auth {
		if k := slices.Index(f.reads, ap); k >= 0 {
			f.reads = slices.Delete(f.reads, k, k+1)
		}
	}
}

// stdinCode treats the here-doc or here-string fed to an interpreter that
// has no inline code ("python3 - <<'EOF' ... EOF", "node <<< '...'") as
// that interpreter's code.
func (f *facts) stdinCode(a *shell.Analysis) {
	heredoc := 0 // index of the next "<<" body in a.HereDocs
	for i := range f.progs {
		p := &f.progs[i]
		for _, r := range p.redirects {
			var body string
			switch r.Op {
			case "<<", "<<-":
				if heredoc < len(a.HereDocs) {
					body = a.HereDocs[heredoc]
				}
				heredoc++
			case "<<<":
				body = strings.Trim(r.Target, `"'`)
			default:
				continue
			}
			fl := interpFlags[interpBase(p.name)]
			if fl == "" || body == "" || flagValue(p.args, fl, "") != "" || len(body) > 64<<10 {
				continue
			}
			if hasScriptFile(p.args) {
				continue
			}
			f.code = append(f.code, body)
			f.addCodeCommands(body, p)
			p = &f.progs[i]
			for _, m := range b64Literal().FindAllString(body, 8) {
				if d, ok := decodeB64(m); ok {
					f.decoded = append(f.decoded, d)
					f.code = append(f.code, d)
				}
			}
		}
	}
}

// hasScriptFile reports an interpreter argument naming a script to run
// (then stdin is data, not code); "-" means stdin.
func hasScriptFile(args []string) bool {
	for _, a := range args {
		if a == "-" {
			return false
		}
		if !strings.HasPrefix(a, "-") {
			return true
		}
	}
	return false
}

// mcpCommand returns the shell command an MCP tool is asked to run (a
// top-level "command", "cmd", "script" or "shell_command" string of its
// input), so shell-running MCP servers get the same rules as Bash.
func mcpCommand(in json.RawMessage) string {
	if len(in) == 0 || in[0] != '{' || len(in) > 1<<20 {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(in, &m) != nil {
		return ""
	}
	for _, k := range []string{"command", "cmd", "script", "shell_command", "commandLine"} {
		var s string
		if raw, ok := m[k]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

// globBase is the fixed directory part of an absolute Glob/Grep pattern
// ("/home/dev/**/.env" -> "/home/dev"), so searches outside the project
// are seen even without a path argument.
func globBase(patterns ...string) string {
	for _, p := range patterns {
		if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "~") {
			continue
		}
		if i := strings.IndexAny(p, "*?[{"); i >= 0 {
			p = p[:i]
		}
		if i := strings.LastIndexByte(p, '/'); i > 0 {
			return p[:i]
		}
		return p
	}
	return ""
}

// fromEventFacts converts the content facts the hook stored on the event.
func fromEventFacts(cf *event.ContentFacts) *ContentFacts {
	if cf == nil {
		return nil
	}
	out := &ContentFacts{Kind: cf.Kind, Tags: cf.Tags}
	for _, fd := range cf.Findings {
		sev, err := ParseSeverity(fd.Severity)
		if err != nil {
			continue
		}
		out.Findings = append(out.Findings, ContentFinding{Rule: fd.Rule, Severity: sev, Category: fd.Category})
	}
	return out
}

// addAnalysis appends a's programs, shifted into f's index space, marking
// them with extra wrappers and flags when a came from an unwrapped payload.
func (f *facts) addAnalysis(a *shell.Analysis, wrap []string, decoded, script bool, depth int) {
	if a == nil {
		return
	}
	pipeBase := len(f.pipes)
	progBase := len(f.progs)
	for _, p := range a.Programs {
		q := prog{
			name: strings.ToLower(p.Name), path: p.Path, args: p.Args, env: p.Env,
			dynamic: p.Dynamic || p.Obfuscated, decoded: decoded || decodedWrap(p.Wrappers), script: script,
			depth: p.Depth + depth, pipeline: -1, redirects: p.Redirects,
		}
		if len(wrap) > 0 {
			q.wrappers = append(append([]string(nil), wrap...), p.Wrappers...)
		} else {
			q.wrappers = p.Wrappers
		}
		if len(p.WrapperArgs) > 0 {
			q.wrapFull = make([]string, len(q.wrappers))
			off := len(q.wrappers) - len(p.Wrappers)
			for j := range q.wrappers {
				q.wrapFull[j] = q.wrappers[j]
				if k := j - off; k >= 0 && k < len(p.WrapperArgs) && len(p.WrapperArgs[k]) > 0 {
					q.wrapFull[j] += " " + strings.Join(p.WrapperArgs[k], " ")
				}
			}
		}
		if p.Pipeline >= 0 && p.Pipeline < len(a.Pipelines) {
			q.pipeline = p.Pipeline + pipeBase
		}
		f.progs = append(f.progs, q)
	}
	for _, pl := range a.Pipelines {
		idx := make([]int, 0, len(pl.Programs))
		for _, i := range pl.Programs {
			if i >= 0 && i < len(a.Programs) {
				idx = append(idx, i+progBase)
			}
		}
		f.pipes = append(f.pipes, idx)
	}
	f.assigns = append(f.assigns, a.Assigns...)
	// The parser decodes base64/base32/xxd/openssl/printf payloads itself
	// (pipelines and $(...)); keep each text once.
	for _, d := range a.Decoded {
		if !slices.Contains(f.decoded, d) {
			f.decoded = append(f.decoded, d)
		}
	}
	for _, r := range a.Reads {
		if p := normPath(r, f.cwd); p != "" {
			f.reads = append(f.reads, p)
		}
	}
	for _, w := range a.Writes {
		if p := normPath(w, f.cwd); p != "" {
			f.writes = append(f.writes, p)
		}
	}
	for _, w := range a.Paths {
		if p := normPath(w, f.cwd); p != "" {
			f.anyPaths = append(f.anyPaths, p)
		}
	}
	for _, r := range progsRedirects(f.progs[progBase:]) {
		p := normPath(r.Target, f.cwd)
		if p == "" || strings.HasPrefix(r.Target, "&") {
			continue
		}
		switch r.Op {
		case "<", "<>":
			f.reads = append(f.reads, p)
		case ">", ">>", ">|", "&>", "&>>", ">&":
			f.writes = append(f.writes, p)
		}
	}
}

// decodedWrap reports wrappers the parser records for decoded payloads.
func decodedWrap(ws []string) bool {
	for _, w := range ws {
		switch strings.Fields(w + " x")[0] {
		case "base64", "base32", "xxd", "openssl", "hex", "decode", "printf":
			return true
		}
	}
	return false
}

func progsRedirects(ps []prog) []shell.Redirect {
	var out []shell.Redirect
	for _, p := range ps {
		out = append(out, p.redirects...)
	}
	return out
}

// unwrap looks for payloads the parser cannot see into: decoded blobs piped
// into a shell, echo/printf text piped into a shell or crontab, su -c
// bodies, interpreter code, and command names built from variables.
func (f *facts) unwrap(raw string) {
	budget := maxUnwrap
	var assigns map[string]string
	for i := 0; i < len(f.progs) && budget > 0; i++ {
		p := &f.progs[i]
		if p.dynamic && p.name == "" && len(p.path) <= 1024 {
			budget--
			if assigns == nil {
				assigns = collectAssigns(raw, f.progs)
			}
			if n := resolveName(p.path, assigns); n != "" {
				p.name, p.resolved = strings.ToLower(path.Base(n)), true
			} else if ifs := assigns["IFS"]; ifs != "" {
				// IFS=,; c="rm,-rf,$HOME"; $c: the value splits into argv.
				fields := strings.FieldsFunc(expandAssigned(p.path, assigns), func(r rune) bool { return strings.ContainsRune(ifs, r) })
				if len(fields) > 0 && nameWord().MatchString(fields[0]) {
					p.name, p.resolved = strings.ToLower(path.Base(fields[0])), true
					p.args = append(fields[1:len(fields):len(fields)], p.args...)
					p.argPaths = nil
				}
			}
		}
		// git config alias.x '!cmd', core.sshCommand, core.pager...: the
		// value is a shell command git runs later.
		if p.name == "git" && budget > 0 {
			if cmd := gitShellValue(p.args); cmd != "" {
				budget--
				f.addAutorun(cmd, *p, "git config")
				p = &f.progs[i]
			}
		}
		// ssh -o ProxyCommand=CMD (or LocalCommand): ssh runs CMD with the
		// shell, now.
		if (p.name == "ssh" || p.name == "scp" || p.name == "sftp") && budget > 0 {
			for _, cmd := range sshOptionCommands(p.args) {
				if budget <= 0 {
					break
				}
				budget--
				before := len(f.progs)
				f.addAnalysis(shell.Parse(cmd, shell.Options{Cwd: f.cwd}), append(append([]string(nil), p.wrappers...), p.name+" -o"), p.decoded, p.script, p.depth+1)
				f.unwrapRange(before, cmd)
				p = &f.progs[i]
			}
		}
		switch {
		case interpFlags[interpBase(p.name)] != "":
			if code := flagValue(p.args, interpFlags[interpBase(p.name)], ""); code != "" {
				f.code = append(f.code, code)
				budget -= f.addCodeCommands(code, p)
				for _, m := range b64Literal().FindAllString(code, 8) {
					if d, ok := decodeB64(m); ok {
						f.decoded = append(f.decoded, d)
						f.code = append(f.code, d)
						// exec(b64decode(...)) of os.system("...")
						dp := *p
						dp.decoded = true
						budget -= f.addCodeCommands(d, &dp)
					}
				}
				// system(pack("H*", "726d...")), bytes.fromhex("..."): a hex
				// string handed to a call that runs commands is a command.
				if runsCommands().MatchString(code) {
					for _, m := range hexLiteral().FindAllStringSubmatch(code, 4) {
						if d, ok := decodeHexText(m[1]); ok && budget > 0 {
							budget--
							f.decoded = append(f.decoded, d)
							f.addAnalysis(shell.Parse(d, shell.Options{Cwd: f.cwd}), append(append([]string(nil), p.wrappers...), p.name+" "+interpFlags[interpBase(p.name)]), true, p.script, p.depth+1)
						}
					}
				}
			}
		}
	}
	// Pipelines: text | crontab installs cron lines, whose commands are
	// parsed like scripts. (Decoders in pipelines are the parser's job: it
	// records their output in Analysis.Decoded.)
	for _, pl := range f.pipes {
		if budget <= 0 {
			break
		}
		for k := 1; k < len(pl) && budget > 0; k++ {
			q := f.progs[pl[k]]
			switch {
			case q.name == "crontab":
				for j := 0; j < k; j++ {
					if text, ok := f.literalSource(pl[j]); ok && budget > 0 {
						budget--
						f.addCron(text, q)
					}
				}
			case shells[q.name] && !hasScriptArg(q.args) && pl[k-1] >= 0 && f.progs[pl[k-1]].name == "tr":
				// echo TEXT | tr SET1 SET2 | sh (rot13 and friends)
				t := &f.progs[pl[k-1]]
				text, ok := "", false
				for _, r := range t.redirects {
					if r.Op == "<<<" {
						text, ok = strings.Trim(r.Target, `"'`), true
					}
				}
				if !ok && k >= 2 {
					text, ok = f.literalSource(pl[k-2])
				}
				if out, done := trMap(t.args, text); ok && done && budget > 0 {
					budget--
					f.decoded = append(f.decoded, out)
					before := len(f.progs)
					f.addAnalysis(shell.Parse(out, shell.Options{Cwd: f.cwd}), append(append([]string(nil), q.wrappers...), "tr", q.name+" stdin"), true, false, q.depth+1)
					f.unwrapRange(before, out)
				}
			case q.name == "tee":
				for _, t := range f.pathArgs(&f.progs[pl[k]]) {
					if autorunText(t) && budget > 0 {
						if text, ok := f.literalSource(pl[k-1]); ok {
							budget--
							f.addAutorun(text, q, "tee "+t)
						}
					}
				}
			}
		}
	}
	// echo/printf TEXT >> ~/.bashrc (or a git hook): TEXT runs later
	// without the user, so its commands are parsed like a script.
	for i, n := 0, len(f.progs); i < n && budget > 0; i++ {
		p := f.progs[i]
		if p.name != "echo" && p.name != "printf" {
			continue
		}
		for _, r := range p.redirects {
			if r.Op != ">" && r.Op != ">>" && r.Op != ">|" {
				continue
			}
			if t := normPath(r.Target, f.cwd); autorunText(t) && budget > 0 {
				if text, ok := f.literalSource(i); ok {
					budget--
					f.addAutorun(text, p, p.name+" "+r.Op+" "+t)
				}
			}
		}
	}
}

// trMap applies "tr SET1 SET2" to text. It handles ranges (a-z) and
// reports false for options (-d, -s, -c) it does not model.
func trMap(args []string, text string) (string, bool) {
	if len(args) != 2 || text == "" || len(text) > 64<<10 {
		return "", false
	}
	from, to := trSet(strings.Trim(args[0], `"'`)), trSet(strings.Trim(args[1], `"'`))
	if len(from) == 0 || len(to) == 0 || strings.HasPrefix(args[0], "-") {
		return "", false
	}
	m := make(map[rune]rune, len(from))
	for i, c := range from {
		if _, ok := m[c]; !ok {
			m[c] = to[min(i, len(to)-1)]
		}
	}
	return strings.Map(func(r rune) rune {
		if v, ok := m[r]; ok {
			return v
		}
		return r
	}, text), true
}

// trSet expands a tr set such as "a-zA-Z" (ranges are capped at 256 runes).
func trSet(s string) []rune {
	rs := []rune(s)
	var out []rune
	for i := 0; i < len(rs); i++ {
		if i+2 < len(rs) && rs[i+1] == '-' && rs[i] <= rs[i+2] && rs[i+2]-rs[i] < 256 {
			for c := rs[i]; c <= rs[i+2]; c++ {
				out = append(out, c)
			}
			i += 2
			continue
		}
		out = append(out, rs[i])
	}
	return out
}

// gitShellValue returns the shell command a "git config KEY VALUE" stores
// for git to run later: a "!" alias or a command-valued key.
func gitShellValue(args []string) string {
	i := subcommandAt("git", args)
	if i < 0 || args[i] != "config" {
		return ""
	}
	var rest []string
	for _, a := range args[i+1:] {
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
		}
	}
	if len(rest) < 2 {
		return ""
	}
	key, val := strings.ToLower(rest[0]), strings.Trim(rest[1], `"'`)
	switch {
	case strings.HasPrefix(key, "alias.") && strings.HasPrefix(val, "!"):
		return val[1:]
	case key == "core.sshcommand", key == "core.pager", key == "core.editor", key == "core.fsmonitor", key == "sequence.editor", key == "diff.external":
		return val
	case strings.HasPrefix(key, "credential") && strings.HasSuffix(key, "helper") && strings.HasPrefix(val, "!"):
		return val[1:]
	}
	return ""
}

// expandAssigned replaces $NAME and ${NAME} with values assigned earlier in
// the command, leaving unknown ones as written.
func expandAssigned(w string, assigns map[string]string) string {
	return varRef().ReplaceAllStringFunc(strings.Trim(w, `"`), func(m string) string {
		if v, ok := assigns[varRef().FindStringSubmatch(m)[1]]; ok {
			return v
		}
		return m
	})
}

// autorunText reports files whose text is shell code run later without
// the user: shell start-up files and git hooks.
func autorunText(p string) bool {
	switch contentKind(p, "") {
	case "shell_rc", "git_hook":
		return true
	}
	return false
}

// addAutorun parses text written into a start-up file or hook as script
// programs wrapped by the writer.
func (f *facts) addAutorun(text string, q prog, via string) {
	if len(text) > 64<<10 {
		return
	}
	before := len(f.progs)
	f.addAnalysis(shell.Parse(text, shell.Options{Cwd: f.cwd}), append(append([]string(nil), q.wrappers...), via), q.decoded, true, q.depth+1)
	f.unwrapRange(before, text)
}

var (
	runsCommands = lazyRE(`\b(system|exec|popen|spawn|execSync|shell_exec|passthru|Popen|call|run)\b\s*\(`)
	hexLiteral   = lazyRE(`["']((?:[0-9a-fA-F]{2}){6,})["']`)
)

// decodeHexText decodes an even-length hex string to printable text.
func decodeHexText(h string) (string, bool) {
	if len(h) > 64<<10 {
		return "", false
	}
	b := make([]byte, len(h)/2)
	for i := range b {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return "", false
		}
		b[i] = byte(v)
	}
	return string(b), printable(b) && strings.ContainsRune(string(b), ' ')
}

// homeVars rewrites the home directory as interpreters spell it inside a
// command string into the shell's $HOME.
var homeVars = strings.NewReplacer("$ENV{HOME}", "$HOME", "$ENV{'HOME'}", "$HOME", `$ENV{"HOME"}`, "$HOME", "#{ENV['HOME']}", "$HOME", `#{ENV["HOME"]}`, "$HOME")

// codeCmdRe finds shell commands handed to the shell from interpreter code:
// os.system("..."), subprocess.run("...", shell=True), child_process
// exec("..."), system("..."), backticks in Perl/Ruby/PHP.
var codeCmdRe = lazyRE(`(?:os\.system|os\.popen|subprocess\.(?:run|call|Popen|check_output|check_call|getoutput)|execSync|exec|spawnSync|system|shell_exec|passthru|popen)\(\s*(?:\[\s*)?(?:f|r|b)?(['"])((?:[^'"\\]|\\.){2,}?)['"]`)

// addCodeCommands parses the shell commands interpreter code runs, as
// programs wrapped by the interpreter. It returns how many it parsed.
func (f *facts) addCodeCommands(code string, p *prog) int {
	if len(code) > 64<<10 {
		return 0
	}
	n := 0
	for _, m := range codeCmdRe().FindAllStringSubmatch(code, 4) {
		cmd := homeVars.Replace(strings.ReplaceAll(m[2], `\"`, `"`))
		f.addAnalysis(shell.Parse(cmd, shell.Options{Cwd: f.cwd}), append(append([]string(nil), p.wrappers...), p.name+" "+interpFlags[interpBase(p.name)]), p.decoded, p.script, p.depth+1)
		n++
	}
	return n
}

// addCron parses crontab lines: the schedule is dropped, the command parsed.
func (f *facts) addCron(text string, q prog) { f.addCronTable(text, q, false) }

// addCronTable parses a crontab; system tables (/etc/crontab, /etc/cron.d)
// have a user field after the schedule.
func (f *facts) addCronTable(text string, q prog, system bool) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		n := 5
		if strings.HasPrefix(fields[0], "@") {
			n = 1
		}
		if system {
			n++
		}
		if len(fields) <= n {
			continue
		}
		cmd := line
		for j := 0; j < n; j++ {
			cmd = strings.TrimSpace(cmd)
			cmd = cmd[strings.IndexAny(cmd, " \t"):]
		}
		before := len(f.progs)
		f.addAnalysis(shell.Parse(strings.TrimSpace(cmd), shell.Options{Cwd: f.cwd}), append(append([]string(nil), q.wrappers...), "crontab"), q.decoded, true, q.depth+1)
		f.unwrapRange(before, cmd)
	}
}

// unwrapRange extracts interpreter code for programs added from nested text.
func (f *facts) unwrapRange(from int, raw string) {
	for i := from; i < len(f.progs); i++ {
		p := f.progs[i]
		if fl := interpFlags[interpBase(p.name)]; fl != "" {
			if code := flagValue(p.args, fl, ""); code != "" {
				f.code = append(f.code, code)
				for _, m := range b64Literal().FindAllString(code, 8) {
					if d, ok := decodeB64(m); ok {
						f.decoded = append(f.decoded, d)
						f.code = append(f.code, d)
					}
				}
			}
		}
	}
}

// literalSource returns the text a pipeline's first program writes when it
// is echo/printf of literal words or cat of a here-doc/here-string.
func (f *facts) literalSource(i int) (string, bool) {
	p := f.progs[i]
	switch p.name {
	case "echo", "printf":
		var words []string
		for _, a := range p.args {
			if strings.HasPrefix(a, "-") && len(words) == 0 && len(a) <= 3 {
				continue
			}
			words = append(words, strings.Trim(a, `"'`))
		}
		s := strings.Join(words, " ")
		if p.name == "printf" || hasFlag(p.args, "e") {
			s = unescape(s)
		}
		return s, s != ""
	case "cat", "":
		for _, r := range p.redirects {
			if r.Op == "<<<" {
				return strings.Trim(r.Target, `"'`), true
			}
		}
	}
	return "", false
}

func isDecoder(q prog) bool {
	switch q.name {
	case "base64", "base32":
		return hasFlag(q.args, "d") || hasFlag(q.args, "D") || hasArg(q.args, "--decode")
	case "xxd":
		return hasFlag(q.args, "r")
	case "openssl":
		return hasArg(q.args, "-d") || hasArg(q.args, "base64")
	}
	return false
}

// hasScriptArg reports whether a shell was given a script file or -c, so
// stdin is not what it runs.
func hasScriptArg(args []string) bool {
	for _, a := range args {
		if a == "-" || a == "-s" || a == "-i" {
			continue
		}
		if strings.HasPrefix(a, "-") {
			if strings.Contains(a, "c") && !strings.HasPrefix(a, "--") {
				return true
			}
			continue
		}
		return true
	}
	return false
}

// hasFlag reports a short flag letter, alone or combined ("-rf" has r and f).
func hasFlag(args []string, letter string) bool {
	for _, a := range args {
		if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.Contains(a[1:], letter) {
			return true
		}
		if a == "--" {
			return false
		}
	}
	return false
}

func hasArg(args []string, v string) bool {
	for _, a := range args {
		if a == v || strings.HasPrefix(a, v+"=") {
			return true
		}
	}
	return false
}

// flagValue returns the word after short (or long) flag, or the value
// glued to it ("-cfoo", "--command=foo").
func flagValue(args []string, short, long string) string {
	for i, a := range args {
		switch {
		case a == short || (long != "" && a == long):
			if i+1 < len(args) {
				return strings.Trim(args[i+1], `"'`)
			}
		case long != "" && strings.HasPrefix(a, long+"="):
			return strings.Trim(a[len(long)+1:], `"'`)
		case len(short) == 2 && short[0] == '-' && len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.HasSuffix(a, short[1:]):
			// combined flags ending with the value flag: "-lc", "-ic"
			if i+1 < len(args) {
				return strings.Trim(args[i+1], `"'`)
			}
		}
	}
	return ""
}

func decodeB64(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 8 || len(s) > 1<<20 {
		return "", false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && printable(b) {
			return string(b), true
		}
	}
	return "", false
}

func printable(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	bad := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\t' && c != '\r' || c == 0x7f {
			bad++
		}
	}
	return bad*20 < len(b)
}

// unescape expands printf/echo -e escapes (\x72, \162, \u0072, \n).
func unescape(s string) string {
	s = escRe().ReplaceAllStringFunc(s, func(m string) string {
		switch m[1] {
		case 'x':
			v, _ := strconv.ParseUint(m[2:], 16, 8)
			return string(rune(v))
		case 'u':
			v, _ := strconv.ParseUint(m[2:], 16, 32)
			return string(rune(v))
		default:
			v, _ := strconv.ParseUint(m[1:], 8, 8)
			return string(rune(v))
		}
	})
	return strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\\`, `\`).Replace(s)
}

// collectAssigns gathers NAME=value assignments of the command, from the
// parser's view (programs with no name) and from the raw text.
func collectAssigns(raw string, ps []prog) map[string]string {
	m := map[string]string{}
	if len(raw) <= 64<<10 {
		for _, sm := range assignRe().FindAllStringSubmatch(raw, 64) {
			m[sm[1]] = strings.Trim(sm[2], `"'`)
		}
	}
	for _, p := range ps {
		for _, e := range p.env {
			if i := strings.IndexByte(e, '='); i > 0 {
				m[e[:i]] = strings.Trim(e[i+1:], `"'`)
			}
		}
	}
	return m
}

var (
	varRef   = lazyRE(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
	subst    = lazyRE("^\\$\\((.*)\\)$|^`(.*)`$")
	nameWord = lazyRE(`^[A-Za-z0-9_./+-]+$`)
)

// resolveName works out a command name built at run time: "$a$b" from
// earlier assignments, "$(printf '\x72\x6d')", "$(echo cm0= | base64 -d)".
func resolveName(word string, assigns map[string]string) string {
	w := strings.Trim(word, `"`)
	if sm := subst().FindStringSubmatch(w); sm != nil {
		inner := sm[1] + sm[2]
		a := shell.Parse(inner, shell.Options{})
		if a == nil || len(a.Programs) == 0 {
			return ""
		}
		f := &facts{}
		f.addAnalysis(a, nil, false, false, 0)
		text, ok := f.literalSource(0)
		if !ok {
			return ""
		}
		for _, pl := range f.pipes {
			for _, i := range pl[1:] {
				if isDecoder(f.progs[i]) {
					d, ok := decodeB64(text)
					if !ok {
						return ""
					}
					text = d
				}
			}
		}
		text = strings.TrimSpace(text)
		if nameWord().MatchString(text) {
			return text
		}
		return ""
	}
	out := varRef().ReplaceAllStringFunc(w, func(m string) string {
		n := varRef().FindStringSubmatch(m)[1]
		if v, ok := assigns[n]; ok {
			return v
		}
		return m
	})
	out = unescape(strings.Trim(out, `'"`))
	if out != w && nameWord().MatchString(out) {
		return out
	}
	return ""
}

// downloadTargets returns the files this event's downloaders write (curl
// -o/--output/-O, wget -O/--output-document or the URL's base name, a
// stdout redirect), normalised: what a later command may run.
func (f *facts) downloadTargets() []string {
	var out []string
	for i := range f.progs {
		out = append(out, f.progDownloads(&f.progs[i])...)
	}
	return out
}

// progDownloads returns the files downloader p saves (none for other
// programs).
func (f *facts) progDownloads(p *prog) []string {
	if !downloaders[p.name] {
		return nil
	}
	var out []string
	add := func(v string) {
		if np := normPath(v, f.cwd); np != "" && !strings.HasPrefix(np, "/dev/") {
			out = append(out, np)
		}
	}
	var url string
	named, remote := false, p.name == "wget"
	for j := 0; j < len(p.args); j++ {
		a := p.args[j]
		short := len(a) > 1 && a[0] == '-' && a[1] != '-'
		switch {
		case a == "--output" || a == "--output-document" || (short && p.name == "curl" && strings.HasSuffix(a, "o")) || (short && p.name == "wget" && strings.HasSuffix(a, "O")):
			if j+1 < len(p.args) {
				j++
				add(p.args[j])
				named = true
			}
		case strings.HasPrefix(a, "--output-document=") || strings.HasPrefix(a, "--output="):
			_, v, _ := strings.Cut(a, "=")
			add(v)
			named = true
		case short && p.name == "curl" && strings.Contains(a, "o"):
			// -oFILE: what follows the o in a cluster is its value.
			add(a[strings.Index(a, "o")+1:])
			named = true
		case short && p.name == "wget" && strings.Contains(a, "O"):
			// -O- (stdout), -qO/tmp/x: what follows the O is its value.
			add(a[strings.Index(a, "O")+1:])
			named = true
		case (short && p.name == "curl" && strings.Contains(a, "O")) || a == "--remote-name":
			remote = true
		case strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://"):
			url = a
		}
	}
	for _, r := range p.redirects {
		if r.Op == ">" || r.Op == ">>" || r.Op == ">|" {
			add(r.Target)
			named = true
		}
	}
	if !named && remote && url != "" {
		// Saved under the last segment of the URL's path.
		rest := url[strings.Index(url, "://")+3:]
		rest, _, _ = strings.Cut(rest, "?")
		rest, _, _ = strings.Cut(rest, "#")
		if _, pth, ok := strings.Cut(rest, "/"); ok && pth != "" && !strings.HasSuffix(pth, "/") {
			add(path.Base(pth))
		}
	}
	return out
}

// sqlDatabase finds CREATE/DROP DATABASE statements in client arguments.
var sqlDatabase = lazyRE(`(?i)\b(create|drop)\s+(?:database|schema)\s+(?:if\s+(?:not\s+)?exists\s+)?[` + "`" + `"']?([A-Za-z0-9_$-]+)`)

// databases returns the names of the databases (and schemas) this command
// creates (op "create") or drops (op "drop"): createdb/dropdb arguments
// and CREATE/DROP DATABASE or SCHEMA statements given to a SQL client.
func (f *facts) databases(op string) []string {
	var out []string
	for i := range f.progs {
		p := &f.progs[i]
		switch p.name {
		case "createdb", "dropdb":
			if p.name[:len(p.name)-2] != op {
				continue
			}
			// The name is the first argument that is not an option or
			// an option's value.
			for j := 0; j < len(p.args); j++ {
				a := p.args[j]
				if strings.HasPrefix(a, "-") {
					if len(a) == 2 && strings.ContainsAny(a[1:], "hpUTEDlOS") && j+1 < len(p.args) {
						j++ // -h host, -p port, -U user, ...
					}
					continue
				}
				out = append(out, strings.ToLower(a))
				break
			}
		case "psql", "mysql", "mariadb", "sqlcmd", "clickhouse-client", "cockroach":
			for _, a := range p.args {
				for _, m := range sqlDatabase().FindAllStringSubmatch(a, 8) {
					if strings.EqualFold(m[1], op) {
						out = append(out, strings.ToLower(m[2]))
					}
				}
			}
		}
	}
	return out
}

// sshOptionCommands returns the commands of ProxyCommand and LocalCommand
// options given on an ssh command line (-o Key=Value, -oKey=Value,
// -o "Key Value").
func sshOptionCommands(args []string) []string {
	var out []string
	for i, a := range args {
		var opt string
		switch {
		case a == "-o" && i+1 < len(args):
			opt = args[i+1]
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			opt = a[2:]
		default:
			continue
		}
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, ok = strings.Cut(opt, " ")
		}
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "proxycommand", "localcommand":
			if v = strings.TrimSpace(v); v != "" && !strings.EqualFold(v, "none") {
				out = append(out, v)
			}
		}
	}
	return out
}
