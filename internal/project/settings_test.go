package project

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const testBin = "/opt/vigil tools/bin/vigil"

func isTestBin(bin string) bool { return bin == testBin }

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// semantic decodes a settings document for comparison; an empty file is {}.
func semantic(t *testing.T, b []byte) any {
	t.Helper()
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]any{}
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestMergeGolden(t *testing.T) {
	befores, _ := filepath.Glob("testdata/merge/*.before.json")
	if len(befores) == 0 {
		t.Fatal("no golden inputs")
	}
	cmd := HookCommand(testBin, "")
	for _, before := range befores {
		name := strings.TrimSuffix(filepath.Base(before), ".before.json")
		t.Run(name, func(t *testing.T) {
			in := readFile(t, before)
			out, changed, err := Merge(before, in, cmd, isTestBin)
			if err != nil {
				t.Fatal(err)
			}
			if !changed {
				t.Fatal("first merge reported no change")
			}
			golden := strings.Replace(before, ".before.", ".after.", 1)
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := readFile(t, golden); !bytes.Equal(out, want) {
				t.Errorf("merge output differs from %s:\n%s", golden, out)
			}
			// Idempotent: a second merge changes nothing.
			out2, changed, err := Merge(before, out, cmd, isTestBin)
			if err != nil || changed || !bytes.Equal(out2, out) {
				t.Errorf("second merge: changed=%v err=%v", changed, err)
			}
			in2, err := Inspect(before, out, isTestBin)
			if err != nil {
				t.Fatal(err)
			}
			if !in2.Installed() {
				t.Errorf("after merge, events missing: %v", in2.Missing())
			}
			for ev, cmds := range in2.Commands {
				if len(cmds) != 1 || cmds[0].Bin != testBin {
					t.Errorf("%s: want exactly one handler running %s, got %+v", ev, testBin, cmds)
				}
			}
		})
	}
}

// TestMergePreservesForeign checks, beyond the golden file, that every
// foreign key keeps its place and value and every foreign hook survives.
func TestMergePreservesForeign(t *testing.T) {
	in := readFile(t, "testdata/merge/foreign.before.json")
	out, _, err := Merge("x", in, HookCommand(testBin, ""), isTestBin)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := decodeObject(in)
	b, _, _ := decodeObject(out)
	if !reflect.DeepEqual(a.keys, b.keys) {
		t.Errorf("top-level key order changed: %v -> %v", a.keys, b.keys)
	}
	for _, k := range a.keys {
		if k == "hooks" {
			continue
		}
		if !reflect.DeepEqual(semantic(t, a.vals[k]), semantic(t, b.vals[k])) {
			t.Errorf("%s changed: %s -> %s", k, a.vals[k], b.vals[k])
		}
	}
	for _, s := range []string{`12345678901234567890`, `1.50`, `"/usr/local/bin/other hook"`, `notify-send 'Claude is done'`, `>> ~/.claude/bash-log.txt && echo '<ok>'`} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("output lost %s", s)
		}
	}
}

func TestMergeStale(t *testing.T) {
	in := readFile(t, "testdata/merge/stale.before.json")
	out, _, err := Merge("x", in, HookCommand(testBin, ""), isTestBin)
	if err != nil {
		t.Fatal(err)
	}
	inst, _ := Inspect("x", out, isTestBin)
	if got := inst.Commands["PreToolUse"]; len(got) != 1 || got[0].Bin != testBin {
		t.Errorf("PreToolUse: want the moved entry updated in place and the duplicate dropped, got %+v", got)
	}
	if !bytes.Contains(out, []byte(`"timeout": 3`)) {
		t.Error("in-place update lost the user's timeout")
	}
	if !bytes.Contains(out, []byte("echo foreign")) || !bytes.Contains(out, []byte("echo hi")) {
		t.Error("foreign hooks lost")
	}
}

