package webhook

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func note() alert.Notification {
	return alert.Notification{
		Kind: alert.KindNew, Severity: rules.High, Time: t0,
		Title: "dangerous_commands: rm -rf ~ (session 3f2a, project web)",
		Alert: alert.Alert{
			ID: "0193a5b2-0000-7000-8000-000000000001", Key: "dangerous_commands|3f2a", Rule: "dangerous_commands",
			Description: `Potentially "dangerous" command`, Severity: rules.High, Category: "dangerous_operation",
			Tags: []string{"T1485"}, Action: "alert", SessionID: "3f2a", Project: "web", Host: "laptop",
			EventIDs: []string{"e1"}, FirstSeen: t0, LastSeen: t0, Count: 1, Summary: "rm -rf ~",
			Context: map[string]string{"command": "rm -rf ~"}, Status: alert.StatusOpen, Notified: 1, LastNotified: t0,
		},
	}
}

type request struct {
	method, path string
	header       http.Header
	body         string
}

// server records requests and answers with codes in turn (then 200).
type server struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []request
	codes []int
}

func newServer(t *testing.T, codes ...int) *server {
	s := &server{codes: codes}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, request{r.Method, r.URL.RequestURI(), r.Header.Clone(), string(b)})
		code := 200
		if len(s.codes) > 0 {
			code, s.codes = s.codes[0], s.codes[1:]
		}
		s.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.reqs...)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\n got %s\nwant %s", name, got, want)
	}
}

func TestRequest(t *testing.T) {
	seedBody := `{
  "alert_id": "{alert_id}",
  "severity": "{severity}",
  "description": "{description}",
  "timestamp": "{timestamp}",
  "category": "{category}",
  "session_id": "{session_id}",
  "context": {context}
}`
	tests := []struct {
		name    string
		cfg     func(*config.WebhookChannel)
		method  string
		path    string
		headers map[string]string
		golden  string
	}{
		{
			name:    "default JSON body",
			method:  "POST",
			path:    "/hooks/vigil?team=sec",
			headers: map[string]string{"Content-Type": "application/json", "User-Agent": UserAgent},
			golden:  "default.json",
		},
		{
			name: "seed payload template, PUT, custom headers",
			cfg: func(c *config.WebhookChannel) {
				c.Method = "put"
				c.Body = seedBody
				c.Headers = map[string]string{"Content-Type": "application/json", "User-Agent": "Claude-Alert-Engine/1.0", "X-Api-Key": "k1"}
			},
			method:  "PUT",
			path:    "/hooks/vigil?team=sec",
			headers: map[string]string{"Content-Type": "application/json", "User-Agent": "Claude-Alert-Engine/1.0", "X-Api-Key": "k1"},
			golden:  "seed.json",
		},
		{
			name: "go template, text body",
			cfg: func(c *config.WebhookChannel) {
				c.Body = "{{.Severity}} {{.Alert.Rule}} x{{.Alert.Count}}: {{.Title}}"
				c.Headers = map[string]string{"Content-Type": "text/plain"}
			},
			method:  "POST",
			path:    "/hooks/vigil?team=sec",
			headers: map[string]string{"Content-Type": "text/plain", "User-Agent": UserAgent},
			golden:  "text.txt",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t)
			c := config.DefaultWebhook()
			c.URL = srv.URL + "/hooks/vigil?team=sec"
			c.AllowPrivate = true
			if tc.cfg != nil {
				tc.cfg(&c)
			}
			w, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Notify(context.Background(), note()); err != nil {
				t.Fatal(err)
			}
			rs := srv.requests()
			if len(rs) != 1 {
				t.Fatalf("%d requests", len(rs))
			}
			r := rs[0]
			if r.method != tc.method || r.path != tc.path {
				t.Errorf("request %s %s, want %s %s", r.method, r.path, tc.method, tc.path)
			}
			for k, v := range tc.headers {
				if got := r.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			golden(t, tc.golden, []byte(r.body))
		})
	}
}

func TestRefusesPrivateTarget(t *testing.T) {
	srv := newServer(t)
	c := config.DefaultWebhook()
	c.URL = srv.URL + "/x"
	w, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	err = w.Notify(context.Background(), note())
	if !errors.Is(err, alert.ErrPrivateTarget) || !alert.IsPermanent(err) {
		t.Errorf("err = %v, want permanent ErrPrivateTarget", err)
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("server got %d requests", n)
	}
}

// dispatch sends one match through a real dispatcher to the webhook.
func dispatch(t *testing.T, srv *server, retries int) *alert.Dispatcher {
	t.Helper()
	c := config.DefaultWebhook()
	c.URL = srv.URL + "/x"
	c.AllowPrivate = true
	c.Retries = retries
	c.Timeout = 2 * time.Second
	w, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default(config.Paths{}).Alerts
	d, err := alert.New(cfg, []alert.Channel{{Notifier: w, AlertChannel: c.AlertChannel}},
		alert.Options{RetryBase: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	d.Handle(rules.Match{RuleID: "r", Severity: rules.High, SessionID: "s", EventID: "e1", Time: t0})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name    string
		codes   []int
		retries int
		want    int
	}{
		{"fails twice then succeeds", []int{503, 500}, 3, 3},
		{"429 is retried", []int{429}, 3, 2},
		{"400 is not retried", []int{400, 400}, 3, 1},
		{"gives up after retries", []int{503, 503, 503, 503, 503}, 2, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.codes...)
			dispatch(t, srv, tc.retries)
			rs := srv.requests()
			if len(rs) != tc.want {
				t.Fatalf("%d requests, want %d", len(rs), tc.want)
			}
			for _, r := range rs[1:] {
				if r.body != rs[0].body {
					t.Errorf("retry sent a different body")
				}
			}
		})
	}
}

// TestHangingEndpointDoesNotDelayAnother: two webhooks, one whose server
// never answers; the other still gets every alert at once.
func TestHangingEndpointDoesNotDelayAnother(t *testing.T) {
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	fast := newServer(t)
	mk := func(name, url string) alert.Channel {
		c := config.DefaultWebhook()
		c.Name, c.URL, c.AllowPrivate, c.Timeout, c.Retries, c.MinSeverity = name, url, true, 5*time.Second, 3, "LOW"
		w, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		return alert.Channel{Notifier: w, AlertChannel: c.AlertChannel}
	}
	d, err := alert.New(config.Default(config.Paths{}).Alerts,
		[]alert.Channel{mk("hang", hang.URL), mk("fast", fast.URL)}, alert.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	const n = 10
	for i := range n {
		d.Handle(rules.Match{RuleID: "r", Severity: rules.High, SessionID: string(rune('a' + i)), EventID: "e", Time: t0})
	}
	for len(fast.requests()) < n && time.Since(start) < 3*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	if got, el := len(fast.requests()), time.Since(start); got != n || el > time.Second {
		t.Errorf("fast endpoint got %d of %d alerts in %s while the other hangs", got, n, el)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	d.Close(ctx)
}
