package shell

import (
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"
)

// arg is one resolved word.
type arg struct {
	val string // value after quote removal and static resolution; unresolved parts as source text
	raw string // source text
	lit bool   // every part was resolved
	dyn bool   // a variable or command substitution was resolved to build it
	dq  bool   // the word contains double or single quotes (no field splitting)
}

// word resolves wd statically.
func (w *walker) word(wd *syntax.Word, f frame) arg {
	r := arg{lit: true, raw: f.text(wd)}
	if len(wd.Parts) == 1 {
		if l, ok := wd.Parts[0].(*syntax.Lit); ok {
			r.val = unescapeLit(l.Value, false)
			return r
		}
	}
	var b strings.Builder
	for _, p := range wd.Parts {
		w.part(&b, p, f, &r, false)
		if b.Len() > maxArgBytes*4 {
			break
		}
	}
	r.val = b.String()
	return r
}

func (w *walker) part(b *strings.Builder, p syntax.WordPart, f frame, r *arg, inDbl bool) {
	switch p := p.(type) {
	case *syntax.Lit:
		b.WriteString(unescapeLit(p.Value, inDbl))
	case *syntax.SglQuoted:
		r.dq = true
		if p.Dollar {
			b.WriteString(decodeEscapes(p.Value, escANSI))
		} else {
			b.WriteString(p.Value)
		}
	case *syntax.DblQuoted:
		r.dq = true
		for _, q := range p.Parts {
			w.part(b, q, f, r, true)
		}
	case *syntax.ParamExp:
		if name, ok := simpleParam(p); ok {
			if v, ok := w.vars[name]; ok {
				b.WriteString(v)
				r.dyn = true
				return
			}
			if name == "IFS" {
				// unset IFS splits on blanks: cat${IFS}/etc/passwd
				b.WriteByte(' ')
				r.dyn = true
				return
			}
		}
		if name, def, ok := defaultParam(p); ok {
			// ${CMD:-rm}: the default applies unless CMD was assigned
			if v, ok := w.vars[name]; ok && (v != "" || p.Exp.Op == syntax.DefaultUnset) {
				b.WriteString(v)
			} else if def != nil {
				var dr arg
				dr.lit = true
				for _, q := range def.Parts {
					w.part(b, q, f, &dr, inDbl)
				}
				if !dr.lit {
					r.lit = false
				}
			}
			r.dyn = true
			return
		}
		b.WriteString(f.text(p))
		r.lit = false
	case *syntax.CmdSubst:
		if out, ok := w.staticSubst(p, f); ok {
			b.WriteString(strings.TrimRight(out, "\n"))
			r.dyn = true
			return
		}
		b.WriteString(f.text(p))
		r.lit = false
	default:
		b.WriteString(f.text(p))
		r.lit = false
	}
}

// simpleParam returns the name of $name or ${name}.
func simpleParam(p *syntax.ParamExp) (string, bool) {
	if p.Param == nil || p.Excl || p.Length || p.Width || p.IsSet || p.Index != nil ||
		p.Slice != nil || p.Repl != nil || p.Exp != nil || p.Names != 0 || p.Flags != nil ||
		p.NestedParam != nil || len(p.Modifiers) > 0 {
		return "", false
	}
	return p.Param.Value, true
}

// defaultParam matches ${name-word} and ${name:-word}.
func defaultParam(p *syntax.ParamExp) (string, *syntax.Word, bool) {
	if p.Param == nil || p.Exp == nil || p.Excl || p.Length || p.Index != nil || p.Slice != nil || p.Repl != nil {
		return "", nil, false
	}
	if p.Exp.Op != syntax.DefaultUnset && p.Exp.Op != syntax.DefaultUnsetOrNull {
		return "", nil, false
	}
	return p.Param.Value, p.Exp.Word, true
}

// unescapeLit removes backslash quoting from a literal as the shell would.
func unescapeLit(s string, inDbl bool) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		n := s[i+1]
		if n == '\n' {
			i++
			continue
		}
		if inDbl && !strings.ContainsRune("$`\"\\", rune(n)) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte(n)
		i++
	}
	return b.String()
}