func TestUnmergeRestoresOriginal(t *testing.T) {
	for _, name := range []string{"foreign", "nohooks", "empty", "emptycontainers", "emptyhooks"} {
		t.Run(name, func(t *testing.T) {
			in := readFile(t, "testdata/merge/"+name+".before.json")
			merged, _, err := Merge("x", in, HookCommand(testBin, "/vh"), isTestBin)
			if err != nil {
				t.Fatal(err)
			}
			out, removed, err := Unmerge("x", merged, isTestBin, EmptyContainers(in)...)
			if err != nil {
				t.Fatal(err)
			}
			if removed != len(HookEvents) {
				t.Errorf("removed %d handlers, want %d", removed, len(HookEvents))
			}
			if !reflect.DeepEqual(semantic(t, in), semantic(t, out)) {
				t.Errorf("disconnect did not restore the original:\n%s\nwant\n%s", out, in)
			}
			if _, n, _ := Unmerge("x", out, isTestBin); n != 0 {
				t.Errorf("second unmerge removed %d", n)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		line, col int
		msg       string
	}{
		{"trailing comma", "{\n  \"a\": 1,\n}\n", 3, 1, "invalid character '}'"},
		{"missing brace", "{\n  \"a\": 1\n", 3, 1, "unexpected end"},
		{"garbage after", "{\"a\": 1}\n  x\n", 2, 3, "after the JSON object"},
		{"bad value", "{\n  \"a\": tru\n}", 2, 11, "invalid character"},
		{"column counts characters", "{\"ünï\": \"ç\" x}", 1, 13, "invalid character 'x'"},
		{"top-level array", "[1, 2]", 0, 0, "not a JSON object"},
		{"hooks not object", `{"hooks": []}`, 0, 0, `"hooks" is not a JSON object`},
		{"event not array", `{"hooks": {"Stop": {}}}`, 0, 0, "hooks.Stop is not a JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := SettingsFile(dir)
			os.MkdirAll(filepath.Dir(file), 0o755)
			if err := os.WriteFile(file, []byte(tt.in), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, op := range []string{"connect", "disconnect"} {
				var err error
				if op == "connect" {
					_, err = Connect(file, HookCommand(testBin, ""), isTestBin, time.Now())
				} else {
					_, err = Disconnect(file, isTestBin, time.Now(), DisconnectOptions{})
				}
				var me *MalformedError
				if !errors.As(err, &me) {
					t.Fatalf("%s: want *MalformedError, got %v", op, err)
				}
				if me.Line != tt.line || me.Col != tt.col || !strings.Contains(me.Msg, tt.msg) {
					t.Errorf("%s: got %d:%d %q, want %d:%d containing %q", op, me.Line, me.Col, me.Msg, tt.line, tt.col, tt.msg)
				}
				if got := readFile(t, file); !bytes.Equal(got, []byte(tt.in)) {
					t.Errorf("%s modified a malformed file", op)
				}
			}
			if ents, _ := os.ReadDir(filepath.Dir(file)); len(ents) != 1 {
				t.Errorf("want only settings.json in .claude, got %d entries", len(ents))
			}
		})
	}
}

func TestConnectBackupAndIdempotence(t *testing.T) {
	dir := t.TempDir()
	file := SettingsFile(dir)
	orig := readFile(t, "testdata/merge/foreign.before.json")
	os.MkdirAll(filepath.Dir(file), 0o755)
	if err := os.WriteFile(file, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 19, 30, 0, 0, time.UTC)
	cmd := HookCommand(testBin, "")
	res, err := Connect(file, cmd, isTestBin, now)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Backup == "" {
		t.Fatalf("first connect: %+v", res)
	}
	if got := readFile(t, res.Backup); !bytes.Equal(got, orig) {
		t.Error("backup does not hold the original content")
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("file mode changed to %v", st.Mode().Perm())
	}
	after := readFile(t, file)
	res2, err := Connect(file, cmd, isTestBin, now)
	if err != nil || res2.Changed || res2.Backup != "" {
		t.Fatalf("second connect: %+v %v", res2, err)
	}
	if !bytes.Equal(readFile(t, file), after) {
		t.Error("second connect changed the file")
	}
	backups, _ := filepath.Glob(file + BackupSuffix + "*")
	if len(backups) != 1 {
		t.Errorf("want 1 backup, got %v", backups)
	}
	// Disconnect backs up too, and two backups in the same instant do not collide.
	res3, err := Disconnect(file, isTestBin, now, DisconnectOptions{})
	if err != nil || !res3.Changed || res3.Backup == "" || res3.Backup == res.Backup {
		t.Fatalf("disconnect: %+v %v", res3, err)
	}
	if !reflect.DeepEqual(semantic(t, readFile(t, file)), semantic(t, orig)) {
		t.Error("disconnect did not restore the original")
	}
}

func TestConnectNewFileAndSymlink(t *testing.T) {
	dir := t.TempDir()
	res, err := Connect(SettingsFile(dir), HookCommand(testBin, ""), isTestBin, time.Now())
	if err != nil || !res.Created || !res.Changed || res.Backup != "" {
		t.Fatalf("new file: %+v %v", res, err)
	}

	// A settings.json that is a symlink (dotfiles) is edited at its target.
	target := filepath.Join(t.TempDir(), "dotfiles-settings.json")
	os.WriteFile(target, []byte(`{"a": 1}`), 0o644)
	proj := t.TempDir()
	os.MkdirAll(filepath.Join(proj, ".claude"), 0o755)
	if err := os.Symlink(target, SettingsFile(proj)); err != nil {
		t.Fatal(err)
	}
	if _, err := Connect(SettingsFile(proj), HookCommand(testBin, ""), isTestBin, time.Now()); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(SettingsFile(proj)); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("symlink replaced by a file")
	}
	if inst, _ := Inspect(target, readFile(t, target), isTestBin); !inst.Installed() {
		t.Error("target not updated")
	}
}

// TestHookCommandRuns proves the written command string runs the binary
// through a real shell when its path holds spaces, quotes and $.
func TestHookCommandRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my tools", `it's $HOME "x"`)
	home := filepath.Join(t.TempDir(), "vigil home")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "vigil")
	out := filepath.Join(t.TempDir(), "out")
	script := "#!/bin/sh\nprintf '%s|%s|%s\\n' \"$#\" \"$1\" \"$VIGIL_HOME\" > '" + out + "'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"", home} {
		cmd := HookCommand(bin, h)
		if b, err := exec.Command("/bin/sh", "-c", cmd).CombinedOutput(); err != nil {
			t.Fatalf("sh -c %s: %v\n%s", cmd, err, b)
		}
		if got, want := string(readFile(t, out)), "1|hook|"+h+"\n"; got != want {
			t.Errorf("ran %s: got %q, want %q", cmd, got, want)
		}
		hc, ok := ParseHookCommand(cmd, nil)
		if !ok || hc.Bin != bin || hc.Home != h {
			t.Errorf("ParseHookCommand(%s) = %+v %v", cmd, hc, ok)
		}
	}
}

