package event

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/redact"
	"github.com/vigil-sec/vigil/internal/shell"
)

// Options configure a Normalizer. Zero values get sensible defaults.
type Options struct {
	// Now stamps events (default time.Now).
	Now func() time.Time
	// NewID makes event ids (default NewID, a UUIDv7).
	NewID func(time.Time) string
	Host  string
	User  string
	// ProjectDir is CLAUDE_PROJECT_DIR, when Claude Code set it.
	ProjectDir string
	// Home is the agent user's home; by default it is taken from the
	// payload's transcript_path, else this value.
	Home string
	// ProjectName maps a project dir to its registered name.
	ProjectName func(dir string) (string, bool)
	// MaxField caps every stored string (default 16 KiB).
	MaxField int
	// Redactor removes secrets (default redact.New()).
	Redactor *redact.Redactor
}

// Normalizer turns raw hook payloads into events. It is safe for
// concurrent use.
type Normalizer struct {
	o Options
}

// NewNormalizer returns a Normalizer with defaults filled in.
func NewNormalizer(o Options) *Normalizer {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = NewID
	}
	if o.MaxField <= 0 {
		o.MaxField = 16 << 10
	}
	if o.Redactor == nil {
		o.Redactor = redact.New()
	}
	return &Normalizer{o: o}
}

// Errors returned for input that is not a hook payload.
var (
	ErrEmpty     = errors.New("empty input")
	ErrNotObject = errors.New("input is not a JSON object")
	ErrInvalid   = errors.New("input is not valid JSON")
)

// Normalize turns one raw payload into an event. For input that is not a
// JSON object it returns an error wrapping ErrEmpty, ErrNotObject or
// ErrInvalid; callers record it with HookError.
func (n *Normalizer) Normalize(raw []byte) (*Event, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, ErrEmpty
	}
	if trimmed[0] != '{' {
		if json.Valid(trimmed) {
			return nil, fmt.Errorf("%w: got a JSON %s", ErrNotObject, jsonKind(trimmed[0]))
		}
		return nil, fmt.Errorf("%w: starts with %q", ErrInvalid, trimmed[0])
	}
	// One decode: tool_input and tool_response become maps in the same
	// pass, so a 2 MB command is scanned once here and once when its
	// string is decoded, not re-validated per level.
	var w wire
	if err := json.Unmarshal(trimmed, &w); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, describeJSONError(trimmed, err))
		}
		// A field of an unexpected type (tool_input not an object) is
		// dropped; the event is still recorded.
	}
	return n.build(w.fields(), w.ToolInput, w.ToolResponse), nil
}

// wire is a hook payload as decoded: the known scalar fields raw (decoded
// leniently by obj), the tool's input and response as objects.
type wire struct {
	SessionID          json.RawMessage `json:"session_id"`
	TranscriptPath     json.RawMessage `json:"transcript_path"`
	Cwd                json.RawMessage `json:"cwd"`
	PermissionMode     json.RawMessage `json:"permission_mode"`
	HookEventName      json.RawMessage `json:"hook_event_name"`
	ToolName           json.RawMessage `json:"tool_name"`
	ToolUseID          json.RawMessage `json:"tool_use_id"`
	AgentID            json.RawMessage `json:"agent_id"`
	AgentType          json.RawMessage `json:"agent_type"`
	Source             json.RawMessage `json:"source"`
	Model              json.RawMessage `json:"model"`
	Reason             json.RawMessage `json:"reason"`
	Prompt             json.RawMessage `json:"prompt"`
	Message            json.RawMessage `json:"message"`
	Title              json.RawMessage `json:"title"`
	NotificationType   json.RawMessage `json:"notification_type"`
	Trigger            json.RawMessage `json:"trigger"`
	CustomInstructions json.RawMessage `json:"custom_instructions"`
	Error              json.RawMessage `json:"error"`
	StopHookActive     json.RawMessage `json:"stop_hook_active"`
	IsInterrupt        json.RawMessage `json:"is_interrupt"`
	ToolInput          obj             `json:"tool_input"`
	ToolResponse       obj             `json:"tool_response"`
}

