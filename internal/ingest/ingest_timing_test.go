package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/spool"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/testcorpus"
)

// realistic builds a normalised PreToolUse Bash event like the hook writes.
func realistic(n *event.Normalizer, i int) []byte {
	raw := fmt.Sprintf(`{"session_id":"sess-%d","transcript_path":"/home/dev/.claude/projects/-home-dev-projects-shop/s.jsonl","cwd":"/home/dev/projects/shop","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"npm test -- orders --shard=%d","description":"Run order route tests"},"tool_use_id":"toolu_%024d"}`, i%64, i, i)
	ev, err := n.Normalize([]byte(raw))
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(ev)
	return b
}

// corpusLines is the realistic workload: the dev corpus as spool lines.
func corpusLines(tb testing.TB, n int) [][]byte {
	tb.Helper()
	lines, err := testcorpus.Lines("../rules/testdata/corpus/sessions", n)
	if err != nil {
		tb.Fatal(err)
	}
	return lines
}

// uniformLines returns n small PreToolUse Bash events that differ only in
// ids, session (64 of them) and one number: the light workload the first
// measurements used, kept to compare with.
func uniformLines(tb testing.TB, n int) [][]byte {
	tb.Helper()
	norm := event.NewNormalizer(event.Options{Host: "bench", User: "dev"})
	var tmpl [][]byte
	for i := range 256 {
		tmpl = append(tmpl, realistic(norm, i))
	}
	base := event.NewID(time.Now())
	out := make([][]byte, n)
	for i := range out {
		var ev event.Event
		if err := json.Unmarshal(tmpl[i%len(tmpl)], &ev); err != nil {
			tb.Fatal(err)
		}
		fresh := fmt.Sprintf("%s%012x", base[:len(base)-12], i)
		out[i] = bytes.Replace(tmpl[i%len(tmpl)], []byte(ev.ID), []byte(fresh), 1)
	}
	return out
}

// BenchmarkSpoolIngest measures spool → store throughput: b.N events are
// on disk in one segment; the pipeline (Run, as serve runs it) drains them
// into a real SQLite store (one transaction per batch, offsets committed
// with the events). "corpus" is the realistic mix (corpusLines, ~930
// bytes an event); "uniform" the light one (uniformLines, ~560 bytes).
func BenchmarkSpoolIngest(b *testing.B) {
	for _, w := range []struct {
		name  string
		lines func(testing.TB, int) [][]byte
	}{{"corpus", corpusLines}, {"uniform", uniformLines}} {
		b.Run(w.name, func(b *testing.B) { benchSpoolIngest(b, w.lines(b, b.N)) })
	}
}

func benchSpoolIngest(b *testing.B, lines [][]byte) {
	dir := b.TempDir()
	spoolDir := filepath.Join(dir, "spool")
	os.MkdirAll(spoolDir, 0o700)
	var buf bytes.Buffer
	for _, line := range lines {
		buf.Write(line)
		buf.WriteByte('\n')
	}
	seg := spool.SegmentName(time.Now())
	if err := os.WriteFile(filepath.Join(spoolDir, seg), buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "vigil.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// The real tailer (Pipeline.Run), timed until its consumer has seen
	// every event committed.
	all := make(chan struct{})
	stored := 0
	p := New(Options{Store: st, SpoolDir: spoolDir, Consumers: []Consumer{func(_ context.Context, s []Stored) {
		if stored += len(s); stored == b.N {
			close(all)
		}
	}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.SetBytes(int64(buf.Len() / b.N))
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	go func() { done <- p.Run(ctx) }()
	select {
	case <-all:
	case <-time.After(10 * time.Minute):
		b.Fatalf("stored %d of %d events in 10 minutes", stored, b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	// CPU per event (both cores): what the machine's other load cannot blur.
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIngestBatches measures the remote path: decoded batches of
// 1,000 events committed through Pipeline.Ingest.
func BenchmarkIngestBatches(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "vigil.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	p := New(Options{Store: st, SpoolDir: filepath.Join(dir, "spool")})
	n := event.NewNormalizer(event.Options{Host: "bench", User: "dev"})
	const batch = 1000
	all := make([]*event.Event, b.N)
	for i := range all {
		var ev event.Event
		json.Unmarshal(realistic(n, i), &ev)
		all[i] = &ev
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += batch {
		if _, err := p.Ingest(context.Background(), all[i:min(i+batch, b.N)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
