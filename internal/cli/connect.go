package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/project"
)

// runConnect merges Vigil's hook into a project's (or the user's)
// .claude/settings.json and registers the project.
func runConnect(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "connect")
	name := fs.String("name", "", "project name (default: the folder name)")
	user := fs.Bool("user", false, "install in ~/.claude/settings.json for every project")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: vigil connect [DIR] [--name N] [--user]\n\nMerges Vigil's hook entries into DIR/.claude/settings.json (DIR defaults\nto the current folder), keeping every other setting, and registers DIR.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *user && (*name != "" || fs.NArg() > 0) {
		return fmt.Errorf("%w: --user takes neither DIR nor --name", ErrUsage)
	}
	bin, err := vigilBinary()
	if err != nil {
		return err
	}
	if isTempBuild(bin) {
		fmt.Fprintf(env.Stderr, "warning: %s looks like a temporary `go run` build that will disappear; install vigil (make install) and connect again\n", bin)
	}
	cmd := project.HookCommand(hookBinary(bin), env.Paths.Home)
	now := time.Now()

	if *user {
		home, err := userHome(env)
		if err != nil {
			return err
		}
		res, err := project.Connect(project.SettingsFile(home), cmd, isSelf(bin), now)
		if err != nil {
			return connectError(err)
		}
		reportEdit(env, res, "connected every project (user settings)")
		return nil
	}

	dir, err := projectDir(fs.Args())
	if err != nil {
		return err
	}
	res, err := project.Connect(project.SettingsFile(dir), cmd, isSelf(bin), now)
	if err != nil {
		return connectError(err)
	}
	p := project.Project{Name: *name, Dir: dir, Settings: res.File, ConnectedAt: now.UTC()}
	if real, err := filepath.EvalSymlinks(dir); err == nil && real != dir {
		p.RealDir = real
	}
	if res.CreatedDir {
		p.Created = append(p.Created, filepath.Dir(res.File))
	}
	if res.Created {
		p.Created = append(p.Created, res.File)
	}
	p.KeepEmpty = res.EmptyBefore
	if old, err := project.LoadRegistry(env.Paths.RegistryFile); err == nil {
		if prev, ok := old.Find(dir); ok {
			if *name == "" {
				p.Name = prev.Name
			}
			if !res.Changed {
				p.ConnectedAt = prev.ConnectedAt
			}
			// What the first connect saw is what disconnect must restore.
			p.Created = append(prev.Created, p.Created...)
			p.KeepEmpty = prev.KeepEmpty
		}
	}
	if p, err = project.Register(env.Paths.RegistryFile, p); err != nil {
		return fmt.Errorf("register project: %w", err)
	}
	reportEdit(env, res, fmt.Sprintf("connected project %q (%s)", p.Name, dir))
	if off, why := project.Disabled(env.Paths, dir); off {
		fmt.Fprintf(env.Stdout, "note: recording is off: %s; run `vigil enable` to turn it on\n", why)
	}
	return nil
}

func connectError(err error) error {
	var me *project.MalformedError
	if errors.As(err, &me) {
		return fmt.Errorf("%w\nthe file was left unchanged; fix it (or move it away) and run the command again", err)
	}
	return err
}

func reportEdit(env *Env, res project.Result, what string) {
	switch {
	case !res.Changed:
		fmt.Fprintf(env.Stdout, "%s: %s already up to date, nothing changed\n", what, res.File)
	case res.Created:
		fmt.Fprintf(env.Stdout, "%s: created %s\n", what, res.File)
	default:
		fmt.Fprintf(env.Stdout, "%s: updated %s (backup: %s)\n", what, res.File, res.Backup)
	}
}

// projectDir is the absolute, cleaned DIR argument (default: the current
// folder), which must be an existing folder.
func projectDir(args []string) (string, error) {
	if len(args) > 1 {
		return "", fmt.Errorf("%w: at most one DIR, got %q", ErrUsage, args)
	}
	dir := "."
	if len(args) == 1 {
		dir = args[0]
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("project folder: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%w: %s is not a folder", ErrUsage, abs)
	}
	return abs, nil
}

func userHome(env *Env) (string, error) {
	if h := env.Getenv("HOME"); h != "" {
		return h, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home folder (set HOME): %w", err)
	}
	return h, nil
}

// vigilBinary is the absolute path of the running binary, symlinks
// resolved, which is what the hook command must run.
func vigilBinary() (string, error) {
	bin, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the vigil binary: %w", err)
	}
	if real, err := filepath.EvalSymlinks(bin); err == nil {
		bin = real
	}
	return bin, nil
}

// hookBinary is what Claude Code should run: the lean vigil-hook binary
// when it sits next to bin (it starts in about half the time, and the
// hook is in the agent's critical path), else bin itself.
func hookBinary(bin string) string {
	lean := filepath.Join(filepath.Dir(bin), "vigil-hook")
	if st, err := os.Stat(lean); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return lean
	}
	return bin
}

// isSelf recognises the running binary in a hook command even when its
// name does not start with "vigil" (renamed or test binaries).
func isSelf(bin string) func(string) bool {
	self, err := os.Stat(bin)
	return func(p string) bool {
		if p == bin {
			return true
		}
		st, err2 := os.Stat(p)
		return err == nil && err2 == nil && os.SameFile(self, st)
	}
}

func isTempBuild(bin string) bool {
	return strings.Contains(bin, string(filepath.Separator)+"go-build") &&
		strings.HasPrefix(bin, filepath.Clean(os.TempDir())+string(filepath.Separator))
}
