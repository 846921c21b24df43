package shell

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Static evaluation: the literal stdout of small producer pipelines (echo,
// printf, cat <<EOF, base64 -d, xxd -r -p, rev), computed without running
// anything. It is how "$(printf '\x72\x6d')" becomes rm and
// "echo cm0gLXJmIH4= | base64 -d | sh" becomes rm -rf ~.

// maxStaticNest bounds recursion through nested substitutions.
const maxStaticNest = 64

type staticOut struct {
	out string
	via []string
	ok  bool
}

// staticSubst returns the literal output of a command substitution.
func (w *walker) staticSubst(cs *syntax.CmdSubst, f frame) (string, bool) {
	if r, ok := w.static[cs]; ok {
		return r.out, r.ok
	}
	var r staticOut
	if len(cs.Stmts) == 1 && w.inStatic < maxStaticNest {
		w.inStatic++
		r.out, r.via, r.ok = w.staticPipe(flattenPipe(cs.Stmts[0]), f)
		w.inStatic--
		if r.ok && len(r.via) > 0 {
			w.addDecoded(r.out)
		}
	}
	if w.static == nil {
		w.static = map[*syntax.CmdSubst]staticOut{}
	}
	w.static[cs] = r
	return r.out, r.ok
}

// staticPipe evaluates the stages of a pipeline. via names the decoders
// used ("base64", "xxd", "printf").
func (w *walker) staticPipe(stages []*syntax.Stmt, f frame) (string, []string, bool) {
	var in *string
	var via []string
	for _, st := range stages {
		w.steps++
		out, v, ok := w.staticStmt(st, in, f)
		if !ok {
			return "", nil, false
		}
		if v != "" {
			via = append(via, v)
		}
		in = &out
	}
	if in == nil {
		return "", nil, false
	}
	return *in, via, true
}

// staticStmt evaluates one simple command given its stdin (nil if unknown).
func (w *walker) staticStmt(st *syntax.Stmt, in *string, f frame) (string, string, bool) {
	c, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(c.Args) == 0 || st.Background {
		return "", "", false
	}
	for _, r := range st.Redirs {
		switch r.Op {
		case syntax.Hdoc, syntax.DashHdoc:
			if r.Hdoc == nil {
				return "", "", false
			}
			body := w.hdocBody(r.Hdoc, f, r.Op == syntax.DashHdoc)
			in = &body
		case syntax.WordHdoc:
			a := w.word(r.Word, f)
			if !a.lit {
				return "", "", false
			}
			body := a.val + "\n"
			in = &body
		case syntax.DplOut, syntax.DplIn, syntax.RdrOut, syntax.AppOut, syntax.RdrClob, syntax.RdrAll, syntax.AppAll:
			// 2>&1 does not change what is produced; "> file" sends it to
			// a file, which is still worth decoding
		default:
			return "", "", false
		}
	}
	args := make([]string, 0, len(c.Args))
	for _, wd := range c.Args {
		a := w.word(wd, f)
		if !a.lit {
			return "", "", false
		}
		args = append(args, a.val)
	}
	limit := w.opts.MaxBytes
	switch baseName(args[0]) {
	case "echo":
		return echoOut(args[1:]), "", true
	case "printf":
		if len(args) < 2 {
			return "", "", false
		}
		out := printfOut(args[1], args[2:], limit)
		via := ""
		if strings.IndexByte(args[1], '\\') >= 0 {
			via = "printf"
		}
		return out, via, true
	case "cat":
		if len(args) == 1 || (len(args) == 2 && args[1] == "-") {
			if in == nil {
				return "", "", false
			}
			return *in, "", true
		}
	case "base64":
		if in == nil || !hasFlag(args[1:], "-d", "--decode", "-D") {
			return "", "", false
		}
		if out, ok := decodeB64(*in); ok {
			return out, "base64", true
		}
	case "base32":
		if in == nil || !hasFlag(args[1:], "-d", "--decode") {
			return "", "", false
		}
		if out, ok := decodeB32(*in); ok {
			return out, "base32", true
		}
	case "openssl":
		// openssl base64 -d, openssl enc -d -base64 / -a
		if in == nil || len(args) < 2 || !hasFlag(args[2:], "-d") ||
			!(args[1] == "base64" || args[1] == "enc" && (hasFlag(args[2:], "-base64") || hasFlag(args[2:], "-a"))) {
			return "", "", false
		}
		if out, ok := decodeB64(*in); ok {
			return out, "base64", true
		}
	case "xxd":
		if in == nil || !hasFlag(args[1:], "-r") || !hasFlag(args[1:], "-p", "-ps", "-plain", "-postscript") {
			return "", "", false
		}
		if out, ok := decodeHex(*in); ok {
			return out, "xxd", true
		}
	case "rev":
		if in == nil || len(args) > 1 {
			return "", "", false
		}
		return revLines(*in), "rev", true
	}
	return "", "", false
}

// hasFlag reports whether any of flags occurs in args, also inside short
// clusters such as -rp or -di.
func hasFlag(args []string, flags ...string) bool {
	for _, a := range args {
		for _, fl := range flags {
			if a == fl {
				return true
			}
			if len(fl) == 2 && fl[0] == '-' && len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], fl[1]) >= 0 {
				return true
			}
		}
	}
	return false
}

