// Package event owns Vigil's event: the v3 schema every other package
// consumes, and the normalisation of raw Claude Code hook payloads into it
// (event_type vocabulary, project resolution, scope and sensitive-path
// flags, content hashing, redaction and size caps).
package event

import (
	"encoding/json"
	"time"
)

// SchemaVersion is the version written into every event.
const SchemaVersion = 3

// Agent is the value of Event.Agent for Claude Code events.
const Agent = "claude-code"

// Event types beyond the per-tool ones; the vocabulary is the seed's.
const (
	TypeFileRead      = "file_read"
	TypeFileWrite     = "file_write"
	TypeFileEdit      = "file_edit"
	TypeCommand       = "command_execution"
	TypeCodeSearch    = "code_search"
	TypeFileSearch    = "file_search"
	TypeDirList       = "directory_list"
	TypeTask          = "task_management"
	TypeSubAgent      = "sub_agent_delegation"
	TypeWebFetch      = "web_fetch"
	TypeWebSearch     = "web_search"
	TypeNotebook      = "notebook_operation"
	TypeMCP           = "mcp_tool"
	TypeToolUsage     = "tool_usage"
	TypeSessionStart  = "session_start"
	TypeSessionEnd    = "session_end"
	TypeUserPrompt    = "user_prompt"
	TypeStop          = "stop"
	TypeSubagentStart = "subagent_start"
	TypeSubagentStop  = "subagent_stop"
	TypeNotification  = "notification"
	TypePreCompact    = "pre_compact"
	TypePermission    = "permission_request"
	TypeToolFailure   = "tool_failure"
	TypeHookError     = "hook_error"
	TypeUnknown       = "unknown_event"
)

// Event is one normalised hook call. It is what the spool holds (one JSON
// object per line), what the store indexes and what rules evaluate.
type Event struct {
	ID             string     `json:"id"`
	SchemaVersion  int        `json:"schema_version"`
	Timestamp      time.Time  `json:"timestamp"`
	Host           string     `json:"host"`
	User           string     `json:"user"`
	Agent          string     `json:"agent"`
	Project        string     `json:"project"`
	ProjectDir     string     `json:"project_dir"`
	Cwd            string     `json:"cwd,omitempty"`
	SessionID      string     `json:"session_id"`
	TranscriptPath string     `json:"transcript_path,omitempty"`
	AgentID        string     `json:"agent_id,omitempty"`
	AgentType      string     `json:"agent_type,omitempty"`
	HookEvent      string     `json:"hook_event"`
	ToolName       string     `json:"tool_name,omitempty"`
	ToolUseID      string     `json:"tool_use_id,omitempty"`
	EventType      string     `json:"event_type"`
	PermissionMode string     `json:"permission_mode,omitempty"`
	Action         Action     `json:"action_details"`
	Security       Security   `json:"security_flags"`
	Outcome        *Outcome   `json:"outcome,omitempty"`
	Decision       *Decision  `json:"decision,omitempty"`
	HookError      *HookError `json:"hook_error,omitempty"`
	// Truncated names every field that was cut to its size cap.
	Truncated []string `json:"truncated,omitempty"`
}

// Action holds what the agent did, per tool. Contents (file bodies, edit
// strings, tool output) are never kept: only their length and sha256.
type Action struct {
	// Bash
	Command         string   `json:"command,omitempty"`
	Description     string   `json:"description,omitempty"`
	TimeoutMS       int64    `json:"timeout_ms,omitempty"`
	RunInBackground bool     `json:"run_in_background,omitempty"`
	Programs        []string `json:"programs,omitempty"` // programs the shell parser found, unwrapped
	// Files (Read, Write, Edit, MultiEdit, NotebookEdit, Glob/Grep path)
	FilePath   string   `json:"file_path,omitempty"`
	Paths      []string `json:"paths,omitempty"` // every absolute path the action touches (incl. inside Bash)
	Offset     int64    `json:"offset,omitempty"`
	Limit      int64    `json:"limit,omitempty"`
	Content    *Digest  `json:"content,omitempty"` // Write content / notebook source
	OldString  *Digest  `json:"old_string,omitempty"`
	NewString  *Digest  `json:"new_string,omitempty"`
	EditCount  int      `json:"edit_count,omitempty"`
	ReplaceAll bool     `json:"replace_all,omitempty"`
	CellID     string   `json:"cell_id,omitempty"`
	EditMode   string   `json:"edit_mode,omitempty"`
	// Search
	Pattern    string `json:"pattern,omitempty"`
	Glob       string `json:"glob,omitempty"`
	OutputMode string `json:"output_mode,omitempty"`
	// Web
	URL    string `json:"url,omitempty"`
	Domain string `json:"domain,omitempty"`
	Query  string `json:"query,omitempty"`
	// Prompt is the user's prompt (UserPromptSubmit) or the prompt handed to
	// WebFetch/Task; redacted and capped, never a file's content.
	Prompt       string `json:"prompt,omitempty"`
	SubagentType string `json:"subagent_type,omitempty"`
	TodoCount    int    `json:"todo_count,omitempty"`
	// MCP
	MCPServer string `json:"mcp_server,omitempty"`
	MCPTool   string `json:"mcp_tool,omitempty"`
	// Input is the redacted, capped tool_input for tools without a dedicated
	// mapping (MCP and unknown tools).
	Input json.RawMessage `json:"input,omitempty"`
	// Lifecycle and notifications
	Source           string `json:"source,omitempty"`
	Model            string `json:"model,omitempty"`
	Reason           string `json:"reason,omitempty"`
	Trigger          string `json:"trigger,omitempty"`
	NotificationType string `json:"notification_type,omitempty"`
	Message          string `json:"message,omitempty"`
	Title            string `json:"title,omitempty"`
	StopHookActive   bool   `json:"stop_hook_active,omitempty"`
	// Response summarises tool_response on Post events.
	Response *Response `json:"response,omitempty"`
	// ContentFacts say what written content would do (a script's risky
	// commands, hooks removed from Claude Code settings), computed by the
	// hook from content it then discards.
	ContentFacts *ContentFacts `json:"content_facts,omitempty"`
}

