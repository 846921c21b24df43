package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/ingest"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/store"
)

// uiEnv is a real server on 127.0.0.1:0 over a real SQLite store in a
// temp dir, wired as serve wires it (ingest pipeline → store → hub).
type uiEnv struct {
	URL   string
	Store *store.Store
	Pipe  *ingest.Pipeline
	Hub   *Hub
	Paths config.Paths
}

func newUIEnv(t testing.TB) *uiEnv {
	t.Helper()
	return newUIEnvWith(t, nil)
}

// newUIEnvWith lets a test adjust the server's options (address, token).
func newUIEnvWith(t testing.TB, opt func(*Options)) *uiEnv {
	t.Helper()
	dir := t.TempDir()
	paths := config.ResolvePaths(func(k string) string {
		if k == "VIGIL_HOME" {
			return dir
		}
		return ""
	})
	st, err := store.Open(paths.DBPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hub := NewHub()
	pipe := ingest.New(ingest.Options{Store: st, SpoolDir: paths.SpoolDir, Consumers: []ingest.Consumer{
		func(_ context.Context, stored []ingest.Stored) {
			for _, s := range stored {
				hub.Publish(Message{Kind: "event", Seq: s.Seq, Event: s.Event, Data: s.JSON})
			}
		}}})
	o := Options{Store: st, Ingest: pipe, Hub: hub, Paths: paths, Addr: "127.0.0.1:0", Version: "test"}
	if opt != nil {
		opt(&o)
	}
	srv := New(o)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		st.Close()
	})
	return &uiEnv{URL: ts.URL, Store: st, Pipe: pipe, Hub: hub, Paths: paths}
}

// corpusClock hands out timestamps a few seconds apart, like a session
// unfolding; safe for concurrent use.
type corpusClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *corpusClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(1500*time.Millisecond + time.Duration(c.t.UnixNano()%2000)*time.Millisecond)
	return c.t
}

// loadCorpus normalises the hook payloads of each file (one session per
// file, as in ../shared/corpus) and ingests them, starting at start.
func loadCorpus(t testing.TB, env *uiEnv, start time.Time, files ...string) []*event.Event {
	t.Helper()
	clock := &corpusClock{t: start}
	n := event.NewNormalizer(event.Options{
		Now: clock.Now, Host: "dev-laptop", User: "dev", Home: "/home/dev",
		ProjectName: func(dir string) (string, bool) { return filepath.Base(dir), true },
	})
	var all []*event.Event
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			ev, err := n.Normalize(sc.Bytes())
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			all = append(all, ev)
		}
	}
	if _, err := env.Pipe.Ingest(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	return all
}

func corpusFiles(t testing.TB) []string {
	fs, err := filepath.Glob("testdata/corpus/*.jsonl")
	if err != nil || len(fs) == 0 {
		t.Fatalf("no corpus in testdata: %v", err)
	}
	sort.Strings(fs)
	return fs
}

// postEvents sends events through the public ingest API.
func postEvents(t testing.TB, url string, evs ...*event.Event) {
	t.Helper()
	b, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url+"/api/v1/events", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e map[string]string
		json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("POST events: %s %v", resp.Status, e)
	}
}

// hostileEvent carries markup in every free-text field the UI shows.
func hostileEvent(id, session string, ts time.Time) *event.Event {
	const payload = `<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2">`
	code := 0
	return &event.Event{
		ID: id, SchemaVersion: event.SchemaVersion, Timestamp: ts, Host: "h<b>1</b>", User: "dev",
		Agent: event.Agent, Project: "xss-" + payload[:8], ProjectDir: "/home/dev/projects/x", SessionID: session,
		HookEvent: "PreToolUse", ToolName: "Bash", ToolUseID: "toolu_xss", EventType: event.TypeCommand,
		Action:   event.Action{Command: "echo '" + payload + "'", Description: payload, Programs: []string{"echo"}},
		Security: event.Security{Redactions: []string{payload}, SensitivePath: true, SensitiveKinds: []string{payload}},
		Decision: &event.Decision{Action: event.DecisionWouldDeny, Rule: payload, Reason: payload, Mode: "monitor"},
		Outcome:  &event.Outcome{Success: true, ExitCode: &code},
	}
}

func simpleEvent(id, session, project, tool, command string, ts time.Time) *event.Event {
	return &event.Event{
		ID: id, SchemaVersion: event.SchemaVersion, Timestamp: ts, Host: "dev-laptop", User: "dev",
		Agent: event.Agent, Project: project, ProjectDir: "/home/dev/projects/" + project, SessionID: session,
		HookEvent: "PreToolUse", ToolName: tool, ToolUseID: "toolu_" + strings.ReplaceAll(id, "-", "")[:20],
		EventType: event.ToolType(tool), Action: event.Action{Command: command},
		Security: event.Security{Redactions: []string{}},
	}
}

// detect runs the default rules over evs (in order) through the alert
// policy, as serve's detection does, and stores the resulting alerts.
func detect(t testing.TB, env *uiEnv, evs []*event.Event) []alert.Alert {
	t.Helper()
	cfg := config.Default(env.Paths)
	// The seed's rule file (as shipped to users) on top of the built-in set.
	seed, err := os.ReadFile("testdata/security-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rules.Load(cfg.Rules, rules.WithSources(rules.Source{Name: "security-rules.yaml", Data: seed}))
	if err != nil {
		t.Fatalf("load rules: %v", err)
	}
	col := alert.NewCollector(cfg.Alerts, nil)
	for _, ev := range evs {
		for _, m := range eng.Evaluate(ev) {
			col.Handle(m)
		}
	}
	as := col.Alerts()
	if err := env.Store.SaveAlerts(context.Background(), as); err != nil {
		t.Fatal(err)
	}
	return as
}
