package loki

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestForwarderRejectedEvents: Loki refuses events older than its
// reject_old_samples_max_age (a week in deploy/loki/loki.yaml) with 400.
// The forwarder must push the rest of the batch exactly once, skip the
// refused events loudly (counted in vigil_loki_events_rejected_total) and
// move on instead of retrying forever.
func TestForwarderRejectedEvents(t *testing.T) {
	t.Parallel()
	lk := sharedLoki(t)
	service := "vigil-reject"
	st := openStore(t)
	now := time.Now().Truncate(time.Millisecond)
	old := genEvents("old", 5, now.Add(-30*24*time.Hour))
	for i := range old {
		// Streams of their own: in a stream with newer entries they would
		// be moved up to the newest timestamp (bumped) and accepted.
		old[i].Project = "ancient"
	}
	fresh := genEvents("fresh", 40, now.Add(-2*time.Minute))
	// Interleave so that one batch holds both.
	evs := append(append(append(fresh[:20:20], old[:3]...), fresh[20:]...), old[3:]...)
	appendEvents(t, st, evs)
	c := testClient(t, lk.URL(), FormatProtobuf)
	rf := startForwarder(t, ForwarderOptions{Client: c, Source: StoreSource{st}, Service: service})
	waitDrained(t, st, 60*time.Second)
	rf.stop()
	if got := metricValue(t, rf.f.m.rejected); got != 5 {
		t.Errorf("vigil_loki_events_rejected_total = %v, want 5", got)
	}
	if got := metricValue(t, rf.f.m.pushErrors); got == 0 {
		t.Errorf("no failed pushes counted")
	}
	got, err := c.QueryAll(context.Background(), QueryRange{Query: fmt.Sprintf(`{service=%q}`, service), Start: now.Add(-time.Hour)}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range got {
		seen[e.Labels["event_id"]]++
	}
	for _, ev := range fresh {
		if seen[ev.ID] != 1 {
			t.Errorf("event %s is in Loki %d times, want once", ev.ID, seen[ev.ID])
		}
	}
	if len(got) != len(fresh) {
		t.Errorf("Loki has %d entries, want %d", len(got), len(fresh))
	}
}
