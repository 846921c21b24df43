package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/project"
	"github.com/vigil-sec/vigil/internal/store"
)

// cliHome gives the test its own VIGIL_HOME and HOME and returns them.
// Run reads the process environment, so these tests do not run in parallel.
func cliHome(t *testing.T) (vigilHome, home string) {
	t.Helper()
	vigilHome, home = t.TempDir(), t.TempDir()
	t.Setenv("VIGIL_HOME", vigilHome)
	t.Setenv("HOME", home)
	t.Setenv("VIGIL_CONFIG", "")
	t.Setenv("VIGIL_ADDR", "127.0.0.1:1") // nothing listens there
	return vigilHome, home
}

type cliResult struct {
	code           int
	stdout, stderr string
}

func vigil(t *testing.T, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return cliResult{code, out.String(), errb.String()}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]any{}
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

const foreignSettings = `{
  "permissions": {"allow": ["Bash(go test:*)"]},
  "hooks": {
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo pre >> /tmp/log"}]}],
    "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
  },
  "model": "opus"
}
`

func TestConnectDisconnectCLI(t *testing.T) {
	vh, _ := cliHome(t)
	proj := filepath.Join(t.TempDir(), "shop")
	settings := project.SettingsFile(proj)
	os.MkdirAll(filepath.Dir(settings), 0o755)
	if err := os.WriteFile(settings, []byte(foreignSettings), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(proj)

	r := vigil(t, "connect")
	if r.code != 0 || !strings.Contains(r.stdout, `connected project "shop"`) {
		t.Fatalf("connect: %+v", r)
	}
	after := mustRead(t, settings)
	bin, _ := vigilBinary()
	want := project.HookCommand(bin, vh)
	inst, err := project.Inspect(settings, after, isSelf(bin))
	if err != nil || !inst.Installed() {
		t.Fatalf("not installed: %v %v", err, inst.Missing())
	}
	if !bytes.Contains(after, []byte(strings.ReplaceAll(want, `"`, `\"`))) {
		t.Errorf("settings do not run %s:\n%s", want, after)
	}
	backups, _ := filepath.Glob(settings + project.BackupSuffix + "*")
	if len(backups) != 1 || !bytes.Equal(mustRead(t, backups[0]), []byte(foreignSettings)) {
		t.Errorf("want one backup with the original content, got %v", backups)
	}
	reg, _ := project.LoadRegistry(filepath.Join(vh, "projects.json"))
	if name, ok := reg.NameFor(filepath.Join(proj, "sub")); !ok || name != "shop" {
		t.Errorf("registry: %q %v", name, ok)
	}

	// Idempotent, and --name renames without touching the settings.
	r = vigil(t, "connect", ".", "--name", "boutique")
	if r.code != 0 || !strings.Contains(r.stdout, "nothing changed") {
		t.Fatalf("second connect: %+v", r)
	}
	if !bytes.Equal(mustRead(t, settings), after) {
		t.Error("second connect changed settings.json")
	}
	reg, _ = project.LoadRegistry(filepath.Join(vh, "projects.json"))
	if name, _ := reg.NameFor(proj); name != "boutique" {
		t.Errorf("rename: got %q", name)
	}

	r = vigil(t, "disconnect", proj)
	if r.code != 0 || !strings.Contains(r.stdout, "removed 12 Vigil hook entries") {
		t.Fatalf("disconnect: %+v", r)
	}
	if got, want := jsonValue(t, mustRead(t, settings)), jsonValue(t, []byte(foreignSettings)); !reflect.DeepEqual(got, want) {
		t.Errorf("disconnect did not restore the original:\n%v\nwant\n%v", got, want)
	}
	reg, _ = project.LoadRegistry(filepath.Join(vh, "projects.json"))
	if len(reg.Projects) != 0 {
		t.Errorf("still registered: %+v", reg.Projects)
	}
}

func TestConnectCLIErrors(t *testing.T) {
	cliHome(t)
	proj := t.TempDir()
	settings := project.SettingsFile(proj)
	os.MkdirAll(filepath.Dir(settings), 0o755)
	bad := "{\n  \"model\": \"opus\",\n  \"hooks\": {,}\n}\n"
	os.WriteFile(settings, []byte(bad), 0o644)

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"malformed settings", []string{"connect", proj}, 1, settings + ":3:13: invalid character ','"},
		{"malformed on disconnect", []string{"disconnect", proj}, 1, "left unchanged"},
		{"missing dir", []string{"connect", filepath.Join(proj, "nope")}, 1, "no such file"},
		{"two dirs", []string{"connect", proj, proj}, 2, "at most one DIR"},
		{"user with dir", []string{"connect", "--user", proj}, 2, "--user takes neither"},
		{"unknown flag", []string{"connect", "--bogus"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := vigil(t, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("got %+v, want code %d and stderr containing %q", r, tt.code, tt.stderr)
			}
			if !bytes.Equal(mustRead(t, settings), []byte(bad)) {
				t.Fatal("malformed settings.json was modified")
			}
		})
	}
}

