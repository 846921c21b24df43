package apptest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lifecycleVigil is the binary under test, built into a folder whose name
// has a space, so every command line written by connect must quote it.
type lifecycleVigil struct {
	t    *testing.T
	bin  string
	home string // VIGIL_HOME
	env  []string
}

func newLifecycleVigil(t *testing.T) *lifecycleVigil {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "my tools", "vigil")
	build := exec.Command("go", "build", "-o", bin, "../cmd/vigil")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VIGIL_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_") {
			env = append(env, kv)
		}
	}
	home := t.TempDir()
	env = append(env, "VIGIL_HOME="+home, "HOME="+t.TempDir())
	return &lifecycleVigil{t: t, bin: bin, home: home, env: env}
}

type runResult struct {
	code           int
	stdout, stderr string
}

func (v *lifecycleVigil) run(stdin []byte, args ...string) runResult {
	v.t.Helper()
	cmd := exec.Command(v.bin, args...)
	cmd.Env = v.env
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		v.t.Fatalf("run %v: %v", args, err)
	}
	return runResult{code, out.String(), errb.String()}
}

func (v *lifecycleVigil) want(r runResult, code int, parts ...string) {
	v.t.Helper()
	if r.code != code {
		v.t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, p := range parts {
		if !strings.Contains(r.stdout+r.stderr, p) {
			v.t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", p, r.stdout, r.stderr)
		}
	}
}

// TestLifecycle drives the real binary as a user would: connect a project,
// doctor (serve down), start, a hook event through the exact command line
// connect wrote (run by /bin/sh, as Claude Code does), status, doctor
// (healthy), projects, stop.
func TestLifecycle(t *testing.T) {
	v := newLifecycleVigil(t)
	proj := filepath.Join(t.TempDir(), "my project")
	if err := os.MkdirAll(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.run(nil, "stop", "--timeout", "2s") })

	v.want(v.run(nil, "connect", proj), 0, `connected project "my project"`)
	v.want(v.run(nil, "status"), 3, "not running")
	v.want(v.run(nil, "doctor", proj), 1, "OK    hook installed: all 12 events", "OK    hook binary: "+v.bin, "FAIL  serve: not running", "fix: vigil start")

	start := time.Now()
	v.want(v.run(nil, "start", "--addr", "127.0.0.1:0"), 0, "vigil serve started: pid")
	t.Logf("vigil start took %s", time.Since(start))
	var pf struct {
		PID  int    `json:"pid"`
		Addr string `json:"addr"`
	}
	vh := v.home
	b, err := os.ReadFile(filepath.Join(vh, "run", "vigil.pid"))
	if err != nil || json.Unmarshal(b, &pf) != nil || pf.PID <= 0 || !strings.HasPrefix(pf.Addr, "127.0.0.1:") {
		t.Fatalf("pidfile %s: %v", b, err)
	}
	v.want(v.run(nil, "start"), 1, "already running")

	// One hook event through the command string in settings.json.
	settings, err := os.ReadFile(filepath.Join(proj, ".claude", "settings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Hooks map[string][]struct {
			Hooks []struct{ Command string } `json:"hooks"`
		} `json:"hooks"`
	}
	if err := json.Unmarshal(settings, &s); err != nil {
		t.Fatal(err)
	}
	command := s.Hooks["PreToolUse"][0].Hooks[0].Command
	payload, err := os.ReadFile("testdata/lifecycle/PreToolUse-Bash.json")
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	sh := exec.Command("/bin/sh", "-c", command)
	sh.Env = append(v.env, "CLAUDE_PROJECT_DIR="+proj)
	sh.Stdin = bytes.NewReader(payload)
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("sh -c %s: %v\n%s", command, err, out)
	}

	var st struct {
		EventsTotal int64 `json:"events_total"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for st.EventsTotal < 1 && time.Now().Before(deadline) {
		r := v.run(nil, "status", "--json")
		json.Unmarshal([]byte(r.stdout), &st)
		time.Sleep(50 * time.Millisecond)
	}
	if st.EventsTotal != 1 {
		t.Fatalf("events_total = %d, want 1", st.EventsTotal)
	}
	v.want(v.run(nil, "status"), 0, "running, pid", "events:         1 stored", "spool backlog:", "last event:")
	v.want(v.run(nil, "doctor", proj), 0, "OK    serve: running, pid", "0 failure(s)")
	r := v.run(nil, "projects", "--status")
	v.want(r, 0)
	if !strings.Contains(r.stdout, "my project") || !lineHasAll(r.stdout, "my project", " 1 ", "installed", "on") {
		t.Errorf("projects --status:\n%s", r.stdout)
	}

	v.want(v.run(nil, "stop"), 0, "vigil serve stopped")
	if processRunning(pf.PID) {
		t.Errorf("pid %d still alive after stop", pf.PID)
	}
	if _, err := os.Stat(filepath.Join(vh, "run", "vigil.pid")); !os.IsNotExist(err) {
		t.Error("pidfile left after stop")
	}
	v.want(v.run(nil, "status"), 3, "not running")
	v.want(v.run(nil, "stop"), 0, "not running")

	v.want(v.run(nil, "disconnect", proj), 0, "removed 12 Vigil hook entries")
	if _, err := os.Stat(filepath.Join(proj, ".claude")); !os.IsNotExist(err) {
		t.Error("disconnect left the .claude folder connect created")
	}
}

// lineHasAll reports whether one line of out holds every part.
func lineHasAll(out string, parts ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// processRunning reports whether pid exists and is not a zombie (serve's
// parent, vigil start, has exited, and a container's init may not reap).
func processRunning(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
