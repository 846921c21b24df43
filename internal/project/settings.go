package project

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MalformedError says where a settings file is not valid JSON (or not the
// shape Claude Code expects). The file is never modified in that case.
type MalformedError struct {
	Path      string
	Line, Col int // 1-based; 0 when the problem is not at one place
	Msg       string
}

func (e *MalformedError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// object is a JSON object that keeps its keys in file order and its values
// as raw bytes, so everything Vigil does not touch is written back as it
// was read (modulo whitespace: output is re-indented with two spaces).
type object struct {
	keys []string
	vals map[string]json.RawMessage
}

func newObject() *object { return &object{vals: map[string]json.RawMessage{}} }

// decodeObject decodes raw as an object; ok is false when raw is valid JSON
// of another kind.
func decodeObject(raw []byte) (o *object, ok bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, false, err
	}
	if d, isDelim := tok.(json.Delim); !isDelim || d != '{' {
		return nil, false, nil
	}
	o = newObject()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false, err
		}
		o.set(k, v)
	}
	return o, true, nil
}

func (o *object) get(k string) (json.RawMessage, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// set replaces k's value in place, or appends k.
func (o *object) set(k string, v json.RawMessage) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, kk := range o.keys {
		if kk == k {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

func (o *object) len() int { return len(o.keys) }

func (o *object) marshal() json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(marshalString(k))
		b.WriteByte(':')
		b.Write(o.vals[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

func marshalString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // commands hold && and > ; keep them readable
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func decodeArray(raw []byte) (arr []json.RawMessage, ok bool) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '[' {
		return nil, false
	}
	if err := json.Unmarshal(raw, &arr); err != nil {
		return nil, false
	}
	return arr, true
}

func marshalArray(arr []json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, v := range arr {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(v)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// parseSettings validates b and returns its top-level object and hooks
// object (nil when absent). An empty file is an empty object.
func parseSettings(path string, b []byte) (top, hooks *object, err error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return newObject(), nil, nil
	}
	if err := checkSyntax(path, b); err != nil {
		return nil, nil, err
	}
	top, ok, err := decodeObject(b)
	if err != nil {
		return nil, nil, &MalformedError{Path: path, Msg: err.Error()}
	}
	if !ok {
		return nil, nil, &MalformedError{Path: path, Msg: "the top level is not a JSON object"}
	}
	raw, ok := top.get("hooks")
	if !ok {
		return top, nil, nil
	}
	hooks, ok, err = decodeObject(raw)
	if err != nil || !ok {
		return nil, nil, &MalformedError{Path: path, Msg: `"hooks" is not a JSON object`}
	}
	for _, ev := range hooks.keys {
		if _, ok := decodeArray(hooks.vals[ev]); !ok {
			return nil, nil, &MalformedError{Path: path, Msg: fmt.Sprintf("hooks.%s is not a JSON array", ev)}
		}
	}
	return top, hooks, nil
}

// checkSyntax reports the first JSON syntax error in b with its line and
// column.
func checkSyntax(path string, b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		// Anything after the value is an error too.
		var extra any
		if err2 := dec.Decode(&extra); err2 != io.EOF {
			off := int(dec.InputOffset())
			for off < len(b) && strings.IndexByte(" \t\r\n", b[off]) >= 0 {
				off++
			}
			line, col := lineCol(b, off)
			return &MalformedError{Path: path, Line: line, Col: col, Msg: "unexpected data after the JSON object"}
		}
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(b, int(se.Offset)-1)
		return &MalformedError{Path: path, Line: line, Col: col, Msg: se.Error()}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		line, col := lineCol(b, len(b))
		return &MalformedError{Path: path, Line: line, Col: col, Msg: "unexpected end of JSON input"}
	}
	return &MalformedError{Path: path, Msg: err.Error()}
}

// lineCol turns a byte offset into a 1-based line and column; the column
// counts characters, as editors do.
func lineCol(b []byte, off int) (line, col int) {
	off = max(0, min(off, len(b)))
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}

func render(top *object) ([]byte, error) {
	var out bytes.Buffer
	if err := json.Indent(&out, top.marshal(), "", "  "); err != nil {
		return nil, fmt.Errorf("indent settings: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// handlerRef is one hook handler found in the settings.
type handlerRef struct {
	group, handler int
	cmd            HookCmd
	command        string
	matcher        string
	hasMatcher     bool
}

// findOurs lists Vigil's handlers in one event's array of matcher groups.
func findOurs(groups []json.RawMessage, isSelf func(string) bool) []handlerRef {
	var refs []handlerRef
	for gi, g := range groups {
		gobj, ok, err := decodeObject(g)
		if err != nil || !ok {
			continue
		}
		var matcher string
		mraw, hasMatcher := gobj.get("matcher")
		if hasMatcher {
			json.Unmarshal(mraw, &matcher)
		}
		hraw, ok := gobj.get("hooks")
		if !ok {
			continue
		}
		handlers, ok := decodeArray(hraw)
		if !ok {
			continue
		}
		for hi, h := range handlers {
			var hh struct {
				Type    string `json:"type"`
				Command string `json:"command"`
			}
			if json.Unmarshal(h, &hh) != nil || hh.Type != "command" {
				continue
			}
			if hc, ok := ParseHookCommand(hh.Command, isSelf); ok {
				refs = append(refs, handlerRef{gi, hi, hc, hh.Command, matcher, hasMatcher})
			}
		}
	}
	return refs
}

// removeHandlers drops the handlers at refs (all in one event's groups).
// A group left with no handlers is dropped too.
func removeHandlers(groups []json.RawMessage, refs []handlerRef) []json.RawMessage {
	drop := map[int]map[int]bool{}
	for _, r := range refs {
		if drop[r.group] == nil {
			drop[r.group] = map[int]bool{}
		}
		drop[r.group][r.handler] = true
	}
	var out []json.RawMessage
	for gi, g := range groups {
		d := drop[gi]
		if d == nil {
			out = append(out, g)
			continue
		}
		gobj, _, _ := decodeObject(g)
		handlers, _ := decodeArray(gobj.vals["hooks"])
		var kept []json.RawMessage
		for hi, h := range handlers {
			if !d[hi] {
				kept = append(kept, h)
			}
		}
		if len(kept) == 0 {
			continue
		}
		gobj.set("hooks", marshalArray(kept))
		out = append(out, gobj.marshal())
	}
	return out
}

// setCommand rewrites the command of one handler in place, keeping its
// other fields.
func setCommand(groups []json.RawMessage, r handlerRef, command string) {
	gobj, _, _ := decodeObject(groups[r.group])
	handlers, _ := decodeArray(gobj.vals["hooks"])
	hobj, _, _ := decodeObject(handlers[r.handler])
	hobj.set("command", marshalString(command))
	handlers[r.handler] = hobj.marshal()
	gobj.set("hooks", marshalArray(handlers))
	groups[r.group] = gobj.marshal()
}

func newGroup(command string) json.RawMessage {
	h := newObject()
	h.set("type", marshalString("command"))
	h.set("command", marshalString(command))
	h.set("timeout", json.RawMessage(fmt.Sprint(HookTimeout)))
	g := newObject()
	g.set("matcher", marshalString(HookMatcher))
	g.set("hooks", marshalArray([]json.RawMessage{h.marshal()}))
	return g.marshal()
}

// Merge adds Vigil's hook (command) to every event in HookEvents of the
// settings document b, leaving everything else as it was. It is
// idempotent: an event that already runs Vigil keeps its single entry,
// whose command is updated in place when it differs (a moved binary), and
// duplicates are removed. When nothing changes, out is b itself.
// isSelf recognises the current binary's path (see ParseHookCommand).
func Merge(path string, b []byte, command string, isSelf func(string) bool) (out []byte, changed bool, err error) {
	top, hooks, err := parseSettings(path, b)
	if err != nil {
		return nil, false, err
	}
	if hooks == nil {
		hooks = newObject()
	}
	for _, ev := range HookEvents {
		groups, _ := decodeArray(hooks.vals[ev])
		refs := findOurs(groups, isSelf)
		switch {
		case len(refs) == 0:
			groups = append(groups, newGroup(command))
		default:
			if refs[0].command != command {
				setCommand(groups, refs[0], command)
			} else if len(refs) == 1 {
				continue
			}
			groups = removeHandlers(groups, refs[1:])
		}
		changed = true
		hooks.set(ev, marshalArray(groups))
	}
	if !changed {
		return b, false, nil
	}
	top.set("hooks", hooks.marshal())
	out, err = render(top)
	return out, true, err
}

// Unmerge removes every Vigil hook handler from the settings document b,
// in any event. A matcher group left empty is removed, then an event left
// with no groups, then "hooks" when it is left empty, except those named
// in keepEmpty ("hooks", or an event name): they were already empty before
// connect (see EmptyContainers), so removing them would not restore the
// file. Containers that still hold someone else's hooks always stay.
// removed counts the handlers dropped; when it is 0, out is b itself.
func Unmerge(path string, b []byte, isSelf func(string) bool, keepEmpty ...string) (out []byte, removed int, err error) {
	keep := map[string]bool{}
	for _, k := range keepEmpty {
		keep[k] = true
	}
	top, hooks, err := parseSettings(path, b)
	if err != nil {
		return nil, 0, err
	}
	if hooks == nil {
		return b, 0, nil
	}
	for _, ev := range append([]string(nil), hooks.keys...) {
		groups, _ := decodeArray(hooks.vals[ev])
		refs := findOurs(groups, isSelf)
		if len(refs) == 0 {
			continue
		}
		removed += len(refs)
		groups = removeHandlers(groups, refs)
		if len(groups) == 0 && !keep[ev] {
			hooks.del(ev)
		} else {
			hooks.set(ev, marshalArray(groups))
		}
	}
	if removed == 0 {
		return b, 0, nil
	}
	if hooks.len() == 0 && !keep["hooks"] {
		top.del("hooks")
	} else {
		top.set("hooks", hooks.marshal())
	}
	out, err = render(top)
	return out, removed, err
}

// EmptyContainers names the containers of the settings document b that
// exist but are empty: "hooks" when it is {}, and each event whose array
// is []. Connect records them so Disconnect can leave them as they were.
func EmptyContainers(b []byte) []string {
	_, hooks, err := parseSettings("", b)
	if err != nil || hooks == nil {
		return nil
	}
	var out []string
	if hooks.len() == 0 {
		out = append(out, "hooks")
	}
	for _, ev := range hooks.keys {
		if arr, _ := decodeArray(hooks.vals[ev]); len(arr) == 0 {
			out = append(out, ev)
		}
	}
	return out
}

// Installation is what a settings file holds of Vigil's hook.
type Installation struct {
	// Commands maps each event that runs Vigil to its hook command(s).
	Commands map[string][]HookCmd
	// Narrowed lists events where Vigil's group has a matcher that does
	// not match every tool.
	Narrowed []string
}

// Missing lists the events of HookEvents that do not run Vigil.
func (in Installation) Missing() []string {
	var m []string
	for _, ev := range HookEvents {
		if len(in.Commands[ev]) == 0 {
			m = append(m, ev)
		}
	}
	return m
}

// Installed reports whether every event of HookEvents runs Vigil.
func (in Installation) Installed() bool { return len(in.Missing()) == 0 }

// Any reports whether at least one event runs Vigil.
func (in Installation) Any() bool { return len(in.Commands) > 0 }

// Inspect reports which events of the settings document b run Vigil.
func Inspect(path string, b []byte, isSelf func(string) bool) (Installation, error) {
	in := Installation{Commands: map[string][]HookCmd{}}
	_, hooks, err := parseSettings(path, b)
	if err != nil || hooks == nil {
		return in, err
	}
	for _, ev := range hooks.keys {
		groups, _ := decodeArray(hooks.vals[ev])
		for _, r := range findOurs(groups, isSelf) {
			in.Commands[ev] = append(in.Commands[ev], r.cmd)
			if r.hasMatcher && r.matcher != "" && r.matcher != "*" && r.matcher != ".*" {
				in.Narrowed = append(in.Narrowed, ev)
			}
		}
	}
	return in, nil
}
