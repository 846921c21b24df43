package loki

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lokiServer is a real Loki process started by a test: loopback ports,
// a temp data dir, the config from deploy/loki/loki.yaml.
type lokiServer struct {
	bin, config, dir string
	httpPort         int
	grpcPort         int
	extra            []string
	cmd              *exec.Cmd
	log              *bytes.Buffer
	done             chan struct{}
}

// repoRoot finds the module root from the test's working directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := findRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func findRepoRoot() (string, error) {
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
			return "", fmt.Errorf("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// lokiBinary returns the Loki binary: $VIGIL_LOKI_BIN, else whatever
// scripts/install-loki.sh prints (it reuses its cached build, and builds
// Loki when there is none — that takes minutes, once).
func lokiBinary() (string, error) {
	if b := os.Getenv("VIGIL_LOKI_BIN"); b != "" {
		return b, nil
	}
	root, err := findRepoRoot()
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

// prepareLoki prepares (does not start) a Loki on fresh ports in dir.
func prepareLoki(dir string, extra ...string) (*lokiServer, error) {
	bin, err := lokiBinary()
	if err != nil {
		return nil, err
	}
	root, err := findRepoRoot()
	if err != nil {
		return nil, err
	}
	s := &lokiServer{bin: bin, config: filepath.Join(root, "deploy", "loki", "loki.yaml"), dir: dir, extra: extra}
	if s.httpPort, err = freePort(); err != nil {
		return nil, err
	}
	if s.grpcPort, err = freePort(); err != nil {
		return nil, err
	}
	return s, nil
}

// newLoki prepares (does not start) a Loki on fresh ports and data dir.
func newLoki(t testing.TB, extra ...string) *lokiServer {
	t.Helper()
	s, err := prepareLoki(t.TempDir(), extra...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startLoki starts a Loki and stops it when the test ends.
func startLoki(t testing.TB, extra ...string) *lokiServer {
	t.Helper()
	s := newLoki(t, extra...)
	s.start(t)
	t.Cleanup(s.stop)
	return s
}

func (s *lokiServer) url() string { return fmt.Sprintf("http://127.0.0.1:%d", s.httpPort) }

func (s *lokiServer) start(t testing.TB) {
	t.Helper()
	if err := s.run(); err != nil {
		t.Fatal(err)
	}
}

func (s *lokiServer) run() error {
	args := append([]string{
		"-config.file=" + s.config,
		"-common.path-prefix=" + s.dir,
		"-common.storage.filesystem.chunk-directory=" + filepath.Join(s.dir, "chunks"),
		"-common.storage.filesystem.rules-directory=" + filepath.Join(s.dir, "rules"),
		fmt.Sprintf("-server.http-listen-port=%d", s.httpPort),
		fmt.Sprintf("-server.grpc-listen-port=%d", s.grpcPort),
	}, s.extra...)
	s.log = &bytes.Buffer{}
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start loki: %w", err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("loki exited during start:\n%s", s.log.String())
		default:
		}
		resp, err := http.Get(s.url() + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.stop()
	return fmt.Errorf("loki not ready after 90s:\n%s", s.log.String())
}

// kill ends Loki with SIGKILL: no flush, no goodbye.
func (s *lokiServer) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// stop ends Loki gracefully (SIGTERM, then SIGKILL after 10s).
func (s *lokiServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
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
