package rules

import (
	"net"
	"net/url"
	"path"
	"strings"
)

// maxPathLen bounds the strings treated as paths: longer words are data,
// and bounding them keeps glob matching cheap on pathological input.
const maxPathLen = 4096

// normPath turns a path as written into the form rules match on: cleaned,
// absolute when cwd is known, and with the user's home written as "~"
// ("/home/dev/.ssh/id_rsa", "$HOME/.ssh/id_rsa" and "~/.ssh/id_rsa" all
// become "~/.ssh/id_rsa"). It returns "" for words that are not paths.
func normPath(p, cwd string) string {
	p = strings.Trim(p, `"'`)
	if p == "" || len(p) > maxPathLen {
		return ""
	}
	switch {
	case p == "~" || strings.HasPrefix(p, "~/"):
		return "~" + cleanTail(p[1:])
	case strings.HasPrefix(p, "$HOME"):
		return "~" + cleanTail(p[len("$HOME"):])
	case strings.HasPrefix(p, "${HOME}"):
		return "~" + cleanTail(p[len("${HOME}"):])
	case strings.HasPrefix(p, "$VIGIL_HOME") || strings.HasPrefix(p, "${VIGIL_HOME}"):
		return p
	case strings.HasPrefix(p, "/"):
		return homeForm(path.Clean(p))
	case strings.HasPrefix(p, "$") || strings.HasPrefix(p, "-"):
		return ""
	}
	if cwd == "" {
		return path.Clean(p)
	}
	return homeForm(path.Clean(path.Join(cwd, p)))
}

func cleanTail(t string) string {
	if t == "" || t == "/" {
		return t
	}
	c := path.Clean("/" + t)
	if strings.HasSuffix(t, "/") && c != "/" {
		c += "/"
	}
	return c
}

// homeForm rewrites /home/<user>/x, /Users/<user>/x and /root/x to ~/x.
func homeForm(p string) string {
	for _, base := range []string{"/home/", "/Users/"} {
		if strings.HasPrefix(p, base) {
			rest := p[len(base):]
			i := strings.IndexByte(rest, '/')
			if i < 0 {
				return "~"
			}
			return "~" + rest[i:]
		}
	}
	if p == "/root" {
		return "~"
	}
	if strings.HasPrefix(p, "/root/") {
		return "~" + p[len("/root"):]
	}
	return p
}

// under reports whether p is dir or inside it (both in normPath form).
func under(p, dir string) bool {
	if dir == "" || p == "" {
		return false
	}
	if p == dir {
		return true
	}
	d := strings.TrimSuffix(dir, "/")
	return strings.HasPrefix(p, d+"/")
}

// pathInWord extracts a path from an argument word such as
// "--post-file=/x", "key=@/x", "@/x", "file:$HOME/x?immutable=1".
func pathInWord(w string) string {
	if len(w) > maxPathLen {
		return ""
	}
	w = strings.Trim(w, `"'`)
	switch w {
	case "~", "$HOME", "${HOME}", "$VIGIL_HOME", "${VIGIL_HOME}":
		return w
	}
	for _, m := range []string{"~/", "$HOME/", "${HOME}/", "/"} {
		i := strings.Index(w, m)
		if i < 0 {
			continue
		}
		if i > 0 && m == "/" {
			// Only after a separator: "a/b" is relative, "x=/a" is a path.
			c := w[i-1]
			if c != '=' && c != '@' && c != ':' && c != ',' {
				continue
			}
			if strings.Contains(w[:i], "://") {
				continue
			}
		}
		if i > 0 && m != "/" {
			c := w[i-1]
			if c != '=' && c != '@' && c != ':' && c != ',' && c != '"' && c != '\'' {
				continue
			}
		}
		p := w[i:]
		if j := strings.IndexAny(p, "?#"); j > 0 && strings.HasPrefix(w, "file:") {
			p = p[:j]
		}
		return p
	}
	w = strings.TrimPrefix(w, "@")
	if strings.HasPrefix(w, "-") || strings.Contains(w, "://") {
		return ""
	}
	if i := strings.IndexByte(w, '='); i >= 0 {
		w = strings.TrimPrefix(w[i+1:], "@")
	}
	if w == "" || strings.ContainsAny(w, " \t\n") {
		return ""
	}
	if strings.HasPrefix(w, ".") || strings.Contains(w, "/") {
		return w
	}
	return ""
}

