package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-sec/vigil/internal/project"
)

func getJSON(t *testing.T, u string, out any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v\n%s", u, err, b)
		}
	}
	if resp.StatusCode != http.StatusOK && strings.Contains(u, "/api/") && !strings.Contains(string(b), `"error"`) {
		t.Errorf("%s: %s without a JSON error: %s", u, resp.Status, b)
	}
	return resp.StatusCode
}

func TestUIAPI(t *testing.T) {
	env := newUIEnv(t)
	evs := loadCorpus(t, env, time.Now().Add(-2*time.Hour), corpusFiles(t)...)
	alerts := detect(t, env, evs)
	dir := filepath.Join(t.TempDir(), "config-service")
	os.MkdirAll(dir, 0o755)
	if _, err := project.Connect(project.SettingsFile(dir), "vigil hook", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := project.Register(env.Paths.RegistryFile, project.Project{Name: "config-service", Dir: dir, Settings: project.SettingsFile(dir)}); err != nil {
		t.Fatal(err)
	}
	const sid = "867029ff-d740-4756-b147-0c0a9687a018"

	t.Run("status codes", func(t *testing.T) {
		tests := []struct {
			name, path string
			want       int
		}{
			{"index", "/", 200},
			{"sessions", "/api/v1/sessions", 200},
			{"sessions bad cursor", "/api/v1/sessions?before=nonsense", 400},
			{"sessions bad limit", "/api/v1/sessions?limit=-1", 400},
			{"sessions bad since", "/api/v1/sessions?since=yesterday", 400},
			{"session", "/api/v1/sessions/" + sid, 200},
			{"session unknown", "/api/v1/sessions/nope", 404},
			{"session bad limit", "/api/v1/sessions/" + sid + "?limit=0", 400},
			{"overview default", "/api/v1/overview", 200},
			{"overview 30d", "/api/v1/overview?range=30d", 200},
			{"overview bad range", "/api/v1/overview?range=1y", 400},
			{"projects", "/api/v1/projects", 200},
			{"alerts", "/api/v1/alerts", 200},
			{"alerts bad status", "/api/v1/alerts?status=maybe", 400},
			{"alerts bad severity", "/api/v1/alerts?severity=urgent", 400},
			{"alert unknown", "/api/v1/alerts/00000000-0000-0000-0000-000000000000", 404},
			{"asset missing", "/assets/nope.js", 404},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if got := getJSON(t, env.URL+tc.path, nil); got != tc.want && !(tc.path == "/" && got == 200) {
					t.Errorf("GET %s: %d, want %d", tc.path, got, tc.want)
				}
			})
		}
	})

	t.Run("index is hardened", func(t *testing.T) {
		resp, err := http.Get(env.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("CSP %q", csp)
		}
		if !strings.Contains(string(b), `<div id="app">`) || strings.Contains(string(b), "http://") && !strings.Contains(string(b), "www.w3.org") {
			t.Errorf("index.html: %s", b)
		}
		// Every asset the page names is embedded (no CDN, works offline).
		for _, m := range strings.Split(string(b), `"./assets/`)[1:] {
			name := m[:strings.IndexByte(m, '"')]
			r, err := http.Get(env.URL + "/assets/" + name)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("asset %s: %s cache %q", name, r.Status, r.Header.Get("Cache-Control"))
			}
		}
	})

	t.Run("sessions paging", func(t *testing.T) {
		seen := map[string]bool{}
		next := ""
		for pages := 0; pages < 10; pages++ {
			var page struct {
				Sessions []sessionJSON `json:"sessions"`
				Next     string        `json:"next_before"`
			}
			getJSON(t, env.URL+"/api/v1/sessions?limit=1&before="+url.QueryEscape(next), &page)
			for _, s := range page.Sessions {
				if seen[s.SessionID] {
					t.Errorf("session %s on two pages", s.SessionID)
				}
				seen[s.SessionID] = true
			}
			if next = page.Next; next == "" {
				break
			}
		}
		if len(seen) != 3 {
			t.Errorf("paged through %d sessions, want 3", len(seen))
		}
	})

	t.Run("session detail", func(t *testing.T) {
		var d struct {
			Session   sessionJSON       `json:"session"`
			Events    []json.RawMessage `json:"events"`
			Truncated bool              `json:"truncated"`
		}
		getJSON(t, env.URL+"/api/v1/sessions/"+sid, &d)
		s := d.Session
		if s.Project != "config-service" || s.Events != 26 || len(d.Events) != 26 || s.ToolCalls != 10 || s.Subagents != 1 ||
			s.Prompts != 1 || !s.Ended || s.Alerts == 0 || s.Risk != nil || d.Truncated {
			t.Errorf("session %+v (events %d, truncated %v)", s, len(d.Events), d.Truncated)
		}
		var first struct {
			Seq int64 `json:"_seq"`
			ID  string
		}
		json.Unmarshal(d.Events[0], &first)
		if first.Seq == 0 || first.ID == "" {
			t.Errorf("event without _seq or id: %s", d.Events[0])
		}
		getJSON(t, env.URL+"/api/v1/sessions/"+sid+"?limit=5", &d)
		if len(d.Events) != 5 || !d.Truncated {
			t.Errorf("limit=5: %d events, truncated %v", len(d.Events), d.Truncated)
		}
	})

	t.Run("overview", func(t *testing.T) {
		var o struct {
			Times  []int64 `json:"times"`
			Total  []int64 `json:"total"`
			Tools  []countJSON
			Totals struct {
				Events, Sessions, AlertsOpen int64
			}
			AlertsBySeverity []countJSON `json:"alerts_by_severity"`
		}
		getJSON(t, env.URL+"/api/v1/overview?range=6h", &o)
		var sum int64
		for _, n := range o.Total {
			sum += n
		}
		if len(o.Times) != len(o.Total) || len(o.Times) < 72 || sum != int64(len(evs)) || o.Totals.Events != int64(len(evs)) || o.Totals.Sessions != 3 {
			t.Errorf("overview: %d buckets, sum %d, totals %+v; want %d events in 3 sessions", len(o.Times), sum, o.Totals, len(evs))
		}
		if len(o.AlertsBySeverity) == 0 {
			t.Error("no alerts by severity")
		}
	})

	t.Run("projects", func(t *testing.T) {
		var p struct {
			Projects []projectJSON `json:"projects"`
		}
		getJSON(t, env.URL+"/api/v1/projects", &p)
		got := map[string]string{}
		for _, x := range p.Projects {
			got[x.Name] = x.Status
			if x.LastActivity == nil || x.Events == 0 {
				t.Errorf("%s: no activity: %+v", x.Name, x)
			}
		}
		want := map[string]string{"config-service": projConnected, "billing-service": projUnregistered, "docs-site": projUnregistered}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("project %s: status %q, want %q (all: %v)", k, got[k], v, got)
			}
		}
	})

	t.Run("alerts and ack", func(t *testing.T) {
		var page struct {
			Alerts []struct {
				ID       string   `json:"id"`
				Severity string   `json:"severity"`
				EventIDs []string `json:"event_ids"`
				Status   string   `json:"status"`
			} `json:"alerts"`
			Counts []severityCountJSON `json:"counts"`
		}
		getJSON(t, env.URL+"/api/v1/alerts?severity=critical", &page)
		if len(page.Alerts) == 0 {
			t.Fatal("no CRITICAL alerts")
		}
		var total int64
		for _, c := range page.Counts {
			total += c.Total
		}
		if total != int64(len(alerts)) {
			t.Errorf("counts add up to %d, want %d", total, len(alerts))
		}
		for _, a := range page.Alerts {
			if a.Severity != "CRITICAL" || len(a.EventIDs) != 0 {
				t.Errorf("severity=critical listed %+v", a)
			}
		}
		id := page.Alerts[0].ID
		var d struct {
			Alert struct {
				Count int `json:"count"`
			} `json:"alert"`
			Events []json.RawMessage `json:"events"`
		}
		getJSON(t, env.URL+"/api/v1/alerts/"+id, &d)
		if len(d.Events) == 0 || len(d.Events) != d.Alert.Count {
			t.Errorf("alert detail: %d events for count %d", len(d.Events), d.Alert.Count)
		}
		ack := func(id, body string) (int, string) {
			resp, err := http.Post(env.URL+"/api/v1/alerts/"+id+"/ack", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if code, b := ack(id, `{"by":"alice"}`); code != 200 || !strings.Contains(b, `"acked_by":"alice"`) {
			t.Errorf("ack: %d %s", code, b)
		}
		if code, b := ack(id, `{"by":"bob"}`); code != 200 || !strings.Contains(b, `"acked_by":"alice"`) {
			t.Errorf("second ack must keep the first: %d %s", code, b)
		}
		if code, _ := ack("00000000-0000-0000-0000-000000000000", ""); code != 404 {
			t.Errorf("ack unknown: %d", code)
		}
		if code, _ := ack(id, `not json`); code != 400 {
			t.Errorf("ack bad body: %d", code)
		}
		a, _ := env.Store.Alert(context.Background(), id)
		if a.Status != "acked" || a.AckedBy != "alice" {
			t.Errorf("store: %+v", a)
		}
		getJSON(t, env.URL+"/api/v1/alerts?status=open&severity=CRITICAL", &page)
		for _, x := range page.Alerts {
			if x.ID == id {
				t.Error("acked alert in the open list")
			}
		}
	})

	t.Run("ack refused cross-origin", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/api/v1/alerts/"+alerts[0].ID+"/ack", strings.NewReader("{}"))
		req.Header.Set("Origin", "http://evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin ack: %s", resp.Status)
		}
	})
}