// ContentFacts are facts about the content of a Write, Edit or
// NotebookEdit, derived at hook time by the rule engine.
type ContentFacts struct {
	// Kind is script, unit, crontab, shell_rc, git_hook or claude_settings.
	Kind string `json:"kind,omitempty"`
	// Tags are facts such as claude_hooks_removed.
	Tags []string `json:"tags,omitempty"`
	// Findings are rules matching commands inside the content.
	Findings []ContentFinding `json:"findings,omitempty"`
}

// ContentFinding is one rule matching a command inside file content.
type ContentFinding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Category string `json:"category"`
}

// Digest stands in for content that is never stored.
type Digest struct {
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Response summarises a tool's output without keeping it.
type Response struct {
	Stdout      *Digest `json:"stdout,omitempty"`
	Stderr      *Digest `json:"stderr,omitempty"`
	Result      *Digest `json:"result,omitempty"`
	Interrupted bool    `json:"interrupted,omitempty"`
	NumLines    int     `json:"num_lines,omitempty"`
	TotalLines  int     `json:"total_lines,omitempty"`
	NumFiles    int     `json:"num_files,omitempty"`
	StatusCode  int     `json:"status_code,omitempty"`
	Bytes       int64   `json:"bytes,omitempty"`
	Type        string  `json:"type,omitempty"`
}

// Security carries the flags computed at normalisation time.
type Security struct {
	OutsideProjectScope bool     `json:"outside_project_scope"`
	SensitivePath       bool     `json:"sensitive_path"`
	OutsidePaths        []string `json:"outside_paths,omitempty"`
	SensitivePaths      []string `json:"sensitive_paths,omitempty"`
	SensitiveKinds      []string `json:"sensitive_kinds,omitempty"`
	// Redactions lists the kinds of secret that were removed, e.g. "aws_access_key".
	Redactions []string `json:"redactions"`
}

// Outcome is set on Post events.
type Outcome struct {
	Success     bool   `json:"success"`
	Error       string `json:"error,omitempty"`
	ExitCode    *int   `json:"exit_code,omitempty"`
	DurationMS  int64  `json:"duration_ms,omitempty"`
	Interrupted bool   `json:"interrupted,omitempty"`
}

// Decision actions recorded on PreToolUse events.
const (
	DecisionAllow     = "allow"
	DecisionDeny      = "deny"
	DecisionAsk       = "ask"
	DecisionWouldDeny = "would_deny" // monitor mode: a block rule matched
	DecisionWouldAsk  = "would_ask"
)

// Decision is what the hook answered Claude Code for a PreToolUse event.
type Decision struct {
	Action string `json:"action"`
	Rule   string `json:"rule,omitempty"`
	Reason string `json:"reason,omitempty"`
	Mode   string `json:"mode,omitempty"` // monitor | enforce
}

// HookError describes input the hook could not normalise.
type HookError struct {
	Reason      string `json:"reason"`
	InputBytes  int    `json:"input_bytes"`
	InputSHA256 string `json:"input_sha256,omitempty"`
	// Excerpt is the redacted start of the bad input, capped.
	Excerpt string `json:"excerpt,omitempty"`
}
