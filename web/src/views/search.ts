// Search: the `vigil query` language (LogQL subset) against the store.
// The query and range live in the URL, so a search is a link.
import { get, qs, type EventsPage } from "../api";
import { h, clear } from "../dom";
import { errorBox, empty, eventRow, eventTable, go, href, loading, markReady, pageHeader, type Route } from "../ui";

const EXAMPLES = [
  '{tool="Bash"} |= "curl"',
  '{event="file_read"} | json | security_flags_sensitive_path="true"',
  '{tool="Bash"} |~ "rm -rf|chmod 777|base64 -d"',
  '{decision=~"deny|would_deny|ask|would_ask"}',
  '{} | json | outcome_duration_ms > 10000',
];

const RANGES = ["15m", "1h", "24h", "7d", "30d", "all"];

export function searchView(root: HTMLElement, r: Route): () => void {
  const q = r.params.get("q") || "";
  const since = RANGES.includes(r.params.get("since") || "") ? r.params.get("since")! : "24h";
  const input = h("input", { class: "in q", name: "q", value: q, placeholder: '{project="api", tool="Bash"} |= "curl"', autocomplete: "off", spellcheck: false });
  const range = h("select", { class: "in", name: "since" }, ...RANGES.map((x) => h("option", { value: x }, x === "all" ? "all time" : "last " + x)));
  range.value = since;
  const form = h("form", { class: "searchbar" }, input, range, h("button", { class: "btn", type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    go("search", "", { q: input.value.trim(), since: range.value || "all" });
  });
  root.append(pageHeader("Search"), form,
    h("div", { class: "examples" }, "e.g. ", ...EXAMPLES.map((x) => h("a", { class: "mono", href: href("search", "", { q: x, since }) }, x))));
  const count = h("span", { class: "dim" });
  const msg = h("div");
  const { table, body } = eventTable();
  const more = h("button", { class: "btn ghost more", type: "button" }, "Older results");
  more.style.display = "none";
  root.append(h("div", { class: "panel-head" }, h("h2", null, "Results"), count), msg, h("div", { class: "table-wrap" }, table), more);
  if (!q) {
    msg.append(empty("Type a query: a stream selector {label=\"value\", …} followed by line filters |= \"text\", |~ \"regex\", != and !~, or | json field filters — the same language as `vigil query`."));
    table.style.display = "none";
    return () => {};
  }
  const ctl = new AbortController();
  let n = 0;
  const load = (before: number) => {
    msg.append(loading());
    get<EventsPage>("/api/v1/events" + qs({ q, since: since === "all" ? "" : since, limit: 200, before: before || "" }), ctl.signal)
      .then((p) => {
        clear(msg);
        for (const e of p.events || []) body.append(eventRow(e));
        n += (p.events || []).length;
        count.textContent = `${n} event${n === 1 ? "" : "s"}${p.next_before ? " (more available)" : ""}`;
        if (n === 0) msg.append(empty("No events match."));
        more.style.display = p.next_before ? "" : "none";
        more.onclick = () => load(p.next_before);
        markReady("search");
      })
      .catch((e) => {
        if (ctl.signal.aborted) return;
        clear(msg);
        msg.append(errorBox(e));
      });
  };
  load(0);
  return () => ctl.abort();
}