// TestUIAuth: when serve binds a non-loopback address every UI page, asset
// and UI endpoint needs the token; /login?token= sets the cookie the
// browser (and its EventSource) then carries.
func TestUIAuth(t *testing.T) {
	env := newUIEnvWith(t, func(o *Options) { o.Addr, o.Token = "192.0.2.10:7474", "s3cret-token" })
	loadCorpus(t, env, time.Now().Add(-time.Hour), corpusFiles(t)...)
	for _, path := range []string{"/", "/assets/x.js", "/api/v1/sessions", "/api/v1/sessions/x", "/api/v1/overview",
		"/api/v1/projects", "/api/v1/alerts", "/api/v1/alerts/x"} {
		resp, err := http.Get(env.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without token: %s", path, resp.Status)
		}
	}
	resp, err := http.Post(env.URL+"/api/v1/alerts/x/ack", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("ack without token: %s", resp.Status)
	}

	p := &page{t: t, ctx: newBrowser(t), url: env.URL}
	p.run(chromedp.Navigate(env.URL + "/login?token=s3cret-token"))
	p.open("#/sessions", "table.sessions tbody tr")
	p.open("#/live", "table.events tbody tr")
	p.waitJS(`document.body.dataset.live === 'on'`, 5*time.Second)
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		ae   string
		want bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, GZIP;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0", false},
		{"deflate", false},
		{"x-gzip", false},
	}
	for _, tc := range tests {
		if got := acceptsGzip(tc.ae); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.ae, got, tc.want)
		}
	}
}

