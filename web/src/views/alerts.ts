// Alerts: grouped by severity with counts; an alert's detail shows the
// events that triggered it and the one write the UI allows, ack.
import { get, post, qs, type Alert, type AlertDetail, type AlertsPage } from "../api";
import { h, clear } from "../dom";
import { fmtAgo, fmtDateTime, fmtNum, SEVERITIES, sevClass, shortID } from "../format";
import { empty, errorBox, eventRow, eventTable, go, href, loading, markReady, pageHeader, type Route } from "../ui";

const STATUSES = ["open", "acked", "all"];

function ackButton(a: Alert, done: (a: Alert) => void): HTMLElement {
  if (a.status === "acked") return h("span", { class: "pill", title: `acked ${fmtDateTime(a.acked_at)} by ${a.acked_by || "?"}` }, "acked");
  const b = h("button", { class: "btn small ack", type: "button", data: { ack: a.id } }, "Ack");
  b.addEventListener("click", async (ev) => {
    ev.stopPropagation();
    b.disabled = true;
    b.textContent = "…";
    try {
      const r = await post<{ alert?: Alert } & Partial<Alert>>(`/api/v1/alerts/${encodeURIComponent(a.id)}/ack`, { by: "web" });
      const na = (r.alert || r) as Alert;
      done({ ...a, ...na, status: "acked" });
    } catch (e) {
      b.disabled = false;
      b.textContent = "Ack";
      b.after(errorBox(e));
    }
  });
  return b;
}

export function alertsView(root: HTMLElement, r: Route): () => void {
  const p = r.params;
  const status = STATUSES.includes(p.get("status") || "") ? p.get("status")! : "open";
  const severity = (p.get("severity") || "").toUpperCase();
  const category = p.get("category") || "";
  const session = p.get("session") || "";
  const project = p.get("project") || "";
  const base = { severity, category, session, project };
  const seg = h("div", { class: "seg" }, ...STATUSES.map((s) => h("a", { class: s === status ? "on" : "", href: href("alerts", "", { ...base, status: s }) }, s)));
  root.append(pageHeader("Alerts", seg));
  const active = Object.entries(base).filter(([, v]) => v);
  if (active.length) {
    root.append(h("div", { class: "active-filters" }, "filtered by ",
      ...active.map(([k, v]) => h("span", { class: "chip" }, `${k}=${v}`)),
      h("a", { href: href("alerts", "", { status }) }, "clear")));
  }
  const body = h("div", null, loading());
  root.append(body);
  const ctl = new AbortController();
  get<AlertsPage>("/api/v1/alerts" + qs({ status: status === "all" ? "" : status, severity, category, session, project, limit: 300 }), ctl.signal)
    .then((page) => {
      clear(body);
      const counts = new Map<string, { open: number; total: number }>();
      for (const c of page.counts || []) counts.set(c.severity.toUpperCase(), c);
      body.append(h("div", { class: "sev-summary" },
        ...SEVERITIES.filter((s) => s !== "INFO" || counts.has("INFO")).map((s) => {
          const c = counts.get(s) || { open: 0, total: 0 };
          return h("a", { class: "sev-card " + sevClass(s) + (severity === s ? " on" : "") + (c.open ? "" : " zero"), href: href("alerts", "", { ...base, status, severity: severity === s ? "" : s }) },
            h("span", { class: "sev-name" }, s), h("span", { class: "sev-count" }, fmtNum(c.open)), h("span", { class: "sev-sub" }, `open · ${fmtNum(c.total)} total`));
        })));
      const alerts = page.alerts || [];
      if (alerts.length === 0) {
        body.append(empty(status === "open" ? "No open alerts. Nothing has matched a rule, or everything has been acked." : "No alerts match."));
        markReady("alerts");
        return;
      }
      const groups = new Map<string, Alert[]>();
      for (const a of alerts) {
        const s = (a.severity || "INFO").toUpperCase();
        if (!groups.has(s)) groups.set(s, []);
        groups.get(s)!.push(a);
      }
      const order = [...SEVERITIES, ...[...groups.keys()].filter((k) => !SEVERITIES.includes(k))];
      for (const s of order) {
        const list = groups.get(s);
        if (!list) continue;
        const tbody = h("tbody");
        for (const a of list) tbody.append(alertRow(a));
        body.append(h("section", { class: "alert-group " + sevClass(s) },
          h("div", { class: "group-head" }, h("span", { class: "sev-badge " + sevClass(s) }, s), h("span", { class: "dim" }, `${list.length} alert${list.length === 1 ? "" : "s"}`)),
          h("table", { class: "grid alerts" },
            h("thead", null, h("tr", null, h("th", null, "last seen"), h("th", null, "rule"), h("th", null, "what"), h("th", null, "category"),
              h("th", null, "project"), h("th", null, "session"), h("th", { class: "num" }, "count"), h("th", null, ""))),
            tbody)));
      }
      if (page.truncated) body.append(h("div", { class: "warnbox" }, "More alerts exist; narrow the filter."));
      markReady("alerts");
    })
    .catch((e) => {
      if (ctl.signal.aborted) return;
      clear(body);
      body.append(errorBox(e));
    });
  return () => ctl.abort();
}

