package apptest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/spool"
	"github.com/vigil-sec/vigil/internal/testcorpus"
)

// BenchmarkServeSpoolIngest is spool ingest as a user gets it: `vigil
// serve` (rules, alerts, live stream and all) started on a spool that
// holds b.N events of the dev corpus, timed from its start until its
// status reports every event stored. Run with -benchtime 100000x.
func BenchmarkServeSpoolIngest(b *testing.B) {
	in := newInstance(b)
	lines, err := testcorpus.Lines("../internal/rules/testdata/corpus/sessions", b.N)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	dir := filepath.Join(in.home, "spool")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, spool.SegmentName(time.Now())), buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	srv := in.serve()
	defer srv.stop()
	for deadline := start.Add(10 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if st := srv.status(); st.EventsTotal >= int64(b.N) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("not all %d events stored after 10 minutes", b.N)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	// serve's peak RSS while draining the backlog (bounded by the batch
	// size: two batches are in memory at once).
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			b.ReportMetric(float64(kb)/1024, "MB-peak-RSS")
		}
	}
}
