package loki

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkForwarderThroughput pushes a store of corpus-shaped events to
// a local Loki with the default batch settings and reports events/s. Each
// iteration uses its own service label and checkpoint, so Loki stores
// every event again. VIGIL_LOKI_BENCH_EVENTS sets the store size (default
// 20,000).
func BenchmarkForwarderThroughput(b *testing.B) {
	n := 20000
	if v := os.Getenv("VIGIL_LOKI_BENCH_EVENTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	batch := 0 // the default
	if v := os.Getenv("VIGIL_LOKI_BENCH_BATCH"); v != "" {
		batch, _ = strconv.Atoi(v)
	}
	lk := sharedLoki(b)
	st := openStore(b)
	appendEvents(b, st, backlogEvents(b, "bench", n, time.Now().Add(-5*time.Minute), 5*time.Minute))
	c := testClient(b, lk.URL(), FormatProtobuf)
	i := 0
	var total time.Duration
	b.ReportAllocs()
	for b.Loop() {
		i++
		name := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
		f, err := NewForwarder(ForwarderOptions{Client: c, Source: StoreSource{st}, Service: name, CheckpointName: name,
			MaxBatchEvents: batch, MaxBatchBytes: batch * 1024,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		t0 := time.Now()
		go func() { done <- f.Run(ctx) }()
		last, lastChange := int64(-1), time.Now()
		for {
			cp, err := StoreSource{st}.Checkpoint(context.Background(), name)
			if err != nil {
				b.Fatal(err)
			}
			if cp >= int64(n) {
				break
			}
			if cp != last {
				last, lastChange = cp, time.Now()
			}
			if time.Since(lastChange) > time.Minute {
				b.Fatalf("no progress for a minute at checkpoint %d of %d", cp, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		total += time.Since(t0)
		cancel()
		<-done
	}
	b.ReportMetric(float64(n*i)/total.Seconds(), "events/s")
}

// BenchmarkEncodeSnappy is the CPU cost of one default-size batch: labels,
// timestamps, protobuf and snappy (label fields come from store columns).
func BenchmarkEncodeSnappy(b *testing.B) {
	evs := backlogEvents(b, "enc", 2000, time.Now(), time.Minute)
	recs := make([]Record, len(evs))
	size := 0
	for i := range evs {
		js, _ := json.Marshal(&evs[i])
		recs[i] = Record{Seq: int64(i + 1), JSON: js, Meta: MetaOf(&evs[i])}
		size += len(js)
	}
	f, err := NewForwarder(ForwarderOptions{Client: testClient(b, "http://127.0.0.1:1", FormatProtobuf), Source: StoreSource{}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		_ = EncodeSnappy(f.build(recs))
	}
}
