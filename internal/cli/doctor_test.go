package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/project"
)

// TestDoctorBroken breaks one thing at a time and checks that doctor names
// it, with its fix, and exits non-zero. serve never runs here, so its FAIL
// is always expected; the healthy case runs against the real binary and a
// real serve in apptest/lifecycle_test.go.
func TestDoctorBroken(t *testing.T) {
	writeSettings := func(t *testing.T, dir, content string) {
		t.Helper()
		f := project.SettingsFile(dir)
		os.MkdirAll(filepath.Dir(f), 0o755)
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	allEvents := func(cmd string) string {
		var b strings.Builder
		b.WriteString(`{"hooks": {`)
		for i, ev := range project.HookEvents {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"` + ev + `": [{"matcher": "*", "hooks": [{"type": "command", "command": "` + cmd + `"}]}]`)
		}
		b.WriteString("}}")
		return b.String()
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, vh, home, proj string)
		want  []string // lines (or parts) doctor must print
	}{
		{
			name:  "nothing installed",
			setup: func(t *testing.T, vh, home, proj string) {},
			want: []string{
				"FAIL  hook installed: no Vigil hook in " + "PROJ/.claude/settings.json",
				"fix: vigil connect PROJ (or vigil connect --user for every project)",
				"FAIL  serve: not running",
				"fix: vigil start",
				"OK    spool:", "OK    clock:", "OK    config:",
			},
		},
		{
			name: "binary missing",
			setup: func(t *testing.T, vh, home, proj string) {
				writeSettings(t, proj, allEvents(`VIGIL_HOME='VH' '/nonexistent dir/vigil' hook`))
			},
			want: []string{
				"OK    hook installed: all 12 events",
				"FAIL  hook binary: settings run /nonexistent dir/vigil, which does not exist",
				"fix: vigil connect PROJ (rewrites the path to this binary",
			},
		},
		{
			name: "partial install",
			setup: func(t *testing.T, vh, home, proj string) {
				vigil(t, "connect", proj)
				f := project.SettingsFile(proj)
				b := mustRead(t, f)
				b = []byte(strings.Replace(string(b), `"SessionStart"`, `"SessionStartOld"`, 1))
				os.WriteFile(f, b, 0o644)
			},
			want: []string{"FAIL  hook installed: in PROJ/.claude/settings.json, but not for SessionStart", "(adds the missing events, keeps the rest)"},
		},
		{
			name: "malformed settings",
			setup: func(t *testing.T, vh, home, proj string) {
				writeSettings(t, proj, "{\n  \"hooks\": {\n    \"Stop\": [}\n}")
			},
			want: []string{"FAIL  settings: PROJ/.claude/settings.json:3:14: invalid character '}'", "fix: fix the JSON"},
		},
		{
			name: "spool not writable",
			setup: func(t *testing.T, vh, home, proj string) {
				vigil(t, "connect", proj)
				blocker := filepath.Join(vh, "a-file")
				os.WriteFile(blocker, nil, 0o644)
				os.WriteFile(filepath.Join(vh, "config.yaml"), []byte("spool:\n  dir: "+blocker+"/spool\n"), 0o644)
			},
			want: []string{"FAIL  spool: cannot create VH/a-file/spool", "the hook loses every event", "fix: make VH/a-file/spool writable"},
		},
		{
			name: "bad config",
			setup: func(t *testing.T, vh, home, proj string) {
				os.WriteFile(filepath.Join(vh, "config.yaml"), []byte("spool:\n  fsync: sometimes\n"), 0o644)
			},
			want: []string{`FAIL  config: config VH/config.yaml: spool.fsync: must be "always" or "never" (got sometimes)`, "fix: edit VH/config.yaml"},
		},
		{
			name: "disabled and recorded twice",
			setup: func(t *testing.T, vh, home, proj string) {
				vigil(t, "connect", proj)
				vigil(t, "connect", "--user")
				vigil(t, "disable", proj)
			},
			want: []string{
				"OK    hook installed: all 12 events, in PROJ/.claude/settings.json, HOME/.claude/settings.json",
				"WARN  hook installed: Vigil runs more than once for SessionStart",
				"WARN  recording: off: disabled for this project", "fix: vigil enable PROJ",
			},
		},
		{
			name: "clock behind the spool",
			setup: func(t *testing.T, vh, home, proj string) {
				vigil(t, "connect", proj)
				seg := filepath.Join(vh, "spool", "segment.ndjson")
				os.MkdirAll(filepath.Dir(seg), 0o755)
				os.WriteFile(seg, []byte("{}\n"), 0o644)
				future := time.Now().Add(2 * time.Hour)
				os.Chtimes(seg, future, future)
			},
			want: []string{"FAIL  clock: the clock is 2h0m0s behind the newest spool file", "fix: sync the system clock"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vh, home := cliHome(t)
			proj := filepath.Join(t.TempDir(), "proj")
			os.MkdirAll(proj, 0o755)
			tt.setup(t, vh, home, proj)
			r := vigil(t, "doctor", proj)
			if r.code != 1 || !strings.Contains(r.stderr, "check(s) failed") {
				t.Errorf("exit %d, stderr %q; want 1 and a failure count", r.code, r.stderr)
			}
			for _, w := range tt.want {
				w = strings.NewReplacer("PROJ", proj, "VH", vh, "HOME", home).Replace(w)
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// TestDoctorFromSubfolder checks that doctor run inside a connected
// project's subfolder checks the project.
func TestDoctorFromSubfolder(t *testing.T) {
	cliHome(t)
	proj := filepath.Join(t.TempDir(), "proj")
	sub := filepath.Join(proj, "internal", "x")
	os.MkdirAll(sub, 0o755)
	vigil(t, "connect", proj)
	t.Chdir(sub)
	r := vigil(t, "doctor")
	if !strings.Contains(r.stdout, "vigil doctor: "+proj+"\n") || !strings.Contains(r.stdout, "OK    hook installed") {
		t.Errorf("doctor from a subfolder:\n%s", r.stdout)
	}
}
