// Overview: activity over time, tool and project distribution, alerts by
// severity and category. One request, served from rollup tables.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { get, qs, type AlertsPage, type Overview } from "../api";
import { h, clear } from "../dom";
import { fmtAgo, fmtNum, sevClass, SEVERITIES } from "../format";
import { errorBox, go, href, loading, markReady, pageHeader, type Route } from "../ui";

const RANGES = ["1h", "6h", "24h", "7d", "30d"];

export function overviewView(root: HTMLElement, r: Route): () => void {
  const range = RANGES.includes(r.params.get("range") || "") ? r.params.get("range")! : "24h";
  const rangeBar = h("div", { class: "seg" },
    ...RANGES.map((x) => h("a", { class: x === range ? "on" : "", href: href("overview", "", { range: x }) }, x)));
  root.append(pageHeader("Overview", rangeBar));
  const body = h("div", { class: "overview" }, loading());
  root.append(body);
  let plot: uPlot | null = null;
  const ctl = new AbortController();
  const onResize = () => {
    if (plot) plot.setSize({ width: plot.root.parentElement!.clientWidth - 4, height: 190 });
  };
  window.addEventListener("resize", onResize);

  const latest = get<AlertsPage>("/api/v1/alerts?status=open&limit=60", ctl.signal).catch(() => null);
  Promise.all([get<Overview>("/api/v1/overview" + qs({ range }), ctl.signal), latest])
    .then(([o, al]) => {
      clear(body);
      const t = o.totals;
      body.append(
        h("div", { class: "cards" },
          card("events", fmtNum(t.events), `in the last ${range}`, ""),
          card("sessions", fmtNum(t.sessions), "active in range", ""),
          card("flagged", fmtNum(t.flagged), "scope · sensitive · redacted", t.flagged ? "warn" : ""),
          card("blocked / would-block", fmtNum(t.blocked), "PreToolUse decisions", t.blocked ? "bad" : ""),
          card("open alerts", fmtNum(t.alerts_open), `${fmtNum(t.alerts)} fired in range`, t.alerts_open ? "bad" : "", href("alerts")),
        ),
      );
      const chartBox = h("div", { class: "chart" });
      body.append(panel("Activity", chartBox, `${o.bucket_seconds >= 3600 ? o.bucket_seconds / 3600 + " h" : o.bucket_seconds / 60 + " min"} buckets`));
      const grid = h("div", { class: "panels" });
      body.append(grid);
      grid.append(
        panel("Alerts by severity", bars(sortSev(o.alerts_by_severity), (n) => go("alerts", "", { severity: n }), true)),
        panel("Open alerts, most severe first", latestAlerts(al)),
        panel("Alerts by category", bars(o.alerts_by_category, (n) => go("alerts", "", { category: n }))),
        panel("Tools", bars(o.tools, (n) => go("live", "", { tool: n }))),
        panel("Top projects", bars(o.projects, (n) => go("sessions", "", { project: n }))),
        panel("Event types", bars(o.event_types, (n) => go("live", "", { event_type: n }))),
      );
      requestAnimationFrame(() => {
        plot = activityChart(chartBox, o);
        markReady("overview");
      });
    })
    .catch((e) => {
      if (ctl.signal.aborted) return;
      clear(body);
      body.append(errorBox(e));
    });

  return () => {
    ctl.abort();
    window.removeEventListener("resize", onResize);
    if (plot) plot.destroy();
  };
}

function latestAlerts(p: AlertsPage | null): HTMLElement {
  const rank = (s: string) => SEVERITIES.indexOf((s || "").toUpperCase());
  const list = [...(p?.alerts || [])].sort((a, b) => rank(a.severity) - rank(b.severity)).slice(0, 10);
  if (list.length === 0) return h("div", { class: "empty small" }, "no open alerts");
  return h("div", { class: "latest" },
    ...list.map((a) =>
      h("a", { class: "latest-row", href: href("alerts", a.id), title: a.summary || "" },
        h("span", { class: "sev-dot " + sevClass(a.severity) }),
        h("span", { class: "mono latest-rule" }, a.rule),
        h("span", { class: "latest-proj dim" }, a.project || ""),
        h("span", { class: "dim latest-ago" }, fmtAgo(a.last_seen)))));
}

function sortSev(xs: { name: string; count: number }[]) {
  return [...xs].sort((a, b) => SEVERITIES.indexOf(a.name.toUpperCase()) - SEVERITIES.indexOf(b.name.toUpperCase()));
}

function card(label: string, value: string, sub: string, tone: string, link?: string): HTMLElement {
  const inner = [h("div", { class: "card-label" }, label), h("div", { class: "card-value" }, value), h("div", { class: "card-sub" }, sub)];
  return link ? h("a", { class: "card " + tone, href: link }, ...inner) : h("div", { class: "card " + tone }, ...inner);
}

function panel(title: string, content: Node, note?: string): HTMLElement {
  return h("section", { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", null, title), note ? h("span", { class: "dim" }, note) : null),
    content);
}

function bars(xs: { name: string; count: number }[], onPick: (name: string) => void, severity = false): HTMLElement {
  if (!xs || xs.length === 0) return h("div", { class: "empty small" }, "nothing in this range");
  const max = Math.max(...xs.map((x) => x.count), 1);
  return h("div", { class: "bars" },
    ...xs.slice(0, 12).map((x) =>
      h("div", { class: "bar-row", title: `${x.name}: ${x.count}`, on: { click: () => onPick(x.name) } },
        h("span", { class: "bar-label" + (severity ? " " + sevClass(x.name) : "") }, x.name || "(none)"),
        h("span", { class: "bar-track" },
          h("span", { class: "bar-fill" + (severity ? " fill-" + sevClass(x.name) : ""), style: `width:${Math.max(1, (100 * x.count) / max).toFixed(1)}%` })),
        h("span", { class: "bar-val mono" }, fmtNum(x.count)),
      )));
}

function activityChart(box: HTMLElement, o: Overview): uPlot {
  const css = getComputedStyle(document.documentElement);
  const c = (v: string) => css.getPropertyValue(v).trim();
  const bars = uPlot.paths.bars!({ size: [0.8, 40] });
  const opts: uPlot.Options = {
    width: Math.max(300, box.clientWidth - 4),
    height: 190,
    legend: { show: true, live: true },
    cursor: { points: { show: false } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
    axes: [
      { stroke: c("--fg-dim"), grid: { stroke: c("--grid"), width: 1 }, ticks: { stroke: c("--grid") } },
      { stroke: c("--fg-dim"), grid: { stroke: c("--grid"), width: 1 }, ticks: { stroke: c("--grid") }, size: 50 },
    ],
    series: [
      {},
      { label: "events", stroke: c("--accent"), fill: c("--accent-fill"), width: 1, paths: bars, points: { show: false } },
      { label: "flagged", stroke: c("--warn"), width: 1.5, points: { show: false } },
      { label: "blocked", stroke: c("--bad"), width: 1.5, points: { show: false } },
    ],
  };
  return new uPlot(opts, [o.times, o.total, o.flagged, o.blocked], box);
}
