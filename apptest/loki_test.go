package apptest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/loki/lokitest"
)

// TestLokiForwarding: hooks → spool → `vigil serve --loki-url` → a real
// Loki. What `vigil query --loki` prints from Loki equals what `vigil
// query` prints from the local store, line for line (nothing missing,
// nothing doubled, same order), alerts land in their own stream, and both
// still hold after Loki is killed and events keep coming while it is down.
func TestLokiForwarding(t *testing.T) {
	lk := lokitest.Start(t)
	in := newInstance(t)
	s := in.serve("--loki-url", lk.URL())

	sessions := filepath.Join(sharedDir(t), "corpus", "sessions")
	n := hookSession(t, in, filepath.Join(sessions, "analytics-etl-fa776d9f.jsonl"))
	n += hookSession(t, in, filepath.Join(sessions, "api-gateway-b2529658.jsonl"))
	s.waitEvents(int64(n), 30*time.Second)
	waitSameOnLoki(t, in, lk.URL(), n)

	alerts := in.run(nil, "query", "--loki", lk.URL(), "--format", "json", "--limit", "0", `{service="claude-telemetry", stream="alerts"}`)
	if alerts.code != 0 || strings.TrimSpace(alerts.stdout) == "" {
		t.Errorf("no alerts in Loki's alerts stream: %+v", alerts)
	}

	// Loki dies; the agent keeps working; Loki comes back.
	lk.Kill()
	n += hookSession(t, in, filepath.Join(sessions, "auth-service-03dba188.jsonl"))
	s.waitEvents(int64(n), 30*time.Second)
	time.Sleep(time.Second)
	lk.Start(t)
	waitSameOnLoki(t, in, lk.URL(), n)
}

// hookSession runs `vigil hook` once per line of a corpus session.
func hookSession(t *testing.T, in *instance, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			in.hook(line)
			n++
		}
	}
	return n
}

// waitSameOnLoki waits until Loki returns exactly the local store's event
// lines, in the same order.
func waitSameOnLoki(t *testing.T, in *instance, lokiURL string, want int) {
	t.Helper()
	args := []string{"--format", "json", "--order", "oldest", "--limit", "0", `{service="claude-telemetry", stream="events"}`}
	local := in.run(nil, append([]string{"query"}, args...)...)
	if local.code != 0 {
		t.Fatalf("local query: %+v", local)
	}
	if got := strings.Count(local.stdout, "\n"); got != want {
		t.Fatalf("local store has %d events, want %d", got, want)
	}
	var remote result
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		remote = in.run(nil, append([]string{"query", "--loki", lokiURL}, args...)...)
		if remote.code == 0 && remote.stdout == local.stdout {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("Loki's events differ from the store's after 60s: %d lines in Loki, %d locally; stderr %s",
		strings.Count(remote.stdout, "\n"), want, remote.stderr)
}
