package loki

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/store"
)

// corpusDir is the labelled corpus: testdata/corpus, a copy of
// ../shared/corpus (or $VIGIL_CORPUS).
func corpusDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("VIGIL_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("testdata", "corpus")
}

// corpusEvents normalises every corpus session the way the hook does,
// stamping events from start on, 200ms apart, sessions one after another.
func corpusEvents(t testing.TB, start time.Time) []event.Event {
	t.Helper()
	dir := filepath.Join(corpusDir(t), "sessions")
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus sessions in %s: %v", dir, err)
	}
	sort.Strings(files)
	now := start
	n := event.NewNormalizer(event.Options{
		Now:  func() time.Time { return now },
		Host: "corpus-host",
		User: "dev",
		Home: "/home/dev",
	})
	var out []event.Event
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			now = now.Add(200 * time.Millisecond)
			ev, err := n.Normalize(line)
			if err != nil {
				t.Fatalf("%s: normalise: %v", filepath.Base(f), err)
			}
			out = append(out, *ev)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// seedCorpus stores the corpus events in st.
func seedCorpus(t testing.TB, st *store.Store, evs []event.Event) {
	t.Helper()
	appendEvents(t, st, evs)
}

// TestSeedCorpusDev pushes the corpus to $VIGIL_LOKI_DEV_URL, for looking
// at dashboards by hand; skipped unless that is set.
func TestSeedCorpusDev(t *testing.T) {
	url := os.Getenv("VIGIL_LOKI_DEV_URL")
	if url == "" {
		t.Skip("set VIGIL_LOKI_DEV_URL to push the corpus to a Loki by hand")
	}
	st := openStore(t)
	evs := corpusEvents(t, time.Now().Add(-time.Hour))
	seedCorpus(t, st, evs)
	rf := startForwarder(t, ForwarderOptions{Client: testClient(t, url, FormatProtobuf), Source: StoreSource{st}})
	waitDrained(t, st, time.Minute)
	rf.stop()
	t.Logf("pushed %d events", len(evs))
}
