package event

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the event's JSON (the spool line) to b. The output is
// byte for byte what encoding/json makes of the struct (field order, tags,
// omitempty, HTML-safe string escaping); TestAppendJSONMatchesReflection
// and FuzzAppendJSON hold it to that. It exists because the hook encodes
// one event per process: encoding/json first builds its per-type encoders
// by reflection, about a quarter of the hook's own work.
func (e *Event) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"schema_version":`...)
	b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
	b = append(b, `,"timestamp":`...)
	b = appendTime(b, e.Timestamp)
	b = field(b, "host", e.Host)
	b = field(b, "user", e.User)
	b = field(b, "agent", e.Agent)
	b = field(b, "project", e.Project)
	b = field(b, "project_dir", e.ProjectDir)
	b = fieldOmit(b, "cwd", e.Cwd)
	b = field(b, "session_id", e.SessionID)
	b = fieldOmit(b, "transcript_path", e.TranscriptPath)
	b = fieldOmit(b, "agent_id", e.AgentID)
	b = fieldOmit(b, "agent_type", e.AgentType)
	b = field(b, "hook_event", e.HookEvent)
	b = fieldOmit(b, "tool_name", e.ToolName)
	b = fieldOmit(b, "tool_use_id", e.ToolUseID)
	b = field(b, "event_type", e.EventType)
	b = fieldOmit(b, "permission_mode", e.PermissionMode)
	b = append(b, `,"action_details":`...)
	b = e.Action.appendJSON(b)
	b = append(b, `,"security_flags":`...)
	b = e.Security.appendJSON(b)
	if o := e.Outcome; o != nil {
		b = append(b, `,"outcome":{"success":`...)
		b = strconv.AppendBool(b, o.Success)
		b = fieldOmit(b, "error", o.Error)
		if o.ExitCode != nil {
			b = append(b, `,"exit_code":`...)
			b = strconv.AppendInt(b, int64(*o.ExitCode), 10)
		}
		b = intOmit(b, "duration_ms", o.DurationMS)
		b = boolOmit(b, "interrupted", o.Interrupted)
		b = append(b, '}')
	}
	if d := e.Decision; d != nil {
		b = append(b, `,"decision":{"action":`...)
		b = appendString(b, d.Action)
		b = fieldOmit(b, "rule", d.Rule)
		b = fieldOmit(b, "reason", d.Reason)
		b = fieldOmit(b, "mode", d.Mode)
		b = append(b, '}')
	}
	if h := e.HookError; h != nil {
		b = append(b, `,"hook_error":{"reason":`...)
		b = appendString(b, h.Reason)
		b = append(b, `,"input_bytes":`...)
		b = strconv.AppendInt(b, int64(h.InputBytes), 10)
		b = fieldOmit(b, "input_sha256", h.InputSHA256)
		b = fieldOmit(b, "excerpt", h.Excerpt)
		b = append(b, '}')
	}
	b = stringsOmit(b, "truncated", e.Truncated)
	return append(b, '}')
}

// MarshalJSON makes json.Marshal use AppendJSON.
func (e *Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

func (a *Action) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = fieldOmit(b, "command", a.Command)
	b = fieldOmit(b, "description", a.Description)
	b = intOmit(b, "timeout_ms", a.TimeoutMS)
	b = boolOmit(b, "run_in_background", a.RunInBackground)
	b = stringsOmit(b, "programs", a.Programs)
	b = fieldOmit(b, "file_path", a.FilePath)
	b = stringsOmit(b, "paths", a.Paths)
	b = intOmit(b, "offset", a.Offset)
	b = intOmit(b, "limit", a.Limit)
	b = digestOmit(b, "content", a.Content)
	b = digestOmit(b, "old_string", a.OldString)
	b = digestOmit(b, "new_string", a.NewString)
	b = intOmit(b, "edit_count", int64(a.EditCount))
	b = boolOmit(b, "replace_all", a.ReplaceAll)
	b = fieldOmit(b, "cell_id", a.CellID)
	b = fieldOmit(b, "edit_mode", a.EditMode)
	b = fieldOmit(b, "pattern", a.Pattern)
	b = fieldOmit(b, "glob", a.Glob)
	b = fieldOmit(b, "output_mode", a.OutputMode)
	b = fieldOmit(b, "url", a.URL)
	b = fieldOmit(b, "domain", a.Domain)
	b = fieldOmit(b, "query", a.Query)
	b = fieldOmit(b, "prompt", a.Prompt)
	b = fieldOmit(b, "subagent_type", a.SubagentType)
	b = intOmit(b, "todo_count", int64(a.TodoCount))
	b = fieldOmit(b, "mcp_server", a.MCPServer)
	b = fieldOmit(b, "mcp_tool", a.MCPTool)
	if len(a.Input) > 0 {
		b = key(b, "input")
		// Same as encoding/json: the raw value compacted, HTML-escaped.
		raw, err := json.Marshal(a.Input)
		if err != nil {
			raw = []byte("null") // invalid JSON; encoding/json would fail the whole event
		}
		b = append(b, raw...)
	}
	b = fieldOmit(b, "source", a.Source)
	b = fieldOmit(b, "model", a.Model)
	b = fieldOmit(b, "reason", a.Reason)
	b = fieldOmit(b, "trigger", a.Trigger)
	b = fieldOmit(b, "notification_type", a.NotificationType)
	b = fieldOmit(b, "message", a.Message)
	b = fieldOmit(b, "title", a.Title)
	b = boolOmit(b, "stop_hook_active", a.StopHookActive)
	if r := a.Response; r != nil {
		b = key(b, "response")
		b = r.appendJSON(b)
	}
	if cf := a.ContentFacts; cf != nil {
		b = key(b, "content_facts")
		b = cf.appendJSON(b)
	}
	return append(b, '}')
}

func (r *Response) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = digestOmit(b, "stdout", r.Stdout)
	b = digestOmit(b, "stderr", r.Stderr)
	b = digestOmit(b, "result", r.Result)
	b = boolOmit(b, "interrupted", r.Interrupted)
	b = intOmit(b, "num_lines", int64(r.NumLines))
	b = intOmit(b, "total_lines", int64(r.TotalLines))
	b = intOmit(b, "num_files", int64(r.NumFiles))
	b = intOmit(b, "status_code", int64(r.StatusCode))
	b = intOmit(b, "bytes", r.Bytes)
	b = fieldOmit(b, "type", r.Type)
	return append(b, '}')
}

func (cf *ContentFacts) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = fieldOmit(b, "kind", cf.Kind)
	b = stringsOmit(b, "tags", cf.Tags)
	if len(cf.Findings) > 0 {
		b = key(b, "findings")
		b = append(b, '[')
		for i, f := range cf.Findings {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"rule":`...)
			b = appendString(b, f.Rule)
			b = append(b, `,"severity":`...)
			b = appendString(b, f.Severity)
			b = append(b, `,"category":`...)
			b = appendString(b, f.Category)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (s *Security) appendJSON(b []byte) []byte {
	b = append(b, `{"outside_project_scope":`...)
	b = strconv.AppendBool(b, s.OutsideProjectScope)
	b = append(b, `,"sensitive_path":`...)
	b = strconv.AppendBool(b, s.SensitivePath)
	b = stringsOmit(b, "outside_paths", s.OutsidePaths)
	b = stringsOmit(b, "sensitive_paths", s.SensitivePaths)
	b = stringsOmit(b, "sensitive_kinds", s.SensitiveKinds)
	b = append(b, `,"redactions":`...)
	if s.Redactions == nil {
		b = append(b, "null"...)
	} else {
		b = appendStrings(b, s.Redactions)
	}
	return append(b, '}')
}

// key starts a member: a comma first unless it is the object's first
// (no JSON value ends in '{', so that is what b ends in only then).
func key(b []byte, k string) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

// field writes a member that follows at least one other.
func field(b []byte, k, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func fieldOmit(b []byte, k, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(key(b, k), v)
}

func intOmit(b []byte, k string, v int64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(key(b, k), v, 10)
}

func boolOmit(b []byte, k string, v bool) []byte {
	if !v {
		return b
	}
	return append(key(b, k), "true"...)
}

func stringsOmit(b []byte, k string, v []string) []byte {
	if len(v) == 0 {
		return b
	}
	return appendStrings(key(b, k), v)
}

func appendStrings(b []byte, v []string) []byte {
	b = append(b, '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func digestOmit(b []byte, k string, d *Digest) []byte {
	if d == nil {
		return b
	}
	b = append(key(b, k), `{"bytes":`...)
	b = strconv.AppendInt(b, int64(d.Bytes), 10)
	b = append(b, `,"sha256":`...)
	b = appendString(b, d.SHA256)
	return append(b, '}')
}

// appendTime writes t as time.Time.MarshalJSON does (RFC 3339 with
// nanoseconds, quoted).
func appendTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y >= 10000 {
		// MarshalJSON refuses these; the normaliser never makes one.
		t = time.Time{}
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as encoding/json does with HTML escaping: quotes,
// backslashes and control characters escaped, <, > and & as \u003c etc.,
// U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
