package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/project"
	"github.com/vigil-sec/vigil/internal/rules"
)

// chromiumPath finds the browser the UI tests drive: Debian's chromium
// package (apt-get install chromium), or $VIGIL_CHROMIUM.
func chromiumPath() string {
	if p := os.Getenv("VIGIL_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// newBrowser starts headless Chromium with a fresh profile. Without a
// browser the test is skipped locally and fails in CI (CI=true).
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	exe := chromiumPath()
	if exe == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium not found: apt-get install -y chromium")
		}
		t.Skip("chromium not found (apt-get install -y chromium); skipping browser test")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelC()
		cancelA()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// page drives one browser tab against one server.
type page struct {
	t   *testing.T
	ctx context.Context
	url string
	n   int
}

// open loads route (e.g. "#/sessions") with a full page load and waits
// until sel is visible.
func (p *page) open(route, sel string) {
	p.t.Helper()
	p.n++
	p.run(chromedp.Navigate(fmt.Sprintf("%s/?n=%d%s", p.url, p.n, route)), chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (p *page) run(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v (at %s)\npage text: %.1500s", err, eval[string](p, "location.href"), eval[string](p, "document.body.innerText"))
	}
}

// eval runs a JS expression and returns its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS polls until the JS expression is truthy.
func (p *page) waitJS(expr string, timeout time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		p.t.Fatalf("waiting for %s: %v\npage text: %.2000s", expr, err, eval[string](p, "document.body.innerText"))
	}
}

func (p *page) text(sel string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf("(document.querySelector(%q)||{}).textContent||''", sel))
}

func (p *page) mustContain(sel string, want ...string) {
	p.t.Helper()
	got := p.text(sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			p.t.Errorf("%s: %q not in page text:\n%.3000s", sel, w, got)
		}
	}
}

const xssProbe = `window.__xss === undefined && document.querySelectorAll('main img, main script').length === 0`