func (w *wire) fields() obj {
	o := obj{}
	for k, v := range map[string]json.RawMessage{
		"session_id": w.SessionID, "transcript_path": w.TranscriptPath, "cwd": w.Cwd,
		"permission_mode": w.PermissionMode, "hook_event_name": w.HookEventName, "tool_name": w.ToolName,
		"tool_use_id": w.ToolUseID, "agent_id": w.AgentID, "agent_type": w.AgentType, "source": w.Source,
		"model": w.Model, "reason": w.Reason, "prompt": w.Prompt, "message": w.Message, "title": w.Title,
		"notification_type": w.NotificationType, "trigger": w.Trigger, "custom_instructions": w.CustomInstructions,
		"error": w.Error, "stop_hook_active": w.StopHookActive, "is_interrupt": w.IsInterrupt,
	} {
		if v != nil {
			o[k] = v
		}
	}
	return o
}

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	}
	return "number"
}

func describeJSONError(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(b, int(se.Offset))
		return fmt.Sprintf("%v at line %d, column %d", se, line, col)
	}
	if errors.Is(err, errUnexpectedEOF) || strings.Contains(err.Error(), "unexpected EOF") {
		line, col := lineCol(b, len(b))
		return fmt.Sprintf("truncated: input ends at line %d, column %d inside a value", line, col)
	}
	return err.Error()
}

var errUnexpectedEOF = errors.New("unexpected EOF")

func lineCol(b []byte, off int) (int, int) {
	if off > len(b) {
		off = len(b)
	}
	line := 1 + bytes.Count(b[:off], []byte{'\n'})
	col := off - bytes.LastIndexByte(b[:off], '\n')
	return line, col
}

// HookError builds the hook_error event recorded for input that could not
// be normalised. The input is never stored: only its size, hash and a
// short redacted excerpt.
func (n *Normalizer) HookError(raw []byte, cause error) *Event {
	now := n.o.Now()
	ev := &Event{
		ID: n.o.NewID(now), SchemaVersion: SchemaVersion, Timestamp: now.UTC(),
		Host: n.o.Host, User: n.o.User, Agent: Agent,
		HookEvent: "", EventType: TypeHookError,
		Security: Security{Redactions: []string{}},
	}
	sum := sha256.Sum256(raw)
	he := &HookError{Reason: cause.Error(), InputBytes: len(raw)}
	if len(raw) > 0 {
		he.InputSHA256 = hex.EncodeToString(sum[:])
		ex := string(raw)
		if len(ex) > 512 {
			ex = ex[:512]
		}
		ex, kinds := n.o.Redactor.String(strings.ToValidUTF8(ex, "\uFFFD"))
		he.Excerpt = ex
		ev.Security.Redactions = mergeKinds(ev.Security.Redactions, kinds)
	}
	ev.HookError = he
	if n.o.ProjectDir != "" {
		ev.ProjectDir = filepath.Clean(n.o.ProjectDir)
		ev.Project = n.projectName(ev.ProjectDir)
	}
	// Salvage identity fields from a truncated payload so the error can be
	// tied to its session.
	ev.SessionID = salvage(raw, "session_id")
	ev.HookEvent = salvage(raw, "hook_event_name")
	ev.ToolName = salvage(raw, "tool_name")
	if cwd := salvage(raw, "cwd"); cwd != "" && ev.ProjectDir == "" {
		ev.Cwd = cwd
		ev.ProjectDir = projectDirFor(cwd)
		ev.Project = n.projectName(ev.ProjectDir)
	}
	return ev
}

// salvageRE is compiled on first use: the hook pays for it only on bad input.
var salvageRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`"(session_id|hook_event_name|tool_name|cwd)"\s*:\s*"([^"\\]+)"`)
})

func salvage(raw []byte, key string) string {
	head := raw
	if len(head) > 8192 {
		head = head[:8192]
	}
	for _, m := range salvageRE().FindAllSubmatch(head, -1) {
		if string(m[1]) == key && len(m[2]) <= 512 {
			return string(m[2])
		}
	}
	return ""
}

