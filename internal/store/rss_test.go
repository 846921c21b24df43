package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Serve's memory: a child process (this test binary, re-executed) opens a
// store the way serve does, runs the benchmark queries and appends while
// it does, and reports its peak RSS (VmHWM). The test uses a small store so
// it stays fast; BenchmarkServeRSS1M runs the same load on the 1M store.

const rssChildEnv = "VIGIL_STORE_RSS_CHILD"

// maxServeRSS is the Numbers' bound for serve's resident memory.
const maxServeRSS = 100 << 20

// rssChild runs the load: queries against queryPath (read-only, like the
// query API) and appends into appendPath, then prints "hwm <bytes>".
func rssChild(queryPath, appendPath string) error {
	ctx := context.Background()
	q, err := Open(queryPath, Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer q.Close()
	w, err := Open(appendPath, Options{})
	if err != nil {
		return err
	}
	defer w.Close()
	tb := &testing.B{} // only for the generator's error reporting
	g := newGenerator(tb, time.Now().Add(-time.Hour), time.Millisecond)
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < 10; i++ {
			if _, err := w.Append(ctx, g.records(1000)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for round := 0; round < 2; round++ {
		for _, bq := range benchQueries() {
			if _, err := q.Query(ctx, bq.f); err != nil {
				return fmt.Errorf("%s: %w", bq.name, err)
			}
		}
		if _, err := q.Count(ctx, Filter{Tools: []string{"Bash"}}); err != nil {
			return err
		}
		if _, err := q.After(ctx, 0, 2000); err != nil {
			return err
		}
		if _, err := q.Stats(ctx); err != nil {
			return err
		}
	}
	if err := <-errc; err != nil {
		return err
	}
	hwm, err := vmHWM()
	if err != nil {
		return err
	}
	fmt.Printf("hwm %d\n", hwm)
	return nil
}

// measureServeRSS runs rssChild in a child process and returns its peak RSS.
func measureServeRSS(tb testing.TB, queryPath string) int64 {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), rssChildEnv+"="+queryPath+string(os.PathListSeparator)+filepath.Join(tb.TempDir(), "append.db"))
	cmd.Dir, _ = os.Getwd()
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("child: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "hwm "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return n
		}
	}
	tb.Fatalf("child printed no hwm:\n%s", out)
	return 0
}

func TestServeRSSBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory makes RSS meaningless")
	}
	path := filepath.Join(t.TempDir(), "q.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := newGenerator(t, time.Now().Add(-24*time.Hour), 4*time.Second)
	for i := 0; i < 5; i++ {
		mustAppend(t, s, g.records(1000))
	}
	s.Close()
	hwm := measureServeRSS(t, path)
	t.Logf("peak RSS %.1f MB", float64(hwm)/(1<<20))
	if hwm > maxServeRSS {
		t.Fatalf("peak RSS %d MB > %d MB", hwm>>20, maxServeRSS>>20)
	}
}

func BenchmarkServeRSS1M(b *testing.B) {
	path := benchStore(b)
	var hwm int64
	for i := 0; i < b.N; i++ {
		hwm = measureServeRSS(b, path)
	}
	b.ReportMetric(float64(hwm)/(1<<20), "MB-peak-RSS")
	if hwm > maxServeRSS {
		b.Errorf("peak RSS %d MB > %d MB", hwm>>20, maxServeRSS>>20)
	}
}
