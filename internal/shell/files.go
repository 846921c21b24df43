package shell

import (
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// redirectFile sets the default fd of a file redirection and records the
// file it reads or writes.
func (w *walker) redirectFile(rd *Redirect, op syntax.RedirOperator) {
	switch op {
	case syntax.RdrIn:
		if rd.FD < 0 {
			rd.FD = 0
		}
		w.addRead(rd.Target)
	case syntax.RdrInOut:
		if rd.FD < 0 {
			rd.FD = 0
		}
		w.addRead(rd.Target)
		w.addWrite(rd.Target)
	case syntax.DplIn, syntax.DplOut:
		if rd.FD < 0 {
			rd.FD = 1
			if op == syntax.DplIn {
				rd.FD = 0
			}
		}
		t := strings.TrimSuffix(rd.Target, "-")
		if t == "" || atoiSmall(t) >= 0 {
			return // fd duplication or close
		}
		// ">& word" with a non-numeric word is "&> word".
		if op == syntax.DplOut {
			w.addWrite(rd.Target)
		} else {
			w.addRead(rd.Target)
		}
	default: // >, >>, >|, &>, &>>
		if rd.FD < 0 {
			rd.FD = 1
		}
		w.addWrite(rd.Target)
	}
}

// normPath turns a path-like word into the form Paths/Reads/Writes hold.
func (w *walker) normPath(s string) (string, bool) {
	if s == "" || s == "-" || strings.ContainsAny(s, "\n\x00") || strings.Contains(s, "://") {
		return "", false
	}
	if strings.HasPrefix(s, "file:") {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "file:"), "//")
		if i := strings.IndexByte(s, '?'); i >= 0 {
			s = s[:i]
		}
		if s == "" {
			return "", false
		}
	}
	if h := w.opts.Home; h != "" {
		switch {
		case s == "~" || s == "$HOME" || s == "${HOME}":
			s = h
		case strings.HasPrefix(s, "~/"):
			s = h + s[1:]
		case strings.HasPrefix(s, "$HOME/"):
			s = h + s[5:]
		case strings.HasPrefix(s, "${HOME}/"):
			s = h + s[7:]
		}
	}
	switch s[0] {
	case '/':
		if pseudoDevice(s) {
			return "", false
		}
		return filepath.Clean(w.procLinks(s)), true
	case '~', '$':
		return s, true
	}
	if c := strings.IndexByte(s, ':'); c >= 0 {
		if sl := strings.IndexByte(s, '/'); sl < 0 || c < sl {
			return "", false // host:path or host:port/...
		}
	}
	if w.cwd != "" {
		j := filepath.Join(w.cwd, s)
		if pseudoDevice(j) {
			return "", false
		}
		return j, true
	}
	return filepath.Clean(s), true
}

// procLinks rewrites /proc/self/cwd and /proc/self/root, which name the
// shell's own directory and root: cat /proc/self/cwd/../../etc/passwd
// reads <cwd>/../../etc/passwd, not /proc/etc/passwd.
func (w *walker) procLinks(s string) string {
	for _, pre := range []string{"/proc/self/", "/proc/thread-self/", "/dev/fd/../"} {
		rest, ok := strings.CutPrefix(s, pre)
		if !ok {
			continue
		}
		switch {
		case rest == "cwd" || strings.HasPrefix(rest, "cwd/"):
			if w.cwd != "" {
				return w.cwd + rest[3:]
			}
		case rest == "root" || strings.HasPrefix(rest, "root/"):
			return "/" + strings.TrimPrefix(rest[4:], "/")
		}
	}
	return s
}

// pseudoDevice reports /dev and /proc files that are not real files:
// /dev/null, the std streams, ttys, fd links. /dev/tcp and /dev/udp are
// deliberately not pseudo devices here.
func pseudoDevice(s string) bool {
	switch s {
	case "/dev/null", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/full",
		"/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/ptmx":
		return true
	}
	return strings.HasPrefix(s, "/dev/fd/") || strings.HasPrefix(s, "/proc/self/fd/") || strings.HasPrefix(s, "/dev/pts/")
}

