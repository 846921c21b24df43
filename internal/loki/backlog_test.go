package loki

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/loki/lokitest"
)

// backlogEvents returns n events shaped like real ones (the corpus,
// repeated with fresh ids and sessions), evenly spread from start over span.
func backlogEvents(t testing.TB, prefix string, n int, start time.Time, span time.Duration) []event.Event {
	t.Helper()
	corpus := corpusEvents(t, start)
	out := make([]event.Event, n)
	step := span / time.Duration(n)
	for i := range out {
		ev := corpus[i%len(corpus)]
		round := i / len(corpus)
		ev.ID = fmt.Sprintf("%s-%07d", prefix, i)
		ev.SessionID = ev.SessionID[:min(len(ev.SessionID), 24)] + "-" + strconv.Itoa(round)
		ev.Timestamp = start.Add(time.Duration(i) * step)
		out[i] = ev
	}
	return out
}

// TestBacklogDrain is the outage figure: a 10-minute Loki outage at 100
// events/s leaves 60,000 events in the store; once Loki is back the
// forwarder (default settings) must push all of them, once each, within
// 60s. Filling the store with 60,000 events takes the store ~40s on the
// 2-core CI machine, so `make test` runs it with 10,000 events;
// VIGIL_LOKI_BACKLOG=60000 runs the full figure (see docs/BENCHMARKS.md).
func TestBacklogDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("a large backlog; skipped with -short")
	}
	t.Parallel()
	n := 10000
	if v := os.Getenv("VIGIL_LOKI_BACKLOG"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("VIGIL_LOKI_BACKLOG=%q: want a positive count", v)
		}
	}
	lk := lokitest.New(t)
	service := "vigil-backlog"
	st := openStore(t)
	start := time.Now().Add(-10 * time.Minute)
	t0 := time.Now()
	evs := backlogEvents(t, "bl", n, start, 10*time.Minute)
	appendEvents(t, st, evs)
	t.Logf("stored %d events in %s", n, time.Since(t0).Round(time.Millisecond))
	// Loki is down: the forwarder runs with the production defaults and
	// fails, backing off.
	rf := startForwarder(t, ForwarderOptions{
		Client: testClient(t, lk.URL(), FormatProtobuf), Source: StoreSource{st}, Service: service,
		MinBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second, BatchWait: time.Second,
	})
	time.Sleep(3 * time.Second)
	if cp := checkpointOf(t, st); cp != 0 {
		t.Fatalf("checkpoint %d while Loki is down", cp)
	}
	lk.Start(t)
	back := time.Now()
	waitDrained(t, st, 120*time.Second)
	drain := time.Since(back)
	rf.stop()
	t.Logf("backlog of %d events drained %.1fs after Loki was ready (%.0f events/s incl. the backoff wait)", n, drain.Seconds(), float64(n)/drain.Seconds())
	if drain > 60*time.Second {
		t.Errorf("backlog drained in %s, want within 60s", drain)
	}
	t0 = time.Now()
	verifyExactlyOnce(t, testClient(t, lk.URL(), FormatProtobuf), service, st, start.Add(-time.Minute))
	t.Logf("verified in %s", time.Since(t0).Round(time.Millisecond))
}
