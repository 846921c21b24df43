// Sessions: the list, and one session's timeline with Pre/Post paired by
// tool_use_id and subagents nested under the Task that started them.
import { get, qs, type Project, type SessionDetail, type SessionsPage, type SessionSummary, type VEvent } from "../api";
import { h, clear } from "../dom";
import { flagChips, fmtClock, fmtDateTime, fmtDuration, fmtNum, isBlocked, isFlagged, shortID, summary, typeClass, fmtAgo, parseTime } from "../format";
import { empty, errorBox, eventDetail, go, href, loading, markReady, pageHeader, type Route } from "../ui";

export function sessionsView(root: HTMLElement, r: Route): () => void {
  const project = r.params.get("project") || "";
  const flagged = r.params.get("flagged") === "true";
  const form = h("form", { class: "filters" },
    h("datalist", { id: "dl-projects" }),
    h("input", { class: "in", name: "project", placeholder: "project", value: project, list: "dl-projects", autocomplete: "off" }),
    h("label", { class: "chk chip-scope" }, h("input", { type: "checkbox", name: "flagged", checked: flagged }), "with flags or blocks only"),
    h("button", { class: "btn", type: "submit" }, "Apply"),
    h("button", { class: "btn ghost", type: "button", on: { click: () => go("sessions") } }, "Clear"));
  const apply = () => {
    const fd = new FormData(form);
    go("sessions", "", { project: String(fd.get("project") || "").trim(), flagged: fd.get("flagged") ? "true" : "" });
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); apply(); });
  form.addEventListener("change", (e) => { if ((e.target as HTMLInputElement).type === "checkbox") apply(); });
  const count = h("span", { class: "dim" });
  root.append(pageHeader("Sessions", count), form);
  const ctl = new AbortController();
  get<{ projects: Project[] }>("/api/v1/projects", ctl.signal).then((p) => {
    const dl = form.querySelector("datalist")!;
    for (const x of p.projects || []) dl.append(h("option", { value: x.name }));
  }).catch(() => {});

  const body = h("tbody");
  const table = h("table", { class: "grid sessions" },
    h("thead", null, h("tr", null,
      h("th", null, "session"), h("th", null, "project"), h("th", null, "started"), h("th", { class: "num" }, "duration"),
      h("th", { class: "num" }, "events"), h("th", { class: "num" }, "prompts"), h("th", { class: "num" }, "tool calls"),
      h("th", { class: "num" }, "subagents"), h("th", { class: "num" }, "flagged"), h("th", { class: "num" }, "blocked"),
      h("th", { class: "num" }, "alerts"), h("th", { class: "num", title: "risk score (analytics)" }, "risk"), h("th", null, "state"))),
    body);
  const more = h("button", { class: "btn ghost more", type: "button" }, "Load more");
  const msg = h("div", null, loading());
  root.append(msg, h("div", { class: "table-wrap" }, table), more);
  more.style.display = "none";
  let shown = 0;
  const load = (before: string) => {
    get<SessionsPage>("/api/v1/sessions" + qs({ project, flagged: flagged ? "true" : "", limit: 100, before }), ctl.signal)
      .then((p) => {
        clear(msg);
        for (const s of p.sessions || []) body.append(sessionRow(s));
        shown += (p.sessions || []).length;
        count.textContent = `${shown} shown`;
        if (shown === 0) msg.append(empty("No sessions recorded yet. Connect a project with `vigil connect` and start Claude Code."));
        more.style.display = p.next_before ? "" : "none";
        more.onclick = () => load(p.next_before);
        markReady("sessions");
      })
      .catch((e) => {
        if (ctl.signal.aborted) return;
        clear(msg);
        msg.append(errorBox(e));
      });
  };
  load("");
  return () => ctl.abort();
}

