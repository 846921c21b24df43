package loki

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/loki/lokitest"
)

// shared is the Loki most tests use: one process per test binary, as each
// takes ~10s to become ready. Tests keep their data apart with their own
// service label. It starts on first use; TestMain stops it. Its ruler
// polls the rules directory and evaluates every second.
var shared struct {
	once sync.Once
	srv  *lokitest.Server
	err  error
}

func sharedLoki(t testing.TB) *lokitest.Server {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-loki-test-")
		if err != nil {
			shared.err = err
			return
		}
		s, err := lokitest.Prepare(dir, "-ruler.evaluation-interval=1s", "-ruler.poll-interval=1s")
		if err != nil {
			shared.err = err
			return
		}
		if err := s.Run(); err != nil {
			shared.err = err
			return
		}
		shared.srv = s
	})
	if shared.err != nil {
		t.Fatalf("shared loki: %v", shared.err)
	}
	return shared.srv
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Stop()
		os.RemoveAll(shared.srv.Dir())
	}
	os.Exit(code)
}

func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := lokitest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func testClient(t testing.TB, url string, format string) *Client {
	t.Helper()
	c, err := NewClient(ClientOptions{URL: url, Format: format, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}
