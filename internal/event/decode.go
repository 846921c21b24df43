package event

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// Unmarshal decodes a spool line into e, with the result json.Unmarshal
// gives. Spool lines are what AppendJSON writes, so a direct decoder for
// exactly that shape (known keys, each once, no nulls but in slices) does
// the common case in a quarter of the time encoding/json's reflection
// takes — the largest cost of the ingest reader. Anything else (an unknown
// or differently cased key, a repeated key, a null, a number with a
// fraction, invalid JSON) goes to json.Unmarshal, which then decides:
// TestUnmarshalMatchesJSON and FuzzUnmarshal hold the two to the same
// answer.
func Unmarshal(data []byte, e *Event) error {
	*e = Event{}
	d := decoder{b: data}
	if err := d.event(e); err == nil {
		d.ws()
		if d.i == len(d.b) {
			return nil
		}
	}
	*e = Event{}
	return json.Unmarshal(data, e)
}

// errSlow sends a line to encoding/json.
var errSlow = errors.New("not the canonical event shape")

type decoder struct {
	b []byte
	i int
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// eat consumes c (after white space) and reports whether it was there.
func (d *decoder) eat(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads an object whose keys are each given to field once, with
// the decoder at the value; field reads the value. A key twice, or a key
// field does not know (it returns errSlow), ends the fast path.
func (d *decoder) object(field func(key []byte) (int, error)) error {
	if !d.eat('{') {
		return errSlow
	}
	if d.eat('}') {
		return nil
	}
	var seen uint64
	for {
		d.ws()
		key, err := d.key()
		if err != nil {
			return err
		}
		if !d.eat(':') {
			return errSlow
		}
		d.ws()
		n, err := field(key)
		if err != nil {
			return err
		}
		if seen&(1<<n) != 0 {
			return errSlow
		}
		seen |= 1 << n
		if d.eat(',') {
			continue
		}
		if d.eat('}') {
			return nil
		}
		return errSlow
	}
}

// key reads a key without escapes.
func (d *decoder) key() ([]byte, error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, errSlow
	}
	for j := d.i + 1; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			k := d.b[d.i+1 : j]
			d.i = j + 1
			return k, nil
		case c == '\\' || c < 0x20:
			return nil, errSlow
		}
	}
	return nil, errSlow
}

// token returns the raw string token at the decoder (quotes included) and
// whether it has escapes, checking what encoding/json's scanner checks.
func (d *decoder) token() (tok []byte, esc, high bool, err error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false, false, errSlow
	}
	for j := d.i + 1; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			tok = d.b[d.i : j+1]
			d.i = j + 1
			return tok, esc, high, nil
		case c == '\\':
			esc = true
			j++
		case c < 0x20:
			return nil, false, false, errSlow
		case c >= 0x80:
			high = true
		}
	}
	return nil, false, false, errSlow
}

func (d *decoder) str() (string, error) {
	tok, esc, high, err := d.token()
	if err != nil {
		return "", err
	}
	body := tok[1 : len(tok)-1]
	if !esc {
		if high && !utf8.Valid(body) {
			return "", errSlow // encoding/json substitutes U+FFFD
		}
		return string(body), nil
	}
	s, ok := decodeJSONString(tok)
	if !ok {
		return "", errSlow
	}
	return s, nil
}