func TestParseHookCommand(t *testing.T) {
	self := func(b string) bool { return b == "/tmp/go-build1/cli.test" }
	tests := []struct {
		cmd  string
		bin  string
		home string
		ok   bool
	}{
		{`'/usr/local/bin/vigil' hook`, "/usr/local/bin/vigil", "", true},
		{`/usr/local/bin/vigil hook`, "/usr/local/bin/vigil", "", true},
		{`"/Users/a b/bin/vigil" hook`, "/Users/a b/bin/vigil", "", true},
		{`/Users/a\ b/bin/vigil hook`, "/Users/a b/bin/vigil", "", true},
		{`VIGIL_HOME='/x y' '/bin/vigil' hook`, "/bin/vigil", "/x y", true},
		{`'/tmp/go-build1/cli.test' hook`, "/tmp/go-build1/cli.test", "", true},
		{`/usr/local/bin/other hook`, "", "", false},
		{`vigil hook --extra`, "", "", false},
		{`/bin/vigil serve`, "", "", false},
		{`FOO=1 /bin/vigil hook`, "", "", false},
		{`/bin/vigil hook && rm -rf ~`, "", "", false},
		{`/bin/vigil hook; echo`, "", "", false},
		{`"/bin/$X/vigil" hook`, "", "", false},
		{`'/bin/vigil hook`, "", "", false},
		{``, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			hc, ok := ParseHookCommand(tt.cmd, self)
			if ok != tt.ok || hc.Bin != tt.bin || hc.Home != tt.home {
				t.Errorf("got %+v %v, want bin=%q home=%q ok=%v", hc, ok, tt.bin, tt.home, tt.ok)
			}
		})
	}
}

