package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/ingest"
	"github.com/vigil-sec/vigil/internal/store"
)

// apiServer runs the real handler over a real store and ingest pipeline.
func apiServer(t *testing.T, addr, token string) (*httptest.Server, *store.Store, *Hub) {
	return apiServerOpts(t, addr, token, 64<<10, 50)
}

func apiServerMax(t testing.TB, maxBody int64, maxBatch int) (*httptest.Server, *store.Store, *Hub) {
	return apiServerOpts(t, "127.0.0.1:7474", "", maxBody, maxBatch)
}

func apiServerOpts(t testing.TB, addr, token string, maxBody int64, maxBatch int) (*httptest.Server, *store.Store, *Hub) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "vigil.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hub := NewHub()
	pipe := ingest.New(ingest.Options{Store: st, SpoolDir: t.TempDir(), Consumers: []ingest.Consumer{
		func(_ context.Context, stored []ingest.Stored) {
			for _, s := range stored {
				hub.Publish(Message{Kind: "event", Seq: s.Seq, Event: s.Event, Data: s.JSON})
			}
		},
	}})
	srv := New(Options{Store: st, Ingest: pipe, Hub: hub, Addr: addr, Token: token, MaxBodyBytes: maxBody, MaxBatch: maxBatch})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, st, hub
}

func testEvent(i int) *event.Event {
	return &event.Event{ID: fmt.Sprintf("01960000-0000-7000-8000-%012d", i), SchemaVersion: event.SchemaVersion,
		Timestamp: time.Date(2026, 11, 23, 10, 0, i, 0, time.UTC), Agent: event.Agent, Project: "shop",
		SessionID: "s1", HookEvent: "PreToolUse", ToolName: "Bash", EventType: event.TypeCommand,
		Action: event.Action{Command: fmt.Sprintf("curl https://example.com/%d", i)}, Security: event.Security{Redactions: []string{}}}
}

func post(t *testing.T, url, ctype string, body []byte, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestIngestValidationAndIdempotency(t *testing.T) {
	ts, st, _ := apiServer(t, "127.0.0.1:7474", "")
	url := ts.URL + "/api/v1/events"
	batch, _ := json.Marshal([]*event.Event{testEvent(1), testEvent(2)})
	if code, body := post(t, url, "application/json", batch); code != 200 || !strings.Contains(body, `"inserted":2`) {
		t.Fatalf("first batch: %d %s", code, body)
	}
	// The same batch again (at-least-once shipping): stored once.
	if code, body := post(t, url, "application/json", batch); code != 200 || !strings.Contains(body, `"inserted":0,"duplicates":2`) &&
		!strings.Contains(body, `"duplicates":2`) {
		t.Fatalf("repeat batch: %d %s", code, body)
	}
	l1, _ := json.Marshal(testEvent(3))
	l2, _ := json.Marshal(testEvent(4))
	nd := append(append(append(l1, '\n'), l2...), '\n')
	if code, body := post(t, url, "application/x-ndjson", nd); code != 200 || !strings.Contains(body, `"inserted":2`) {
		t.Fatalf("ndjson: %d %s", code, body)
	}
	stats, _ := st.Stats(context.Background())
	if stats.Events != 4 {
		t.Fatalf("store holds %d events, want 4", stats.Events)
	}

	unknown := bytes.Replace(l1, []byte(`"id"`), []byte(`"surprise":1,"id"`), 1)
	noID := bytes.Replace(l1, []byte(`"id":"01960000-0000-7000-8000-000000000003"`), []byte(`"id":""`), 1)
	cases := []struct {
		name, ctype string
		body        []byte
		code        int
		want        string
	}{
		{"not json", "application/json", []byte(`[{"id":`), 400, "not a JSON array"},
		{"unknown field", "application/json", append(append([]byte("["), unknown...), ']'), 400, `event 0: invalid event JSON: json: unknown field \"surprise`},
		{"missing id", "application/x-ndjson", append(append(l2, '\n'), noID...), 400, "line 2: id must be"},
		{"wrong schema", "application/json", []byte(`[{"id":"x","schema_version":1,"timestamp":"2026-01-01T00:00:00Z","event_type":"stop"}]`), 400, "schema_version must be 3"},
		{"empty", "application/json", []byte(`  `), 400, "empty batch"},
		{"too many", "application/json", manyEvents(51), 400, "over the limit of 50"},
		{"too large", "application/json", bytes.Repeat([]byte(" "), 70<<10), 413, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := post(t, url, c.ctype, c.body)
			if code != c.code || !strings.Contains(body, c.want) {
				t.Fatalf("got %d %s; want %d containing %q", code, body, c.code, c.want)
			}
		})
	}
	stats, _ = st.Stats(context.Background())
	if stats.Events != 4 {
		t.Fatalf("a rejected batch stored something: %d events", stats.Events)
	}
}

