package ingest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/spool"
	"github.com/vigil-sec/vigil/internal/store"
)

// TestCorruptLinesBecomeHookErrors: a torn or garbage spool line is stored
// as a hook_error whose id derives from its position, so reading the same
// bytes again (after a crash before the checkpoint) adds nothing.
func TestCorruptLinesBecomeHookErrors(t *testing.T) {
	dir := t.TempDir()
	spoolDir := filepath.Join(dir, "spool")
	os.MkdirAll(spoolDir, 0o700)
	n := event.NewNormalizer(event.Options{})
	good1 := realistic(n, 1)
	good2 := realistic(n, 2)
	content := string(good1) + "\n" + `{"id":"x","torn` + string(good2) + "\n" + "not json at all\n" + string(good2) + "\n"
	seg := spool.SegmentName(time.Now())
	os.WriteFile(filepath.Join(spoolDir, seg), []byte(content), 0o600)

	ctx := context.Background()
	ingestAll := func() (*store.Store, []Stored) {
		st, err := store.Open(filepath.Join(dir, "vigil.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []Stored
		p := New(Options{Store: st, SpoolDir: spoolDir, Poll: time.Millisecond,
			Consumers: []Consumer{func(_ context.Context, s []Stored) { got = append(got, s...) }}})
		runUntilConsumed(t, p, st, spoolDir)
		return st, got
	}
	st, got := ingestAll()
	if len(got) != 4 {
		t.Fatalf("stored %d events, want 4 (2 good, 2 hook_error)", len(got))
	}
	var errs []string
	for _, s := range got {
		if s.Event.EventType == event.TypeHookError {
			errs = append(errs, s.Event.HookError.Reason)
		}
	}
	if len(errs) != 2 || !strings.Contains(errs[0], "corrupt spool line in "+seg) {
		t.Fatalf("hook errors = %q", errs)
	}
	// Forget the offsets (as if the checkpoint were lost) and read again:
	// ids are stable, so nothing is added.
	if err := st.SetCheckpoints(ctx, store.Checkpoint{Name: cpPrefix + seg, Value: 0}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, again := ingestAll()
	defer st.Close()
	if len(again) != 0 {
		t.Fatalf("re-reading the spool stored %d more events", len(again))
	}
	stats, _ := st.Stats(ctx)
	if stats.Events != 4 || stats.HookErrors != 2 {
		t.Fatalf("stats = %+v", stats)
	}
	var ev event.Event
	json.Unmarshal(got[0].JSON, &ev)
	if ev.ID == "" {
		t.Fatal("stored JSON lost its id")
	}
}

// runUntilConsumed runs p until the committed offsets cover every spool
// segment, then stops it.
func runUntilConsumed(tb testing.TB, p *Pipeline, st *store.Store, spoolDir string) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		segs, err := spool.List(spoolDir)
		if err != nil {
			tb.Fatal(err)
		}
		cps, err := st.Checkpoints(ctx, cpPrefix)
		if err != nil {
			tb.Fatal(err)
		}
		all := true
		for _, seg := range segs {
			all = all && cps[cpPrefix+seg.Name].Value >= seg.Size
		}
		if all {
			return
		}
		time.Sleep(time.Millisecond)
	}
	tb.Fatal("spool not consumed within a minute")
}
