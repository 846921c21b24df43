// Formatting of times, durations, numbers and one-line event summaries.
import type { VEvent } from "./api";
import { h } from "./dom";

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

export function parseTime(s?: string | null): Date | null {
  if (!s) return null;
  const d = new Date(s);
  return isNaN(d.getTime()) || d.getUTCFullYear() < 1971 ? null : d;
}

export function fmtClock(s?: string | null, ms = true): string {
  const d = parseTime(s);
  if (!d) return "—";
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return ms ? `${t}.${pad(d.getMilliseconds(), 3)}` : t;
}

export function fmtDateTime(s?: string | null): string {
  const d = parseTime(s);
  if (!d) return "—";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtAgo(s?: string | null): string {
  const d = parseTime(s);
  if (!d) return "never";
  const sec = Math.round((Date.now() - d.getTime()) / 1000);
  if (sec < 0) return "just now";
  if (sec < 60) return `${sec}s ago`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m ago`;
  if (sec < 86400) return `${Math.floor(sec / 3600)}h ago`;
  return `${Math.floor(sec / 86400)}d ago`;
}

export function fmtDuration(ms?: number | null): string {
  if (ms === undefined || ms === null || !isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(Math.floor(s % 60))}s`;
  const hr = Math.floor(m / 60);
  return `${hr}h ${pad(m % 60)}m`;
}

export function fmtNum(n?: number | null): string {
  if (n === undefined || n === null) return "—";
  if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + "M";
  if (n >= 1e4) return (n / 1e3).toFixed(n >= 1e5 ? 0 : 1) + "k";
  return n.toLocaleString("en-US");
}

export function shortID(s?: string, n = 8): string {
  if (!s) return "—";
  return s.length > n ? s.slice(0, n) : s;
}

function clip(s: string, n = 400): string {
  return s.length > n ? s.slice(0, n) + "…" : s;
}

// summary is the one line that says what an event did.
export function summary(e: VEvent): string {
  const a = e.action_details || {};
  const t = e.event_type || "";
  switch (t) {
    case "command_execution":
      return clip(a.command || a.description || "");
    case "file_read":
    case "file_write":
    case "file_edit":
    case "notebook_operation":
      return clip(a.file_path || (a.paths && a.paths[0]) || "");
    case "code_search":
    case "file_search":
      return clip([a.pattern, a.glob ? `glob=${a.glob}` : "", a.file_path || (a.paths && a.paths[0]) || ""].filter(Boolean).join("  "));
    case "directory_list":
      return clip(a.file_path || (a.paths && a.paths[0]) || "");
    case "web_fetch":
      return clip(a.url || a.domain || "");
    case "web_search":
      return clip(a.query || "");
    case "user_prompt":
      return clip(a.prompt || "");
    case "sub_agent_delegation":
      return clip([a.subagent_type, a.description || a.prompt].filter(Boolean).join(": "));
    case "mcp_tool":
      return clip(`${a.mcp_server || ""}/${a.mcp_tool || ""} ${a.input ? JSON.stringify(a.input) : ""}`);
    case "task_management":
      return `${a.todo_count || 0} todos`;
    case "session_start":
      return [a.source, a.model].filter(Boolean).join(" · ");
    case "session_end":
      return a.reason || "";
    case "notification":
      return clip(a.message || a.title || a.notification_type || "");
    case "subagent_start":
    case "subagent_stop":
      return [e.agent_type, shortID(e.agent_id, 12)].filter(Boolean).join(" ");
    case "pre_compact":
      return a.trigger || "";
    case "hook_error":
      return clip(e.hook_error?.reason || "");
    case "tool_failure":
      return clip(e.outcome?.error || a.command || a.file_path || "");
  }
  if (a.command) return clip(a.command);
  if (a.file_path) return clip(a.file_path);
  if (a.url) return clip(a.url);
  if (a.input) return clip(JSON.stringify(a.input));
  return "";
}

export function isBlocked(e: VEvent): boolean {
  const d = e.decision?.action;
  return !!d && d !== "allow";
}

export function isFlagged(e: VEvent): boolean {
  const f = e.security_flags;
  return !!f && (!!f.outside_project_scope || !!f.sensitive_path || (f.redactions?.length ?? 0) > 0) || isBlocked(e);
}

// flagChips renders scope, sensitive-path, redaction and decision markers.
export function flagChips(...evs: (VEvent | undefined)[]): HTMLElement {
  const wrap = h("span", { class: "chips" });
  const seen = new Set<string>();
  const add = (cls: string, label: string, title: string) => {
    const key = cls + label;
    if (seen.has(key)) return;
    seen.add(key);
    wrap.appendChild(h("span", { class: "chip " + cls, title }, label));
  };
  for (const e of evs) {
    if (!e) continue;
    const f = e.security_flags || {};
    if (f.outside_project_scope) add("chip-scope", "outside scope", "outside project: " + (f.outside_paths || []).join(", "));
    if (f.sensitive_path) add("chip-sens", "sensitive", "sensitive: " + [...(f.sensitive_kinds || []), ...(f.sensitive_paths || [])].join(", "));
    for (const r of f.redactions || []) add("chip-red", "redacted:" + r, "a secret of kind " + r + " was redacted");
    const d = e.decision;
    if (d && d.action && d.action !== "allow") {
      const cls = d.action === "deny" ? "chip-deny" : d.action.startsWith("would") ? "chip-would" : "chip-ask";
      add(cls, d.action.replace("_", "-"), `${d.rule || ""} ${d.reason || ""}`.trim());
    }
    if (e.truncated && e.truncated.length) add("chip-trunc", "truncated", "cut to size cap: " + e.truncated.join(", "));
    if (e.event_type === "hook_error") add("chip-deny", "hook error", e.hook_error?.reason || "");
  }
  return wrap;
}

export const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"];

export function sevClass(s?: string): string {
  return "sev-" + (s || "info").toLowerCase();
}

export const EVENT_TYPES = [
  "command_execution", "file_read", "file_write", "file_edit", "code_search", "file_search", "directory_list",
  "web_fetch", "web_search", "mcp_tool", "sub_agent_delegation", "task_management", "notebook_operation",
  "tool_usage", "user_prompt", "session_start", "session_end", "stop", "subagent_start", "subagent_stop",
  "notification", "pre_compact", "permission_request", "tool_failure", "hook_error",
];

export const TOOLS = [
  "Bash", "Read", "Write", "Edit", "MultiEdit", "Glob", "Grep", "LS", "WebFetch", "WebSearch", "Task",
  "TodoWrite", "NotebookEdit", "ExitPlanMode",
];

export function typeClass(t?: string): string {
  switch (t) {
    case "command_execution": return "t-cmd";
    case "file_read": case "directory_list": case "code_search": case "file_search": return "t-read";
    case "file_write": case "file_edit": case "notebook_operation": return "t-write";
    case "web_fetch": case "web_search": return "t-web";
    case "mcp_tool": return "t-mcp";
    case "sub_agent_delegation": case "subagent_start": case "subagent_stop": return "t-agent";
    case "user_prompt": return "t-prompt";
    case "tool_failure": case "hook_error": return "t-fail";
  }
  return "t-other";
}