func manyEvents(n int) []byte {
	evs := make([]*event.Event, n)
	for i := range evs {
		evs[i] = testEvent(100 + i)
	}
	b, _ := json.Marshal(evs)
	return b
}

func TestAuth(t *testing.T) {
	batch, _ := json.Marshal([]*event.Event{testEvent(1)})
	t.Run("loopback bind needs no token", func(t *testing.T) {
		ts, _, _ := apiServer(t, "127.0.0.1:7474", "")
		if code, body := post(t, ts.URL+"/api/v1/events", "application/json", batch); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
	})
	t.Run("routable bind requires the token", func(t *testing.T) {
		ts, _, _ := apiServer(t, "0.0.0.0:7474", "s3cret")
		// httptest dials from loopback: ingest from this machine is allowed...
		if code, _ := post(t, ts.URL+"/api/v1/events", "application/json", batch); code != 200 {
			t.Fatalf("loopback ingest refused: %d", code)
		}
		// ...but reading needs the token.
		resp, _ := http.Get(ts.URL + "/api/v1/events")
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("query without token: %d, want 401", resp.StatusCode)
		}
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/events", nil)
		req.Header.Set("Authorization", "Bearer wrong")
		resp, _ = http.DefaultClient.Do(req)
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("query with a wrong token: %d, want 401", resp.StatusCode)
		}
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, _ = http.DefaultClient.Do(req)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("query with the token: %d, want 200", resp.StatusCode)
		}
		resp, _ = http.Get(ts.URL + "/healthz")
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("healthz: %d", resp.StatusCode)
		}
	})
	t.Run("dns rebinding refused", func(t *testing.T) {
		ts, _, _ := apiServer(t, "127.0.0.1:7474", "")
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/events", nil)
		req.Host = "evil.example:7474"
		resp, _ := http.DefaultClient.Do(req)
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("foreign Host: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("cross-origin post refused", func(t *testing.T) {
		ts, _, _ := apiServer(t, "127.0.0.1:7474", "")
		code, _ := post(t, ts.URL+"/api/v1/events", "application/json", batch, "Origin", "http://evil.example")
		if code != 403 {
			t.Fatalf("cross-origin POST: %d, want 403", code)
		}
	})
}

func TestQueryAndStream(t *testing.T) {
	ts, _, _ := apiServer(t, "127.0.0.1:7474", "")
	// Subscribe first; the event posted afterwards must arrive live.
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/stream?tool=Bash", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	batch, _ := json.Marshal([]*event.Event{testEvent(7)})
	start := time.Now()
	if code, body := post(t, ts.URL+"/api/v1/events", "application/json", batch); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	sc := bufio.NewScanner(resp.Body)
	var got string
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			got = sc.Text()
			break
		}
	}
	if !strings.Contains(got, `"_seq":1`) || !strings.Contains(got, "curl https://example.com/7") {
		t.Fatalf("stream gave %q", got)
	}
	t.Logf("live event after %s", time.Since(start))

	var out struct {
		Events []map[string]any `json:"events"`
	}
	r, _ := http.Get(ts.URL + "/api/v1/events?project=shop&tool=Bash&text=example.com/7&since=1000d")
	json.NewDecoder(r.Body).Decode(&out)
	r.Body.Close()
	if len(out.Events) != 1 || out.Events[0]["_seq"].(float64) != 1 {
		t.Fatalf("query gave %v", out.Events)
	}
	r, _ = http.Get(ts.URL + "/api/v1/events?since=yesterday")
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 400 || !bytes.Contains(b, []byte("bad duration")) {
		t.Fatalf("bad since: %d %s", r.StatusCode, b)
	}
}

// TestStreamWithQuery: a LogQL filter on the live stream is applied in
// full (here a regex line filter the in-memory matcher does not handle).
func TestStreamWithQuery(t *testing.T) {
	ts, _, _ := apiServer(t, "127.0.0.1:7474", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/stream?q="+
		url.QueryEscape(`{tool="Bash"} |~ "example.com/(9|11)[^0-9]"`), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	for _, i := range []int{8, 9, 10, 11} {
		batch, _ := json.Marshal([]*event.Event{testEvent(i)})
		if code, body := post(t, ts.URL+"/api/v1/events", "application/json", batch); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
	}
	sc := bufio.NewScanner(resp.Body)
	var got []string
	for sc.Scan() && len(got) < 2 {
		if strings.HasPrefix(sc.Text(), "data: ") {
			var ev struct {
				Action struct{ Command string } `json:"action_details"`
			}
			json.Unmarshal([]byte(strings.TrimPrefix(sc.Text(), "data: ")), &ev)
			got = append(got, ev.Action.Command)
		}
	}
	if len(got) != 2 || !strings.HasSuffix(got[0], "/9") || !strings.HasSuffix(got[1], "/11") {
		t.Fatalf("stream gave %q, want only the /9 and /11 events", got)
	}
}
