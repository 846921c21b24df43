package loki

import (
	"os"
	"sync"
	"testing"
)

// shared is the Loki most tests use: one process per test binary, as each
// takes ~10s to become ready. Tests keep their data apart with their own
// service label. It starts on first use; TestMain stops it. Its ruler
// polls the rules directory and evaluates every second.
var shared struct {
	once sync.Once
	srv  *lokiServer
	err  error
}

func sharedLoki(t testing.TB) *lokiServer {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-loki-test-")
		if err != nil {
			shared.err = err
			return
		}
		s, err := prepareLoki(dir, "-ruler.evaluation-interval=1s", "-ruler.poll-interval=1s")
		if err != nil {
			shared.err = err
			return
		}
		if err := s.run(); err != nil {
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
		shared.srv.stop()
		os.RemoveAll(shared.srv.dir)
	}
	os.Exit(code)
}