func echoOut(args []string) string {
	nl, esc := true, false
	for len(args) > 0 {
		a := args[0]
		if len(a) < 2 || a[0] != '-' || strings.Trim(a[1:], "neE") != "" {
			break
		}
		for _, c := range a[1:] {
			switch c {
			case 'n':
				nl = false
			case 'e':
				esc = true
			case 'E':
				esc = false
			}
		}
		args = args[1:]
	}
	s := strings.Join(args, " ")
	if esc {
		s = decodeEscapes(s, escEcho)
	}
	if nl {
		s += "\n"
	}
	return s
}

// printfOut implements the parts of printf(1) that matter for decoding:
// escapes in the format, %s, %b, %c, %d and %%, and reuse of the format
// while arguments remain.
func printfOut(format string, args []string, limit int) string {
	var b strings.Builder
	for round := 0; round < 1024; round++ {
		used := 0
		for i := 0; i < len(format); i++ {
			c := format[i]
			if c == '\\' {
				seg, n := oneEscape(format[i:])
				b.WriteString(seg)
				i += n - 1
				continue
			}
			if c != '%' || i+1 >= len(format) {
				b.WriteByte(c)
				continue
			}
			i++
			// skip flags, width, precision
			for i < len(format) && strings.IndexByte("-+ #0123456789.", format[i]) >= 0 {
				i++
			}
			if i >= len(format) {
				break
			}
			var a string
			if format[i] != '%' && used < len(args) {
				a = args[used]
				used++
			}
			switch format[i] {
			case '%':
				b.WriteByte('%')
			case 'b':
				b.WriteString(decodeEscapes(a, escEcho))
			case 'c':
				if a != "" {
					b.WriteByte(a[0])
				}
			default:
				b.WriteString(a)
			}
		}
		if b.Len() > limit {
			return b.String()[:limit]
		}
		args = args[used:]
		if used == 0 || len(args) == 0 {
			break
		}
	}
	return b.String()
}

// oneEscape decodes the escape at the start of s and returns its length.
func oneEscape(s string) (string, int) {
	if len(s) < 2 {
		return s, len(s)
	}
	n := 2
	switch c := s[1]; {
	case c == 'x':
		_, k := hexRun(s[2:], 2)
		n += k
	case c == 'u':
		_, k := hexRun(s[2:], 4)
		n += k
	case c == 'U':
		_, k := hexRun(s[2:], 8)
		n += k
	case c == '0':
		_, k := octRun(s[2:], 3)
		n += k
	case c >= '1' && c <= '7':
		_, k := octRun(s[2:], 2)
		n += k
	}
	return decodeEscapes(s[:n], escPrintf), n
}

func decodeB64(s string) (string, bool) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if clean == "" {
		return "", false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(clean); err == nil && validUTF8Text(string(b)) {
			return string(b), true
		}
	}
	return "", false
}

func decodeB32(s string) (string, bool) {
	clean := strings.Join(strings.Fields(s), "")
	for _, enc := range []*base32.Encoding{base32.StdEncoding, base32.StdEncoding.WithPadding(base32.NoPadding)} {
		if b, err := enc.DecodeString(clean); err == nil && validUTF8Text(string(b)) && len(b) > 0 {
			return string(b), true
		}
	}
	return "", false
}

func decodeHex(s string) (string, bool) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	b, err := hex.DecodeString(clean)
	if err != nil || !validUTF8Text(string(b)) {
		return "", false
	}
	return string(b), true
}

func revLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		r := []rune(l)
		for a, z := 0, len(r)-1; a < z; a, z = a+1, z-1 {
			r[a], r[z] = r[z], r[a]
		}
		lines[i] = string(r)
	}
	return strings.Join(lines, "\n")
}
