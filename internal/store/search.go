package store

import (
	"bytes"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/event"
)

// The full-text pre-filter.
//
// events_fts indexes, per event, the raw (still JSON-escaped) bytes of the
// string tokens of its JSON line, one per line, except:
//   - keys that belong to the v3 schema (they are in nearly every row and
//     would only make the index bigger), and
//   - "hex-like" strings made only of [0-9a-fA-F:.TZ+-] (ids, digests,
//     timestamps, session ids): unique per row, they would dominate the
//     index while nobody searches them by substring.
//
// A `|= "term"` filter may use the index only when the index cannot miss a
// match (termIndexable):
//   - the term has no '"' and no '\', so where it occurs in the line it lies
//     inside one string token (or in the structural text between tokens);
//   - it contains a character that cannot occur in structural text (digits,
//     signs, punctuation, whitespace, true/false/null), so it is inside a
//     string token;
//   - it contains a character outside the hex-like set, so that token was
//     indexed unless it is a schema key or the value of a side key (see
//     isSideKey); it is no substring of a schema key, and no substring of
//     any side-key value ever stored (table fts_sides, found through its
//     own trigram index fts_sides_idx and re-checked exactly).
// The index is case-insensitive and detail=none (no positions), so a match
// is only a candidate: every candidate row is re-checked against the line.

// minIndexedTerm is the shortest term the trigram index can look up.
const minIndexedTerm = 3

// maxTrigrams bounds how many trigrams of one term are looked up: a few
// well-spread ones already make the candidate set small.
const maxTrigrams = 8

// sideKeys are top-level keys whose values repeat across many events (per
// host, project or session). Their values are not indexed per event but
// kept once each in fts_sides; a term found in any of them does not use
// the index (see termIndexable). This keeps the index about 2.5× smaller
// and cheaper to write.
func isSideKey(k []byte) bool {
	switch string(k) {
	case "cwd", "project_dir", "transcript_path", "project", "host", "user", "agent", "agent_type",
		"permission_mode", "hook_event", "event_type", "tool_name":
		return true
	}
	return false
}

// searchText appends the indexed text of one JSON line to buf and calls
// side for each value of a side key.
func (s *Store) searchText(buf *bytes.Buffer, line []byte, side func([]byte)) {
	first := buf.Len() // this event's text starts here
	i, n := 0, len(line)
	depth := 0
	var key []byte // the last top-level key
	for i < n {
		switch line[i] {
		case '{', '[':
			depth++
			i++
			continue
		case '}', ']':
			depth--
			i++
			continue
		case '"':
		default:
			i++
			continue
		}
		// A string token: find its closing quote, one not escaped (an
		// even number of backslashes before it).
		j := i + 1
		for {
			k := bytes.IndexByte(line[j:], '"')
			if k < 0 {
				j = n
				break
			}
			j += k
			b := 0
			for p := j - 1; p > i && line[p] == '\\'; p-- {
				b++
			}
			if b%2 == 0 {
				break
			}
			j++
		}
		tok := line[i+1 : j]
		k := j + 1
		for k < n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\n' || line[k] == '\r') {
			k++
		}
		isKey := k < n && line[k] == ':'
		i = j + 1
		if isKey && depth == 1 {
			key = tok
		}
		switch {
		case len(tok) < minIndexedTerm || hexLike(tok) || (isKey && s.keys[string(tok)]):
		case !isKey && depth == 1 && isSideKey(key):
			side(tok)
		case bytes.Contains(buf.Bytes()[first:], tok):
			// Already indexed for this event (paths repeat file_path,
			// programs repeat the command, domain the URL): every term
			// inside tok is inside the earlier token too.
		default:
			buf.Write(tok)
			buf.WriteByte('\n')
		}
	}
}

func hexLike(b []byte) bool {
	for _, c := range b {
		if !isHexLike(rune(c)) {
			return false
		}
	}
	return true
}

func isHexLike(c rune) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' ||
		c == ':' || c == '.' || c == 'T' || c == 'Z' || c == '+' || c == '-'
}

// isStructural reports whether c can occur in a JSON line outside string
// tokens.
func isStructural(c rune) bool {
	switch c {
	case '{', '}', '[', ']', ':', ',', ' ', '\t', '\n', '\r', '-', '+', '.', 'e', 'E',
		't', 'r', 'u', 'f', 'a', 'l', 's', 'n':
		return true
	}
	return c >= '0' && c <= '9'
}

// termIndexable reports whether the FTS index can be used for a `|=` term
// without ever dropping a matching row (see the comment at the top). It
// does not look at the side values; useIndex does.
func (s *Store) termIndexable(term string) bool {
	if utf8.RuneCountInString(term) < minIndexedTerm || strings.ContainsAny(term, "\"\\") || !utf8.ValidString(term) {
		return false
	}
	structural, hexy := true, true
	for _, c := range term {
		if c < 0x20 {
			return false
		}
		if !isStructural(c) {
			structural = false
		}
		if !isHexLike(c) {
			hexy = false
		}
	}
	if structural || hexy {
		return false
	}
	for k := range s.keys {
		if strings.Contains(k, term) {
			return false
		}
	}
	return true
}

// ftsQuery turns indexable terms into an FTS5 MATCH expression: the AND of
// up to maxTrigrams trigrams of each term.
func ftsQuery(terms []string) string {
	var b strings.Builder
	for _, t := range terms {
		r := []rune(t)
		n := len(r) - 2
		step := 1
		if n > maxTrigrams {
			step = (n + maxTrigrams - 1) / maxTrigrams
		}
		seen := map[string]bool{}
		add := func(i int) {
			g := strings.ToLower(string(r[i : i+3]))
			if seen[g] {
				return
			}
			seen[g] = true
			if b.Len() > 0 {
				b.WriteString(" AND ")
			}
			b.WriteByte('"')
			b.WriteString(g)
			b.WriteByte('"')
		}
		for i := 0; i < n; i += step {
			add(i)
		}
		add(n - 1) // always the last trigram
	}
	return b.String()
}

// schemaKeys returns every JSON key of the v3 event schema (all nesting
// levels), from the struct tags of event.Event.
func schemaKeys() map[string]bool {
	keys := map[string]bool{}
	var walk func(t reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name != "" {
				keys[name] = true
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(event.Event{}))
	return keys
}
