package loki

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/loki/lokitest"
	"github.com/vigil-sec/vigil/internal/store"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "vigil.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var (
	testProjects = []string{"api", "web", "infra"}
	testTools    = []struct{ tool, typ string }{
		{"Bash", event.TypeCommand}, {"Read", event.TypeFileRead}, {"Edit", event.TypeFileEdit},
		{"WebFetch", event.TypeWebFetch}, {"", event.TypeUserPrompt},
	}
)

// genEvents makes n events from base on, 1ms apart, with ties (every 7th
// event shares the previous one's timestamp) and steps back (every 50th is
// 5ms earlier than the previous one), spread over a few projects and tools.
func genEvents(prefix string, n int, base time.Time) []event.Event {
	evs := make([]event.Event, n)
	ts := base
	for i := range evs {
		switch {
		case i%50 == 49:
			ts = ts.Add(-5 * time.Millisecond)
		case i%7 == 6:
		default:
			ts = ts.Add(time.Millisecond)
		}
		tt := testTools[i%len(testTools)]
		hook := "PreToolUse"
		if tt.tool == "" {
			hook = "UserPromptSubmit"
		}
		ev := event.Event{
			ID:            fmt.Sprintf("%s-%06d", prefix, i),
			SchemaVersion: event.SchemaVersion,
			Timestamp:     ts,
			Host:          "host-" + strconv.Itoa(i%2),
			User:          "dev",
			Agent:         event.Agent,
			Project:       testProjects[i%len(testProjects)],
			ProjectDir:    "/home/dev/projects/" + testProjects[i%len(testProjects)],
			SessionID:     fmt.Sprintf("sess-%s-%d", prefix, i/100),
			HookEvent:     hook,
			ToolName:      tt.tool,
			EventType:     tt.typ,
			Security:      event.Security{Redactions: []string{}},
		}
		if tt.tool != "" {
			ev.ToolUseID = fmt.Sprintf("toolu_%s_%06d", prefix, i)
		}
		if tt.tool == "Bash" {
			ev.Action.Command = fmt.Sprintf("echo %d", i)
		}
		evs[i] = ev
	}
	return evs
}

func appendEvents(t testing.TB, st *store.Store, evs []event.Event) {
	t.Helper()
	const chunk = 2000
	for i := 0; i < len(evs); i += chunk {
		var recs []store.Record
		for j := i; j < min(i+chunk, len(evs)); j++ {
			b, err := json.Marshal(&evs[j])
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, store.Record{Event: &evs[j], JSON: b})
		}
		if _, err := st.Append(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
	}
}