func TestConnectUserCLI(t *testing.T) {
	_, home := cliHome(t)
	if r := vigil(t, "connect", "--user"); r.code != 0 {
		t.Fatalf("connect --user: %+v", r)
	}
	file := project.SettingsFile(home)
	bin, _ := vigilBinary()
	if inst, _ := project.Inspect(file, mustRead(t, file), isSelf(bin)); !inst.Installed() {
		t.Fatal("user settings not installed")
	}
	if r := vigil(t, "disconnect", "--user"); r.code != 0 || !strings.Contains(r.stdout, "removed 12") {
		t.Fatalf("disconnect --user: %+v", r)
	}
	if inst, _ := project.Inspect(file, mustRead(t, file), isSelf(bin)); inst.Any() {
		t.Fatal("user settings still run vigil")
	}
}

func TestEnableDisableCLI(t *testing.T) {
	vh, _ := cliHome(t)
	proj := t.TempDir()
	marker := project.MarkerPath(proj)
	global := filepath.Join(vh, "disabled")
	steps := []struct {
		args   []string
		stdout string
		marker bool
		global bool
	}{
		{[]string{"disable", proj}, "now off for " + proj, true, false},
		{[]string{"disable", proj}, "already off", true, false},
		{[]string{"disable", "--global"}, "now off for every project", true, true},
		{[]string{"enable", proj}, "still off: disabled globally", false, true},
		{[]string{"enable", "--global"}, "now on for every project", false, false},
		{[]string{"enable", proj}, "already on", false, false},
	}
	for _, s := range steps {
		r := vigil(t, s.args...)
		if r.code != 0 || !strings.Contains(r.stdout, s.stdout) {
			t.Errorf("%v: got %+v, want stdout containing %q", s.args, r, s.stdout)
		}
		if _, err := os.Stat(marker); (err == nil) != s.marker {
			t.Errorf("%v: project marker exists=%v, want %v", s.args, err == nil, s.marker)
		}
		if _, err := os.Stat(global); (err == nil) != s.global {
			t.Errorf("%v: global switch exists=%v, want %v", s.args, err == nil, s.global)
		}
	}
}

func TestProjectsCLI(t *testing.T) {
	vh, _ := cliHome(t)
	if r := vigil(t, "projects"); r.code != 0 || !strings.Contains(r.stdout, "no connected projects") {
		t.Fatalf("empty: %+v", r)
	}
	shop, blog := filepath.Join(t.TempDir(), "shop"), filepath.Join(t.TempDir(), "blog")
	os.MkdirAll(shop, 0o755)
	os.MkdirAll(blog, 0o755)
	vigil(t, "connect", shop)
	vigil(t, "connect", blog)
	vigil(t, "disable", blog)

	// No store yet: zero events.
	r := vigil(t, "projects", "--status")
	if r.code != 0 {
		t.Fatalf("projects: %+v", r)
	}
	for _, want := range []string{"shop", "blog", "never", "installed", "off"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("projects --status lacks %q:\n%s", want, r.stdout)
		}
	}

	// A real store with events for shop.
	st, err := store.Open(filepath.Join(vh, "vigil.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	last := time.Now().Add(-90 * time.Minute).UTC().Truncate(time.Second)
	var recs []store.Record
	for i := range 3 {
		ev := &event.Event{ID: "0190000-" + string(rune('a'+i)), SchemaVersion: 3, Timestamp: last.Add(time.Duration(i-2) * time.Minute),
			Project: "shop", HookEvent: "PreToolUse", EventType: event.TypeCommand, ToolName: "Bash", SessionID: "s1"}
		b, _ := json.Marshal(ev)
		recs = append(recs, store.Record{Event: ev, JSON: b})
	}
	if _, err := st.Append(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r = vigil(t, "projects")
	lines := strings.Split(r.stdout, "\n")
	var shopLine string
	for _, l := range lines {
		if strings.HasPrefix(l, "shop") {
			shopLine = l
		}
	}
	if !strings.Contains(shopLine, " 3 ") || !strings.Contains(shopLine, last.Local().Format(time.DateTime)) || !strings.Contains(shopLine, "1h30m") {
		t.Errorf("shop line %q: want 3 events, last %s (1h30m ago)", shopLine, last.Local().Format(time.DateTime))
	}
}

// TestDisconnectKeepsEmptyContainers: containers that were empty before
// connect are still there, empty, after disconnect; a reconnect (binary
// moved, nothing to add) does not forget that.
func TestDisconnectKeepsEmptyContainers(t *testing.T) {
	cliHome(t)
	proj := t.TempDir()
	settings := project.SettingsFile(proj)
	os.MkdirAll(filepath.Dir(settings), 0o755)
	orig := `{"hooks": {"Stop": []}, "model": "opus"}`
	os.WriteFile(settings, []byte(orig), 0o644)
	if r := vigil(t, "connect", proj); r.code != 0 {
		t.Fatalf("connect: %+v", r)
	}
	if r := vigil(t, "connect", proj); r.code != 0 {
		t.Fatalf("reconnect: %+v", r)
	}
	if r := vigil(t, "disconnect", proj); r.code != 0 {
		t.Fatalf("disconnect: %+v", r)
	}
	if got, want := jsonValue(t, mustRead(t, settings)), jsonValue(t, []byte(orig)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