type escMode int

const (
	escANSI   escMode = iota // $'...': \NNN octal
	escPrintf                // printf format and %b: \NNN and \0NNN octal
	escEcho                  // echo -e: \0NNN octal
)

// decodeEscapes interprets backslash escapes (\n, \xHH, octal, \uHHHH).
func decodeEscapes(s string, mode escMode) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch n := s[i]; n {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case 'e', 'E':
			b.WriteByte(0x1b)
		case '\\':
			b.WriteByte('\\')
		case '\'', '"', '?':
			b.WriteByte(n)
		case 'x':
			v, k := hexRun(s[i+1:], 2)
			if k == 0 {
				b.WriteString("\\x")
				continue
			}
			b.WriteByte(byte(v))
			i += k
		case 'u', 'U':
			max := 4
			if n == 'U' {
				max = 8
			}
			v, k := hexRun(s[i+1:], max)
			if k == 0 {
				b.WriteByte('\\')
				b.WriteByte(n)
				continue
			}
			b.WriteRune(rune(v))
			i += k
		case 'c':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i] & 0x1f)
			}
		default:
			if n >= '0' && n <= '7' {
				start := i
				if n == '0' && mode != escANSI {
					start = i + 1
				}
				v, k := octRun(s[start:], 3)
				if mode == escEcho && n != '0' {
					b.WriteByte('\\')
					b.WriteByte(n)
					continue
				}
				b.WriteByte(byte(v))
				i = start + k - 1
				continue
			}
			b.WriteByte('\\')
			b.WriteByte(n)
		}
	}
	return b.String()
}

func hexRun(s string, max int) (int, int) {
	v, k := 0, 0
	for k < max && k < len(s) {
		c := s[k]
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		default:
			return v, k
		}
		v = v*16 + d
		k++
	}
	return v, k
}

func octRun(s string, max int) (int, int) {
	v, k := 0, 0
	for k < max && k < len(s) && s[k] >= '0' && s[k] <= '7' {
		v = v*8 + int(s[k]-'0')
		k++
	}
	return v, k
}

// baseName returns the last element of a command path.
func baseName(s string) string {
	if i := strings.LastIndexByte(strings.TrimRight(s, "/"), '/'); i >= 0 {
		return strings.TrimRight(s, "/")[i+1:]
	}
	return s
}

// call handles a simple command: VAR= prefixes, argv, wrappers.
func (w *walker) call(c *syntax.CallExpr, redirs []Redirect, stdin *string, f frame) {
	var env []string
	for _, as := range c.Assigns {
		if as.Name == nil {
			continue
		}
		name := as.Name.Value
		if as.Value == nil {
			if as.Array != nil {
				w.subs(as.Array, f)
				env = append(env, name+"="+f.text(as.Array))
			} else {
				env = append(env, name+"=")
			}
			if len(c.Args) == 0 {
				delete(w.vars, name)
				w.a.Assigns = appendCapped(w.a.Assigns, env[len(env)-1])
			}
			continue
		}
		w.subs(as.Value, f)
		v := w.word(as.Value, f)
		kv := name + "=" + v.val
		env = append(env, kv)
		w.addPathsOf(v.val)
		if len(c.Args) == 0 {
			if v.lit && !as.Append {
				w.vars[name] = v.val
			} else {
				delete(w.vars, name)
			}
			w.a.Assigns = appendCapped(w.a.Assigns, kv)
		}
	}
	if len(c.Args) == 0 {
		return
	}
	args := make([]arg, 0, len(c.Args))
	for _, wd := range c.Args {
		w.steps++
		w.subs(wd, f)
		a := w.word(wd, f)
		// An unquoted expansion is split into fields by the shell:
		// CMD="curl -s"; $CMD url runs curl.
		if a.dyn && !a.dq && strings.ContainsAny(a.val, " \t\n") {
			for _, fld := range strings.Fields(a.val) {
				args = append(args, arg{val: fld, raw: a.raw, lit: a.lit, dyn: true})
			}
			continue
		}
		args = append(args, a)
	}
	w.exec(args, env, redirs, stdin, f)
}