function alertRow(a: Alert): HTMLTableRowElement {
  const tr: HTMLTableRowElement = h("tr", { class: "click", data: { alert: a.id } },
    h("td", { class: "mono", title: fmtDateTime(a.last_seen) }, fmtAgo(a.last_seen)),
    h("td", { class: "mono" }, h("a", { href: href("alerts", a.id) }, a.rule || "?"), a.escalated ? h("span", { class: "chip chip-deny" }, "escalated") : null),
    h("td", { class: "c-what" }, a.summary || a.description || ""),
    h("td", null, a.category || "—"),
    h("td", null, a.project || "—"),
    h("td", { class: "mono" }, a.session_id ? h("a", { href: href("sessions", a.session_id), title: a.session_id }, shortID(a.session_id)) : "—"),
    h("td", { class: "num mono" }, "×" + fmtNum(a.count || 1)),
    h("td", { class: "c-ack" }),
  );
  const cell = tr.lastElementChild as HTMLElement;
  const put = (x: Alert) => {
    clear(cell);
    cell.append(ackButton(x, (n) => put(n)));
  };
  put(a);
  tr.addEventListener("click", (e) => {
    if (!(e.target as HTMLElement).closest("a,button")) go("alerts", a.id);
  });
  return tr;
}

export function alertView(root: HTMLElement, r: Route): () => void {
  root.append(pageHeader("Alert", h("a", { class: "btn ghost", href: href("alerts") }, "← all alerts")));
  const body = h("div", null, loading());
  root.append(body);
  const ctl = new AbortController();
  get<AlertDetail>("/api/v1/alerts/" + encodeURIComponent(r.arg), ctl.signal)
    .then((d) => {
      clear(body);
      const a = d.alert;
      const ackCell = h("span");
      const put = (x: Alert) => {
        clear(ackCell);
        ackCell.append(ackButton(x, put));
      };
      put(a);
      body.append(
        h("div", { class: "alert-head " + sevClass(a.severity) },
          h("div", { class: "alert-title" }, h("span", { class: "sev-badge " + sevClass(a.severity) }, (a.severity || "").toUpperCase()),
            h("span", { class: "mono" }, a.rule), a.escalated ? h("span", { class: "chip chip-deny" }, "escalated") : null, ackCell),
          h("div", { class: "alert-summary" }, a.summary || ""),
          a.description ? h("div", { class: "dim" }, a.description) : null,
          h("div", { class: "sess-head" },
            kv("category", a.category || "—"),
            kv("tags", (a.tags || []).join(", ") || "—"),
            kv("action", a.action || "alert"),
            kv("project", a.project || "—"),
            kv("session", a.session_id ? h("a", { class: "mono", href: href("sessions", a.session_id) }, a.session_id) : "—"),
            kv("host", a.host || "—"),
            kv("count", "fired " + fmtNum(a.count || 1) + " time" + ((a.count || 1) === 1 ? "" : "s")),
            kv("first seen", fmtDateTime(a.first_seen)),
            kv("last seen", fmtDateTime(a.last_seen)),
            kv("status", a.status === "acked" ? `acked ${fmtDateTime(a.acked_at)} by ${a.acked_by || "?"}` : a.status || "open"),
            ...Object.entries(a.context || {}).map(([k, v]) => kv(k, v)),
          )),
      );
      const { table, body: tb } = eventTable();
      for (const e of d.events || []) tb.append(eventRow(e));
      body.append(h("div", { class: "panel-head" }, h("h2", null, "Triggering events"), h("span", { class: "dim" }, `${(d.events || []).length} of ${fmtNum(a.count || 0)}`)),
        (d.events || []).length ? h("div", { class: "table-wrap" }, table) : empty("The triggering events are no longer in the store (retention)."));
    })
    .catch((e) => {
      if (ctl.signal.aborted) return;
      clear(body);
      body.append(errorBox(e));
    });
  return () => ctl.abort();
}

function kv(k: string, v: Node | string): HTMLElement {
  return h("div", { class: "kv" }, h("span", null, k), typeof v === "string" ? h("span", { title: v }, v) : v);
}
