package apptest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookCommand reads the command connect wrote for an event.
func hookCommand(t *testing.T, settings, hookEvent string) string {
	t.Helper()
	b, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Hooks map[string][]struct {
			Matcher string `json:"matcher"`
			Hooks   []struct {
				Type    string `json:"type"`
				Command string `json:"command"`
			} `json:"hooks"`
		} `json:"hooks"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("settings.json: %v", err)
	}
	for _, g := range s.Hooks[hookEvent] {
		for _, h := range g.Hooks {
			if h.Type == "command" && strings.Contains(h.Command, "hook") {
				return h.Command
			}
		}
	}
	t.Fatalf("no vigil hook for %s in %s", hookEvent, b)
	return ""
}

// TestClaudeCodeFlow does what Claude Code and a user do: connect a
// project, run every fixture through the hook command written into
// settings.json (by /bin/sh, in the project, with CLAUDE_PROJECT_DIR),
// start serve on 127.0.0.1:0 and query: every event is there.
func TestClaudeCodeFlow(t *testing.T) {
	in := newInstance(t)
	proj := filepath.Join(t.TempDir(), "shop")
	os.MkdirAll(proj, 0o755)
	r := in.run(nil, "connect", proj, "--name", "shop-demo")
	if r.code != 0 {
		t.Fatalf("connect: %d %s %s", r.code, r.stdout, r.stderr)
	}
	settings := filepath.Join(proj, ".claude", "settings.json")

	fixtures, _ := filepath.Glob(filepath.Join(sharedDir(t), "fixtures", "hooks", "*.json"))
	bad, _ := filepath.Glob(filepath.Join(sharedDir(t), "fixtures", "hooks", "bad", "*"))
	if len(fixtures) < 30 || len(bad) != 4 {
		t.Fatalf("fixtures: %d good, %d bad", len(fixtures), len(bad))
	}
	wantHook := map[string]int{}
	for _, f := range append(fixtures, bad...) {
		payload, _ := os.ReadFile(f)
		var p struct {
			HookEvent string `json:"hook_event_name"`
		}
		json.Unmarshal(payload, &p)
		ev := p.HookEvent
		if ev == "" {
			ev = "PreToolUse" // bad input still reaches the PreToolUse hook
		}
		cmd := exec.Command("/bin/sh", "-c", hookCommand(t, settings, ev))
		cmd.Dir = proj
		cmd.Env = append(append([]string{}, in.env...), "CLAUDE_PROJECT_DIR="+proj)
		cmd.Stdin = bytes.NewReader(payload)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: hook failed: %v %s", filepath.Base(f), err, errb.String())
		}
		if out.Len() != 0 {
			t.Errorf("%s: hook printed %q on stdout (monitor mode must print nothing)", filepath.Base(f), out.String())
		}
		if !strings.Contains(f, "/bad/") {
			wantHook[p.HookEvent]++
		}
	}
	srv := in.serve()
	// 30 fixtures + 4 bad inputs + 1 companion hook_error for the cut 2 MB command.
	want := int64(len(fixtures) + len(bad) + 1)
	srv.waitEvents(want, 20*time.Second)

	r = in.run(nil, "query", "--format", "json", "--limit", "1000")
	if r.code != 0 {
		t.Fatalf("vigil query: %d %s", r.code, r.stderr)
	}
	gotHook := map[string]int{}
	hookErrors := 0
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var ev struct {
			HookEvent string `json:"hook_event"`
			EventType string `json:"event_type"`
			Project   string `json:"project"`
			ID        string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("query line is not an event: %v: %.200s", err, sc.Text())
		}
		n++
		if ev.EventType == "hook_error" {
			hookErrors++
			continue
		}
		gotHook[ev.HookEvent]++
		if ev.Project != "shop-demo" {
			t.Errorf("event %s project = %q, want the registered name shop-demo", ev.ID, ev.Project)
		}
	}
	if int64(n) != want {
		t.Fatalf("vigil query returned %d events, want %d", n, want)
	}
	if hookErrors != len(bad) {
		t.Errorf("hook_error events = %d, want %d", hookErrors, len(bad))
	}
	// The 2 MB command is also stored as its (cut) PreToolUse event.
	wantHook["PreToolUse"]++
	for k, v := range wantHook {
		if gotHook[k] != v {
			t.Errorf("%s events = %d, want %d", k, gotHook[k], v)
		}
	}
}

// TestBadInputRecordedFast: every bad fixture exits 0 with nothing on
// stdout, leaves a line in Vigil's own log and a hook_error event.
func TestBadInputRecordedFast(t *testing.T) {
	bad, _ := filepath.Glob(filepath.Join(sharedDir(t), "fixtures", "hooks", "bad", "*"))
	for _, f := range bad {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in := newInstance(t)
			payload, _ := os.ReadFile(f)
			r := in.hook(payload)
			if r.stdout != "" {
				t.Fatalf("stdout = %q, want nothing", r.stdout)
			}
			log, err := os.ReadFile(filepath.Join(in.home, "log", "hook.log"))
			if err != nil || !bytes.Contains(log, []byte("hook_error")) && !bytes.Contains(log, []byte("oversized")) {
				t.Fatalf("hook.log lacks the reason: %v %s", err, log)
			}
			spool := readSpool(t, in.home)
			found := false
			for _, l := range spool {
				if bytes.Contains(l, []byte(`"event_type":"hook_error"`)) && bytes.Contains(l, []byte(`"reason":`)) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no hook_error event with a reason in the spool")
			}
			t.Logf("%s: %s end to end (process start to exit)", filepath.Base(f), r.elapsed)
		})
	}
}

func readSpool(t testing.TB, home string) [][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(home, "spool", "*.ndjson"))
	var lines [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			if len(l) > 0 {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// TestConcurrentHooks: 16 hook processes at once, 500 events each: exactly
// 8,000 rows and no corrupt line.
func TestConcurrentHooks(t *testing.T) {
	procs, each := 16, 500
	if testing.Short() {
		each = 50
	}
	in := newInstance(t)
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				payload := fmt.Sprintf(`{"session_id":"s-%d","cwd":"/home/dev/p","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"t-%d-%d","tool_input":{"command":"echo %d %d %s"}}`,
					p, p, i, p, i, strings.Repeat("x", (p*i)%3000))
				cmd := exec.Command(binPath, "hook")
				cmd.Env = in.env
				cmd.Stdin = strings.NewReader(payload)
				if out, err := cmd.Output(); err != nil || len(out) != 0 {
					errs <- fmt.Errorf("proc %d event %d: %v %q", p, i, err, out)
					return
				}
			}
		}(p)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	lines := readSpool(t, in.home)
	seen := map[string]bool{}
	for _, l := range lines {
		var ev struct {
			ID        string `json:"id"`
			ToolUseID string `json:"tool_use_id"`
		}
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("corrupt spool line: %v: %.100s", err, l)
		}
		seen[ev.ToolUseID] = true
	}
	if len(lines) != procs*each || len(seen) != procs*each {
		t.Fatalf("spool has %d lines (%d distinct), want %d", len(lines), len(seen), procs*each)
	}
	srv := in.serve()
	srv.waitEvents(int64(procs*each), 60*time.Second)
}

// TestUnwritableSpool: the hook still exits 0, prints nothing, and its log
// says why the event could not be recorded.
func TestUnwritableSpool(t *testing.T) {
	in := newInstance(t)
	// A regular file where the spool folder should be: even root cannot
	// create the folder.
	if err := os.WriteFile(filepath.Join(in.home, "spool"), []byte("not a dir"), 0o600); err != nil {
		t.Fatal(err)
	}
	payload, _ := os.ReadFile(filepath.Join(sharedDir(t), "fixtures", "hooks", "PreToolUse-Bash.json"))
	r := in.hook(payload)
	if r.stdout != "" {
		t.Fatalf("stdout = %q", r.stdout)
	}
	log, err := os.ReadFile(filepath.Join(in.home, "log", "hook.log"))
	if err != nil {
		t.Fatalf("no hook log: %v", err)
	}
	if !bytes.Contains(log, []byte("spool append failed")) || !bytes.Contains(log, []byte("not a directory")) {
		t.Fatalf("hook.log does not say why: %s", log)
	}
}
