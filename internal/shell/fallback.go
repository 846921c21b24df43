package shell

import "strings"

// fallback is used when the parser rejects the input. It splits the text
// into commands on unquoted | || && ; & and newlines, and into words on
// unquoted blanks, honouring quotes loosely (an unterminated quote runs to
// the end). Here-doc bodies are skipped up to their delimiter line. The
// result goes through the same wrapper unwrapping as parsed commands, so a
// syntactically broken "curl x | sh" is still two programs in a pipeline.
func (w *walker) fallback(src string, f frame) {
	var (
		words    []arg
		cur      strings.Builder
		inWord   bool
		pipe     []int
		pending  []string // here-doc delimiters waiting for the end of line
		quoteRaw strings.Builder
	)
	flushWord := func() {
		if inWord {
			v := cur.String()
			words = append(words, arg{val: v, raw: quoteRaw.String(), lit: true})
			if d, ok := strings.CutPrefix(v, "<<"); ok && !strings.HasPrefix(d, "<") {
				d = strings.TrimPrefix(d, "-")
				if d != "" {
					pending = append(pending, d)
				}
			}
		}
		cur.Reset()
		quoteRaw.Reset()
		inWord = false
	}
	flushCmd := func(piped bool) {
		flushWord()
		if len(words) > 0 && !w.stopped() {
			// a here-doc operator followed by its delimiter as a separate word
			for i := 0; i+1 < len(words); i++ {
				if words[i].val == "<<" || words[i].val == "<<-" {
					pending = append(pending, words[i+1].val)
				}
			}
			args, redirs := w.fallbackRedirects(words)
			k := -1
			if len(args) > 0 {
				k = w.exec(args, nil, redirs, nil, f)
			}
			if k >= 0 {
				pipe = append(pipe, k)
			}
		}
		words = nil
		if !piped {
			if len(pipe) > 1 {
				pi := len(w.a.Pipelines)
				for _, k := range pipe {
					w.a.Programs[k].Pipeline = pi
				}
				w.a.Pipelines = append(w.a.Pipelines, Pipeline{Programs: pipe})
			}
			pipe = nil
		}
	}
	i := 0
	for i < len(src) {
		if w.stopped() {
			return
		}
		c := src[i]
		switch {
		case c == '\'' || c == '"':
			inWord = true
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 {
				end = len(src) - i - 1
			}
			cur.WriteString(src[i+1 : i+1+end])
			quoteRaw.WriteString(src[i:min(len(src), i+2+end)])
			i += end + 2
			continue
		case c == '\\' && i+1 < len(src):
			inWord = true
			if src[i+1] != '\n' {
				cur.WriteByte(src[i+1])
			}
			quoteRaw.WriteString(src[i : i+2])
			i += 2
			continue
		case c == ' ' || c == '\t':
			flushWord()
		case c == '\n':
			flushCmd(false)
			if len(pending) > 0 {
				i = w.skipHereDocs(src, i+1, pending)
				pending = nil
				continue
			}
		case c == '|':
			if i+1 < len(src) && src[i+1] == '|' {
				flushCmd(false)
				i++
			} else {
				flushCmd(true)
				if i+1 < len(src) && src[i+1] == '&' {
					i++
				}
			}
		case c == ';':
			flushCmd(false)
		case c == '&':
			if i+1 < len(src) && src[i+1] == '&' {
				i++
				flushCmd(false)
			} else if i+1 < len(src) && src[i+1] == '>' {
				inWord = true
				cur.WriteByte(c)
				quoteRaw.WriteByte(c)
			} else if i > 0 && (src[i-1] == '>' || src[i-1] == '<') {
				inWord = true
				cur.WriteByte(c)
				quoteRaw.WriteByte(c)
			} else {
				flushCmd(false)
			}
		case c == '(' || c == ')' || c == '`' || c == '{' && !inWord || c == '}' && !inWord:
			flushWord()
		default:
			inWord = true
			cur.WriteByte(c)
			quoteRaw.WriteByte(c)
		}
		i++
	}
	flushCmd(false)
}

// skipHereDocs records the bodies of pending here-docs starting at src[i]
// and returns the offset after the last delimiter line.
func (w *walker) skipHereDocs(src string, i int, delims []string) int {
	for _, d := range delims {
		d = strings.Trim(d, `'"`)
		start := i
		for i < len(src) {
			end := strings.IndexByte(src[i:], '\n')
			line := src[i:]
			next := len(src)
			if end >= 0 {
				line = src[i : i+end]
				next = i + end + 1
			}
			if strings.TrimLeft(line, "\t") == d {
				w.addHereDoc(src[start:i])
				i = next
				start = -1
				break
			}
			i = next
		}
		if start >= 0 {
			w.addHereDoc(src[start:])
		}
	}
	return i
}

// fallbackRedirects separates redirection words (">", "2>>", "<", "&>",
// ">&", "<<EOF", "<<<") and their targets from the arguments.
func (w *walker) fallbackRedirects(words []arg) ([]arg, []Redirect) {
	var args []arg
	var redirs []Redirect
	for i := 0; i < len(words); i++ {
		v := words[i].val
		j := 0
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		op := ""
		for _, cand := range []string{"<<<", "<<-", "&>>", "<<", ">>", "&>", ">&", "<&", "<>", ">|", ">", "<"} {
			if strings.HasPrefix(v[j:], cand) {
				op = cand
				break
			}
		}
		if op == "" || (j > 0 && op[0] == '&') {
			args = append(args, words[i])
			continue
		}
		fd := -1
		if j > 0 {
			fd = atoiSmall(v[:j])
		}
		target := v[j+len(op):]
		if target == "" && i+1 < len(words) {
			i++
			target = words[i].val
		}
		rd := Redirect{Op: op, Target: target, FD: fd}
		switch op {
		case "<<", "<<-", "<<<":
			if rd.FD < 0 {
				rd.FD = 0
			}
			if op == "<<<" {
				w.addHereDoc(target)
			}
		case "<":
			if rd.FD < 0 {
				rd.FD = 0
			}
			w.addRead(target)
		case "<>":
			if rd.FD < 0 {
				rd.FD = 0
			}
			w.addRead(target)
			w.addWrite(target)
		case ">&", "<&":
			if rd.FD < 0 {
				rd.FD = 1
			}
			if t := strings.TrimSuffix(target, "-"); t != "" && atoiSmall(t) < 0 && op == ">&" {
				w.addWrite(target)
			}
		default:
			if rd.FD < 0 {
				rd.FD = 1
			}
			w.addWrite(target)
		}
		redirs = append(redirs, rd)
	}
	return args, redirs
}