// null consumes a null and reports whether there was one.
func (d *decoder) null() bool {
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

func (d *decoder) boolean() (bool, error) {
	switch {
	case len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "true":
		d.i += 4
		return true, nil
	case len(d.b)-d.i >= 5 && string(d.b[d.i:d.i+5]) == "false":
		d.i += 5
		return false, nil
	}
	return false, errSlow
}

// integer reads an integer in JSON's grammar (no fraction, no exponent).
func (d *decoder) integer() (int64, error) {
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	n := d.i - digits
	if n == 0 || n > 1 && d.b[digits] == '0' {
		return 0, errSlow
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return 0, errSlow
	}
	v, err := strconv.ParseInt(string(d.b[start:d.i]), 10, 64)
	if err != nil {
		return 0, errSlow
	}
	return v, nil
}

func (d *decoder) strs() ([]string, error) {
	if d.null() {
		return nil, nil
	}
	if !d.eat('[') {
		return nil, errSlow
	}
	out := []string{}
	if d.eat(']') {
		return out, nil
	}
	for {
		d.ws()
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		if d.eat(',') {
			continue
		}
		if d.eat(']') {
			return out, nil
		}
		return nil, errSlow
	}
}

// raw returns a copy of the value at the decoder, validated as JSON.
func (d *decoder) raw() (json.RawMessage, error) {
	start := d.i
	if err := d.skip(0); err != nil {
		return nil, err
	}
	return append(json.RawMessage(nil), d.b[start:d.i]...), nil
}

// skipString passes over one string, checking its escapes and encoding;
// anything the fast path does not vouch for goes to encoding/json.
func (d *decoder) skipString() error {
	tok, esc, high, err := d.token()
	if err != nil {
		return err
	}
	if esc {
		if _, ok := decodeJSONString(tok); !ok {
			return errSlow
		}
	} else if high && !utf8.Valid(tok) {
		return errSlow
	}
	return nil
}

// skip passes over one JSON value, checking its grammar.
func (d *decoder) skip(depth int) error {
	if depth > 256 {
		return errSlow
	}
	d.ws()
	if d.i >= len(d.b) {
		return errSlow
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.skipString()
	case c == '{':
		d.i++
		if d.eat('}') {
			return nil
		}
		for {
			d.ws()
			if err := d.skipString(); err != nil { // a key: its escapes are checked too
				return err
			}
			if !d.eat(':') {
				return errSlow
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			if d.eat(',') {
				continue
			}
			if d.eat('}') {
				return nil
			}
			return errSlow
		}
	case c == '[':
		d.i++
		if d.eat(']') {
			return nil
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			if d.eat(',') {
				continue
			}
			if d.eat(']') {
				return nil
			}
			return errSlow
		}
	case c == 't' || c == 'f':
		_, err := d.boolean()
		return err
	case c == 'n':
		if d.null() {
			return nil
		}
		return errSlow
	default:
		return d.number()
	}
}

// number passes over a JSON number (any: fraction and exponent too).
func (d *decoder) number() error {
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	if n := d.i - digits; n == 0 || n > 1 && d.b[digits] == '0' {
		return errSlow
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		f := d.i
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
		}
		if d.i == f {
			return errSlow
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		x := d.i
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
		}
		if d.i == x {
			return errSlow
		}
	}
	return nil
}

// Field setters: each returns the field's index in its object (for the
// repeated-key check).

func (d *decoder) setStr(n int, p *string) (int, error) {
	v, err := d.str()
	*p = v
	return n, err
}

func (d *decoder) setInt(n int, p *int64) (int, error) {
	v, err := d.integer()
	*p = v
	return n, err
}

func (d *decoder) setIntN(n int, p *int) (int, error) {
	v, err := d.integer()
	*p = int(v)
	return n, err
}

func (d *decoder) setBool(n int, p *bool) (int, error) {
	v, err := d.boolean()
	*p = v
	return n, err
}

func (d *decoder) setStrs(n int, p *[]string) (int, error) {
	v, err := d.strs()
	*p = v
	return n, err
}

func (d *decoder) setDigest(n int, p **Digest) (int, error) {
	g := &Digest{}
	*p = g
	return n, d.object(func(k []byte) (int, error) {
		switch string(k) {
		case "bytes":
			return d.setIntN(0, &g.Bytes)
		case "sha256":
			return d.setStr(1, &g.SHA256)
		}
		return 0, errSlow
	})
}

func (d *decoder) event(e *Event) error {
	return d.object(func(k []byte) (int, error) {
		switch string(k) {
		case "id":
			return d.setStr(0, &e.ID)
		case "schema_version":
			return d.setIntN(1, &e.SchemaVersion)
		case "timestamp":
			tok, _, _, err := d.token()
			if err != nil {
				return 2, err
			}
			if e.Timestamp.UnmarshalJSON(tok) != nil {
				return 2, errSlow
			}
			return 2, nil
		case "host":
			return d.setStr(3, &e.Host)
		case "user":
			return d.setStr(4, &e.User)
		case "agent":
			return d.setStr(5, &e.Agent)
		case "project":
			return d.setStr(6, &e.Project)
		case "project_dir":
			return d.setStr(7, &e.ProjectDir)
		case "cwd":
			return d.setStr(8, &e.Cwd)
		case "session_id":
			return d.setStr(9, &e.SessionID)
		case "transcript_path":
			return d.setStr(10, &e.TranscriptPath)
		case "agent_id":
			return d.setStr(11, &e.AgentID)
		case "agent_type":
			return d.setStr(12, &e.AgentType)
		case "hook_event":
			return d.setStr(13, &e.HookEvent)
		case "tool_name":
			return d.setStr(14, &e.ToolName)
		case "tool_use_id":
			return d.setStr(15, &e.ToolUseID)
		case "event_type":
			return d.setStr(16, &e.EventType)
		case "permission_mode":
			return d.setStr(17, &e.PermissionMode)
		case "action_details":
			return 18, d.action(&e.Action)
		case "security_flags":
			return 19, d.security(&e.Security)
		case "outcome":
			o := &Outcome{}
			e.Outcome = o
			return 20, d.object(func(k []byte) (int, error) {
				switch string(k) {
				case "success":
					return d.setBool(0, &o.Success)
				case "error":
					return d.setStr(1, &o.Error)
				case "exit_code":
					v, err := d.integer()
					x := int(v)
					o.ExitCode = &x
					return 2, err
				case "duration_ms":
					return d.setInt(3, &o.DurationMS)
				case "interrupted":
					return d.setBool(4, &o.Interrupted)
				}
				return 0, errSlow
			})
		case "decision":
			x := &Decision{}
			e.Decision = x
			return 21, d.object(func(k []byte) (int, error) {
				switch string(k) {
				case "action":
					return d.setStr(0, &x.Action)
				case "rule":
					return d.setStr(1, &x.Rule)
				case "reason":
					return d.setStr(2, &x.Reason)
				case "mode":
					return d.setStr(3, &x.Mode)
				}
				return 0, errSlow
			})
		case "hook_error":
			h := &HookError{}
			e.HookError = h
			return 22, d.object(func(k []byte) (int, error) {
				switch string(k) {
				case "reason":
					return d.setStr(0, &h.Reason)
				case "input_bytes":
					return d.setIntN(1, &h.InputBytes)
				case "input_sha256":
					return d.setStr(2, &h.InputSHA256)
				case "excerpt":
					return d.setStr(3, &h.Excerpt)
				}
				return 0, errSlow
			})
		case "truncated":
			return d.setStrs(23, &e.Truncated)
		}
		return 0, errSlow
	})
}

func (d *decoder) security(s *Security) error {
	return d.object(func(k []byte) (int, error) {
		switch string(k) {
		case "outside_project_scope":
			return d.setBool(0, &s.OutsideProjectScope)
		case "sensitive_path":
			return d.setBool(1, &s.SensitivePath)
		case "outside_paths":
			return d.setStrs(2, &s.OutsidePaths)
		case "sensitive_paths":
			return d.setStrs(3, &s.SensitivePaths)
		case "sensitive_kinds":
			return d.setStrs(4, &s.SensitiveKinds)
		case "redactions":
			return d.setStrs(5, &s.Redactions)
		}
		return 0, errSlow
	})
}

func (d *decoder) action(a *Action) error {
	return d.object(func(k []byte) (int, error) {
		switch string(k) {
		case "command":
			return d.setStr(0, &a.Command)
		case "description":
			return d.setStr(1, &a.Description)
		case "timeout_ms":
			return d.setInt(2, &a.TimeoutMS)
		case "run_in_background":
			return d.setBool(3, &a.RunInBackground)
		case "programs":
			return d.setStrs(4, &a.Programs)
		case "file_path":
			return d.setStr(5, &a.FilePath)
		case "paths":
			return d.setStrs(6, &a.Paths)
		case "offset":
			return d.setInt(7, &a.Offset)
		case "limit":
			return d.setInt(8, &a.Limit)
		case "content":
			return d.setDigest(9, &a.Content)
		case "old_string":
			return d.setDigest(10, &a.OldString)
		case "new_string":
			return d.setDigest(11, &a.NewString)
		case "edit_count":
			return d.setIntN(12, &a.EditCount)
		case "replace_all":
			return d.setBool(13, &a.ReplaceAll)
		case "cell_id":
			return d.setStr(14, &a.CellID)
		case "edit_mode":
			return d.setStr(15, &a.EditMode)
		case "pattern":
			return d.setStr(16, &a.Pattern)
		case "glob":
			return d.setStr(17, &a.Glob)
		case "output_mode":
			return d.setStr(18, &a.OutputMode)
		case "url":
			return d.setStr(19, &a.URL)
		case "domain":
			return d.setStr(20, &a.Domain)
		case "query":
			return d.setStr(21, &a.Query)
		case "prompt":
			return d.setStr(22, &a.Prompt)
		case "subagent_type":
			return d.setStr(23, &a.SubagentType)
		case "todo_count":
			return d.setIntN(24, &a.TodoCount)
		case "mcp_server":
			return d.setStr(25, &a.MCPServer)
		case "mcp_tool":
			return d.setStr(26, &a.MCPTool)
		case "input":
			v, err := d.raw()
			a.Input = v
			return 27, err
		case "source":
			return d.setStr(28, &a.Source)
		case "model":
			return d.setStr(29, &a.Model)
		case "reason":
			return d.setStr(30, &a.Reason)
		case "trigger":
			return d.setStr(31, &a.Trigger)
		case "notification_type":
			return d.setStr(32, &a.NotificationType)
		case "message":
			return d.setStr(33, &a.Message)
		case "title":
			return d.setStr(34, &a.Title)
		case "stop_hook_active":
			return d.setBool(35, &a.StopHookActive)
		case "response":
			r := &Response{}
			a.Response = r
			return 36, d.object(func(k []byte) (int, error) {
				switch string(k) {
				case "stdout":
					return d.setDigest(0, &r.Stdout)
				case "stderr":
					return d.setDigest(1, &r.Stderr)
				case "result":
					return d.setDigest(2, &r.Result)
				case "interrupted":
					return d.setBool(3, &r.Interrupted)
				case "num_lines":
					return d.setIntN(4, &r.NumLines)
				case "total_lines":
					return d.setIntN(5, &r.TotalLines)
				case "num_files":
					return d.setIntN(6, &r.NumFiles)
				case "status_code":
					return d.setIntN(7, &r.StatusCode)
				case "bytes":
					return d.setInt(8, &r.Bytes)
				case "type":
					return d.setStr(9, &r.Type)
				}
				return 0, errSlow
			})
		case "content_facts":
			cf := &ContentFacts{}
			a.ContentFacts = cf
			return 37, d.object(func(k []byte) (int, error) {
				switch string(k) {
				case "kind":
					return d.setStr(0, &cf.Kind)
				case "tags":
					return d.setStrs(1, &cf.Tags)
				case "findings":
					return 2, d.findings(&cf.Findings)
				}
				return 0, errSlow
			})
		}
		return 0, errSlow
	})
}

func (d *decoder) findings(p *[]ContentFinding) error {
	if d.null() {
		return nil
	}
	if !d.eat('[') {
		return errSlow
	}
	out := []ContentFinding{}
	if !d.eat(']') {
		for {
			var f ContentFinding
			if err := d.object(func(k []byte) (int, error) {
				switch string(k) {
				case "rule":
					return d.setStr(0, &f.Rule)
				case "severity":
					return d.setStr(1, &f.Severity)
				case "category":
					return d.setStr(2, &f.Category)
				}
				return 0, errSlow
			}); err != nil {
				return err
			}
			out = append(out, f)
			if d.eat(',') {
				continue
			}
			if d.eat(']') {
				break
			}
			return errSlow
		}
	}
	*p = out
	return nil
}
