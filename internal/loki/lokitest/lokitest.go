// Package lokitest runs a real Grafana Loki for tests: the binary built by
// scripts/install-loki.sh (building it on first use), the repository's
// deploy/loki/loki.yaml, free loopback ports and a temporary data dir.
// It is to Loki what net/http/httptest is to HTTP servers.
package lokitest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one Loki process.
type Server struct {
	bin, config, dir string
	httpPort         int
	grpcPort         int
	extra            []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
}

// RepoRoot finds the module root (the directory holding go.mod) above the
// working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above %s", dir)
		}
		dir = parent
	}
}

// Binary returns the Loki binary: $VIGIL_LOKI_BIN, else the path
// scripts/install-loki.sh prints (it reuses its cached build and builds
// Loki when there is none, which takes minutes once).
func Binary() (string, error) {
	if b := os.Getenv("VIGIL_LOKI_BIN"); b != "" {
		return b, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "install-loki.sh"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/install-loki.sh: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Prepare returns a Server (not started) on fresh loopback ports with its
// data in dir. extra are more Loki flags.
func Prepare(dir string, extra ...string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, config: filepath.Join(root, "deploy", "loki", "loki.yaml"), dir: dir, extra: extra}
	if s.httpPort, err = freePort(); err != nil {
		return nil, err
	}
	if s.grpcPort, err = freePort(); err != nil {
		return nil, err
	}
	return s, nil
}

// New prepares a Server in a test temp dir; it is stopped when the test
// ends.
func New(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	s, err := Prepare(tb.TempDir(), extra...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Start prepares and starts a Server for the test.
func Start(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	s := New(tb, extra...)
	s.Start(tb)
	return s
}

// URL is the base URL of Loki's HTTP API.
func (s *Server) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", s.httpPort) }

// Dir is Loki's data dir (-common.path-prefix); its ruler reads alerting
// rules from Dir()/rules/<tenant>/, tenant "fake" without auth.
func (s *Server) Dir() string { return s.dir }

// Log returns what the current (or last) process printed.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// Start starts Loki (again, after Kill or Stop: same ports and data) and
// waits until it is ready.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	if err := s.Run(); err != nil {
		tb.Fatal(err)
	}
}

// Run is Start for code without a testing.TB.
func (s *Server) Run() error {
	args := append([]string{
		"-config.file=" + s.config,
		"-common.path-prefix=" + s.dir,
		"-common.storage.filesystem.chunk-directory=" + filepath.Join(s.dir, "chunks"),
		"-common.storage.filesystem.rules-directory=" + filepath.Join(s.dir, "rules"),
		fmt.Sprintf("-server.http-listen-port=%d", s.httpPort),
		fmt.Sprintf("-server.grpc-listen-port=%d", s.grpcPort),
		// Point the querier straight at the in-process query frontend:
		// ready in well under a second instead of the ~10s the scheduler
		// ring takes to settle.
		fmt.Sprintf("-querier.frontend-address=127.0.0.1:%d", s.grpcPort),
	}, s.extra...)
	log := &bytes.Buffer{}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout = lockedWriter{&s.mu, log}
	cmd.Stderr = lockedWriter{&s.mu, log}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start loki: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.log, s.done = cmd, log, done
	s.mu.Unlock()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("loki exited during start:\n%s", s.Log())
		default:
		}
		resp, err := http.Get(s.URL() + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.Stop()
	return fmt.Errorf("loki not ready after 90s:\n%s", s.Log())
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (s *Server) take() (*exec.Cmd, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	return cmd, done
}

// Kill ends Loki with SIGKILL: no flush, no goodbye.
func (s *Server) Kill() {
	cmd, done := s.take()
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}

// Stop ends Loki with SIGTERM, then SIGKILL after 10s.
func (s *Server) Stop() {
	cmd, done := s.take()
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}
