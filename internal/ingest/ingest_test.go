package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
		runUntilIngested(t, p, st, spoolDir)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
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

// runUntilIngested runs p until the committed offsets cover every spool
// segment, then stops it.
func runUntilIngested(tb testing.TB, p *Pipeline, st *store.Store, spoolDir string) {
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

// TestReplayUnconsumed: the consumers' position is committed with the
// events; events stored but not yet consumed when the process died are
// handed to the consumers of the next pipeline, in order, and only those.
func TestReplayUnconsumed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "vigil.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := event.NewNormalizer(event.Options{})
	var seen []int64
	record := []Consumer{func(_ context.Context, s []Stored) {
		for _, x := range s {
			seen = append(seen, x.Seq)
		}
	}}
	batch := func(from, to int) []*event.Event {
		var evs []*event.Event
		for i := from; i < to; i++ {
			var ev event.Event
			if err := json.Unmarshal(realistic(n, i), &ev); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, &ev)
		}
		return evs
	}

	// A store from before the checkpoint existed: nothing is replayed.
	p := New(Options{Store: st, SpoolDir: filepath.Join(dir, "spool")})
	if _, err := p.Ingest(ctx, batch(0, 10)); err != nil {
		t.Fatal(err)
	}
	p = New(Options{Store: st, SpoolDir: filepath.Join(dir, "spool"), Consumers: record})
	if k, err := p.Replay(ctx); err != nil || k != 0 {
		t.Fatalf("first replay: %d events, %v; want 0 (history is not re-alerted)", k, err)
	}
	for i := 10; i < 40; i += 10 {
		if _, err := p.Ingest(ctx, batch(i, i+10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 30 || seen[0] != 11 || seen[29] != 40 {
		t.Fatalf("consumed seqs %v, want 11..40", seen)
	}
	if _, err := p.Ingest(ctx, batch(40, 41)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ingest after Close: %v, want ErrClosed", err)
	}

	// A clean stop recorded everything: nothing to replay.
	seen = nil
	p = New(Options{Store: st, SpoolDir: filepath.Join(dir, "spool"), Consumers: record})
	if k, err := p.Replay(ctx); err != nil || k != 0 {
		t.Fatalf("replay after a clean stop: %d events, %v", k, err)
	}
	p.Close()

	// As if the process died with the last 7 events committed but queued.
	if err := st.SetCheckpoints(ctx, store.Checkpoint{Name: cpConsumed, Value: 33}); err != nil {
		t.Fatal(err)
	}
	p = New(Options{Store: st, SpoolDir: filepath.Join(dir, "spool"), Consumers: record})
	k, err := p.Replay(ctx)
	if err != nil || k != 7 {
		t.Fatalf("replay after a crash: %d events, %v; want 7", k, err)
	}
	if _, err := p.Ingest(ctx, batch(40, 42)); err != nil {
		t.Fatal(err)
	}
	p.Close()
	want := []int64{34, 35, 36, 37, 38, 39, 40, 41, 42}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("consumed after replay %v, want %v (replayed first, then new, in order)", seen, want)
	}
	cps, _ := st.Checkpoints(ctx, cpConsumed)
	if cps[cpConsumed].Value != 42 {
		t.Fatalf("consumed checkpoint %d, want 42", cps[cpConsumed].Value)
	}
}

// TestSpoolSegmentsRemoved: segments whose every line is committed are
// deleted once older than KeepSegments (their offsets reset, so a segment
// re-created under the same name is read from its start); the current
// hour's segment and unconsumed ones stay.
func TestSpoolSegmentsRemoved(t *testing.T) {
	dir := t.TempDir()
	spoolDir := filepath.Join(dir, "spool")
	os.MkdirAll(spoolDir, 0o700)
	n := event.NewNormalizer(event.Options{})
	now := time.Now()
	old := spool.SegmentName(now.Add(-3 * time.Hour))
	cur := spool.SegmentName(now)
	for i, seg := range []string{old, cur} {
		path := filepath.Join(spoolDir, seg)
		if err := os.WriteFile(path, append(realistic(n, i), '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, now.Add(-3*time.Hour), now.Add(-3*time.Hour))
	}
	st, err := store.Open(filepath.Join(dir, "vigil.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := New(Options{Store: st, SpoolDir: spoolDir, Poll: time.Millisecond, KeepSegments: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Both lines stored (the current segment may still be committing
		// when the old one goes) and the old segment gone.
		_, err := os.Stat(filepath.Join(spoolDir, old))
		stats, _ := st.Stats(context.Background())
		if errors.Is(err, os.ErrNotExist) && stats.Events == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: old segment stat err %v, %d events stored", err, stats.Events)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(spoolDir, cur)); err != nil {
		t.Fatalf("the current hour's segment must stay: %v", err)
	}
	cps, _ := st.Checkpoints(context.Background(), cpPrefix)
	if cps[cpPrefix+old].Value != 0 {
		t.Fatalf("removed segment's offset = %d, want 0", cps[cpPrefix+old].Value)
	}
	stats, _ := st.Stats(context.Background())
	if stats.Events != 2 {
		t.Fatalf("%d events stored, want 2", stats.Events)
	}
}
