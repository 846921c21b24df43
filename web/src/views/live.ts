// Live: the newest events, then every new one as it arrives over SSE.
import { get, qs, type EventsPage, type Project, type VEvent } from "../api";
import { h, clear } from "../dom";
import { filterBar, filtersFrom, matches, serverParams } from "../filters";
import { errorBox, eventRow, eventTable, go, href, markReady, pageHeader, type Route } from "../ui";

const MAX_ROWS = 1000;

export function liveView(root: HTMLElement, r: Route): () => void {
  const f = filtersFrom(r.params);
  const state = h("span", { class: "live-state connecting" }, "connecting");
  const counter = h("span", { class: "dim" });
  let paused = false;
  const held: VEvent[] = [];
  const pauseBtn = h("button", { class: "btn ghost", type: "button" }, "Pause");
  root.append(pageHeader("Live", counter, state, pauseBtn));
  const barBox = h("div");
  root.append(barBox);
  const projects: string[] = [];
  const mountBar = () => {
    clear(barBox);
    barBox.append(filterBar(f, projects, (nf) => go("live", "", nf)));
  };
  mountBar();
  get<{ projects: Project[] }>("/api/v1/projects").then((p) => {
    projects.push(...(p.projects || []).map((x) => x.name));
    mountBar();
  }).catch(() => {});
  const msg = h("div");
  const { table, body } = eventTable();
  root.append(msg, h("div", { class: "table-wrap" }, table));

  let maxSeq = 0;
  let rows = 0;
  const add = (e: VEvent, flash: boolean) => {
    if (e._seq && e._seq <= maxSeq) return;
    if (!matches(e, f)) return;
    maxSeq = Math.max(maxSeq, e._seq || 0);
    const tr = eventRow(e);
    if (flash) tr.classList.add("flash");
    body.insertBefore(tr, body.firstChild);
    rows++;
    while (rows > MAX_ROWS && body.lastElementChild) {
      const last = body.lastElementChild;
      last.remove();
      if (!last.classList.contains("ev-detail-row")) rows--;
    }
    counter.textContent = `${rows} shown`;
  };

  // History first, then the stream from just after the newest event shown:
  // the server backfills anything stored in between, so nothing is lost.
  let es: EventSource | null = null;
  const connect = () => {
    es = new EventSource("/api/v1/stream" + qs({ ...serverParams(f), after: maxSeq || "" }));
    es.addEventListener("open", () => {
      state.textContent = "live";
      state.className = "live-state on";
      document.body.dataset.live = "on";
    });
    es.addEventListener("error", () => {
      state.textContent = "reconnecting";
      state.className = "live-state off";
    });
    es.addEventListener("event", (m) => {
      let e: VEvent;
      try {
        e = JSON.parse((m as MessageEvent).data);
      } catch {
        return;
      }
      if (paused) {
        held.push(e);
        pauseBtn.textContent = `Resume (${held.length} new)`;
      } else add(e, true);
    });
    es.addEventListener("alert", (m) => {
      try {
        const a = JSON.parse((m as MessageEvent).data);
        const al = a.alert || a;
        const id = String(a.alert_id || al.id || "");
        const note = h("div", { class: "toast sev-" + String(al.severity || "info").toLowerCase() },
          h("strong", null, String(al.severity || "ALERT")), " ", h("span", { class: "mono" }, String(al.rule || "")), " ",
          String(al.summary || a.title || "alert"), al.project ? " · " + String(al.project) : "",
          id ? [" · ", h("a", { href: href("alerts", id) }, "open alert")] : null);
        msg.prepend(note);
        setTimeout(() => note.remove(), 15000);
      } catch {
        /* ignore malformed */
      }
    });
  };
  pauseBtn.addEventListener("click", () => {
    paused = !paused;
    pauseBtn.textContent = paused ? "Resume" : "Pause";
    if (!paused) {
      for (const e of held.splice(0)) add(e, true);
    }
  });

  // A page kept in the back/forward cache must not keep its stream (and one
  // of the browser's six connections to this server) open.
  const onHide = () => {
    if (es) es.close();
    es = null;
  };
  const onShow = (e: PageTransitionEvent) => {
    if (e.persisted && !es && !ctl.signal.aborted) connect();
  };
  window.addEventListener("pagehide", onHide);
  window.addEventListener("pageshow", onShow);

  const ctl = new AbortController();
  get<EventsPage>("/api/v1/events" + qs({ ...serverParams(f), limit: 200 }), ctl.signal)
    .then((p) => {
      const evs = [...(p.events || [])].sort((a, b) => (a._seq || 0) - (b._seq || 0));
      for (const e of evs) add(e, false);
      if (rows === 0) counter.textContent = "waiting for events…";
      markReady("live");
    })
    .catch((e) => {
      if (!ctl.signal.aborted) msg.append(errorBox(e));
    })
    .finally(() => {
      if (!ctl.signal.aborted) connect();
    });

  return () => {
    ctl.abort();
    window.removeEventListener("pagehide", onHide);
    window.removeEventListener("pageshow", onShow);
    if (es) es.close();
    delete document.body.dataset.live;
  };
}