// obj is a JSON object whose values are decoded lazily and leniently: a
// field of an unexpected type never makes a real event unrecordable.
type obj map[string]json.RawMessage

func (o obj) str(k string) string {
	r, ok := o[k]
	if !ok || len(r) == 0 {
		return ""
	}
	if r[0] == '"' {
		if s, ok := jsonString(r); ok {
			return s
		}
	}
	if string(r) == "null" {
		return ""
	}
	return string(r)
}

func (o obj) num(k string) int64 {
	r, ok := o[k]
	if !ok {
		return 0
	}
	s := strings.Trim(string(r), `"`)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return int64(f)
	}
	return 0
}

func (o obj) boolean(k string) bool {
	r, ok := o[k]
	return ok && (string(r) == "true" || string(r) == `"true"`)
}

func (o obj) sub(k string) obj {
	r, ok := o[k]
	if !ok || len(r) == 0 || r[0] != '{' {
		return nil
	}
	var m obj
	if json.Unmarshal(r, &m) != nil {
		return nil
	}
	return m
}

func (o obj) list(k string) []json.RawMessage {
	r, ok := o[k]
	if !ok || len(r) == 0 || r[0] != '[' {
		return nil
	}
	var l []json.RawMessage
	if json.Unmarshal(r, &l) != nil {
		return nil
	}
	return l
}

// builder carries per-event state while one payload is normalised.
type builder struct {
	n     *Normalizer
	ev    *Event
	home  string
	scope Scope
	cut   map[string]bool
}

func (n *Normalizer) build(p, input, response obj) *Event {
	now := n.o.Now()
	ev := &Event{
		ID:             n.o.NewID(now),
		SchemaVersion:  SchemaVersion,
		Timestamp:      now.UTC(),
		Host:           n.o.Host,
		User:           n.o.User,
		Agent:          Agent,
		Cwd:            p.str("cwd"),
		SessionID:      p.str("session_id"),
		TranscriptPath: p.str("transcript_path"),
		AgentID:        p.str("agent_id"),
		AgentType:      p.str("agent_type"),
		HookEvent:      p.str("hook_event_name"),
		ToolName:       p.str("tool_name"),
		ToolUseID:      p.str("tool_use_id"),
		PermissionMode: p.str("permission_mode"),
		Security:       Security{Redactions: []string{}},
	}
	b := &builder{n: n, ev: ev}
	b.home = homeFromTranscript(ev.TranscriptPath)
	if b.home == "" {
		b.home = n.o.Home
	}
	if n.o.ProjectDir != "" {
		ev.ProjectDir = filepath.Clean(n.o.ProjectDir)
	} else {
		ev.ProjectDir = projectDirFor(ev.Cwd)
	}
	ev.Project = n.projectName(ev.ProjectDir)
	b.scope = NewScope(ev.ProjectDir)
	ev.EventType = TypeFor(ev.HookEvent, ev.ToolName)

	// Identity strings are capped too: nothing unbounded reaches the spool.
	for _, f := range []struct {
		name string
		v    *string
	}{{"cwd", &ev.Cwd}, {"session_id", &ev.SessionID}, {"transcript_path", &ev.TranscriptPath},
		{"agent_id", &ev.AgentID}, {"agent_type", &ev.AgentType}, {"hook_event", &ev.HookEvent},
		{"tool_name", &ev.ToolName}, {"tool_use_id", &ev.ToolUseID}, {"permission_mode", &ev.PermissionMode}} {
		*f.v = b.capOnly(f.name, *f.v, 4096)
	}

	a := &ev.Action
	switch ev.HookEvent {
	case "SessionStart":
		a.Source = b.text("action_details.source", p.str("source"))
		a.Model = b.text("action_details.model", p.str("model"))
	case "SessionEnd":
		a.Reason = b.text("action_details.reason", p.str("reason"))
	case "UserPromptSubmit":
		a.Prompt = b.text("action_details.prompt", p.str("prompt"))
	case "Notification":
		a.Message = b.text("action_details.message", p.str("message"))
		a.Title = b.text("action_details.title", p.str("title"))
		a.NotificationType = b.text("action_details.notification_type", p.str("notification_type"))
	case "Stop", "SubagentStop":
		a.StopHookActive = p.boolean("stop_hook_active")
	case "PreCompact":
		a.Trigger = b.text("action_details.trigger", p.str("trigger"))
		if ci := p.str("custom_instructions"); ci != "" {
			a.Prompt = b.text("action_details.prompt", ci)
		}
	}
	if ev.ToolName != "" {
		b.tool(input)
	}
	if ev.HookEvent == "PostToolUse" {
		b.outcomeSuccess(response)
	}
	if ev.HookEvent == "PostToolUseFailure" {
		b.outcomeFailure(p)
	}
	if ev.HookEvent == "Notification" || ev.HookEvent == "PermissionRequest" {
		if m := p.str("message"); m != "" && a.Message == "" {
			a.Message = b.text("action_details.message", m)
		}
	}
	b.flags()
	if len(b.cut) > 0 {
		for k := range b.cut {
			ev.Truncated = append(ev.Truncated, k)
		}
		sort.Strings(ev.Truncated)
	}
	return ev
}