func FuzzMerge(f *testing.F) {
	for _, p := range []string{"foreign", "nohooks", "stale"} {
		b, _ := os.ReadFile("testdata/merge/" + p + ".before.json")
		f.Add(b)
	}
	f.Add([]byte(`{"hooks": {"Stop": [1, "x", {"hooks": 3}, {"hooks": [null, {"type": "command"}]}]}}`))
	cmd := HookCommand(testBin, "")
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := Merge("x", in, cmd, isTestBin)
		if err != nil {
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("error is not *MalformedError: %v", err)
			}
			return
		}
		inst, err := Inspect("x", out, isTestBin)
		if err != nil || !inst.Installed() {
			t.Fatalf("merge output not installed: %v %v", err, inst.Missing())
		}
		back, _, err := Unmerge("x", out, isTestBin)
		if err != nil {
			t.Fatal(err)
		}
		if inst, _ := Inspect("x", back, isTestBin); inst.Any() {
			t.Fatal("unmerge left Vigil entries")
		}
	})
}

func TestDisconnectRemovesWhatConnectCreated(t *testing.T) {
	proj := t.TempDir()
	file := SettingsFile(proj)
	res, err := Connect(file, HookCommand(testBin, ""), isTestBin, time.Now())
	if err != nil || !res.Created || !res.CreatedDir {
		t.Fatalf("connect: %+v %v", res, err)
	}
	res, err = Disconnect(file, isTestBin, time.Now(), DisconnectOptions{CreatedFile: true})
	if err != nil || !res.Deleted || res.Backup != "" {
		t.Fatalf("disconnect: %+v %v", res, err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("created settings file still there: %v", err)
	}

	// A file someone added settings to after connect stays.
	Connect(file, HookCommand(testBin, ""), isTestBin, time.Now())
	b := readFile(t, file)
	b = bytes.Replace(b, []byte(`{`), []byte(`{"model": "opus",`), 1)
	os.WriteFile(file, b, 0o644)
	res, err = Disconnect(file, isTestBin, time.Now(), DisconnectOptions{CreatedFile: true})
	if err != nil || res.Deleted {
		t.Fatalf("disconnect: %+v %v", res, err)
	}
	if got := semantic(t, readFile(t, file)); !reflect.DeepEqual(got, map[string]any{"model": "opus"}) {
		t.Errorf("left %v", got)
	}
}

// TestConnectConcurrent runs connects and disconnects on one file at once:
// the folder lock serialises them, so the file is always valid and ends
// with exactly one Vigil entry per event.
func TestConnectConcurrent(t *testing.T) {
	file := SettingsFile(t.TempDir())
	os.MkdirAll(filepath.Dir(file), 0o755)
	os.WriteFile(file, readFile(t, "testdata/merge/foreign.before.json"), 0o644)
	cmd := HookCommand(testBin, "")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			var err error
			if i%4 == 3 {
				_, err = Disconnect(file, isTestBin, time.Now(), DisconnectOptions{})
			} else {
				_, err = Connect(file, cmd, isTestBin, time.Now())
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Connect(file, cmd, isTestBin, time.Now()); err != nil {
		t.Fatal(err)
	}
	inst, err := Inspect(file, readFile(t, file), isTestBin)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range HookEvents {
		if n := len(inst.Commands[ev]); n != 1 {
			t.Errorf("%s: %d Vigil entries, want 1", ev, n)
		}
	}
	if !bytes.Contains(readFile(t, file), []byte("notify-send 'Claude is done'")) {
		t.Error("foreign hook lost under concurrency")
	}
}