// TestWriteCompressed: large bodies go gzipped to remote clients that ask
// for it, never to loopback ones.
func TestWriteCompressed(t *testing.T) {
	big := []byte(strings.Repeat(`{"event_type":"command_execution"},`, 4000))
	tests := []struct {
		name, remote, ae string
		body             []byte
		gz               bool
	}{
		{"remote gzip", "192.0.2.1:5555", "gzip, br", big, true},
		{"remote no gzip", "192.0.2.1:5555", "br", big, false},
		{"loopback", "127.0.0.1:5555", "gzip", big, false},
		{"small", "192.0.2.1:5555", "gzip", []byte(`{}`), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/sessions/x", nil)
			req.RemoteAddr = tc.remote
			req.Header.Set("Accept-Encoding", tc.ae)
			rec := httptest.NewRecorder()
			writeCompressed(rec, req, tc.body)
			got := rec.Body.Bytes()
			if gz := rec.Header().Get("Content-Encoding") == "gzip"; gz != tc.gz {
				t.Fatalf("gzip %v, want %v", gz, tc.gz)
			}
			if tc.gz {
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Fatal(err)
				}
				if got, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
				if rec.Body.Len() > len(tc.body)/5 {
					t.Errorf("gzipped %d bytes to %d", len(tc.body), rec.Body.Len())
				}
			}
			if !bytes.Equal(got, tc.body) {
				t.Error("body changed")
			}
		})
	}
}