func TestUIBrowser(t *testing.T) {
	env := newUIEnv(t)
	start := time.Now().Add(-3 * time.Hour)
	corpus := loadCorpus(t, env, start, corpusFiles(t)...)
	alerts := detect(t, env, corpus)
	// A 5,000-event session: the config-service session (with its subagent)
	// repeated, as in BenchmarkUIPageLoad.
	var tmpl []*event.Event
	for _, e := range corpus {
		if e.SessionID == "867029ff-d740-4756-b147-0c0a9687a018" {
			tmpl = append(tmpl, e)
		}
	}
	g := &uiGen{n: 1 << 40}
	big := g.session(tmpl, "big-session", time.Now().Add(-time.Hour), 100*time.Millisecond, (5000-2)/(len(tmpl)-2))
	if _, err := env.Store.Append(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	if len(alerts) < 3 {
		t.Fatalf("the seed rules raised %d alerts on the corpus; the alert tests need several", len(alerts))
	}
	// A connected project (real settings.json with Vigil's hooks) and one
	// whose settings were removed.
	for _, name := range []string{"config-service", "docs-site"} {
		dir := filepath.Join(t.TempDir(), name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		settings := project.SettingsFile(dir)
		if name == "config-service" {
			if _, err := project.Connect(settings, "vigil hook", nil, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := project.Register(env.Paths.RegistryFile, project.Project{Name: name, Dir: dir, Settings: settings, ConnectedAt: start}); err != nil {
			t.Fatal(err)
		}
	}
	p := &page{t: t, ctx: newBrowser(t), url: env.URL}

	t.Run("overview", func(t *testing.T) {
		p.t = t
		p.open("#/overview", ".cards")
		p.waitJS(`!!document.querySelector('.chart canvas')`, 5*time.Second)
		p.mustContain("main", "events", "Tools", "Top projects", "config-service", "billing-service", "Bash", "Read")
	})
	t.Run("sessions list", func(t *testing.T) {
		p.t = t
		p.open("#/sessions", "table.sessions tbody tr")
		if n := eval[int](p, `document.querySelectorAll('table.sessions tbody tr').length`); n != 4 {
			t.Errorf("rows: %d, want 4 (3 corpus sessions and the big one)", n)
		}
		p.mustContain("table.sessions", "config-service", "billing-service", "docs-site", "—")
	})
	t.Run("session timeline", func(t *testing.T) {
		p.t = t
		p.open("#/sessions/867029ff-d740-4756-b147-0c0a9687a018", ".timeline .tl-agent")
		p.mustContain(".timeline", "subagent", "general-purpose", "Read", "outside scope", "✓")
		// Pre/Post paired: one row per tool call, not two.
		calls := eval[int](p, `[...document.querySelectorAll('.timeline .tl-row')].filter(r => r.querySelector('.ok-mark,.fail-mark')).length`)
		if calls != 10 {
			t.Errorf("paired tool-call rows: %d, want 10", calls)
		}
		nested := eval[int](p, `[...document.querySelectorAll('.timeline .tl-row')].filter(r => r.style.getPropertyValue('--d').trim() === '2').length`)
		if nested == 0 {
			t.Error("no events nested inside the subagent")
		}
		// Expanding a row shows the raw events as text.
		p.run(chromedp.Click(chromedp.CSS(".timeline .tl-row.tl-flagged")), chromedp.WaitVisible(chromedp.CSS(".tl-detail pre.json")))
		p.mustContain(".tl-detail", "outside_project_scope")
	})
	t.Run("5000-event timeline", func(t *testing.T) {
		p.t = t
		p.open("#/sessions/big-session", ".timeline .tl-row[data-i]")
		p.waitJS(`document.body.dataset.ready === 'session'`, 20*time.Second)
		rows := eval[int](p, `document.querySelectorAll('.timeline .tl-row[data-i]').length`)
		calls := eval[int](p, `document.querySelectorAll('.timeline .tl-row .ok-mark').length`)
		agents := eval[int](p, `document.querySelectorAll('.timeline .tl-agent').length`)
		reps := (5000 - 2) / (len(tmpl) - 2)
		if calls != 10*reps || agents != reps {
			t.Errorf("%d rows: %d paired calls (want %d), %d subagents (want %d)", rows, calls, 10*reps, agents, reps)
		}
		t.Logf("%d events, %d rows rendered %s ms after the view started (first rows at %s ms after navigation)",
			len(big), rows, eval[string](p, `document.body.dataset.timelineMs`), eval[string](p, `document.body.dataset.timelineFirstAt`))
	})
	t.Run("live filter", func(t *testing.T) {
		p.t = t
		p.open("#/live", "table.events tbody tr")
		p.waitJS(`document.body.dataset.live === 'on'`, 5*time.Second)
		// Mark the unfiltered view's table: the filtered view is the one
		// without the mark (the hash changes before the router swaps the
		// view, and the old view stays live until then).
		eval[string](p, `document.querySelector('table.events').dataset.stale = '1'`)
		p.run(chromedp.SetValue(chromedp.CSS(`form.filters input[name=tool]`), "Read"),
			chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
		p.waitJS(`location.hash.includes('tool=Read') && !document.querySelector('table.events[data-stale]') && document.body.dataset.live === 'on'`, 5*time.Second)
		p.waitJS(`document.querySelectorAll('table.events tbody tr.ev-row').length > 0`, 5*time.Second)
		bad := eval[[]string](p, `[...document.querySelectorAll('table.events tbody tr.ev-row .c-type .tbadge')].map(e => e.textContent).filter(s => s !== 'Read')`)
		if len(bad) > 0 {
			t.Errorf("filter tool=Read shows %v", bad)
		}
		// Reloading the URL keeps the filter: it lives in the hash.
		p.open("#/live?tool=Read", "table.events tbody tr")
		if v := eval[string](p, `document.querySelector('form.filters input[name=tool]').value`); v != "Read" {
			t.Errorf("filter input after reload: %q", v)
		}
	})
	t.Run("live event appears", func(t *testing.T) {
		p.t = t
		p.open("#/live", "table.events tbody tr")
		p.waitJS(`document.body.dataset.live === 'on'`, 5*time.Second)
		marker := fmt.Sprintf("live-marker-%d", time.Now().UnixNano())
		t0 := time.Now()
		postEvents(t, env.URL, simpleEvent("0190f1aa-0000-7000-8000-000000000001", "live-sess", "config-service", "Bash", "echo "+marker, time.Now()))
		p.waitJS(fmt.Sprintf(`document.querySelector('table.events tbody').innerText.includes(%q)`, marker), 3*time.Second)
		if d := time.Since(t0); d > time.Second {
			t.Errorf("live event took %v to appear, want < 1s", d)
		} else {
			t.Logf("live event visible %v after POST returned", d)
		}
	})
	t.Run("search", func(t *testing.T) {
		p.t = t
		p.open(`#/search?q=`+`%7Btool_name%3D%22Bash%22%7D&since=all`, "table.events tbody tr.ev-row")
		types := eval[[]string](p, `[...new Set([...document.querySelectorAll('table.events .c-type .tbadge')].map(e => e.textContent))]`)
		if len(types) != 1 || types[0] != "Bash" {
			t.Errorf("search {tool_name=\"Bash\"} shows tools %v", types)
		}
		// Typing a query in the box puts it in the URL.
		p.open("#/search", ".searchbar")
		p.run(chromedp.SetValue(chromedp.CSS(`.searchbar input[name=q]`), `{tool="Read"} |= "flags"`),
			chromedp.Click(chromedp.CSS(`.searchbar button[type=submit]`)))
		p.waitJS(`decodeURIComponent(location.hash).includes('{tool="Read"}') && document.querySelectorAll('table.events tbody tr.ev-row').length > 0`, 5*time.Second)
		p.mustContain("table.events", "flags.yaml")
		p.open(`#/search?q=`+`%7Btool_name%3D%22Bash%22%7D%20%7C%3D%20%22nothing-matches-this%22&since=all`, ".empty")
		p.open(`#/search?q=`+`%7Bbroken&since=all`, ".error")
	})
	t.Run("projects", func(t *testing.T) {
		p.t = t
		p.open("#/projects", "table.projects tbody tr")
		p.mustContain("table.projects", "config-service", "connected", "docs-site", "missing", "billing-service", "unregistered")
	})
	t.Run("alerts ack", func(t *testing.T) {
		p.t = t
		p.open("#/alerts", ".alert-group")
		p.mustContain("main", "CRITICAL", "HIGH", "MEDIUM", "boundary_violation", "config-service")
		groups := eval[[]string](p, `[...document.querySelectorAll('.alert-group .group-head .sev-badge')].map(e => e.textContent)`)
		if g := strings.Join(groups, ","); !strings.HasPrefix(g, "CRITICAL,HIGH,MEDIUM") || (len(groups) > 3 && g != "CRITICAL,HIGH,MEDIUM,LOW") {
			t.Errorf("severity groups %v, want CRITICAL,HIGH,MEDIUM(,LOW) in that order", groups)
		}
		critBefore := p.text(".sev-card.sev-critical .sev-count")
		// The first CRITICAL alert: open its detail, see its events, ack it.
		id := eval[string](p, `document.querySelector('.alert-group.sev-critical tbody tr').dataset.alert`)
		p.run(chromedp.Click(chromedp.CSS(`.alert-group.sev-critical tbody tr a[href^="#/alerts/"]`)))
		p.waitJS(`!!document.querySelector('.alert-head') && document.querySelectorAll('table.events tbody tr.ev-row').length > 0`, 5*time.Second)
		p.mustContain("main", "Triggering events", "fired", "outside scope")
		p.run(chromedp.Click(chromedp.CSS(`.alert-head button.ack`)))
		p.waitJS(`!document.querySelector('.alert-head button.ack') && document.querySelector('.alert-head').textContent.includes('acked')`, 5*time.Second)
		a, err := env.Store.Alert(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != "acked" || a.AckedBy != "web" {
			t.Errorf("after ack in the UI the store has status %q by %q", a.Status, a.AckedBy)
		}
		// The open list no longer holds it, and the CRITICAL count dropped.
		p.open("#/alerts", ".alert-group")
		if n := eval[int](p, fmt.Sprintf(`document.querySelectorAll('tr[data-alert=%q]').length`, id)); n != 0 {
			t.Error("acked alert still listed as open")
		}
		if after := p.text(".sev-card.sev-critical .sev-count"); after == critBefore {
			t.Errorf("open CRITICAL count stayed %s after the ack", after)
		}
		p.open("#/alerts?status=acked", ".alert-group")
		p.mustContain("main", "acked")
	})
	t.Run("hostile event is inert", func(t *testing.T) {
		p.t = t
		postEvents(t, env.URL, hostileEvent("0190f1aa-0000-7000-8000-0000000000ee", "xss-session", time.Now()))
		const lit = `<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2">`
		now := time.Now()
		if err := env.Store.SaveAlerts(context.Background(), []alert.Alert{{
			ID: "0190f1aa-0000-7000-8000-0000000000ef", Key: lit, Rule: lit, Description: lit, Severity: rules.High,
			Category: lit, SessionID: "xss-session", Project: lit, EventIDs: []string{"0190f1aa-0000-7000-8000-0000000000ee"},
			FirstSeen: now, LastSeen: now, Count: 1, Summary: lit, Context: map[string]string{lit: lit}, Status: alert.StatusOpen,
		}}); err != nil {
			t.Fatal(err)
		}
		for _, route := range []struct{ route, sel, click string }{
			{"#/live", "table.events tbody tr.ev-row", "table.events tbody tr.ev-row"},
			{"#/sessions/xss-session", ".timeline .tl-row.tl-blocked", ".timeline .tl-row.tl-blocked"},
			{"#/live?session=xss-session&blocked=true", "table.events tbody tr.ev-row", "table.events tbody tr.ev-row"},
			{"#/search?q=%7Bsession_id%3D%22xss-session%22%7D&since=all", "table.events tbody tr.ev-row", "table.events tbody tr.ev-row"},
			{"#/sessions", "table.sessions tbody tr", ""},
			{"#/projects", "table.projects tbody tr", ""},
			{"#/overview", ".cards", ""},
			{"#/alerts?status=all", ".sev-summary", ""},
			{"#/alerts/0190f1aa-0000-7000-8000-0000000000ef", "table.events tbody tr.ev-row", "table.events tbody tr.ev-row"},
		} {
			p.open(route.route, route.sel)
			if route.click != "" {
				p.run(chromedp.Click(chromedp.CSS(route.click)), chromedp.WaitVisible(chromedp.CSS("pre.json")))
				p.mustContain("main", lit)
			}
			time.Sleep(100 * time.Millisecond) // an onerror would fire by now
			if !eval[bool](p, xssProbe) {
				t.Errorf("%s: markup from an event became live DOM (window.__xss=%v)", route.route, eval[any](p, "window.__xss"))
			}
		}
		// An alert arriving on the live stream shows as a toast, inert too.
		p.open("#/live", "table.events tbody tr")
		p.waitJS(`document.body.dataset.live === 'on'`, 5*time.Second)
		live, _ := json.Marshal(map[string]string{"alert_id": "0190f1aa-0000-7000-8000-0000000000ef", "rule": lit,
			"severity": "CRITICAL", "summary": lit, "project": lit})
		env.Hub.Publish(Message{Kind: "alert", Data: live})
		p.waitJS(`!!document.querySelector('.toast.sev-critical a[href="#/alerts/0190f1aa-0000-7000-8000-0000000000ef"]')`, 3*time.Second)
		p.mustContain(".toast", lit)
		time.Sleep(100 * time.Millisecond)
		if !eval[bool](p, xssProbe) {
			t.Error("alert toast: markup became live DOM")
		}
		// Control: the probe does see markup that reaches the DOM.
		eval[any](p, `document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x alt=control>'), 0`)
		if eval[bool](p, xssProbe) {
			t.Error("probe failed to notice an injected <img>: the check above proves nothing")
		}
	})
}
