// The filter bar shared by Live and Search. Every filter lives in the URL.
import { h } from "./dom";
import { EVENT_TYPES, TOOLS } from "./format";
import type { VEvent } from "./api";

export const FILTER_KEYS = ["project", "session", "tool", "event_type", "outside_scope", "sensitive", "redacted", "blocked", "text"] as const;

export function filtersFrom(p: URLSearchParams): Record<string, string> {
  const f: Record<string, string> = {};
  for (const k of FILTER_KEYS) {
    const v = p.get(k);
    if (v) f[k] = v;
  }
  return f;
}

// serverParams are the filters the API applies itself (docs/API.md).
export function serverParams(f: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["project", "session", "tool", "event_type", "outside_scope", "sensitive", "redacted", "text"]) if (f[k]) out[k] = f[k];
  // decision=true narrows to events with a decision; matches() keeps the non-allow ones.
  if (f.blocked) out.decision = "true";
  return out;
}

// matches applies every filter in the browser as well, including the flag
// filters the API has no parameter for.
export function matches(e: VEvent, f: Record<string, string>): boolean {
  if (f.project && e.project !== f.project) return false;
  if (f.session && e.session_id !== f.session && !(e.session_id || "").startsWith(f.session)) return false;
  if (f.tool && e.tool_name !== f.tool) return false;
  if (f.event_type && e.event_type !== f.event_type) return false;
  const s = e.security_flags || {};
  if (f.outside_scope && !s.outside_project_scope) return false;
  if (f.sensitive && !s.sensitive_path) return false;
  if (f.redacted && !(s.redactions && s.redactions.length)) return false;
  if (f.blocked && !(e.decision && e.decision.action && e.decision.action !== "allow")) return false;
  if (f.text && !JSON.stringify(e).toLowerCase().includes(f.text.toLowerCase())) return false;
  return true;
}

export function filterBar(f: Record<string, string>, projects: string[], apply: (f: Record<string, string>) => void): HTMLFormElement {
  const inp = (name: string, ph: string, list?: string, cls = "") =>
    h("input", { class: "in " + cls, name, placeholder: ph, value: f[name] || "", list, autocomplete: "off", spellcheck: false });
  const sel = (name: string, label: string, opts: string[]) => {
    const s = h("select", { class: "in", name }, h("option", { value: "" }, label), ...opts.map((o) => h("option", { value: o }, o)));
    s.value = f[name] || "";
    return s;
  };
  const chk = (name: string, label: string, cls: string) =>
    h("label", { class: "chk " + cls }, h("input", { type: "checkbox", name, checked: !!f[name] }), label);
  const form = h("form", { class: "filters", autocomplete: "off" },
    h("datalist", { id: "dl-projects" }, ...projects.map((p) => h("option", { value: p }))),
    h("datalist", { id: "dl-tools" }, ...TOOLS.map((p) => h("option", { value: p }))),
    inp("project", "project", "dl-projects"),
    inp("session", "session id", undefined, "w-sess"),
    inp("tool", "tool", "dl-tools", "w-tool"),
    sel("event_type", "any event type", EVENT_TYPES),
    chk("outside_scope", "outside scope", "chip-scope"),
    chk("sensitive", "sensitive", "chip-sens"),
    chk("redacted", "redacted", "chip-red"),
    chk("blocked", "blocked / would-block", "chip-deny"),
    inp("text", "text contains…", undefined, "w-text"),
    h("button", { class: "btn", type: "submit" }, "Apply"),
    h("button", { class: "btn ghost", type: "button", on: { click: () => apply({}) } }, "Clear"),
  );
  const read = () => {
    const out: Record<string, string> = {};
    const fd = new FormData(form);
    for (const k of FILTER_KEYS) {
      const v = fd.get(k);
      if (typeof v === "string" && v.trim()) out[k] = k === "text" || k === "session" ? v.trim() : v.trim();
      if (v === "on") out[k] = "true";
    }
    return out;
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    apply(read());
  });
  form.addEventListener("change", (ev) => {
    const t = ev.target as HTMLElement;
    if (t instanceof HTMLSelectElement || (t instanceof HTMLInputElement && t.type === "checkbox")) apply(read());
  });
  return form;
}
