package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/store"
)

// Web UI numbers (docs/BENCHMARKS.md, "Web UI"): page loads in headless
// Chromium against a store of 1,000,000 events, and the render of a
// 5,000-event session timeline. The store is generated once (a few
// minutes) into $VIGIL_BENCH_DIR (default: the user cache dir, vigil/bench)
// and reused; VIGIL_UI_BENCH_EVENTS=N makes a smaller one.
//
//	go test -run '^$' -bench 'UI' -benchtime 10x ./internal/server

const uiBenchVersion = "v2"

// uiBigSession is the id of the generated 5,000-event session.
const uiBigSession = "big-5000-0000-4000-8000-000000000000"

func uiBenchEvents() int {
	if v, err := strconv.Atoi(os.Getenv("VIGIL_UI_BENCH_EVENTS")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

// fullCorpus is ../shared/corpus (all 40 sessions) when present, else the
// three sessions in testdata.
func fullCorpus(tb testing.TB) []string {
	dir := os.Getenv("VIGIL_CORPUS")
	if dir == "" {
		dir = "../../../shared/corpus/sessions"
	}
	fs, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(fs) == 0 {
		fs, _ = filepath.Glob("testdata/corpus/*.jsonl")
	}
	if len(fs) == 0 {
		tb.Fatal("no corpus")
	}
	sort.Strings(fs)
	return fs
}

// corpusTemplates normalises each corpus session once.
func corpusTemplates(tb testing.TB) [][]*event.Event {
	clock := &corpusClock{t: time.Unix(0, 0)}
	n := event.NewNormalizer(event.Options{
		Now: clock.Now, Host: "dev-laptop", User: "dev", Home: "/home/dev",
		ProjectName: func(dir string) (string, bool) { return filepath.Base(dir), true },
	})
	var out [][]*event.Event
	for _, f := range fullCorpus(tb) {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		var sess []*event.Event
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			ev, err := n.Normalize(sc.Bytes())
			if err != nil {
				tb.Fatal(err)
			}
			sess = append(sess, ev)
		}
		fh.Close()
		out = append(out, sess)
	}
	return out
}

// uiGen replays corpus sessions with fresh ids and times.
type uiGen struct {
	n   int64
	eng *rules.Engine
	col *alert.Collector
}

func (g *uiGen) id() string {
	g.n++
	return fmt.Sprintf("0190%04x-%04x-7%03x-8000-%012x", (g.n>>32)&0xffff, (g.n>>16)&0xffff, g.n&0xfff, g.n)
}

// session copies tmpl as session sid starting at t, step apart, repeating
// its tool calls reps times (unique tool_use_id and agent_id per copy).
func (g *uiGen) session(tmpl []*event.Event, sid string, t time.Time, step time.Duration, reps int) []store.Record {
	var recs []store.Record
	emit := func(src *event.Event, rep int) {
		e := *src
		e.ID, e.SessionID, e.Timestamp = g.id(), sid, t
		t = t.Add(step)
		if rep > 0 {
			if e.ToolUseID != "" {
				e.ToolUseID = fmt.Sprintf("%s_%d", e.ToolUseID, rep)
			}
			if e.AgentID != "" {
				e.AgentID = fmt.Sprintf("%s-%d", e.AgentID, rep)
			}
		}
		if g.eng != nil {
			for _, m := range g.eng.Evaluate(&e) {
				g.col.Handle(m)
			}
		}
		b, _ := json.Marshal(&e)
		recs = append(recs, store.Record{Event: &e, JSON: b})
	}
	// Lifecycle events (first and last) once; the body reps times.
	emit(tmpl[0], 0)
	for r := 0; r < reps; r++ {
		for _, e := range tmpl[1 : len(tmpl)-1] {
			emit(e, r)
		}
	}
	emit(tmpl[len(tmpl)-1], 0)
	return recs
}

// uiBenchStore returns the path of the generated store.
func uiBenchStore(tb testing.TB) string {
	tb.Helper()
	total := uiBenchEvents()
	dir := os.Getenv("VIGIL_BENCH_DIR")
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			c = os.TempDir()
		}
		dir = filepath.Join(c, "vigil", "bench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("ui-store-%d-%s.db", total, uiBenchVersion))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".tmp"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		os.Remove(p)
	}
	st, err := store.Open(tmp, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	began := time.Now()
	tmpls := corpusTemplates(tb)
	seed, err := os.ReadFile("testdata/security-rules.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	cfg := config.Default(config.Paths{})
	eng, err := rules.Load(cfg.Rules, rules.WithSources(rules.Source{Name: "security-rules.yaml", Data: seed}))
	if err != nil {
		tb.Fatal(err)
	}
	g := &uiGen{eng: eng, col: alert.NewCollector(cfg.Alerts, nil)}
	ctx := context.Background()
	// Events 2.6 s apart over the last ~30 days (for 1M), newest now.
	step := 2600 * time.Millisecond
	t := time.Now().Add(-time.Duration(total) * step)
	var batch []store.Record
	flush := func() {
		if _, err := st.Append(ctx, batch); err != nil {
			tb.Fatal(err)
		}
		batch = batch[:0]
	}
	done := 0
	for i := 0; done < total; i++ {
		var recs []store.Record
		if i == 5 {
			// The big session: the config-service session (with its
			// subagent) repeated to 5,000 events, 200 ms apart.
			big := tmpls[0]
			for _, tm := range tmpls {
				if len(tm) > 0 && tm[0].Project == "config-service" && len(tm) < 30 {
					big = tm
				}
			}
			recs = g.session(big, uiBigSession, t, 200*time.Millisecond, (5000-2)/(len(big)-2))
		} else {
			tm := tmpls[i%len(tmpls)]
			recs = g.session(tm, fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), t, step, 1)
		}
		if len(recs) > total-done {
			recs = recs[:total-done]
		}
		t = recs[len(recs)-1].Event.Timestamp.Add(step)
		done += len(recs)
		batch = append(batch, recs...)
		if len(batch) >= 2000 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	if err := st.SaveAlerts(ctx, g.col.Alerts()); err != nil {
		tb.Fatal(err)
	}
	// The background indexer may lag: index everything before the
	// benchmarks use the file.
	if _, err := st.BuildTextIndex(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := st.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	os.Remove(tmp + "-wal")
	os.Remove(tmp + "-shm")
	tb.Logf("generated %s (%d events, %d alerts) in %v", path, total, len(g.col.Alerts()), time.Since(began))
	return path
}

// uiBenchServer serves the generated store (read through the same Server
// as serve).
func uiBenchServer(tb testing.TB) string {
	tb.Helper()
	st, err := store.Open(uiBenchStore(tb), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	paths := config.ResolvePaths(func(k string) string {
		if k == "VIGIL_HOME" {
			return tb.TempDir()
		}
		return ""
	})
	srv := New(Options{Store: st, Paths: paths, Addr: "127.0.0.1:0", Version: "bench"})
	ts := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		st.Close()
	})
	return ts.URL
}

// loadMS navigates to route with a full page load and returns the time
// from navigation start until the view has rendered its data.
func loadMS(tb testing.TB, ctx context.Context, url, route, view string, n int) float64 {
	tb.Helper()
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(c, chromedp.Navigate(fmt.Sprintf("%s/?n=%d%s", url, n, route))); err != nil {
		tb.Fatal(err)
	}
	ms, err := chromedp.Run(c, chromedp.Poll[float64](fmt.Sprintf(`document.body.dataset.ready === %q && +document.body.dataset.readyAt`, view),
		chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(5*time.Millisecond)))
	if err != nil {
		tb.Fatalf("%s: %v", route, err)
	}
	return ms
}

// BenchmarkUIPageLoad: ms from navigation start until each page has
// rendered its data, 1M events in the store. The first iteration is a cold
// load (fresh profile, nothing cached).
func BenchmarkUIPageLoad(b *testing.B) {
	url := uiBenchServer(b)
	ctx := newBrowser(b)
	pages := []struct{ name, route, view string }{
		{"overview", "#/overview", "overview"},
		{"overview-30d", "#/overview?range=30d", "overview"},
		{"live", "#/live", "live"},
		{"sessions", "#/sessions", "sessions"},
		{"alerts", "#/alerts", "alerts"},
		{"projects", "#/projects", "projects"},
		{"timeline-5000", "#/sessions/" + uiBigSession, "session"},
	}
	n := 0
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			var total, worst, first float64
			for b.Loop() {
				n++
				ms := loadMS(b, ctx, url, pg.route, pg.view, n)
				total += ms
				worst = max(worst, ms)
				if pg.view == "session" {
					f, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.timelineFirstAt`))
					if err != nil {
						b.Fatal(err)
					}
					v, _ := strconv.ParseFloat(f, 64)
					first += v
				}
			}
			b.ReportMetric(total/float64(b.N), "ms/load")
			b.ReportMetric(worst, "ms-worst")
			if first > 0 {
				b.ReportMetric(first/float64(b.N), "ms-first-rows")
			}
		})
	}
}

// BenchmarkUIAPI: server time of each endpoint the UI calls, 1M events.
func BenchmarkUIAPI(b *testing.B) {
	url := uiBenchServer(b)
	for _, ep := range []string{
		"/api/v1/overview?range=24h", "/api/v1/overview?range=30d", "/api/v1/sessions?limit=100",
		"/api/v1/sessions/" + uiBigSession, "/api/v1/alerts?status=open&limit=300", "/api/v1/projects",
		"/api/v1/events?limit=200", "/api/v1/status",
	} {
		b.Run(ep, func(b *testing.B) {
			b.ReportAllocs()
			var bytes int64
			for b.Loop() {
				resp, err := http.Get(url + ep)
				if err != nil {
					b.Fatal(err)
				}
				nb, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %s", ep, resp.Status)
				}
				bytes = nb
			}
			b.SetBytes(bytes)
		})
	}
}
