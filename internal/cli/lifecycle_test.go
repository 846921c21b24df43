package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	p.Wait()
	return p.Pid
}

// TestLifecycleStalePidfile covers status and stop when the pidfile names
// a process that is gone, or is not a pidfile at all. Start, status and
// stop against a real serve are in apptest/lifecycle_test.go.
func TestLifecycleStalePidfile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		status  string
		stop    string
	}{
		{"dead pid", `{"pid": DEAD, "addr": "127.0.0.1:1"}`, "stale pidfile for pid", "removed stale pidfile"},
		{"torn pidfile", `{"pid": 12`, "stale pidfile for pid 0", "removed stale pidfile"},
		{"not vigil", `{"pid": SELF, "addr": "127.0.0.1:1"}`, "stale pidfile", "removed stale pidfile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vh, _ := cliHome(t)
			pf := filepath.Join(vh, "run", "vigil.pid")
			os.MkdirAll(filepath.Dir(pf), 0o755)
			content := strings.NewReplacer("DEAD", strconv.Itoa(deadPID(t)), "SELF", strconv.Itoa(os.Getpid())).Replace(tt.content)
			os.WriteFile(pf, []byte(content), 0o644)

			r := vigil(t, "status")
			if r.code != 3 || !strings.Contains(r.stderr, tt.status) {
				t.Errorf("status: %+v, want exit 3 and %q", r, tt.status)
			}
			r = vigil(t, "stop")
			if r.code != 0 || !strings.Contains(r.stdout, tt.stop) {
				t.Errorf("stop: %+v, want %q", r, tt.stop)
			}
			if _, err := os.Stat(pf); !os.IsNotExist(err) {
				t.Error("stale pidfile left behind")
			}
			if r := vigil(t, "stop"); r.code != 0 || !strings.Contains(r.stdout, "not running (no pidfile)") {
				t.Errorf("second stop: %+v", r)
			}
		})
	}
}

// TestStopSignals stops a stand-in process whose command line looks like
// serve's: one that exits on SIGTERM, and one that ignores it and must be
// killed after --timeout.
func TestStopSignals(t *testing.T) {
	tests := []struct {
		name   string
		script string
		out    string
		killed bool
	}{
		{"exits on SIGTERM", "sleep 60 & wait", "vigil serve stopped", false},
		{"ignores SIGTERM", "trap '' TERM; sleep 60 & wait; sleep 60", "did not stop within 300ms; killed it", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vh, _ := cliHome(t)
			cmd := exec.Command("/bin/sh", "-c", tt.script, "serve")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); <-done })
			// Wait until sh has installed its trap and started sleep.
			time.Sleep(100 * time.Millisecond)
			pf := filepath.Join(vh, "run", "vigil.pid")
			os.MkdirAll(filepath.Dir(pf), 0o755)
			os.WriteFile(pf, []byte(`{"pid": `+strconv.Itoa(cmd.Process.Pid)+`, "addr": "127.0.0.1:1"}`), 0o644)

			r := vigil(t, "stop", "--timeout", "300ms")
			if r.code != 0 || !strings.Contains(r.stdout+r.stderr, tt.out) {
				t.Fatalf("stop: %+v, want %q", r, tt.out)
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("process still running after stop")
			}
			if _, err := os.Stat(pf); !os.IsNotExist(err) {
				t.Error("pidfile left after stop")
			}
		})
	}
}
