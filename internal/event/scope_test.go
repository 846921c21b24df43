package event

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestScopeEscapes: .., symlinks, new files and paths inside Bash commands
// are judged on cleaned, symlink-resolved paths.
func TestScopeEscapes(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "proj")
	other := filepath.Join(root, "other")
	for _, d := range []string{filepath.Join(proj, "src"), other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(other, "secret.txt"), []byte("x"), 0o600)
	// A symlink inside the project pointing out of it, and one pointing in.
	if err := os.Symlink(other, filepath.Join(proj, "link-out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(proj, "src"), filepath.Join(other, "link-in")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, tool string
		input      map[string]any
		outside    bool
	}{
		{"inside", "Read", map[string]any{"file_path": filepath.Join(proj, "src", "a.go")}, false},
		{"dotdot escape", "Read", map[string]any{"file_path": filepath.Join(proj, "src", "..", "..", "other", "secret.txt")}, true},
		{"dotdot staying inside", "Read", map[string]any{"file_path": filepath.Join(proj, "src", "..", "README.md")}, false},
		{"symlink out", "Read", map[string]any{"file_path": filepath.Join(proj, "link-out", "secret.txt")}, true},
		{"new file through symlink out", "Write", map[string]any{"file_path": filepath.Join(proj, "link-out", "new", "x.txt"), "content": "hi"}, true},
		{"new file inside", "Write", map[string]any{"file_path": filepath.Join(proj, "src", "new", "deeper", "x.go"), "content": "hi"}, false},
		{"new file outside", "Write", map[string]any{"file_path": filepath.Join(other, "brand-new.txt"), "content": "hi"}, true},
		{"edit outside", "Edit", map[string]any{"file_path": filepath.Join(other, "secret.txt"), "old_string": "a", "new_string": "b"}, true},
		{"glob outside", "Glob", map[string]any{"pattern": "**/*", "path": other}, true},
		{"glob absolute pattern", "Glob", map[string]any{"pattern": filepath.Join(other, "*.txt")}, true},
		{"grep outside", "Grep", map[string]any{"pattern": "x", "path": "/etc"}, true},
		{"notebook outside", "NotebookEdit", map[string]any{"notebook_path": filepath.Join(other, "n.ipynb"), "new_source": "x"}, true},
		{"relative path inside", "Read", map[string]any{"file_path": "src/a.go"}, false},
		{"bash cat outside", "Bash", map[string]any{"command": "cat " + filepath.Join(other, "secret.txt")}, true},
		{"bash dotdot", "Bash", map[string]any{"command": "cat ../other/secret.txt"}, true},
		{"bash redirect outside", "Bash", map[string]any{"command": "echo hi > /tmp/x.txt"}, true},
		{"bash inside", "Bash", map[string]any{"command": "go test ./src/... > /dev/null"}, false},
		{"bash in bash -c", "Bash", map[string]any{"command": `bash -c "cp src/a.go ` + filepath.Join(other, "b.go") + `"`}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, _ := json.Marshal(map[string]any{"hook_event_name": "PreToolUse", "session_id": "s", "cwd": proj,
				"tool_name": c.tool, "tool_input": c.input})
			n := NewNormalizer(Options{ProjectDir: proj})
			ev, err := n.Normalize(raw)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Security.OutsideProjectScope != c.outside {
				t.Errorf("outside_project_scope = %v, want %v (paths %v, outside %v)", ev.Security.OutsideProjectScope,
					c.outside, ev.Action.Paths, ev.Security.OutsidePaths)
			}
		})
	}
	// A path spelled outside but resolving inside (symlink pointing in) is inside.
	s := NewScope(proj)
	if s.Outside(filepath.Join(other, "link-in", "a.go"), proj) {
		t.Error("path resolving into the project was flagged outside")
	}
}

func TestSensitiveKinds(t *testing.T) {
	home := "/home/dev"
	cases := map[string]string{
		"/home/dev/.ssh/id_rsa":                              SensitivePrivateKey,
		"/home/dev/.ssh/id_ed25519.pub":                      SensitiveSSH,
		"/home/dev/.ssh/authorized_keys":                     SensitiveSSH,
		"/home/dev/.aws/credentials":                         SensitiveCloud,
		"/home/dev/.kube/config":                             SensitiveKube,
		"/home/dev/projects/shop/.env":                       SensitiveDotenv,
		"/home/dev/projects/shop/.env.production":            SensitiveDotenv,
		"/home/dev/projects/shop/.env.example":               "",
		"/home/dev/.netrc":                                   SensitiveCredentials,
		"/home/dev/.git-credentials":                         SensitiveCredentials,
		"/home/dev/.config/gh/hosts.yml":                     SensitiveCredentials,
		"/home/dev/.bashrc":                                  SensitiveShellRC,
		"/home/dev/.zshrc":                                   SensitiveShellRC,
		"/home/dev/.mozilla/firefox/abc.default/key4.db":     SensitiveBrowser,
		"/home/dev/.config/google-chrome/Default/Login Data": SensitiveBrowser,
		"/etc/shadow":                                        SensitiveSystemAuth,
		"/etc/sudoers.d/dev":                                 SensitiveSystemAuth,
		"/home/dev/.claude/settings.json":                    SensitiveAgentConfig,
		"/home/dev/projects/shop/src/app.ts":                 "",
		"/home/dev/projects/shop/summary.md":                 "",
		"/etc/hosts":                                         "",
	}
	for p, want := range cases {
		if got := SensitiveKind(p, home); got != want {
			t.Errorf("SensitiveKind(%s) = %q, want %q", p, got, want)
		}
	}
}