type runningForwarder struct {
	f      *Forwarder
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func startForwarder(t testing.TB, o ForwarderOptions) *runningForwarder {
	t.Helper()
	reg := prometheus.NewRegistry()
	o.Registerer = reg
	if o.MinBackoff == 0 {
		o.MinBackoff = 50 * time.Millisecond
		o.MaxBackoff = 500 * time.Millisecond
	}
	if o.BatchWait == 0 {
		o.BatchWait = 100 * time.Millisecond
		o.PollInterval = 20 * time.Millisecond
	}
	f, err := NewForwarder(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rf := &runningForwarder{f: f, reg: reg, cancel: cancel, done: make(chan error, 1)}
	go func() { rf.done <- f.Run(ctx) }()
	t.Cleanup(rf.stop)
	return rf
}

func (rf *runningForwarder) stop() {
	if rf.cancel == nil {
		return
	}
	rf.cancel()
	<-rf.done
	rf.cancel = nil
}

func checkpointOf(t testing.TB, st *store.Store) int64 {
	t.Helper()
	v, err := StoreSource{st}.Checkpoint(context.Background(), DefaultCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func lastSeq(t testing.TB, st *store.Store) int64 {
	t.Helper()
	v, err := StoreSource{st}.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func waitDrained(t testing.TB, st *store.Store, timeout time.Duration) {
	t.Helper()
	want := lastSeq(t, st)
	waitFor(t, timeout, fmt.Sprintf("checkpoint to reach seq %d", want), func() bool { return checkpointOf(t, st) >= want })
}

// verifyExactlyOnce checks that Loki holds every stored event once, with
// its labels, metadata and line, and each stream in store order.
func verifyExactlyOnce(t testing.TB, c *Client, service string, st *store.Store, from time.Time) {
	t.Helper()
	ctx := context.Background()
	rows, err := st.After(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("store is empty")
	}
	bySeq := map[string]store.Row{}
	for _, r := range rows {
		bySeq[r.ID] = r
	}
	got, err := c.QueryAll(ctx, QueryRange{
		Query: fmt.Sprintf(`{service=%q}`, service),
		Start: from, End: time.Now().Add(time.Hour),
	}, 5000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	lastInStream := map[string]int64{} // stream -> seq of its previous entry
	for _, e := range got {
		id := e.Labels["event_id"]
		seen[id]++
		r, ok := bySeq[id]
		if !ok {
			t.Errorf("Loki has event %q that the store does not", id)
			continue
		}
		if e.Line != string(r.JSON) {
			t.Errorf("event %s: line differs from the stored JSON:\n got %s\nwant %s", id, e.Line, r.JSON)
		}
		var ev event.Event
		if err := json.Unmarshal(r.JSON, &ev); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"service": service, "stream": "events"}
		for _, l := range append(EventLabels(service, MetaOf(&ev)), EventMetadata(MetaOf(&ev))...) {
			if l.Value != "" {
				want[l.Name] = l.Value
			}
		}
		for k, v := range want {
			if e.Labels[k] != v {
				t.Errorf("event %s: label/metadata %s = %q, want %q (all: %v)", id, k, e.Labels[k], v, e.Labels)
			}
		}
		key := LabelString(EventLabels(service, MetaOf(&ev)))
		if prev, ok := lastInStream[key]; ok && r.Seq <= prev {
			t.Errorf("stream %s: event seq %d after seq %d: out of store order", key, r.Seq, prev)
		}
		lastInStream[key] = r.Seq
		if e.Time.Before(ev.Timestamp) {
			t.Errorf("event %s: Loki time %s before the event's own %s", id, e.Time, ev.Timestamp)
		}
	}
	missing, doubled := 0, 0
	for _, r := range rows {
		switch n := seen[r.ID]; {
		case n == 0:
			missing++
			if missing <= 5 {
				t.Errorf("event %s (seq %d) missing in Loki", r.ID, r.Seq)
			}
		case n > 1:
			doubled++
			if doubled <= 5 {
				t.Errorf("event %s (seq %d) is in Loki %d times", r.ID, r.Seq, n)
			}
		}
	}
	if missing > 0 || doubled > 0 || len(got) != len(rows) {
		t.Fatalf("store has %d events, Loki %d entries: %d missing, %d doubled", len(rows), len(got), missing, doubled)
	}
}

func TestForwarderRoundTrip(t *testing.T) {
	t.Parallel()
	lk := sharedLoki(t)
	for _, format := range []string{FormatProtobuf, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			service := "vigil-roundtrip-" + format
			st := openStore(t)
			base := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
			evs := genEvents("rt-"+format, 1200, base)
			appendEvents(t, st, evs)
			rf := startForwarder(t, ForwarderOptions{
				Client: testClient(t, lk.URL(), format), Source: StoreSource{st},
				Service: service, MaxBatchEvents: 300,
			})
			waitDrained(t, st, 60*time.Second)
			// Events arriving while it runs are forwarded too.
			appendEvents(t, st, genEvents("rt2-"+format, 50, time.Now()))
			waitDrained(t, st, 30*time.Second)
			rf.stop()
			verifyExactlyOnce(t, testClient(t, lk.URL(), FormatProtobuf), service, st, base.Add(-time.Minute))
			if got := metricValue(t, rf.f.m.pushed); got != 1250 {
				t.Errorf("vigil_loki_events_pushed_total = %v, want 1250", got)
			}
			if got := metricValue(t, rf.f.m.lagEvents); got != 0 {
				t.Errorf("vigil_loki_lag_events = %v, want 0", got)
			}
		})
	}
}

// TestForwarderResume: a second forwarder (a restarted vigil serve)
// continues from the checkpoint, and a checkpoint lost after a push does
// not double events in Loki.
func TestForwarderResume(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		events, back int
		batch        int
	}{
		{"small batches", 400, 250, 100},
		// A whole default-size batch (2000 ids) checked at once.
		{"default batches", 4500, 2500, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lk := sharedLoki(t)
			service := "vigil-resume-" + strconv.Itoa(tc.events)
			st := openStore(t)
			base := time.Now().Add(-5 * time.Minute).Truncate(time.Millisecond)
			appendEvents(t, st, genEvents(service+"a", tc.events, base))
			c := testClient(t, lk.URL(), FormatProtobuf)
			rf := startForwarder(t, ForwarderOptions{Client: c, Source: StoreSource{st}, Service: service, MaxBatchEvents: tc.batch})
			waitDrained(t, st, 60*time.Second)
			rf.stop()
			// Simulate a crash between Loki's acks and the checkpoint
			// writes: roll the checkpoint back.
			if err := (StoreSource{st}).SaveCheckpoint(context.Background(), DefaultCheckpoint, checkpointOf(t, st)-int64(tc.back)); err != nil {
				t.Fatal(err)
			}
			appendEvents(t, st, genEvents(service+"b", 100, base.Add(time.Minute)))
			rf = startForwarder(t, ForwarderOptions{Client: c, Source: StoreSource{st}, Service: service, MaxBatchEvents: tc.batch})
			waitDrained(t, st, 60*time.Second)
			rf.stop()
			verifyExactlyOnce(t, c, service, st, base.Add(-time.Minute))
			if got := metricValue(t, rf.f.m.alreadyPresent); got != float64(tc.back) {
				t.Errorf("vigil_loki_events_already_present_total = %v, want %d", got, tc.back)
			}
		})
	}
}

// TestForwarderLokiRestart kills Loki (SIGKILL) while the forwarder is
// pushing, keeps capturing events while it is down, restarts it on the
// same ports and data dir and checks Loki ends up with every event once.
func TestForwarderLokiRestart(t *testing.T) {
	t.Parallel()
	lk := lokitest.Start(t)
	service := "vigil-restart"
	st := openStore(t)
	base := time.Now().Add(-20 * time.Minute).Truncate(time.Millisecond)
	appendEvents(t, st, genEvents("rs1", 6000, base))
	c := testClient(t, lk.URL(), FormatProtobuf)
	rf := startForwarder(t, ForwarderOptions{Client: c, Source: StoreSource{st}, Service: service, MaxBatchEvents: 100})
	waitFor(t, 60*time.Second, "forwarder to be mid-way", func() bool { return checkpointOf(t, st) >= 1500 })
	lk.Kill()
	down := checkpointOf(t, st)
	appendEvents(t, st, genEvents("rs2", 1000, base.Add(10*time.Minute)))
	time.Sleep(time.Second)
	if cp := checkpointOf(t, st); cp > down+100 {
		t.Fatalf("checkpoint moved from %d to %d while Loki was down", down, cp)
	}
	lk.Start(t)
	waitDrained(t, st, 90*time.Second)
	rf.stop()
	verifyExactlyOnce(t, c, service, st, base.Add(-time.Minute))
	if got := metricValue(t, rf.f.m.pushErrors.WithLabelValues("transport")); got == 0 {
		t.Errorf("no transport failures counted while Loki was down")
	}
	t.Logf("checkpoint at kill: %d", down)
}

func TestLabelsSortedAndLowCardinality(t *testing.T) {
	ev := &event.Event{ID: "x", Project: "p", ToolName: "Bash", EventType: "command_execution", HookEvent: "PreToolUse", SessionID: "s"}
	got := LabelString(EventLabels("svc", MetaOf(ev)))
	want := `{event="command_execution", hook_event="PreToolUse", project="p", service="svc", stream="events", tool="Bash"}`
	if got != want {
		t.Errorf("labels = %s, want %s", got, want)
	}
	names := []string{}
	for _, l := range EventMetadata(MetaOf(ev)) {
		names = append(names, l.Name)
	}
	sort.Strings(names)
	if fmt.Sprint(names) != "[agent_id event_id host session_id tool_use_id user]" {
		t.Errorf("metadata names = %v", names)
	}
}

// metricValue sums what a counter or gauge (vector) collector holds.
func metricValue(t testing.TB, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 16)
	go func() { c.Collect(ch); close(ch) }()
	sum := 0.0
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		switch {
		case d.Counter != nil:
			sum += d.Counter.GetValue()
		case d.Gauge != nil:
			sum += d.Gauge.GetValue()
		}
	}
	return sum
}

func TestToolUseID(t *testing.T) {
	for _, tc := range []struct{ name, line, want string }{
		{"top level", `{"id":"1","tool_use_id":"toolu_01","action_details":{"input":{"tool_use_id":"inner"}}}`, "toolu_01"},
		{"only nested", `{"id":"1","action_details":{"input":{"tool_use_id":"inner"}}}`, ""},
		{"absent", `{"id":"1"}`, ""},
		{"escaped", `{"id":"1","tool_use_id":"a\"b","action_details":{}}`, `a"b`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := toolUseID([]byte(tc.line)); got != tc.want {
				t.Errorf("toolUseID = %q, want %q", got, tc.want)
			}
		})
	}
}