func (n *Normalizer) projectName(dir string) string {
	if dir == "" {
		return ""
	}
	if n.o.ProjectName != nil {
		if name, ok := n.o.ProjectName(dir); ok {
			return name
		}
	}
	return filepath.Base(dir)
}

func projectDirFor(cwd string) string {
	if cwd == "" {
		return ""
	}
	if r := gitRoot(cwd); r != "" {
		return r
	}
	return filepath.Clean(cwd)
}

// TypeFor maps a hook event and tool to the seed's event_type vocabulary.
func TypeFor(hookEvent, tool string) string {
	switch hookEvent {
	case "SessionStart":
		return TypeSessionStart
	case "SessionEnd":
		return TypeSessionEnd
	case "UserPromptSubmit":
		return TypeUserPrompt
	case "Stop":
		return TypeStop
	case "SubagentStart":
		return TypeSubagentStart
	case "SubagentStop":
		return TypeSubagentStop
	case "Notification":
		return TypeNotification
	case "PreCompact":
		return TypePreCompact
	case "PermissionRequest":
		return TypePermission
	case "PostToolUseFailure":
		return TypeToolFailure
	}
	if tool != "" {
		return ToolType(tool)
	}
	if hookEvent == "" {
		return TypeUnknown
	}
	return snake(hookEvent)
}

// ToolType maps a tool name to its event_type.
func ToolType(tool string) string {
	switch tool {
	case "Read":
		return TypeFileRead
	case "Write":
		return TypeFileWrite
	case "Edit", "MultiEdit":
		return TypeFileEdit
	case "Bash", "BashOutput", "KillShell", "KillBash":
		return TypeCommand
	case "Grep":
		return TypeCodeSearch
	case "Glob":
		return TypeFileSearch
	case "LS":
		return TypeDirList
	case "TodoWrite":
		return TypeTask
	case "Task", "Agent":
		return TypeSubAgent
	case "WebFetch":
		return TypeWebFetch
	case "WebSearch":
		return TypeWebSearch
	case "NotebookRead", "NotebookEdit":
		return TypeNotebook
	}
	if strings.HasPrefix(tool, "mcp__") {
		return TypeMCP
	}
	return TypeToolUsage
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r + ('a' - 'A'))
			continue
		}
		if r == ' ' || r == '-' {
			r = '_'
		}
		b.WriteRune(r)
	}
	if b.Len() > 64 {
		return TypeUnknown
	}
	return b.String()
}