// pathLike reports whether a word looks like a file path.
func pathLike(s string) bool {
	if s == "" || len(s) > 4096 {
		return false
	}
	if s == "." || s == ".." {
		return true
	}
	if strings.ContainsAny(s, "\n{}()|;<>`\"'") || strings.Contains(s, "://") {
		return false
	}
	switch {
	case s[0] == '/' || s[0] == '~' || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") ||
		strings.HasPrefix(s, "$HOME") || strings.HasPrefix(s, "${HOME}"):
		return true
	}
	if strings.ContainsAny(s, " \t") {
		return false
	}
	if strings.Contains(s, "/") {
		return true
	}
	// dotfiles such as .env, .netrc, .git-credentials
	if s[0] == '.' && len(s) > 1 && (isAlnum(s[1]) || s[1] == '_') {
		return true
	}
	return false
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// listOfPaths reports a colon-separated list such as /host:/container or
// $HOME/bin:$PATH.
func listOfPaths(s string) bool {
	return len(s) > 1 && (s[0] == '/' || s[0] == '~' || s[0] == '$') && strings.IndexByte(s, ':') > 0 && !strings.Contains(s, "://")
}

// pathCandidates yields the parts of a word that may be paths:
// the word, the value of --opt=v / key=v, a curl @file, an attached -o/x.
func pathCandidates(s string, yield func(string)) {
	try := func(c string) {
		if c == "" || listOfPaths(c) {
			return // a list of paths, tried part by part
		}
		c = strings.TrimPrefix(c, "@")
		c = strings.TrimPrefix(c, "<")
		if i := strings.Index(c, ";type="); i > 0 {
			c = c[:i]
		}
		if pathLike(c) || strings.HasPrefix(c, "file:") {
			yield(c)
		}
	}
	if eq := strings.IndexByte(s, '='); eq > 0 && !strings.ContainsAny(s[:eq], "/ ") {
		// --opt=value, key=@file, of=/dev/sda: only the value can be a path
		if eq < len(s)-1 {
			try(s[eq+1:])
		}
	} else {
		try(s)
	}
	if len(s) > 3 && s[0] == '-' && s[1] != '-' && (s[2] == '/' || s[2] == '~') && strings.Trim(s[2:], "/") != "" {
		try(s[2:]) // -o/tmp/out, not awk -F/
	}
	if listOfPaths(s) {
		// -v /host:/container, PATH=/a:/b: each part
		for _, part := range strings.Split(s, ":") {
			try(part)
		}
	}
}

func (w *walker) remember(kind byte, p string) bool {
	if w.remote > 0 {
		return false
	}
	key := string(kind) + p
	if _, ok := w.seen[key]; ok {
		return false
	}
	if len(w.seen) > 4*w.opts.MaxPrograms+1024 {
		w.a.Truncated = true
		return false
	}
	w.seen[key] = struct{}{}
	return true
}

// addPath records a path-like word in Paths.
func (w *walker) addPath(s string) {
	if !pathLike(s) && !strings.HasPrefix(s, "file:") {
		return
	}
	if p, ok := w.normPath(s); ok && w.remember('p', p) {
		w.a.Paths = append(w.a.Paths, p)
	}
}

// addPathsOf records every path candidate inside a word. A bare "/" is
// too often data (tr / _, IFS=/, a separator) to count here; programs that
// take it as a file (rm, ls, find, du, ...) record it themselves.
func (w *walker) addPathsOf(s string) {
	pathCandidates(s, func(c string) {
		if c != "/" {
			w.addPath(c)
		}
	})
}

// fileWord filters words that name no file: find/xargs placeholders.
func fileWord(s string) bool {
	return !strings.HasPrefix(s, "{}") && !strings.HasPrefix(s, "<(") && !strings.HasPrefix(s, ">(") &&
		!strings.HasPrefix(s, "$(") && !strings.HasPrefix(s, "`")
}

func (w *walker) addRead(s string) {
	s = strings.TrimPrefix(s, "@")
	if !fileWord(s) {
		return
	}
	p, ok := w.normPath(s)
	if !ok {
		return
	}
	if w.remember('r', p) {
		w.a.Reads = append(w.a.Reads, p)
	}
	if w.remember('p', p) {
		w.a.Paths = append(w.a.Paths, p)
	}
}

func (w *walker) addWrite(s string) {
	if !fileWord(s) {
		return
	}
	p, ok := w.normPath(s)
	if !ok {
		return
	}
	if w.remember('w', p) {
		w.a.Writes = append(w.a.Writes, p)
	}
	if w.remember('p', p) {
		w.a.Paths = append(w.a.Paths, p)
	}
}

// opt is one parsed option with its value.
type opt struct {
	name string // "-o", "--output"
	val  string
	idx  int // index of the value word in args, or -1 when attached
}

// parsedArgs is a GNU-style split of argv[1:] into options and operands.
type parsedArgs struct {
	ops  []int // indexes of operands
	opts []opt
}

func (pa parsedArgs) has(names ...string) bool {
	for _, o := range pa.opts {
		for _, n := range names {
			if o.name == n {
				return true
			}
		}
	}
	return false
}

func (pa parsedArgs) values(names ...string) []opt {
	var out []opt
	for _, o := range pa.opts {
		for _, n := range names {
			if o.name == n {
				out = append(out, o)
			}
		}
	}
	return out
}

// parseOpts splits args. valued lists short options taking a value; long
// lists long options taking one (also accepted as --name=value).
func parseOpts(args []string, valued string, long []string) parsedArgs {
	var pa parsedArgs
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			for j := i + 1; j < len(args); j++ {
				pa.ops = append(pa.ops, j)
			}
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pa.ops = append(pa.ops, i)
			continue
		}
		if strings.HasPrefix(a, "--") {
			if eq := strings.IndexByte(a, '='); eq > 0 {
				pa.opts = append(pa.opts, opt{name: a[:eq], val: a[eq+1:], idx: -1})
				continue
			}
			o := opt{name: a, idx: -1}
			for _, l := range long {
				if a == l && i+1 < len(args) {
					i++
					o.val, o.idx = args[i], i
					break
				}
			}
			pa.opts = append(pa.opts, o)
			continue
		}
		for j := 1; j < len(a); j++ {
			name := "-" + string(a[j])
			if strings.IndexByte(valued, a[j]) >= 0 {
				o := opt{name: name, idx: -1}
				if j+1 < len(a) {
					o.val = a[j+1:]
				} else if i+1 < len(args) {
					i++
					o.val, o.idx = args[i], i
				}
				pa.opts = append(pa.opts, o)
				break
			}
			pa.opts = append(pa.opts, opt{name: name, idx: -1})
		}
	}
	return pa
}