function sessionRow(s: SessionSummary): HTMLTableRowElement {
  const tr = h("tr", { class: "click" + (s.blocked || s.alerts ? " row-bad" : s.flagged ? " row-warn" : "") },
    h("td", { class: "mono" }, h("a", { href: href("sessions", s.session_id), title: s.session_id }, shortID(s.session_id, 13))),
    h("td", null, s.project || "—"),
    h("td", { class: "mono", title: fmtDateTime(s.started_at) }, fmtDateTime(s.started_at)),
    h("td", { class: "num mono" }, fmtDuration(s.duration_ms)),
    h("td", { class: "num mono" }, fmtNum(s.events)),
    h("td", { class: "num mono" }, fmtNum(s.prompts)),
    h("td", { class: "num mono" }, fmtNum(s.tool_calls)),
    h("td", { class: "num mono" }, s.subagents ? fmtNum(s.subagents) : h("span", { class: "dim" }, "0")),
    h("td", { class: "num mono" + (s.flagged ? " warn" : " dim") }, fmtNum(s.flagged)),
    h("td", { class: "num mono" + (s.blocked ? " bad" : " dim") }, fmtNum(s.blocked)),
    h("td", { class: "num mono" + (s.alerts ? " bad" : " dim") }, fmtNum(s.alerts)),
    h("td", { class: "num mono dim" }, s.risk === undefined || s.risk === null ? "—" : String(s.risk)),
    h("td", null, s.ended ? h("span", { class: "pill" }, "ended") : h("span", { class: "pill pill-live", title: "last event " + fmtAgo(s.last_at) }, "open")),
  );
  tr.addEventListener("click", (e) => {
    if (!(e.target as HTMLElement).closest("a")) go("sessions", s.session_id);
  });
  return tr;
}

// ---- timeline ----

interface Call {
  kind: "call";
  pre?: VEvent;
  post?: VEvent;
  extra: VEvent[]; // permission prompts etc. between pre and post
  children: Item[]; // subagents started by this call
}
interface Single { kind: "event"; ev: VEvent }
interface Agent { kind: "agent"; id: string; type: string; start?: VEvent; stop?: VEvent; items: Item[] }
type Item = Call | Single | Agent;

// buildTimeline pairs tool calls and nests subagents. Events arrive in
// ingest order (_seq), which for one session is the hook's order.
export function buildTimeline(events: VEvent[]): Item[] {
  const top: Item[] = [];
  const calls = new Map<string, Call>();
  const agents = new Map<string, Agent>();
  const openTasks: Call[] = [];
  const agentFor = (e: VEvent): Agent => {
    let a = agents.get(e.agent_id!);
    if (!a) {
      a = { kind: "agent", id: e.agent_id!, type: e.agent_type || "agent", items: [] };
      agents.set(e.agent_id!, a);
      const parent = openTasks.length ? openTasks[openTasks.length - 1] : undefined;
      if (parent) parent.children.push(a);
      else top.push(a);
    }
    return a;
  };
  for (const e of events) {
    const he = e.hook_event || "";
    if (e.event_type === "subagent_start" && e.agent_id) {
      agentFor(e).start = e;
      continue;
    }
    if (e.event_type === "subagent_stop" && e.agent_id) {
      agentFor(e).stop = e;
      continue;
    }
    const list = e.agent_id ? agentFor(e).items : top;
    if (he === "PreToolUse" && e.tool_use_id) {
      const c: Call = { kind: "call", pre: e, extra: [], children: [] };
      calls.set(e.tool_use_id, c);
      list.push(c);
      if (e.tool_name === "Task" || e.tool_name === "Agent") openTasks.push(c);
      continue;
    }
    if ((he === "PostToolUse" || he === "PostToolUseFailure") && e.tool_use_id) {
      const c = calls.get(e.tool_use_id);
      if (c && !c.post) {
        c.post = e;
        const i = openTasks.indexOf(c);
        if (i >= 0) openTasks.splice(i, 1);
        continue;
      }
      const orphan: Call = { kind: "call", post: e, extra: [], children: [] };
      list.push(orphan);
      continue;
    }
    // A permission prompt belongs to the tool call it interrupts: the
    // newest call in the same context still waiting for its Post.
    if (e.event_type === "notification" && e.action_details?.notification_type === "permission_prompt") {
      const open = lastOpenCall(list);
      if (open) {
        open.extra.push(e);
        continue;
      }
    }
    list.push({ kind: "event", ev: e });
  }
  return top;
}

function lastOpenCall(list: Item[]): Call | undefined {
  for (let i = list.length - 1, n = 0; i >= 0 && n < 20; i--, n++) {
    const it = list[i];
    if (it.kind === "call" && it.pre && !it.post) return it;
  }
  return undefined;
}