// text redacts s and caps it, recording both.
func (b *builder) text(field, s string) string {
	if s == "" {
		return ""
	}
	max := b.n.o.MaxField
	// Redact a little past the cap so a secret straddling it is still
	// recognised, but never scan megabytes.
	if len(s) > max+1024 {
		s = s[:max+1024]
		b.markCut(field)
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s, kinds := b.n.o.Redactor.String(s)
	b.ev.Security.Redactions = mergeKinds(b.ev.Security.Redactions, kinds)
	if len(s) > max {
		s = cutUTF8(s, max)
		b.markCut(field)
	}
	return s
}

func (b *builder) capOnly(field, s string, max int) string {
	if len(s) <= max {
		return s
	}
	b.markCut(field)
	return cutUTF8(strings.ToValidUTF8(s, "\uFFFD"), max)
}

func (b *builder) markCut(field string) {
	if b.cut == nil {
		b.cut = map[string]bool{}
	}
	b.cut[field] = true
}

func cutUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s[len(s)-1:]) {
		r, _ := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

func mergeKinds(have, add []string) []string {
	for _, k := range add {
		found := false
		for _, h := range have {
			if h == k {
				found = true
				break
			}
		}
		if !found {
			have = append(have, k)
		}
	}
	sort.Strings(have)
	return have
}

func digest(s string) *Digest {
	sum := sha256.Sum256([]byte(s))
	return &Digest{Bytes: len(s), SHA256: hex.EncodeToString(sum[:])}
}

func digestRaw(r json.RawMessage) *Digest {
	if len(r) == 0 || string(r) == "null" {
		return nil
	}
	if r[0] == '"' {
		if s, ok := jsonString(r); ok {
			return digest(s)
		}
	}
	return digest(string(r))
}

// path records a file path the action touches.
func (b *builder) path(p string) {
	if p == "" {
		return
	}
	p = b.text("action_details.paths", p)
	if !filepath.IsAbs(p) && !strings.HasPrefix(p, "~") {
		if b.ev.Cwd == "" {
			return
		}
		p = filepath.Join(b.ev.Cwd, p)
	}
	if strings.HasPrefix(p, "~/") || p == "~" {
		if b.home == "" {
			return
		}
		p = filepath.Join(b.home, strings.TrimPrefix(p, "~"))
	}
	p = filepath.Clean(p)
	for _, have := range b.ev.Action.Paths {
		if have == p {
			return
		}
	}
	if len(b.ev.Action.Paths) >= 256 {
		b.markCut("action_details.paths")
		return
	}
	b.ev.Action.Paths = append(b.ev.Action.Paths, p)
}

func (b *builder) tool(in obj) {
	ev, a := b.ev, &b.ev.Action
	tool := ev.ToolName
	switch {
	case tool == "Bash":
		cmd := in.str("command")
		a.Command = b.text("action_details.command", cmd)
		a.Description = b.text("action_details.description", in.str("description"))
		a.TimeoutMS = in.num("timeout")
		a.RunInBackground = in.boolean("run_in_background")
		b.shellFacts(cmd)
	case tool == "Read" || tool == "NotebookRead":
		a.FilePath = b.text("action_details.file_path", firstNonEmpty(in.str("file_path"), in.str("notebook_path")))
		a.Offset, a.Limit = in.num("offset"), in.num("limit")
		b.path(a.FilePath)
	case tool == "Write":
		a.FilePath = b.text("action_details.file_path", in.str("file_path"))
		if _, ok := in["content"]; ok {
			a.Content = digest(in.str("content"))
		}
		b.path(a.FilePath)
	case tool == "Edit":
		a.FilePath = b.text("action_details.file_path", in.str("file_path"))
		a.OldString = digest(in.str("old_string"))
		a.NewString = digest(in.str("new_string"))
		a.ReplaceAll = in.boolean("replace_all")
		a.EditCount = 1
		b.path(a.FilePath)
	case tool == "MultiEdit":
		a.FilePath = b.text("action_details.file_path", in.str("file_path"))
		edits := in.list("edits")
		a.EditCount = len(edits)
		var olds, news strings.Builder
		for _, e := range edits {
			var m obj
			if json.Unmarshal(e, &m) == nil {
				olds.WriteString(m.str("old_string"))
				news.WriteString(m.str("new_string"))
			}
		}
		a.OldString, a.NewString = digest(olds.String()), digest(news.String())
		b.path(a.FilePath)
	case tool == "NotebookEdit":
		a.FilePath = b.text("action_details.file_path", firstNonEmpty(in.str("notebook_path"), in.str("file_path")))
		a.Content = digest(in.str("new_source"))
		a.CellID = b.text("action_details.cell_id", in.str("cell_id"))
		a.EditMode = b.text("action_details.edit_mode", in.str("edit_mode"))
		b.path(a.FilePath)
	case tool == "Glob":
		a.Pattern = b.text("action_details.pattern", in.str("pattern"))
		dir := in.str("path")
		a.FilePath = b.text("action_details.file_path", dir)
		b.path(dir)
		if filepath.IsAbs(a.Pattern) || strings.HasPrefix(a.Pattern, "~") || strings.Contains(a.Pattern, "..") {
			base := globBase(a.Pattern)
			if !filepath.IsAbs(base) && !strings.HasPrefix(base, "~") {
				root := dir
				if root == "" {
					root = ev.Cwd
				}
				base = filepath.Join(root, base)
			}
			b.path(base)
		}
	case tool == "Grep":
		a.Pattern = b.text("action_details.pattern", in.str("pattern"))
		a.Glob = b.text("action_details.glob", in.str("glob"))
		a.OutputMode = b.text("action_details.output_mode", in.str("output_mode"))
		a.FilePath = b.text("action_details.file_path", in.str("path"))
		b.path(a.FilePath)
	case tool == "LS":
		a.FilePath = b.text("action_details.file_path", in.str("path"))
		b.path(a.FilePath)
	case tool == "WebFetch":
		a.URL = b.text("action_details.url", in.str("url"))
		a.Domain = domainOf(a.URL)
		a.Prompt = b.text("action_details.prompt", in.str("prompt"))
	case tool == "WebSearch":
		a.Query = b.text("action_details.query", in.str("query"))
	case tool == "Task" || tool == "Agent":
		a.Description = b.text("action_details.description", in.str("description"))
		a.Prompt = b.text("action_details.prompt", in.str("prompt"))
		a.SubagentType = b.text("action_details.subagent_type", in.str("subagent_type"))
	case tool == "TodoWrite":
		a.TodoCount = len(in.list("todos"))
	default:
		if strings.HasPrefix(tool, "mcp__") {
			rest := strings.TrimPrefix(tool, "mcp__")
			if i := strings.Index(rest, "__"); i >= 0 {
				a.MCPServer, a.MCPTool = rest[:i], rest[i+2:]
			} else {
				a.MCPServer = rest
			}
		}
		if in != nil {
			if raw, err := json.Marshal(in); err == nil {
				a.Input = b.redactJSON("action_details.input", raw)
			}
		}
		// Unknown tools may still name files; scope checks should see them.
		for _, k := range []string{"file_path", "path", "notebook_path"} {
			if s := in.str(k); s != "" && (filepath.IsAbs(s) || strings.HasPrefix(s, "~")) {
				b.path(s)
			}
		}
		if u := in.str("url"); u != "" {
			a.URL = b.text("action_details.url", u)
			a.Domain = domainOf(a.URL)
		}
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// globBase is the static directory prefix of a glob pattern.
func globBase(pat string) string {
	parts := strings.Split(pat, "/")
	var keep []string
	for _, part := range parts {
		if strings.ContainsAny(part, "*?[{") {
			break
		}
		keep = append(keep, part)
	}
	base := strings.Join(keep, "/")
	if base == "" && strings.HasPrefix(pat, "/") {
		return "/"
	}
	return base
}

func domainOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.ToLower(pu.Hostname())
}

// shellFacts records the programs and paths a Bash command touches. The
// whole command (up to the parser's own cap) is analysed, not just the
// stored prefix, so padding cannot push a program out of view.
func (b *builder) shellFacts(cmd string) {
	if cmd == "" {
		return
	}
	an := shell.Parse(cmd, shell.Options{Cwd: b.ev.Cwd, Home: b.home})
	seen := map[string]bool{}
	for _, pr := range an.Programs {
		name := pr.Name
		if name == "" {
			continue
		}
		if !seen[name] && len(b.ev.Action.Programs) < 64 {
			seen[name] = true
			b.ev.Action.Programs = append(b.ev.Action.Programs, b.capOnly("action_details.programs", name, 256))
		}
	}
	for _, p := range an.Paths {
		b.path(p)
	}
	if an.Truncated {
		b.markCut("shell_analysis")
	}
}

// redactJSON redacts an arbitrary JSON value (every string, and whole
// values under secret-named keys) and caps it.
func (b *builder) redactJSON(field string, raw json.RawMessage) json.RawMessage {
	if len(raw) > 4*b.n.o.MaxField {
		b.markCut(field)
		return mustJSON(map[string]any{"_truncated_bytes": len(raw), "_sha256": digestRaw(raw).SHA256})
	}
	out, kinds := b.n.o.Redactor.JSON(raw)
	b.ev.Security.Redactions = mergeKinds(b.ev.Security.Redactions, kinds)
	if !json.Valid(out) {
		return nil
	}
	if len(out) > b.n.o.MaxField {
		b.markCut(field)
		return mustJSON(map[string]any{"_truncated_bytes": len(out), "_sha256": digest(string(out)).SHA256})
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

var exitCodeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)exit code:?\s*(-?\d+)`) })

func (b *builder) outcomeSuccess(r obj) {
	ev := b.ev
	o := &Outcome{Success: true}
	resp := &Response{}
	switch ev.ToolName {
	case "Bash":
		resp.Stdout = digestRaw(r["stdout"])
		resp.Stderr = digestRaw(r["stderr"])
		resp.Interrupted = r.boolean("interrupted")
		zero := 0
		o.ExitCode = &zero
		o.Interrupted = resp.Interrupted
	case "Read":
		if f := r.sub("file"); f != nil {
			resp.Result = digestRaw(f["content"])
			resp.NumLines = int(f.num("numLines"))
			resp.TotalLines = int(f.num("totalLines"))
		}
		resp.Type = b.capOnly("action_details.response.type", r.str("type"), 64)
	case "Write", "Edit", "MultiEdit":
		resp.Type = b.capOnly("action_details.response.type", r.str("type"), 64)
	case "Glob":
		resp.NumFiles = int(r.num("numFiles"))
		o.DurationMS = r.num("durationMs")
	case "Grep":
		resp.NumFiles = int(r.num("numFiles"))
		resp.NumLines = int(r.num("numLines"))
	case "WebFetch":
		resp.StatusCode = int(r.num("code"))
		resp.Bytes = r.num("bytes")
		resp.Result = digestRaw(r["result"])
		o.DurationMS = r.num("durationMs")
		if resp.StatusCode >= 400 {
			o.Success = false
		}
	case "Task", "Agent":
		resp.Result = digestRaw(r["content"])
		o.DurationMS = r.num("totalDurationMs")
	}
	if r == nil && ev.ToolName != "Bash" {
		resp = nil
	}
	if resp != nil && *resp == (Response{}) {
		resp = nil
	}
	ev.Action.Response = resp
	ev.Outcome = o
}

func (b *builder) outcomeFailure(p obj) {
	msg := p.str("error")
	// The error carries tool output: keep only its start (redacted).
	o := &Outcome{Success: false, Error: cutUTF8(b.text("outcome.error", msg), 2048), Interrupted: p.boolean("is_interrupt")}
	if m := exitCodeRE().FindStringSubmatch(firstLine(msg)); m != nil {
		if c, err := strconv.Atoi(m[1]); err == nil {
			o.ExitCode = &c
		}
	}
	b.ev.Outcome = o
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// flags computes security_flags from the collected paths.
func (b *builder) flags() {
	ev := b.ev
	sec := &ev.Security
	for _, p := range ev.Action.Paths {
		if b.scope.Outside(p, ev.Cwd) {
			sec.OutsideProjectScope = true
			if len(sec.OutsidePaths) < 32 {
				sec.OutsidePaths = append(sec.OutsidePaths, p)
			}
		}
		kind := SensitiveKind(p, b.home)
		if kind == "" {
			if r := resolve(p); r != p {
				kind = SensitiveKind(r, b.home)
			}
		}
		if kind != "" {
			sec.SensitivePath = true
			if len(sec.SensitivePaths) < 32 {
				sec.SensitivePaths = append(sec.SensitivePaths, p)
			}
			sec.SensitiveKinds = mergeKinds(sec.SensitiveKinds, []string{kind})
		}
	}
}