// readerValued lists, per reader, the short options that take a value.
var readerValued = map[string]string{
	"head": "nc", "tail": "ncs", "cut": "dfbc", "base64": "w", "od": "AjNtw", "hexdump": "enosC",
	"strings": "nt", "nl": "bdfhilnsvw", "diff": "CFLUSWXxI", "fold": "w", "fmt": "wpg", "column": "cstoNHORW",
	"gpg": "orusa", "iconv": "fto", "sqlite3": "", "openssl": "", "less": "bhjkopPtTxyz", "wc": "",
}

// fileFacts derives Reads, Writes and Paths from a program's argv.
func (w *walker) fileFacts(p *Program, args []arg) {
	if strings.Contains(p.Path, "/") {
		w.addPath(p.Path)
	}
	for _, e := range p.Env {
		if eq := strings.IndexByte(e, '='); eq > 0 {
			w.addPathsOf(e[eq+1:])
		}
	}
	a := p.Args
	var skip []bool // argument indexes that are data or code, not paths
	skipIdx := func(i int) {
		if i < 0 || i >= len(a) {
			return
		}
		if skip == nil {
			skip = make([]bool, len(a))
		}
		skip[i] = true
	}
	opsOf := func(pa parsedArgs) []string {
		out := make([]string, len(pa.ops))
		for i, k := range pa.ops {
			out[i] = a[k]
		}
		return out
	}
	reads := func(ss ...string) {
		for _, s := range ss {
			w.addRead(s)
		}
	}
	writes := func(ss ...string) {
		for _, s := range ss {
			w.addWrite(s)
		}
	}
	switch p.Name {
	case "echo", "printf", "notify-send", "logger", "wall", "say", "tr", "seq", "expr":
		return
	case "rm", "rmdir", "unlink", "shred", "touch", "mkdir", "truncate", "chattr", "srm", "wipe":
		ops := opsOf(parseOpts(a, "nsmdtr", []string{"--size", "--reference", "--mode", "--date", "--iterations"}))
		if p.Name == "chattr" && len(ops) > 0 {
			ops = ops[1:]
		}
		writes(ops...)
	case "chmod", "chown", "chgrp", "setfacl", "chcon":
		pa := parseOpts(a, "", []string{"--reference", "--from"})
		ops := opsOf(pa)
		if !pa.has("--reference") && len(ops) > 0 {
			ops = ops[1:]
		}
		writes(ops...)
	case "ln":
		pa := parseOpts(a, "St", []string{"--suffix", "--target-directory"})
		ops := opsOf(pa)
		if t := pa.values("-t", "--target-directory"); len(t) > 0 {
			writes(t[0].val)
			reads(ops...)
		} else if len(ops) >= 2 {
			reads(ops[:len(ops)-1]...)
			writes(ops[len(ops)-1])
		} else {
			reads(ops...)
		}
	case "cp", "mv", "install", "rsync", "scp", "rclone":
		valued := "tS"
		switch p.Name {
		case "install":
			valued = "tSmog"
		case "rsync":
			valued = "eBfT"
		case "scp":
			valued = "cFiJlPoS"
		}
		pa := parseOpts(a, valued, []string{"--target-directory", "--suffix", "--exclude", "--include", "--filter", "--rsh", "--mode", "--owner", "--group"})
		ops := opsOf(pa)
		for _, o := range pa.values("-i", "-F") {
			if p.Name == "scp" {
				reads(o.val)
			}
		}
		if p.Name == "install" && pa.has("-d", "--directory") {
			writes(ops...)
			break
		}
		srcs := ops
		if t := pa.values("-t", "--target-directory"); len(t) > 0 {
			writes(t[0].val)
		} else if len(ops) >= 2 {
			srcs = ops[:len(ops)-1]
			writes(ops[len(ops)-1])
		}
		reads(srcs...)
		if p.Name == "mv" {
			writes(srcs...)
		}
	case "tee":
		writes(opsOf(parseOpts(a, "", nil))...)
	case "dd":
		for _, s := range a {
			switch {
			case strings.HasPrefix(s, "if="):
				reads(s[3:])
			case strings.HasPrefix(s, "of="):
				writes(s[3:])
			}
		}
	case "cat", "tac", "less", "more", "nl", "wc", "strings", "od", "hexdump", "head", "tail",
		"uniq", "cut", "diff", "cmp", "md5sum", "sha1sum", "sha256sum", "sha512sum", "file",
		"stat", "bat", "base64", "source", ".", "zcat", "zless", "bzcat", "xzcat", "gpg", "shasum",
		"view", "batcat", "column", "fold", "fmt", "paste", "comm", "join", "expand", "iconv", "sqlite3",
		"openssl", "readlink", "realpath", "ls", "du", "tree", "exa", "eza":
		pa := parseOpts(a, readerValued[p.Name], []string{"--lines", "--bytes", "--delimiter", "--fields", "--wrap", "--output", "--in", "--out", "--max-count"})
		ops := opsOf(pa)
		switch p.Name {
		case "ls", "du", "tree", "exa", "eza", "readlink", "realpath", "stat", "file":
			// metadata only: paths, not reads
			for _, s := range ops {
				w.addPath(s)
			}
		case "sqlite3":
			if len(ops) > 0 {
				reads(ops[0])
				for _, k := range pa.ops[1:] {
					skipIdx(k)
				}
			}
		case "openssl":
			for _, o := range pa.values("--in", "-in") {
				reads(o.val)
			}
		default:
			reads(ops...)
		}
	case "sort":
		pa := parseOpts(a, "okt", []string{"--output", "--key", "--field-separator"})
		reads(opsOf(pa)...)
		for _, o := range pa.values("-o", "--output") {
			writes(o.val)
		}
	case "xxd":
		pa := parseOpts(a, "clsgo", nil)
		ops := opsOf(pa)
		if len(ops) > 0 {
			reads(ops[0])
		}
		if len(ops) > 1 {
			writes(ops[1])
		}
	case "grep", "egrep", "fgrep", "rg", "ag", "ack", "zgrep":
		pa := parseOpts(a, "efmABCdD", []string{"--regexp", "--file", "--max-count", "--after-context", "--before-context", "--context", "--include", "--exclude", "--glob", "--type"})
		for _, o := range pa.values("-e", "--regexp") {
			skipIdx(o.idx)
		}
		for _, o := range pa.values("-f", "--file") {
			reads(o.val)
		}
		ops := pa.ops
		if !pa.has("-e", "--regexp", "-f", "--file") && len(ops) > 0 {
			skipIdx(ops[0])
			ops = ops[1:]
		}
		for _, k := range ops {
			w.addRead(a[k])
		}
	case "sed", "gsed", "perl":
		pa := parseOpts(a, "efElI", []string{"--expression", "--file"})
		if p.Name == "perl" {
			pa = parseOpts(a, "eEIlMmx", nil)
		}
		for _, o := range pa.values("-e", "--expression", "-E") {
			skipIdx(o.idx)
		}
		ops := pa.ops
		if !pa.has("-e", "--expression", "-f", "--file", "-E") && len(ops) > 0 {
			skipIdx(ops[0])
			ops = ops[1:]
		}
		inPlace := pa.has("-i", "--in-place")
		for _, o := range pa.opts {
			if strings.HasPrefix(o.name, "--in-place") {
				inPlace = true
			}
		}
		for _, k := range ops {
			if inPlace {
				w.addWrite(a[k])
			} else {
				w.addRead(a[k])
			}
		}
	case "awk", "gawk", "mawk", "nawk", "jq", "yq":
		pa := parseOpts(a, "fvF", []string{"--arg", "--argjson"})
		ops := pa.ops
		if !pa.has("-f") && len(ops) > 0 {
			skipIdx(ops[0])
			ops = ops[1:]
		}
		for _, k := range ops {
			if !isAssign(a[k]) {
				w.addRead(a[k])
			}
		}
	case "python", "python2", "python3", "node", "nodejs", "ruby", "php", "deno", "bun", "lua", "Rscript", "osascript", "pwsh", "powershell":
		pa := parseOpts(a, "cem", []string{"--eval", "--print", "--command"})
		code := false
		for _, o := range pa.values("-c", "-e", "--eval", "-p", "--print", "--command", "-m") {
			skipIdx(o.idx)
			code = true
		}
		if !code && len(pa.ops) > 0 {
			w.addRead(a[pa.ops[0]])
		}
	case "curl":
		pa := parseOpts(a, "dFTohHuXAeKbcxmwErUCyYzQ", []string{
			"--data", "--data-binary", "--data-raw", "--data-ascii", "--data-urlencode", "--form", "--form-string",
			"--upload-file", "--output", "--header", "--user", "--request", "--user-agent", "--referer", "--config",
			"--cookie", "--cookie-jar", "--proxy", "--max-time", "--write-out", "--cert", "--key", "--cacert",
			"--range", "--proxy-user", "--continue-at", "--connect-timeout", "--retry", "--url", "--json", "--resolve",
		})
		for _, o := range pa.opts {
			switch o.name {
			case "-d", "--data", "--data-binary", "--data-ascii", "--data-urlencode", "--json":
				if i := strings.IndexByte(o.val, '@'); i >= 0 && (i == 0 || o.name == "--data-urlencode") {
					reads(o.val[i+1:])
				}
			case "-F", "--form":
				if eq := strings.IndexByte(o.val, '='); eq >= 0 && eq+1 < len(o.val) && (o.val[eq+1] == '@' || o.val[eq+1] == '<') {
					v := o.val[eq+2:]
					if i := strings.IndexByte(v, ';'); i >= 0 {
						v = v[:i]
					}
					reads(v)
				}
			case "-T", "--upload-file", "-K", "--config", "--cert", "--key":
				reads(o.val)
			case "-o", "--output", "-c", "--cookie-jar":
				writes(o.val)
			case "-H", "--header", "-u", "--user", "-A", "--user-agent", "-w", "--write-out", "--data-raw", "--form-string":
				skipIdx(o.idx)
			}
		}
	case "wget":
		pa := parseOpts(a, "OoiPUeTta", []string{"--output-document", "--output-file", "--input-file", "--post-file", "--body-file", "--post-data", "--header", "--user-agent", "--directory-prefix", "--append-output"})
		for _, o := range pa.opts {
			switch o.name {
			case "--post-file", "--body-file", "-i", "--input-file":
				reads(o.val)
			case "-O", "--output-document", "-o", "--output-file", "-a", "--append-output":
				writes(o.val)
			case "--header", "--post-data", "-U", "--user-agent":
				skipIdx(o.idx)
			}
		}
	case "ssh", "sftp":
		pa := parseOpts(a, sshValued, nil)
		for _, o := range pa.values("-i", "-F") {
			reads(o.val)
		}
		if p.Name == "ssh" {
			// the remote command is not a local path
			if i := sshSplit(a); i+1 < len(a) {
				for k := i + 1; k < len(a); k++ {
					skipIdx(k)
				}
			}
		}
	case "git":
		pa := parseOpts(a, "mC", []string{"--message"})
		for _, o := range pa.values("-m", "--message") {
			skipIdx(o.idx)
		}
	case "zip":
		ops := opsOf(parseOpts(a, "", nil))
		if len(ops) > 0 {
			writes(ops[0])
			reads(ops[1:]...)
		}
	case "crontab":
		ops := opsOf(parseOpts(a, "u", nil))
		reads(ops...)
	case "find":
		i := 0
		for i < len(a) && !strings.HasPrefix(a[i], "-") && a[i] != "(" && a[i] != "!" {
			i++
		}
		del := false
		for _, s := range a[i:] {
			if s == "-delete" {
				del = true
			}
		}
		for _, s := range a[:i] {
			if del {
				w.addWrite(s)
			} else {
				w.addPath(s)
			}
		}
		// -exec bodies are walked as their own programs
		for k := i; k < len(a); k++ {
			if a[k] == "-exec" || a[k] == "-execdir" || a[k] == "-ok" || a[k] == "-okdir" {
				for k++; k < len(a) && a[k] != ";" && a[k] != "+"; k++ {
					skipIdx(k)
				}
			}
		}
	default:
		if isShell(p.Name) {
			sa := parseShellArgs(a)
			switch {
			case sa.hasC && sa.cmd >= 0:
				skipIdx(sa.cmd)
			case sa.script >= 0:
				w.addRead(a[sa.script])
			}
		}
		switch p.Name {
		case "eval", "su", "runuser", "watch", "xargs":
			for i := range a {
				skipIdx(i)
			}
		}
	}
	for i, s := range a {
		if skip != nil && skip[i] {
			continue
		}
		w.addPathsOf(s)
	}
}

// chdir follows cd/pushd so later relative paths resolve where the shell
// would be. An unknown target (cd -, cd "$X") makes the cwd unknown.
func (w *walker) chdir(args []string) {
	target := ""
	for _, a := range args {
		if a == "-L" || a == "-P" || a == "-e" || a == "-@" || a == "--" {
			continue
		}
		target = a
		break
	}
	if target == "" {
		target = "~"
	}
	p, ok := w.normPath(target)
	if !ok || !filepath.IsAbs(p) {
		w.cwd = ""
		return
	}
	w.cwd = p
}
