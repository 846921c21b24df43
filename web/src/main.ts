// Vigil web dashboard: hash routing, the page shell and the status bar.
import "./style.css";
import { get, type AlertsPage, type Status } from "./api";
import { h, clear } from "./dom";
import { fmtAgo, fmtNum } from "./format";
import { parseHash, type Route } from "./ui";
import { overviewView } from "./views/overview";
import { liveView } from "./views/live";
import { sessionsView, sessionView } from "./views/sessions";
import { alertsView, alertView } from "./views/alerts";
import { searchView } from "./views/search";
import { projectsView } from "./views/projects";

// A view renders into root and returns a cleanup function (close streams,
// stop timers) called when the route changes.
export type View = (root: HTMLElement, r: Route) => (() => void) | void;

const NAV: [string, string][] = [
  ["overview", "Overview"],
  ["live", "Live"],
  ["sessions", "Sessions"],
  ["alerts", "Alerts"],
  ["search", "Search"],
  ["projects", "Projects"],
];

function pick(r: Route): View {
  switch (r.view) {
    case "live": return liveView;
    case "sessions": return r.arg ? sessionView : sessionsView;
    case "alerts": return r.arg ? alertView : alertsView;
    case "search": return searchView;
    case "projects": return projectsView;
    default: return overviewView;
  }
}

function start(): void {
  const app = document.getElementById("app")!;
  const links = new Map<string, HTMLAnchorElement>();
  const nav = h("nav", { class: "nav" },
    ...NAV.map(([id, label]) => {
      const a = h("a", { href: "#/" + id, data: { view: id } }, label);
      links.set(id, a);
      return a;
    }));
  const alertBadge = h("span", { class: "nav-badge", title: "open alerts" });
  links.get("alerts")!.appendChild(alertBadge);
  const statusEl = h("div", { class: "status" });
  const header = h("header", { class: "top" },
    h("a", { class: "brand", href: "#/overview" },
      h("span", { class: "brand-mark" }, "◆"), h("span", null, "VIGIL"), h("span", { class: "brand-sub" }, "agent flight recorder")),
    nav, statusEl);
  const main = h("main", { id: "view" });
  app.append(header, main);

  let cleanup: (() => void) | void;
  let last = "";
  const render = () => {
    const r = parseHash(location.hash);
    const key = location.hash;
    if (key === last) return;
    last = key;
    for (const [id, a] of links) a.classList.toggle("active", id === r.view);
    if (cleanup) cleanup();
    delete document.body.dataset.ready;
    clear(main);
    main.className = "view-" + r.view;
    cleanup = pick(r)(main, r);
  };
  window.addEventListener("hashchange", render);
  render();

  const refreshStatus = async () => {
    try {
      const s = await get<Status>("/api/v1/status");
      clear(statusEl);
      statusEl.append(
        h("span", { class: "dot ok", title: "server reachable" }),
        h("span", null, fmtNum(s.events_total ?? 0) + " events"),
        h("span", { class: "dim" }, "last " + fmtAgo(s.last_event_time)),
        h("span", { class: "dim" }, s.version ? String(s.version) : ""),
      );
      const a = await get<AlertsPage>("/api/v1/alerts?status=open&limit=1");
      const open = (a.counts || []).reduce((n, c) => n + c.open, 0);
      alertBadge.textContent = open > 0 ? String(open) : "";
    } catch {
      clear(statusEl);
      statusEl.append(h("span", { class: "dot bad" }), h("span", null, "server unreachable"));
    }
  };
  // The status bar is not on the critical path of the first paint.
  setTimeout(refreshStatus, 50);
  setInterval(refreshStatus, 10000);
}

start();
