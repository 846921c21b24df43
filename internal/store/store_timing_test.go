package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Benchmarks. The query benchmarks need a store of 1,000,000 realistic
// events; it is generated once (about a minute) into
// $VIGIL_BENCH_DIR (default: the user cache dir, vigil/bench) and reused.
//
//	go test -run '^$' -bench . -benchtime 20x ./internal/store

// benchDBVersion names the generated file; bump it when the generator or
// the stored format changes.
const benchDBVersion = "v3"

const benchEvents = 1_000_000

func benchDir(tb testing.TB) string {
	dir := os.Getenv("VIGIL_BENCH_DIR")
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			c = os.TempDir()
		}
		dir = filepath.Join(c, "vigil", "bench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// benchStore returns the path of the 1M-event store, generating it if needed.
func benchStore(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(benchDir(tb), fmt.Sprintf("store-%d-%s.db", benchEvents, benchDBVersion))
	if _, err := os.Stat(path); err == nil {
		// Apply migrations added since the file was generated.
		s, err := Open(path, Options{})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := s.BuildTextIndex(context.Background()); err != nil {
			tb.Fatal(err)
		}
		if err := s.Close(); err != nil {
			tb.Fatal(err)
		}
		return path
	}
	tmp := path + ".tmp"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		os.Remove(p)
	}
	s, err := Open(tmp, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	// 1M events over the last 30 days: 2.6 s apart.
	g := newGenerator(tb, time.Now().Add(-30*24*time.Hour), 2600*time.Millisecond)
	ctx := context.Background()
	for n := 0; n < benchEvents; n += 1000 {
		if _, err := s.Append(ctx, g.records(1000)); err != nil {
			tb.Fatal(err)
		}
	}
	// Index what the background indexer has not reached yet: the
	// benchmarks open the store read-only, without an indexer.
	if _, err := s.BuildTextIndex(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("generated %s in %v", path, time.Since(start))
	return path
}

func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "vigil.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			g := newGenerator(b, t0, time.Millisecond)
			batches := make([][]Record, 50)
			var bytes int64
			for i := range batches {
				batches[i] = g.records(size)
				for _, r := range batches[i] {
					bytes += int64(len(r.JSON))
				}
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(bytes / int64(len(batches)))
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				recs := batches[i%len(batches)]
				if i >= len(batches) {
					// fresh ids so every row is inserted
					for j := range recs {
						recs[j].Event.ID = fmt.Sprintf("%s-%d", recs[j].Event.ID[:20], i)
					}
				}
				if _, err := s.Append(ctx, recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
			// CPU time per event: what the machine's other load cannot blur.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N*size), "cpu-µs/event")
		})
	}
}

// benchQueries are the filtered queries of the Numbers and their
// neighbours, against the 1M store.
func benchQueries() []struct {
	name string
	f    Filter
} {
	type q = struct {
		name string
		f    Filter
	}
	return []q{
		{"project+tool+text", Filter{Projects: []string{"shop-api"}, Tools: []string{"Bash"}, Lines: []LineFilter{{LineContains, "curl"}}, Limit: 100}},
		{"project+tool+rare-text", Filter{Projects: []string{"shop-api"}, Tools: []string{"Bash"}, Lines: []LineFilter{{LineContains, "id_rsa"}}, Limit: 100}},
		{"project+tool+absent-text", Filter{Projects: []string{"shop-api"}, Tools: []string{"Bash"}, Lines: []LineFilter{{LineContains, "no-such-thing"}}, Limit: 100}},
		{"text-only", Filter{Lines: []LineFilter{{LineContains, "curl"}}, Limit: 100}},
		{"project-newest-100", Filter{Projects: []string{"shop-api"}, Limit: 100}},
		{"tool-newest-100", Filter{Tools: []string{"Read"}, Limit: 100}},
		{"rare-hook-event-newest-100", Filter{HookEvents: []string{"SessionStart"}, Limit: 100}},
		{"session", Filter{Sessions: []string{"-"}, Limit: 100}},
		{"flags+since-1d", Filter{OutsideScope: Bool(true), From: time.Now().Add(-24 * time.Hour), Limit: 100}},
		{"json-field", Filter{Projects: []string{"shop-api"}, Fields: []FieldFilter{{"action_details_command", OpRe, "npm .*", false}}, Limit: 100}},
		{"tool+regex", Filter{Tools: []string{"Bash"}, Lines: []LineFilter{{LineMatch, `curl .*\| *(ba)?sh`}}, Limit: 100}},
	}
}

func BenchmarkQuery1M(b *testing.B) {
	path := benchStore(b)
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, q := range benchQueries() {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			cpu0 := cpuTime()
			defer func() {
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			}()
			for i := 0; i < b.N; i++ {
				rows, err := s.Query(ctx, q.f)
				if err != nil {
					b.Fatal(err)
				}
				n = len(rows)
			}
			b.ReportMetric(float64(n), "rows")
		})
	}
	b.Run("count-project+tool", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := s.Count(ctx, Filter{Projects: []string{"shop-api"}, Tools: []string{"Bash"}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("after-seq-500", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := s.After(ctx, benchEvents-10_000, 500); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stats", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := s.Stats(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStoreSize1M reports the disk footprint of the 1M store.
func BenchmarkStoreSize1M(b *testing.B) {
	path := benchStore(b)
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var st Stats
	for i := 0; i < b.N; i++ {
		if st, err = s.Stats(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Bytes)/1e6, "MB")
	b.ReportMetric(float64(st.Bytes)/float64(st.Events), "bytes/event")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM returns the process's peak resident set size in bytes.
func vmHWM() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}
