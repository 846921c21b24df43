// Shared pieces: routing helpers, the event table, error boxes.
import type { VEvent } from "./api";
import { h, clear } from "./dom";
import { fmtClock, fmtDateTime, flagChips, summary, shortID, typeClass, fmtDuration } from "./format";

export interface Route {
  view: string;
  arg: string;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const qi = raw.indexOf("?");
  const path = qi >= 0 ? raw.slice(0, qi) : raw;
  const params = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] || "overview", arg: parts.slice(1).join("/"), params };
}

export function href(view: string, arg?: string, params?: Record<string, string | undefined | null> | URLSearchParams): string {
  let s = "#/" + view;
  if (arg) s += "/" + encodeURIComponent(arg);
  const u = new URLSearchParams();
  if (params instanceof URLSearchParams) params.forEach((v, k) => v && u.set(k, v));
  else if (params) for (const [k, v] of Object.entries(params)) if (v) u.set(k, v);
  const q = u.toString();
  return q ? s + "?" + q : s;
}

export function go(view: string, arg?: string, params?: Record<string, string | undefined | null> | URLSearchParams): void {
  location.hash = href(view, arg, params);
}

export function errorBox(err: unknown): HTMLElement {
  const msg = err instanceof Error ? err.message : String(err);
  return h("div", { class: "error" }, h("strong", null, "Error: "), msg);
}

export function loading(): HTMLElement {
  return h("div", { class: "loading" }, "loading…");
}

export function empty(msg: string): HTMLElement {
  return h("div", { class: "empty" }, msg);
}

export function pageHeader(title: string, ...right: (Node | string | null)[]): HTMLElement {
  return h("div", { class: "page-head" }, h("h1", null, title), h("div", { class: "page-head-right" }, ...right));
}

// eventDetail is the expandable raw view of one or more events, as text.
export function eventDetail(evs: VEvent[]): HTMLElement {
  const box = h("div", { class: "ev-detail" });
  for (const e of evs) {
    const pre = h("pre", { class: "json" });
    pre.textContent = JSON.stringify(e, null, 2);
    box.appendChild(
      h("div", { class: "ev-detail-item" },
        h("div", { class: "ev-detail-head" },
          h("span", { class: "mono" }, e.hook_event || e.event_type || "event"), " · ",
          h("span", { class: "mono dim" }, e.id), " · ",
          fmtDateTime(e.timestamp),
          e.session_id ? [" · ", h("a", { href: href("sessions", e.session_id) }, "open session")] : null,
        ),
        pre),
    );
  }
  return box;
}

export interface EventTableOpts {
  showSession?: boolean;
  showProject?: boolean;
}

export function eventTable(opts: EventTableOpts = {}): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h("tbody");
  const table = h("table", { class: "grid events" },
    h("thead", null, h("tr", null,
      h("th", { class: "c-time" }, "time"),
      opts.showProject !== false ? h("th", { class: "c-proj" }, "project") : null,
      opts.showSession !== false ? h("th", { class: "c-sess" }, "session") : null,
      h("th", { class: "c-hook" }, "hook"),
      h("th", { class: "c-type" }, "type / tool"),
      h("th", null, "what"),
      h("th", { class: "c-flags" }, "flags"),
    )),
    body);
  return { table, body };
}

export function eventRow(e: VEvent, opts: EventTableOpts = {}): HTMLTableRowElement {
  const cols = 5 + (opts.showProject !== false ? 1 : 0) + (opts.showSession !== false ? 1 : 0);
  const outcome = e.outcome;
  const tr = h("tr", { class: "ev-row", data: { seq: String(e._seq), id: e.id } },
    h("td", { class: "c-time mono", title: fmtDateTime(e.timestamp) }, fmtClock(e.timestamp)),
    opts.showProject !== false ? h("td", { class: "c-proj" }, h("a", { href: href("live", "", { project: e.project }) }, e.project || "—")) : null,
    opts.showSession !== false ? h("td", { class: "c-sess mono" }, e.session_id ? h("a", { href: href("sessions", e.session_id), title: e.session_id }, shortID(e.session_id)) : "—") : null,
    h("td", { class: "c-hook dim" }, e.hook_event || ""),
    h("td", { class: "c-type" },
      h("span", { class: "tbadge " + typeClass(e.event_type) }, e.tool_name || e.event_type || "?"),
      e.agent_id ? h("span", { class: "sub-mark", title: "subagent " + (e.agent_type || "") + " " + e.agent_id }, "↳" + (e.agent_type || "agent")) : null),
    h("td", { class: "c-what mono" }, h("span", { class: "clamp" }, summary(e)),
      outcome && !outcome.success ? h("span", { class: "fail-mark" }, " ✗ " + (outcome.exit_code !== undefined ? "exit " + outcome.exit_code : outcome.error || "failed")) : null,
      outcome && outcome.duration_ms ? h("span", { class: "dim" }, "  " + fmtDuration(outcome.duration_ms)) : null),
    h("td", { class: "c-flags" }, flagChips(e)),
  );
  tr.addEventListener("click", (ev) => {
    if ((ev.target as HTMLElement).closest("a")) return;
    const next = tr.nextElementSibling;
    if (next && next.classList.contains("ev-detail-row")) {
      next.remove();
      tr.classList.remove("open");
      return;
    }
    tr.classList.add("open");
    const td = h("td", { colspan: cols }, eventDetail([e]));
    tr.after(h("tr", { class: "ev-detail-row" }, td));
  });
  return tr;
}

// markReady records that the current view has rendered its data; the
// browser benchmarks read it (performance.now() is ms since navigation).
export function markReady(view: string): void {
  document.body.dataset.readyAt = String(Math.round(performance.now()));
  document.body.dataset.ready = view;
}

export function setBusy(el: HTMLElement, node: Node): void {
  clear(el);
  el.appendChild(node);
}
