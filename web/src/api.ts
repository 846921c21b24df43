// HTTP client for the Vigil API (docs/API.md). Same origin; when serve binds
// a non-loopback address the browser carries the vigil_token cookie.

export interface Digest { bytes: number; sha256: string }

export interface VEvent {
  _seq: number;
  id: string;
  timestamp: string;
  host?: string;
  user?: string;
  project?: string;
  project_dir?: string;
  cwd?: string;
  session_id?: string;
  agent_id?: string;
  agent_type?: string;
  hook_event?: string;
  tool_name?: string;
  tool_use_id?: string;
  event_type?: string;
  permission_mode?: string;
  action_details?: Record<string, any>;
  security_flags?: {
    outside_project_scope?: boolean;
    sensitive_path?: boolean;
    outside_paths?: string[];
    sensitive_paths?: string[];
    sensitive_kinds?: string[];
    redactions?: string[] | null;
  };
  outcome?: { success?: boolean; error?: string; exit_code?: number; duration_ms?: number; interrupted?: boolean };
  decision?: { action?: string; rule?: string; reason?: string; mode?: string };
  hook_error?: { reason?: string; input_bytes?: number; excerpt?: string };
  truncated?: string[];
}

export interface EventsPage { events: VEvent[]; next_before: number }

export interface SessionSummary {
  session_id: string;
  project: string;
  host?: string;
  user?: string;
  started_at: string;
  last_at: string;
  duration_ms: number;
  events: number;
  prompts: number;
  tool_calls: number;
  subagents: number;
  flagged: number;
  blocked: number;
  failures: number;
  alerts: number;
  ended: boolean;
  risk?: number | null;
}

export interface SessionsPage { sessions: SessionSummary[]; next_before: string }
export interface SessionDetail { session: SessionSummary; events: VEvent[]; truncated: boolean; limit: number }

export interface Alert {
  id: string;
  key?: string;
  rule: string;
  description?: string;
  severity: string;
  category?: string;
  tags?: string[];
  action?: string;
  session_id?: string;
  project?: string;
  host?: string;
  event_ids?: string[];
  first_seen?: string;
  last_seen?: string;
  count?: number;
  summary?: string;
  context?: Record<string, string>;
  status?: string;
  acked_by?: string;
  acked_at?: string;
  escalated?: boolean;
}

export interface AlertsPage { alerts: Alert[]; counts: { severity: string; open: number; total: number }[]; truncated?: boolean }
export interface AlertDetail { alert: Alert; events: VEvent[] }

export interface Overview {
  range: string;
  from: string;
  to: string;
  bucket_seconds: number;
  times: number[];
  total: number[];
  flagged: number[];
  blocked: number[];
  tools: { name: string; count: number }[];
  projects: { name: string; count: number }[];
  event_types: { name: string; count: number }[];
  alerts_by_severity: { name: string; count: number }[];
  alerts_by_category: { name: string; count: number }[];
  totals: { events: number; flagged: number; blocked: number; sessions: number; alerts: number; alerts_open: number };
}

export interface Project {
  name: string;
  dir: string;
  status: string;
  connected_at?: string;
  last_activity?: string;
  events?: number;
  sessions?: number;
  note?: string;
}

export interface Status {
  version?: string;
  started_at?: string;
  events_total?: number;
  last_event_time?: string;
  ingest_lag_seconds?: number;
  [k: string]: unknown;
}

export class APIError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "" || v === false) continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? "?" + s : "";
}

export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const r = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin", signal });
  return decode<T>(r);
}

export async function post<T>(path: string, body?: unknown): Promise<T> {
  const r = await fetch(path, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    credentials: "same-origin",
    body: body === undefined ? "{}" : JSON.stringify(body),
  });
  return decode<T>(r);
}

async function decode<T>(r: Response): Promise<T> {
  if (!r.ok) {
    let msg = r.status + " " + r.statusText;
    try {
      const j = await r.json();
      if (j && typeof j.error === "string") msg = j.error;
    } catch {
      /* not JSON */
    }
    if (r.status === 401) msg += " — open /login?token=<your token> to sign in";
    throw new APIError(r.status, msg);
  }
  return (await r.json()) as T;
}