// hostOf returns the host a word names: a URL's host, the host of
// user@host:path (scp, rsync), TCP:host:port (socat), or host[:port][/path]
// when bare is true. It returns "" when the word names no host.
func hostOf(w string, bare bool) string {
	w = strings.Trim(w, `"'`)
	if w == "" || len(w) > maxPathLen || strings.HasPrefix(w, "-") {
		if i := strings.Index(w, "=http"); i > 0 {
			w = w[i+1:]
		} else {
			return ""
		}
	}
	if i := strings.Index(w, "://"); i > 0 {
		u, err := url.Parse(w)
		if err != nil {
			return ""
		}
		return strings.ToLower(u.Hostname())
	}
	up := strings.ToUpper(w)
	for _, p := range []string{"TCP:", "TCP4:", "TCP6:", "UDP:", "OPENSSL:", "SSL:"} {
		if strings.HasPrefix(up, p) {
			rest := w[len(p):]
			if i := strings.LastIndexByte(rest, ':'); i > 0 {
				rest = rest[:i]
			}
			if i := strings.IndexByte(rest, ','); i > 0 {
				rest = rest[:i]
			}
			return strings.ToLower(rest)
		}
	}
	if at := strings.IndexByte(w, '@'); at > 0 && !strings.Contains(w[:at], "/") {
		rest := w[at+1:]
		if i := strings.IndexByte(rest, ':'); i > 0 {
			return strings.ToLower(rest[:i])
		}
		if bare {
			w = rest // ssh user@host
		}
	}
	if !bare {
		return ""
	}
	h := w
	if i := strings.IndexAny(h, "/?"); i >= 0 {
		h = h[:i]
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	if h == "" || strings.ContainsAny(h, "=@ ,*$") {
		return ""
	}
	if net.ParseIP(h) != nil || h == "localhost" {
		return strings.ToLower(h)
	}
	// A hostname needs a dot and a letter-only top-level label that is not
	// a common file extension ("build.log" is a file).
	i := strings.LastIndexByte(h, '.')
	if i <= 0 || i == len(h)-1 || fileExts[strings.ToLower(h[i+1:])] {
		return ""
	}
	for _, c := range h[i+1:] {
		if c < 'a' || c > 'z' {
			if c < 'A' || c > 'Z' {
				return ""
			}
		}
	}
	return strings.ToLower(h)
}

// fileExts are file extensions that are not top-level domains a command
// would name.
var fileExts = map[string]bool{"log": true, "txt": true, "json": true, "yaml": true, "yml": true, "md": true, "sh": true, "py": true, "js": true, "ts": true, "go": true, "rs": true, "tar": true, "gz": true, "tgz": true, "zip": true, "csv": true, "html": true, "xml": true, "conf": true, "cfg": true, "ini": true, "env": true, "pem": true, "key": true, "crt": true, "sql": true, "db": true, "lock": true, "toml": true, "out": true, "err": true, "pid": true, "sock": true, "tmp": true, "bak": true, "jsonl": true, "ndjson": true, "ipynb": true, "rb": true, "java": true, "c": true, "h": true, "cpp": true, "php": true, "pl": true, "lua": true, "css": true, "scss": true, "svg": true, "png": true, "jpg": true, "gif": true, "pdf": true, "bin": true, "exe": true, "so": true, "dylib": true, "whl": true, "jar": true, "war": true, "class": true, "map": true, "wasm": true}

// isLocalHost reports whether host is this machine.
func isLocalHost(h string) bool {
	h = strings.Trim(h, "[]")
	switch {
	case h == "localhost", strings.HasSuffix(h, ".localhost"), h == "host.docker.internal", h == "0.0.0.0", h == "::1":
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback() || ip.IsUnspecified()
	}
	return false
}

// maxUserPaths bounds the paths remembered from one session's prompts.
const maxUserPaths = 64

// promptWords splits a prompt into words, quotes, brackets and trailing
// punctuation removed.
func promptWords(prompt string) []string {
	words := strings.FieldsFunc(prompt, func(r rune) bool {
		switch r {
		case ' ', '\t', '\n', '\r', '"', '\'', '`', '(', ')', '[', ']', '<', '>', ',', ';':
			return true
		}
		return false
	})
	for i, w := range words {
		words[i] = strings.TrimRight(w, ".:!?")
	}
	return words
}

// promptPaths returns the paths a user prompt names explicitly (~/x,
// /abs/x, ./x, ../x), in normPath form against cwd. A bare root, a home
// or a top-level system directory is too broad to count as naming
// anything and is left out.
func promptPaths(prompt, cwd string) []string {
	var out []string
	for _, tok := range promptWords(prompt) {
		if !(strings.HasPrefix(tok, "~/") || strings.HasPrefix(tok, "/") || strings.HasPrefix(tok, "./") || strings.HasPrefix(tok, "../")) {
			continue
		}
		p := normPath(tok, cwd)
		if p == "" || p == "/" || p == "~" || strings.Count(strings.Trim(p, "/"), "/") < 1 && !strings.HasPrefix(p, "~/") {
			continue
		}
		out = append(out, p)
	}
	return out
}

// namedByUser reports whether p is, or lies under, a path the user named.
func namedByUser(p string, named []string) bool {
	for _, u := range named {
		if under(p, u) {
			return true
		}
	}
	return false
}

// promptHosts returns the hosts a user prompt names: URLs' hosts and bare
// host names (registry.acme.net), lower-cased.
func promptHosts(prompt string) []string {
	var out []string
	for _, tok := range promptWords(prompt) {
		if h := hostOf(tok, true); h != "" && strings.Contains(h, ".") && net.ParseIP(h) == nil {
			out = append(out, h)
		}
	}
	return out
}

// hostNamedByUser reports whether h is, or is a subdomain of, a host the
// user named.
func hostNamedByUser(h string, named []string) bool {
	for _, u := range named {
		if h == u || strings.HasSuffix(h, "."+u) {
			return true
		}
	}
	return false
}

// sanctioned reports whether an outside path p is one the session's user
// asked for or the project's own: a path a prompt named (or under one), a
// sibling project a prompt names by its folder name ("the auth-service
// repo next to this one"), or the project's own data folder in the home
// (~/.config/<project>, ~/.local/state/<project>, ~/.cache/<project> ...).
func (f *facts) sanctioned(p string) bool {
	if namedByUser(p, f.userPaths) {
		return true
	}
	if f.project == "" {
		return false
	}
	name := squash(path.Base(f.project))
	for _, dir := range []string{"~/.config/", "~/.local/share/", "~/.local/state/", "~/.cache/", "~/Library/Application Support/", "~/Library/Caches/", "~/Library/Preferences/", "~/Library/Logs/"} {
		if rest, ok := strings.CutPrefix(p, dir); ok {
			// desktop-sync's data may live in DesktopSync, desktop_sync ...
			if first, _, _ := strings.Cut(rest, "/"); name != "" && squash(first) == name {
				return true
			}
		}
	}
	parent := path.Dir(f.project)
	if rest, ok := strings.CutPrefix(p, parent+"/"); ok && parent != "~" && parent != "/" {
		sibling, _, _ := strings.Cut(rest, "/")
		for _, prompt := range f.userPrompts {
			for _, w := range promptWords(prompt) {
				if strings.EqualFold(w, sibling) || strings.EqualFold(strings.TrimSuffix(w, "/"), "../"+sibling) {
					return true
				}
			}
		}
	}
	return false
}

// squash lower-cases a name and keeps only its letters and digits, so
// "desktop-sync", "DesktopSync" and ".desktop_sync" compare equal.
func squash(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
