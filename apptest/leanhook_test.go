package apptest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLeanHookMatchesFullBinary: vigil-hook and `vigil hook` record the
// same event for every fixture (ids and timestamps aside) and give the
// same decision; connect writes the lean binary when it is beside vigil.
func TestLeanHookMatchesFullBinary(t *testing.T) {
	fixtures, _ := filepath.Glob(filepath.Join(sharedDir(t), "fixtures", "hooks", "*.json"))
	fixtures = append(fixtures, filepath.Join(sharedDir(t), "fixtures", "hooks", "bad", "truncated.json"))
	run := func(bin string, payload []byte, env []string) []byte {
		t.Helper()
		cmd := exec.Command(bin, "hook")
		cmd.Env = env
		cmd.Stdin = bytes.NewReader(payload)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		return out
	}
	for _, mode := range []string{"monitor", "enforce"} {
		full := newInstance(t, "VIGIL_ENFORCEMENT="+mode)
		lean := newInstance(t, "VIGIL_ENFORCEMENT="+mode)
		for _, f := range append(fixtures, "curl") {
			payload := curlPipeSh
			if f != "curl" {
				payload, _ = os.ReadFile(f)
			}
			o1 := run(binPath, payload, full.env)
			o2 := run(hookBinPath, payload, lean.env)
			if !bytes.Equal(o1, o2) {
				t.Errorf("%s %s: stdout differs: %q vs %q", mode, filepath.Base(f), o1, o2)
			}
		}
		a, b := normalizedSpool(t, full.home), normalizedSpool(t, lean.home)
		if len(a) != len(b) || len(a) < len(fixtures) {
			t.Fatalf("%s: %d vs %d events", mode, len(a), len(b))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("%s: event %d differs:\n%s\n%s", mode, i, a[i], b[i])
			}
		}
	}

	in := newInstance(t)
	proj := t.TempDir()
	if r := in.run(nil, "connect", proj); r.code != 0 {
		t.Fatalf("connect: %s", r.stderr)
	}
	if cmd := hookCommand(t, filepath.Join(proj, ".claude", "settings.json"), "PreToolUse"); !strings.Contains(cmd, "vigil-hook' hook") {
		t.Fatalf("connect wrote %q, want the lean vigil-hook beside vigil", cmd)
	}
}

// normalizedSpool returns the spool's events with per-run fields blanked.
func normalizedSpool(t *testing.T, home string) []string {
	var out []string
	for _, l := range readSpool(t, home) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		m["id"], m["timestamp"] = "", ""
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return out
}
