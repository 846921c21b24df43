// Projects: what `vigil connect` registered, whether its hooks are in
// place, and when it was last active.
import { get, type Project } from "../api";
import { h, clear } from "../dom";
import { fmtAgo, fmtDateTime, fmtNum } from "../format";
import { empty, errorBox, href, loading, markReady, pageHeader, type Route } from "../ui";

export function projectsView(root: HTMLElement, _r: Route): () => void {
  root.append(pageHeader("Projects"));
  const body = h("div", null, loading());
  root.append(body);
  const ctl = new AbortController();
  get<{ projects: Project[] }>("/api/v1/projects", ctl.signal)
    .then((p) => {
      clear(body);
      const list = p.projects || [];
      if (list.length === 0) {
        body.append(empty("No projects connected. Run `vigil connect` in a project folder."));
        return;
      }
      body.append(h("div", { class: "table-wrap" }, h("table", { class: "grid projects" },
        h("thead", null, h("tr", null, h("th", null, "project"), h("th", null, "status"), h("th", null, "directory"),
          h("th", null, "connected"), h("th", null, "last activity"), h("th", { class: "num" }, "sessions"), h("th", { class: "num" }, "events"), h("th", null, ""))),
        h("tbody", null, ...list.map((x) => h("tr", null,
          h("td", null, h("strong", null, x.name)),
          h("td", null, h("span", { class: "pill pill-" + x.status, title: x.note || "" }, x.status)),
          h("td", { class: "mono dim" }, x.dir || "—"),
          h("td", { class: "mono" }, fmtDateTime(x.connected_at)),
          h("td", { class: "mono", title: fmtDateTime(x.last_activity) }, fmtAgo(x.last_activity)),
          h("td", { class: "num mono" }, fmtNum(x.sessions ?? 0)),
          h("td", { class: "num mono" }, fmtNum(x.events ?? 0)),
          h("td", null, h("a", { href: href("sessions", "", { project: x.name }) }, "sessions"), " · ", h("a", { href: href("live", "", { project: x.name }) }, "live")),
        ))))));
      markReady("projects");
    })
    .catch((e) => {
      if (ctl.signal.aborted) return;
      clear(body);
      body.append(errorBox(e));
    });
  return () => ctl.abort();
}