function callDuration(c: Call): number | undefined {
  if (c.post?.outcome?.duration_ms) return c.post.outcome.duration_ms;
  const a = parseTime(c.pre?.timestamp), b = parseTime(c.post?.timestamp);
  if (a && b) return b.getTime() - a.getTime();
  return undefined;
}

interface Ctx { t0: number; flaggedOnly: boolean; text: string }

function itemEvents(it: Item): VEvent[] {
  if (it.kind === "call") return [it.pre, ...it.extra, it.post].filter(Boolean) as VEvent[];
  if (it.kind === "event") return [it.ev];
  return [];
}

function itemMatches(it: Item, c: Ctx): boolean {
  if (it.kind === "agent") return true;
  const evs = itemEvents(it);
  if (c.flaggedOnly && !evs.some(isFlagged) && !(it.kind === "call" && it.post?.outcome && !it.post.outcome.success)) return false;
  if (c.text && !evs.some((e) => JSON.stringify(e).toLowerCase().includes(c.text))) return false;
  return true;
}

interface Line { item: Item; depth: number }

// flatten turns the nested timeline into display lines (depth = nesting).
function flatten(items: Item[], depth: number, c: Ctx, out: Line[]): Line[] {
  for (const it of items) {
    if (it.kind === "agent") {
      out.push({ item: it, depth });
      flatten(it.items, depth + 1, c, out);
      continue;
    }
    if (!itemMatches(it, c)) continue;
    out.push({ item: it, depth });
    if (it.kind === "call" && it.children.length) flatten(it.children, depth + 1, c, out);
  }
  return out;
}

function span(cls: string, text: string): HTMLSpanElement {
  const e = document.createElement("span");
  e.className = cls;
  e.textContent = text;
  return e;
}

const noFlags = (evs: VEvent[]) =>
  !evs.some((e) => {
    const f = e.security_flags;
    return (f && (f.outside_project_scope || f.sensitive_path || (f.redactions && f.redactions.length))) ||
      (e.decision && e.decision.action && e.decision.action !== "allow") || (e.truncated && e.truncated.length) || e.event_type === "hook_error";
  });

// renderLine builds one timeline row with as few nodes as it can: a 5,000
// event session is thousands of rows.
function renderLine(ln: Line, idx: number, c: Ctx): HTMLElement {
  const it = ln.item;
  const row = document.createElement("div");
  row.dataset.i = String(idx);
  if (ln.depth) row.style.setProperty("--d", String(ln.depth));
  if (it.kind === "agent") {
    row.className = ln.depth ? "tl-row tl-agent nested" : "tl-row tl-agent";
    const main = span("tl-main", "");
    const what = span("tl-what", "");
    what.append(h("strong", null, it.type), " ", span("mono dim", it.id), it.stop ? "" : span("dim", " (no SubagentStop)"));
    main.append(span("tbadge t-agent", "subagent"), what);
    const ts = Date.parse(it.start?.timestamp || (it.items[0] && firstTs(it.items[0])) || "");
    row.append(
      span("tl-time mono", fmtClock(it.start?.timestamp || (it.items[0] && firstTs(it.items[0])))),
      span("tl-off mono dim", isNaN(ts) ? "" : "+" + fmtOffset(ts - c.t0)), main,
      span("tl-dur mono", it.start && it.stop ? fmtDuration(Date.parse(it.stop.timestamp) - Date.parse(it.start.timestamp)) : ""),
      span("tl-flags", ""));
    return row;
  }
  const main = it.kind === "call" ? (it.pre || it.post)! : it.ev;
  const evs = itemEvents(it);
  const ts = Date.parse(main.timestamp);
  let cls = "tl-row";
  const dur = span("tl-dur mono", "");
  if (it.kind === "call") {
    const o = it.post?.outcome;
    if (!it.post) dur.append(span("dim", "…"));
    else {
      dur.append(fmtDuration(callDuration(it)) + " ");
      if (it.post.hook_event === "PostToolUseFailure" || (o && !o.success)) {
        dur.append(span("fail-mark", "✗ " + (o?.exit_code !== undefined ? "exit " + o.exit_code : "failed")));
        cls += " tl-fail";
      } else dur.append(span("ok-mark", "✓"));
    }
  }
  const flagged = !noFlags(evs);
  if (flagged) cls += evs.some(isBlocked) ? " tl-blocked" : " tl-flagged";
  if (main.event_type === "user_prompt") cls += " tl-prompt";
  row.className = ln.depth ? cls + " nested" : cls;
  const cell = span("tl-main", "");
  const what = span("tl-what mono", summary(main));
  cell.append(span("tbadge " + typeClass(main.event_type), it.kind === "call" ? main.tool_name || "tool" : main.event_type || main.hook_event || "event"), what);
  const err = it.kind === "call" ? it.post?.outcome?.error : undefined;
  if (err) what.append(span("fail-mark", "  " + err));
  const flags = span("tl-flags", "");
  if (flagged) flags.append(flagChips(...evs));
  if (it.kind === "call" && it.extra.length) {
    const msg = String(it.extra[0].action_details?.message || "");
    flags.append(h("span", { class: "chip chip-ask", title: msg }, "asked user"));
  }
  row.append(span("tl-time mono", fmtClock(main.timestamp)),
    span("tl-off mono dim", isNaN(ts) ? "" : "+" + fmtOffset(ts - c.t0)), cell, dur, flags);
  return row;
}

