// Package apptest holds black-box tests of the built vigil binary: real
// processes, real files, a real server on 127.0.0.1:0.
package apptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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

// binPath and hookBinPath are the binaries built once by TestMain for
// every test here (vigil and the lean vigil-hook, side by side, as
// `make build` leaves them).
var binPath, hookBinPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-apptest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "vigil")
	hookBinPath = filepath.Join(dir, "vigil-hook")
	for bin, pkg := range map[string]string{binPath: "../cmd/vigil", hookBinPath: "../cmd/vigil-hook"} {
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sharedDir is ../shared beside the repository (fixtures, corpus).
func sharedDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs("../../shared")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, "fixtures", "hooks")); err != nil {
		t.Fatalf("shared fixtures not found at %s: %v", d, err)
	}
	return d
}

// instance is one isolated Vigil installation: its own VIGIL_HOME and HOME.
type instance struct {
	t    testing.TB
	home string
	env  []string
}

func newInstance(t testing.TB, extraEnv ...string) *instance {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VIGIL_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_") &&
			!strings.HasPrefix(kv, "CLAUDE_") {
			env = append(env, kv)
		}
	}
	home := t.TempDir()
	env = append(env, "VIGIL_HOME="+home, "HOME="+t.TempDir())
	env = append(env, extraEnv...)
	return &instance{t: t, home: home, env: env}
}

type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

func (in *instance) run(stdin []byte, args ...string) result {
	in.t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = in.env
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		in.t.Fatalf("run %v: %v", args, err)
	}
	return res
}

// hook runs `vigil hook` with payload on stdin and checks the contract:
// exit 0 and nothing on stdout unless a decision is expected.
func (in *instance) hook(payload []byte) result {
	in.t.Helper()
	r := in.run(payload, "hook")
	if r.code != 0 {
		in.t.Fatalf("hook exit %d: %s", r.code, r.stderr)
	}
	return r
}

// server is a running `vigil serve`.
type server struct {
	in   *instance
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
	done chan struct{}
}

func (in *instance) serve(args ...string) *server {
	in.t.Helper()
	addrFile := filepath.Join(in.home, fmt.Sprintf("addr-%d", time.Now().UnixNano()))
	cmd := exec.Command(binPath, append([]string{"serve", "--addr", "127.0.0.1:0", "--addr-file", addrFile}, args...)...)
	cmd.Env = in.env
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	s := &server{in: in, cmd: cmd, logs: logs, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	in.t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			s.addr = strings.TrimSpace(string(b))
			break
		}
		select {
		case <-s.done:
			in.t.Fatalf("serve exited early:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if s.addr == "" {
		in.t.Fatalf("serve did not start:\n%s", logs.String())
	}
	s.waitReady()
	return s
}

// syncBuffer collects serve's output while tests read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

func (s *server) waitReady() {
	s.in.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url("/readyz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.in.t.Fatalf("serve not ready:\n%s", s.logs.String())
}

func (s *server) stop() {
	if s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

type status struct {
	EventsTotal     int64 `json:"events_total"`
	HookErrorsTotal int64 `json:"hook_errors_total"`
	SpoolBacklog    int64 `json:"spool_backlog_bytes"`
}

func (s *server) status() status {
	s.in.t.Helper()
	var st status
	s.getJSON("/api/v1/status", &st)
	return st
}

func (s *server) getJSON(path string, v any) {
	s.in.t.Helper()
	resp, err := http.Get(s.url(path))
	if err != nil {
		s.in.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.in.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		s.in.t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

// waitEvents waits until the store holds want events.
func (s *server) waitEvents(want int64, within time.Duration) {
	s.in.t.Helper()
	deadline := time.Now().Add(within)
	var st status
	for time.Now().Before(deadline) {
		st = s.status()
		if st.EventsTotal >= want {
			if st.EventsTotal > want {
				s.in.t.Fatalf("store holds %d events, want exactly %d", st.EventsTotal, want)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.in.t.Fatalf("store holds %d events after %s, want %d\n%s", st.EventsTotal, within, want, s.logs.String())
}

// events fetches stored events through the query API (oldest first).
func (s *server) events(query string) []map[string]any {
	s.in.t.Helper()
	var out struct {
		Events []map[string]any `json:"events"`
	}
	sep := "?"
	if strings.Contains(query, "?") {
		sep = "&"
	}
	s.getJSON("/api/v1/events"+query+sep+"limit=5000&order=asc", &out)
	return out.Events
}