// vals returns the values of args.
func vals(args []arg) []string {
	if len(args) == 0 {
		return nil
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = capString(a.val, maxArgBytes)
	}
	return out
}

// obfuscatedName reports a command word that hides its name behind quotes
// or escapes inside it.
func obfuscatedName(a arg) bool {
	if a.raw == a.val || a.raw == "" || a.dyn {
		return false
	}
	switch a.raw {
	case `\` + a.val, `"` + a.val + `"`, `'` + a.val + `'`:
		return false
	}
	return true
}

// exec unwraps prefix wrappers from argv, emits the program that runs and
// follows the commands it runs in turn (bash -c, eval, su -c, ssh, watch,
// find -exec, a here-doc fed to a shell).
func (w *walker) exec(args []arg, env []string, redirs []Redirect, stdin *string, f frame) int {
	args = w.expandCommandWord(args)
	for len(args) > 0 && args[0].lit && w.steps < maxSteps {
		w.steps++
		name := baseName(args[0].val)
		start, extraEnv, ok := prefixWrapper(name, args)
		if !ok {
			break
		}
		start = min(start, len(args))
		inner := args[start:]
		if name == "env" {
			if s, ok := envSplitString(args[1:start]); ok {
				inner = append(splitWords(s), inner...)
			}
		}
		if len(inner) == 0 {
			break
		}
		f = f.with(name, vals(args[1:start]))
		env = append(env, extraEnv...)
		args = inner
	}
	if len(args) == 0 {
		return -1
	}
	cmd := args[0]
	p := Program{
		Path:      capString(cmd.val, maxArgBytes),
		Args:      vals(args[1:]),
		Env:       env,
		Redirects: redirs,
		Dynamic:   cmd.dyn || !cmd.lit,
	}
	if cmd.lit {
		p.Name = baseName(cmd.val)
		p.Obfuscated = obfuscatedName(cmd) || strings.ContainsAny(p.Name, "*?[")
	}
	if cmd.raw != p.Path {
		p.Raw = capString(cmd.raw, maxArgBytes)
	}
	k := w.emit(p, f)
	if k < 0 {
		return -1
	}
	prog := &w.a.Programs[k]
	w.fileFacts(prog, args)
	w.follow(prog, args, stdin)
	switch n := w.a.Programs[k].Name; n {
	case "cd", "pushd":
		w.chdir(w.a.Programs[k].Args)
	case "alias":
		for _, a := range w.a.Programs[k].Args {
			if eq := strings.IndexByte(a, '='); eq > 0 {
				if w.aliases == nil {
					w.aliases = map[string]string{}
				}
				if len(w.aliases) < 256 {
					w.aliases[a[:eq]] = a[eq+1:]
				}
			}
		}
	}
	return k
}

// expandCommandWord applies what bash does to a command word before
// running it and that hides the name: brace expansion ({rm,-rf,/} runs
// rm -rf /) and aliases defined earlier in the same command.
func (w *walker) expandCommandWord(args []arg) []arg {
	for range 4 { // alias chains, bounded
		if len(args) == 0 || !args[0].lit {
			return args
		}
		a0 := args[0]
		if !a0.dq && len(a0.val) > 2 && a0.val[0] == '{' && a0.val[len(a0.val)-1] == '}' &&
			strings.Contains(a0.val, ",") && !strings.ContainsAny(a0.val, " \t") && strings.Count(a0.val, "{") == 1 {
			parts := strings.Split(a0.val[1:len(a0.val)-1], ",")
			out := make([]arg, 0, len(parts)+len(args)-1)
			for _, pt := range parts {
				if pt != "" {
					out = append(out, arg{val: pt, raw: a0.raw, lit: true, dyn: true})
				}
			}
			return append(out, args[1:]...)
		}
		if w.aliases == nil {
			return args
		}
		v, ok := w.aliases[a0.val]
		if !ok || a0.dq {
			return args
		}
		words := splitWords(v)
		for i := range words {
			words[i].dyn = true
			words[i].raw = a0.raw
		}
		args = append(words, args[1:]...)
		delete(w.aliases, a0.val) // bash does not expand an alias inside itself
	}
	return args
}

// follow parses the commands a program runs from its arguments or stdin.
// prog may be invalidated by appends, so everything needed is copied first.
func (w *walker) follow(prog *Program, args []arg, stdin *string) {
	name := prog.Name
	base := frame{depth: prog.Depth + 1, wrappers: prog.Wrappers, wargs: prog.WrapperArgs}
	rest := args[1:]
	switch {
	case isShell(name):
		sc := parseShellArgs(prog.Args)
		switch {
		case sc.hasC && sc.cmd >= 0:
			w.nested(prog.Args[sc.cmd], base.with(name+" -c", prog.Args[:sc.cmd]))
		case sc.script < 0 && stdin != nil:
			w.nested(*stdin, base.with(name+" stdin", nil))
		}
	case name == "eval":
		w.nested(strings.Join(prog.Args, " "), base.with("eval", nil))
	case name == "su" || name == "runuser":
		if c, ok := suCommand(prog.Args); ok {
			w.nested(c, base.with(name+" -c", nil))
		}
	case name == "ssh":
		if c, ok := sshCommand(prog.Args); ok {
			// The remote command's files are the other host's: they are
			// not recorded in Paths, Reads or Writes.
			w.remote++
			w.nested(c, base.with("ssh", sshTarget(prog.Args)))
			w.remote--
		}
	case name == "kubectl" || name == "oc" || name == "docker" || name == "podman" || name == "nerdctl":
		if c, label, ok := containerCommand(name, prog.Args); ok {
			// runs inside a container: its files are not this host's
			w.remote++
			w.execWords(c, base.with(label, nil))
			w.remote--
		}
	case name == "trap":
		// trap 'CMD' SIGNAL...: CMD runs later, on the signal
		if len(prog.Args) >= 2 && !strings.HasPrefix(prog.Args[0], "-") {
			w.nested(prog.Args[0], base.with("trap", prog.Args[1:]))
		}
	case name == "script":
		if c, ok := optionValue(prog.Args, "-c", "--command"); ok {
			w.nested(c, base.with("script -c", nil))
		}
	case (name == "at" || name == "batch") && stdin != nil && !hasFlag(prog.Args, "-f", "-l", "-r", "-d", "-c"):
		w.nested(*stdin, base.with(name+" stdin", nil))
	case name == "watch":
		if c, ok := watchCommand(prog.Args); ok {
			w.nested(c, base.with("watch", nil))
		}
	case name == "find":
		for i := 0; i < len(rest); i++ {
			switch rest[i].val {
			case "-exec", "-execdir", "-ok", "-okdir":
				j := i + 1
				for j < len(rest) && rest[j].val != ";" && rest[j].val != "+" {
					j++
				}
				if j > i+1 {
					w.exec(rest[i+1:j], nil, nil, nil, base.with("find "+rest[i].val, nil))
				}
				i = j
			}
		}
	case name == "source" || name == ".":
		if len(prog.Args) > 0 && isStdinPath(prog.Args[0]) && stdin != nil {
			w.nested(*stdin, base.with(name+" stdin", nil))
		}
	}
}

// execWords runs an argv given as plain words (kubectl exec -- cmd ...).
func (w *walker) execWords(words []string, f frame) {
	args := make([]arg, len(words))
	for i, v := range words {
		args[i] = arg{val: v, raw: v, lit: true}
	}
	w.exec(args, nil, nil, nil, f)
}

// containerCommand returns the argv run by kubectl/oc exec POD -- CMD and
// docker/podman exec [opts] CONTAINER CMD.
func containerCommand(name string, args []string) ([]string, string, bool) {
	if len(args) == 0 || args[0] != "exec" {
		// kubectl -n ns exec: find the subcommand after global options
		i := 0
		for i < len(args) && strings.HasPrefix(args[i], "-") {
			if !strings.Contains(args[i], "=") && (args[i] == "-n" || args[i] == "--namespace" || args[i] == "--context" || args[i] == "--kubeconfig" || args[i] == "-H" || args[i] == "--host") {
				i++
			}
			i++
		}
		if i >= len(args) || args[i] != "exec" {
			return nil, "", false
		}
		args = args[i:]
	}
	label := name + " exec"
	if name == "kubectl" || name == "oc" {
		for i, a := range args {
			if a == "--" && i+1 < len(args) {
				return args[i+1:], label, true
			}
		}
		return nil, "", false
	}
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		switch args[i] {
		case "-e", "--env", "-u", "--user", "-w", "--workdir", "--env-file", "--detach-keys":
			i++
		}
		i++
	}
	if i+1 >= len(args) {
		return nil, "", false
	}
	return args[i+1:], label, true
}

// optionValue returns the value of the first of names in args, given as
// "-c VALUE", "--command VALUE" or "--command=VALUE".
func optionValue(args []string, names ...string) (string, bool) {
	for i, a := range args {
		for _, n := range names {
			if i+1 < len(args) && (a == n || len(n) == 2 && len(a) > 2 && a[0] == '-' && a[1] != '-' && a[len(a)-1] == n[1]) {
				return args[i+1], true // -c CMD, -qc CMD
			}
			if strings.HasPrefix(n, "--") && strings.HasPrefix(a, n+"=") {
				return a[len(n)+1:], true
			}
		}
	}
	return "", false
}

func isStdinPath(s string) bool {
	return s == "/dev/stdin" || s == "/proc/self/fd/0" || s == "/dev/fd/0" || s == "-"
}

// isShell reports whether name is a POSIX-style shell that accepts -c.
func isShell(name string) bool {
	switch name {
	case "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "posh", "fish", "rbash":
		return true
	}
	return false
}

type shellArgs struct {
	hasC   bool
	cmd    int // index of the -c string in args, or -1
	script int // index of the script operand, or -1
}

// parseShellArgs finds the -c string or script operand of sh/bash/zsh.
func parseShellArgs(args []string) shellArgs {
	sa := shellArgs{cmd: -1, script: -1}
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" || a == "-" {
			i++
			break
		}
		if strings.HasPrefix(a, "--") {
			if a == "--rcfile" || a == "--init-file" {
				i++
			}
			i++
			continue
		}
		if len(a) > 1 && (a[0] == '-' || a[0] == '+') {
			for _, c := range a[1:] {
				switch c {
				case 'c':
					sa.hasC = true
				case 'o', 'O':
					i++
				}
			}
			i++
			continue
		}
		break
	}
	if i < len(args) {
		if sa.hasC {
			sa.cmd = i
		} else if args[i] != "-s" {
			sa.script = i
		}
	}
	return sa
}

// isStdinShell reports a shell whose commands come from its stdin: no -c,
// no script operand (or /dev/stdin), and no input redirection of its own.
func isStdinShell(p *Program) bool {
	for _, r := range p.Redirects {
		if r.FD == 0 || r.Op == "<" || r.Op == "<<" || r.Op == "<<<" || r.Op == "<<-" {
			return false
		}
	}
	if p.Name == "source" || p.Name == "." {
		return len(p.Args) > 0 && isStdinPath(p.Args[0])
	}
	if p.Name == "at" || p.Name == "batch" {
		return !hasFlag(p.Args, "-f", "-l", "-r", "-d", "-c")
	}
	if !isShell(p.Name) {
		return false
	}
	sa := parseShellArgs(p.Args)
	if sa.hasC {
		return false
	}
	return sa.script < 0 || isStdinPath(p.Args[sa.script])
}

// suCommand returns the -c / --command string of su or runuser.
func suCommand(args []string) (string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-c" || a == "--command" || a == "--session-command":
			if i+1 < len(args) {
				return args[i+1], true
			}
		case strings.HasPrefix(a, "--command="):
			return strings.TrimPrefix(a, "--command="), true
		case strings.HasPrefix(a, "--session-command="):
			return strings.TrimPrefix(a, "--session-command="), true
		case len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.HasSuffix(a, "c") && !strings.ContainsAny(a[1:len(a)-1], "sgGwc"):
			// clustered flags ending in c: -lc CMD
			if i+1 < len(args) {
				return args[i+1], true
			}
		case a == "-s" || a == "--shell" || a == "-g" || a == "--group" || a == "-G" || a == "--supp-group" || a == "-w" || a == "--whitelist-environment":
			i++
		}
	}
	return "", false
}

// sshValued are ssh's options that take an argument.
const sshValued = "BbcDEeFIiJLlmOopQRSWw"

// sshSplit returns the index of the destination operand in args.
func sshSplit(args []string) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return i + 1
		}
		if len(a) > 1 && a[0] == '-' {
			last := a[len(a)-1]
			if len(a) == 2 && strings.IndexByte(sshValued, last) >= 0 {
				i++
			}
			continue
		}
		return i
	}
	return len(args)
}

func sshTarget(args []string) []string {
	if i := sshSplit(args); i < len(args) {
		return []string{args[i]}
	}
	return nil
}

// sshCommand returns the remote command of ssh HOST CMD...
func sshCommand(args []string) (string, bool) {
	i := sshSplit(args)
	if i+1 >= len(args) {
		return "", false
	}
	return strings.Join(args[i+1:], " "), true
}

// watchCommand returns the command watch runs through sh -c.
func watchCommand(args []string) (string, bool) {
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) > 1 && a[0] == '-' {
			if a == "-n" || a == "--interval" || a == "-q" || a == "--equexit" {
				i++
			}
			i++
			continue
		}
		break
	}
	if i >= len(args) {
		return "", false
	}
	return strings.Join(args[i:], " "), true
}

// prefixWrapper recognises commands that run the rest of their argv as a
// new command (sudo, env, nohup, xargs, ...). It returns the index of the
// inner argv[0] in args and NAME=value words consumed on the way.
func prefixWrapper(name string, args []arg) (int, []string, bool) {
	switch name {
	case "sudo":
		i := skipOpts(args, "ugpCDhrtTURo", []string{"--user", "--group", "--prompt", "--close-from", "--chdir", "--host", "--role", "--type", "--command-timeout", "--other-user", "--chroot"})
		i, env := skipAssigns(args, i)
		return i, env, true
	case "doas":
		return skipOpts(args, "uC", nil), nil, true
	case "env":
		return envWrapper(args)
	case "nohup", "builtin", "setsid", "torsocks", "proxychains", "proxychains4", "caffeinate", "unbuffer", "catchsegv":
		return skipOpts(args, "", nil), nil, true
	case "nice":
		i := 1
		for i < len(args) {
			a := args[i].val
			switch {
			case a == "-n" || a == "--adjustment":
				i += 2
				continue
			case strings.HasPrefix(a, "-"):
				i++
				continue
			}
			break
		}
		return i, nil, true
	case "ionice":
		return skipOpts(args, "cnpPu", []string{"--class", "--classdata", "--pid", "--pgid", "--uid"}), nil, true
	case "chrt":
		i := skipOpts(args, "T", nil)
		return i + 1, nil, true // priority
	case "taskset":
		i := skipOpts(args, "", nil)
		return i + 1, nil, true // mask
	case "timeout":
		i := skipOpts(args, "sk", []string{"--signal", "--kill-after"})
		return i + 1, nil, true // duration
	case "time":
		return skipOpts(args, "fo", []string{"--format", "--output"}), nil, true
	case "command":
		for _, a := range args[1:] {
			if !strings.HasPrefix(a.val, "-") {
				break
			}
			if strings.ContainsAny(a.val, "vV") {
				return 0, nil, false // command -v only looks the name up
			}
		}
		return skipOpts(args, "", nil), nil, true
	case "exec":
		return skipOpts(args, "a", nil), nil, true
	case "stdbuf":
		return skipOpts(args, "ioe", []string{"--input", "--output", "--error"}), nil, true
	case "xargs":
		return xargsStart(args), nil, true
	case "busybox":
		return 1, nil, true
	case "systemd-run":
		return skipOpts(args, "upEMH", []string{"--unit", "--property", "--setenv", "--on-active", "--on-boot",
			"--on-startup", "--on-unit-active", "--on-unit-inactive", "--on-calendar", "--slice", "--description",
			"--uid", "--gid", "--nice", "--working-directory", "--machine", "--host", "--timer-property", "--path-property",
			"--socket-property"}), nil, true
	case "unshare":
		return skipOpts(args, "S G", []string{"--setuid", "--setgid", "--root", "--wd"}), nil, true
	case "nsenter":
		return skipOpts(args, "tSGrw", []string{"--target", "--setuid", "--setgid", "--root", "--wd"}), nil, true
	case "chroot":
		i := skipOpts(args, "", []string{"--userspec", "--groups"})
		return i + 1, nil, true // new root
	case "flock":
		i := skipOpts(args, "wEc", []string{"--timeout", "--conflict-exit-code", "--command"})
		return i + 1, nil, true // lock file
	}
	return 0, nil, false
}

// skipOpts returns the index of the first operand after args[0]'s options.
// valued lists short options that take an argument; long lists long ones.
func skipOpts(args []arg, valued string, long []string) int {
	i := 1
	for i < len(args) {
		a := args[i].val
		if a == "--" {
			return i + 1
		}
		if len(a) < 2 || a[0] != '-' {
			return i
		}
		if strings.HasPrefix(a, "--") {
			i++
			if !strings.Contains(a, "=") {
				for _, l := range long {
					if a == l {
						i++
						break
					}
				}
			}
			continue
		}
		// short cluster: a valued option consumes the rest of the word or
		// the next word.
		i++
		for j := 1; j < len(a); j++ {
			if strings.IndexByte(valued, a[j]) >= 0 {
				if j == len(a)-1 {
					i++
				}
				break
			}
		}
	}
	return i
}

// skipAssigns consumes NAME=value words.
func skipAssigns(args []arg, i int) (int, []string) {
	var env []string
	for i < len(args) && isAssign(args[i].val) {
		env = append(env, args[i].val)
		i++
	}
	return i, env
}

func isAssign(s string) bool {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return false
	}
	for i, c := range s[:eq] {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// envWrapper skips env's options and NAME=value words.
func envWrapper(args []arg) (int, []string, bool) {
	i := 1
	var env []string
	for i < len(args) {
		a := args[i].val
		switch {
		case a == "--":
			return i + 1, env, true
		case a == "-u" || a == "--unset" || a == "-C" || a == "--chdir":
			i += 2
			continue
		case a == "-S" || a == "--split-string":
			i += 2
			continue
		case strings.HasPrefix(a, "-") && len(a) > 1:
			i++
			continue
		case isAssign(a):
			env = append(env, a)
			i++
			continue
		}
		break
	}
	return i, env, true
}

// xargsStart returns the index of the command xargs runs.
func xargsStart(args []arg) int {
	i := 1
	for i < len(args) {
		a := args[i].val
		if a == "--" {
			return i + 1
		}
		if len(a) < 2 || a[0] != '-' {
			return i
		}
		switch a {
		case "-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter", "--max-lines", "--max-args", "--max-procs", "--max-chars", "--process-slot-var", "--eof", "--replace":
			i += 2
			continue
		}
		i++
	}
	return i
}

// validUTF8Text reports whether a decoded payload looks like a script.
func validUTF8Text(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// envSplitString returns the string given to env -S / --split-string.
func envSplitString(opts []arg) (string, bool) {
	for i, a := range opts {
		switch {
		case a.val == "-S" || a.val == "--split-string":
			if i+1 < len(opts) {
				return opts[i+1].val, true
			}
		case strings.HasPrefix(a.val, "--split-string="):
			return strings.TrimPrefix(a.val, "--split-string="), true
		case strings.HasPrefix(a.val, "-S"):
			return a.val[2:], true
		}
	}
	return "", false
}

func splitWords(s string) []arg {
	fs := strings.Fields(s)
	out := make([]arg, len(fs))
	for i, f := range fs {
		out[i] = arg{val: f, raw: f, lit: true}
	}
	return out
}