function firstTs(it: Item): string | undefined {
  if (it.kind === "call") return (it.pre || it.post)?.timestamp;
  if (it.kind === "event") return it.ev.timestamp;
  return it.start?.timestamp;
}

function fmtOffset(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  const hr = Math.floor(m / 60);
  const p = (n: number) => String(n).padStart(2, "0");
  return hr ? `${hr}:${p(m % 60)}:${p(s % 60)}` : `${p(m)}:${p(s % 60)}`;
}

export function sessionView(root: HTMLElement, r: Route): () => void {
  const id = r.arg;
  const flaggedOnly = r.params.get("flagged") === "true";
  const text = r.params.get("text") || "";
  root.append(pageHeader("Session", h("a", { class: "btn ghost", href: href("sessions") }, "← all sessions"),
    h("a", { class: "btn ghost", href: href("live", "", { session: id }) }, "live for this session"),
    h("a", { class: "btn ghost", href: href("search", "", { q: `{session_id="${id}"}` }) }, "search")));
  const body = h("div", null, loading());
  root.append(body);
  const ctl = new AbortController();
  const t0 = performance.now();
  get<SessionDetail>("/api/v1/sessions/" + encodeURIComponent(id), ctl.signal)
    .then((d) => {
      clear(body);
      const s = d.session;
      body.append(
        h("div", { class: "sess-head" },
          h("div", { class: "kv" }, h("span", null, "id"), h("span", { class: "mono" }, s.session_id)),
          h("div", { class: "kv" }, h("span", null, "project"), h("span", null, s.project || "—")),
          h("div", { class: "kv" }, h("span", null, "host / user"), h("span", null, `${s.host || "—"} / ${s.user || "—"}`)),
          h("div", { class: "kv" }, h("span", null, "started"), h("span", { class: "mono" }, fmtDateTime(s.started_at))),
          h("div", { class: "kv" }, h("span", null, "duration"), h("span", { class: "mono" }, fmtDuration(s.duration_ms) + (s.ended ? "" : " (open)"))),
          h("div", { class: "kv" }, h("span", null, "events"), h("span", { class: "mono" }, fmtNum(s.events))),
          h("div", { class: "kv" }, h("span", null, "prompts / tool calls / subagents"), h("span", { class: "mono" }, `${s.prompts} / ${s.tool_calls} / ${s.subagents}`)),
          h("div", { class: "kv" }, h("span", null, "flagged / blocked"), h("span", { class: "mono" + (s.blocked ? " bad" : s.flagged ? " warn" : "") }, `${s.flagged} / ${s.blocked}`)),
          h("div", { class: "kv" }, h("span", null, "alerts"), s.alerts ? h("a", { class: "bad", href: href("alerts", "", { session: s.session_id }) }, String(s.alerts)) : h("span", { class: "dim" }, "0")),
          h("div", { class: "kv" }, h("span", null, "risk"), h("span", { class: "dim" }, s.risk === undefined || s.risk === null ? "—" : String(s.risk))),
        ),
      );
      if (d.truncated) body.append(h("div", { class: "warnbox" }, `Showing the first ${d.limit} events of ${s.events}.`));
      const form = h("form", { class: "filters" },
        h("label", { class: "chk chip-scope" }, h("input", { type: "checkbox", name: "flagged", checked: flaggedOnly }), "flagged, blocked or failed only"),
        h("input", { class: "in w-text", name: "text", placeholder: "text contains…", value: text, autocomplete: "off" }),
        h("button", { class: "btn", type: "submit" }, "Apply"));
      const apply = () => {
        const fd = new FormData(form);
        go("sessions", id, { flagged: fd.get("flagged") ? "true" : "", text: String(fd.get("text") || "").trim() });
      };
      form.addEventListener("submit", (e) => { e.preventDefault(); apply(); });
      form.addEventListener("change", (e) => { if ((e.target as HTMLInputElement).type === "checkbox") apply(); });
      const stat = h("span", { class: "dim" });
      body.append(h("div", { class: "panel-head" }, h("h2", null, "Timeline"), stat), form);
      const tl = h("div", { class: "timeline" });
      tl.append(h("div", { class: "tl-row tl-headrow" },
        h("span", { class: "tl-time" }, "time"), h("span", { class: "tl-off" }, "offset"), h("span", { class: "tl-main" }, "action"),
        h("span", { class: "tl-dur" }, "duration"), h("span", { class: "tl-flags" }, "flags / decisions")));
      const items = buildTimeline(d.events || []);
      const first = parseTime(s.started_at) || parseTime(d.events[0]?.timestamp);
      const c: Ctx = { t0: first ? first.getTime() : 0, flaggedOnly, text: text.toLowerCase() };
      const lines = flatten(items, 0, c, []);
      if (lines.length === 0) tl.append(empty("No matching actions."));
      body.append(tl);
      // One listener for every row: expand to the raw events, as text.
      tl.addEventListener("click", (ev) => {
        const row = (ev.target as HTMLElement).closest(".tl-row[data-i]") as HTMLElement | null;
        if (!row || (ev.target as HTMLElement).closest("a")) return;
        const next = row.nextElementSibling;
        if (next && next.classList.contains("tl-detail")) {
          next.remove();
          row.classList.remove("open");
          return;
        }
        const ln = lines[+row.dataset.i!];
        const evs = ln.item.kind === "agent" ? [ln.item.start, ln.item.stop].filter(Boolean) as VEvent[] : itemEvents(ln.item);
        row.classList.add("open");
        const det = h("div", { class: "tl-detail" }, eventDetail(evs));
        det.style.setProperty("--d", String(ln.depth));
        row.after(det);
      });
      // The first screenfuls synchronously, the rest in chunks between
      // frames, so a 5,000-event session is readable at once.
      let i = 0;
      let firstMs = 0;
      const chunk = (n: number) => {
        const frag = document.createDocumentFragment();
        const end = Math.min(lines.length, i + n);
        for (; i < end; i++) frag.appendChild(renderLine(lines[i], i, c));
        tl.appendChild(frag);
      };
      const done = () => {
        const ms = performance.now() - t0;
        stat.textContent = `${fmtNum(d.events.length)} events · ${fmtNum(lines.length)} rows · first rows in ${Math.round(firstMs)} ms, all in ${Math.round(ms)} ms`;
        document.body.dataset.timelineMs = String(Math.round(ms));
        document.body.dataset.timelineFirstMs = String(Math.round(firstMs));
        markReady("session");
      };
      chunk(150);
      requestAnimationFrame(() => {
        firstMs = performance.now() - t0;
        document.body.dataset.timelineFirstAt = String(Math.round(performance.now()));
        const step = () => {
          if (ctl.signal.aborted) return;
          chunk(600);
          if (i < lines.length) setTimeout(step, 0);
          else requestAnimationFrame(done);
        };
        step();
      });
    })
    .catch((e) => {
      if (ctl.signal.aborted) return;
      clear(body);
      body.append(errorBox(e));
    });
  return () => ctl.abort();
}

export { shortID };
