package rules

import (
	"path"
	"strings"
)

// globMatch reports whether name matches pattern. '*' matches any run of
// characters except '/', '**' matches any run including '/', '?' one
// character except '/', and [...] a character class as in path.Match.
// Matching is iterative with single-star backtracking, so it is linear in
// practice and never exponential.
func globMatch(pattern, name string) bool {
	if !strings.ContainsAny(pattern, "*?[") {
		return pattern == name
	}
	// Fast paths for the common shapes "**/literal" and "literal/**".
	if rest, ok := strings.CutPrefix(pattern, "**/"); ok && !strings.ContainsAny(rest, "*?[") {
		return name == rest || strings.HasSuffix(name, "/"+rest)
	}
	if dir, ok := strings.CutSuffix(pattern, "/**"); ok && !strings.ContainsAny(dir, "*?[") {
		return strings.HasPrefix(name, dir+"/")
	}
	return globRec(pattern, name, 0)
}

func globRec(p, s string, depth int) bool {
	if depth > 8 {
		return false
	}
	for len(p) > 0 {
		switch {
		case strings.HasPrefix(p, "**"):
			rest := strings.TrimLeft(p, "*")
			if rest == "" {
				return true
			}
			// "**/" also matches zero directories.
			if strings.HasPrefix(rest, "/") && globRec(rest[1:], s, depth+1) {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globRec(rest, s[i:], depth+1) {
					return true
				}
			}
			return false
		case p[0] == '*':
			rest := p[1:]
			for i := 0; i <= len(s); i++ {
				if globRec(rest, s[i:], depth+1) {
					return true
				}
				if i < len(s) && s[i] == '/' {
					return false
				}
			}
			return false
		case p[0] == '?':
			if s == "" || s[0] == '/' {
				return false
			}
			p, s = p[1:], s[1:]
		case p[0] == '[':
			end := strings.IndexByte(p, ']')
			if end < 0 || s == "" {
				return false
			}
			ok, err := path.Match(p[:end+1], s[:1])
			if err != nil || !ok {
				return false
			}
			p, s = p[end+1:], s[1:]
		default:
			if s == "" || p[0] != s[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}

// validGlob reports whether pattern's character classes are well formed.
func validGlob(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '[' {
			end := strings.IndexByte(pattern[i:], ']')
			if end < 0 {
				return false
			}
			if _, err := path.Match(pattern[i:i+end+1], "a"); err != nil {
				return false
			}
			i += end
		}
	}
	return true
}

// globPat is a glob classified once, so matching skips the scan for
// wildcards: most rule globs are "**/literal", "literal/**" or literal.
type globPat struct {
	src  string
	kind byte // 's' suffix, 'p' prefix, 'g' general
	lit  string
}

func compileGlob(p string) globPat {
	if rest, ok := strings.CutPrefix(p, "**/"); ok && !strings.ContainsAny(rest, "*?[") {
		return globPat{src: p, kind: 's', lit: rest}
	}
	if dir, ok := strings.CutSuffix(p, "/**"); ok && !strings.ContainsAny(dir, "*?[") {
		return globPat{src: p, kind: 'p', lit: dir + "/"}
	}
	return globPat{src: p, kind: 'g'}
}

func (g *globPat) match(s string) bool {
	switch g.kind {
	case 's':
		return s == g.lit || strings.HasSuffix(s, "/"+g.lit)
	case 'p':
		return strings.HasPrefix(s, g.lit)
	}
	return s == g.src || globRec(g.src, s, 0)
}
