package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/project"
	"github.com/vigil-sec/vigil/internal/store"
)

// Doctor check outcomes.
const (
	checkOK   = "OK"
	checkWarn = "WARN"
	checkFail = "FAIL"
)

type checkResult struct {
	status string
	name   string
	detail string
	fix    string // what to do; empty for OK
}

// runDoctor is `vigil doctor [DIR]`: it checks that events from DIR (default
// the connected project around the current folder) are really recorded, and
// says how to fix each problem. It exits 1 when any check fails.
func runDoctor(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "doctor")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: vigil doctor [DIR]\n\nChecks the config, the hook in DIR's and the user's Claude Code settings,\nthe binary they run, serve, the spool and the clock.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := projectDir(fs.Args())
	if err != nil {
		return err
	}
	reg, regErr := project.LoadRegistry(env.Paths.RegistryFile)
	if fs.NArg() == 0 && regErr == nil {
		// Run from a subfolder of a connected project: check the project.
		if p, ok := reg.Lookup(dir); ok {
			dir = p.Dir
		}
	}

	var results []checkResult
	add := func(r checkResult) { results = append(results, r) }

	cfg, err := env.LoadConfig()
	if err != nil {
		add(checkResult{checkFail, "config", err.Error(),
			fmt.Sprintf("edit %s (VIGIL_CONFIG overrides the path) so every field named above is valid", env.Paths.ConfigFile)})
		cfg = config.Default(env.Paths)
	} else {
		where := env.Paths.ConfigFile
		if v := env.Getenv("VIGIL_CONFIG"); v != "" {
			where = v
		}
		if _, err := os.Stat(where); err != nil {
			where = "defaults; no file at " + where
		}
		add(checkResult{checkOK, "config", "loads and validates (" + where + ")", ""})
	}

	for _, r := range doctorHook(env, dir, reg, regErr) {
		add(r)
	}
	add(doctorServe(ctx, env, cfg))
	add(doctorSpool(cfg, env.Getenv("USER")))
	add(doctorClock(ctx, cfg))

	fails, warns := 0, 0
	w := env.Stdout
	fmt.Fprintf(w, "vigil doctor: %s\n", dir)
	for _, r := range results {
		fmt.Fprintf(w, "%-4s  %s: %s\n", r.status, r.name, r.detail)
		if r.fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", r.fix)
		}
		switch r.status {
		case checkFail:
			fails++
		case checkWarn:
			warns++
		}
	}
	fmt.Fprintf(w, "%d ok, %d warning(s), %d failure(s)\n", len(results)-fails-warns, warns, fails)
	if fails > 0 {
		return &ExitError{Code: 1, Msg: fmt.Sprintf("%d check(s) failed", fails)}
	}
	return nil
}

// doctorHook checks the settings files Claude Code reads for dir: that
// Vigil's hook is there for every event, once, and that the binary it runs
// exists; and that recording is switched on.
func doctorHook(env *Env, dir string, reg *project.Registry, regErr error) []checkResult {
	var out []checkResult
	bin, _ := vigilBinary()
	self := isSelf(bin)
	files := []string{project.SettingsFile(dir), filepath.Join(dir, ".claude", "settings.local.json")}
	if home, err := userHome(env); err == nil && filepath.Clean(home) != dir {
		files = append(files, project.SettingsFile(home))
	}
	union := map[string][]project.HookCmd{}
	var found []string // files that run Vigil
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			out = append(out, checkResult{checkFail, "settings", err.Error(), "make " + f + " readable"})
			continue
		}
		inst, err := project.Inspect(f, b, self)
		if err != nil {
			out = append(out, checkResult{checkFail, "settings", err.Error(),
				"fix the JSON at that line and column; Claude Code cannot use a broken settings file"})
			continue
		}
		if !inst.Any() {
			continue
		}
		found = append(found, f)
		for ev, cmds := range inst.Commands {
			union[ev] = append(union[ev], cmds...)
		}
		if len(inst.Narrowed) > 0 {
			out = append(out, checkResult{checkWarn, "hook matcher",
				fmt.Sprintf("%s: Vigil's entry for %s only matches some tools", f, strings.Join(inst.Narrowed, ", ")),
				`set its "matcher" to "*" (or remove the entry and run vigil connect)`})
		}
	}

	connectCmd := "vigil connect " + shellArg(dir)
	var missing, doubled []string
	for _, ev := range project.HookEvents {
		switch n := len(union[ev]); {
		case n == 0:
			missing = append(missing, ev)
		case n > 1:
			doubled = append(doubled, ev)
		}
	}
	switch {
	case len(found) == 0:
		out = append(out, checkResult{checkFail, "hook installed",
			"no Vigil hook in " + strings.Join(files, ", "), connectCmd + " (or vigil connect --user for every project)"})
	case len(missing) > 0:
		out = append(out, checkResult{checkFail, "hook installed",
			fmt.Sprintf("in %s, but not for %s", strings.Join(found, ", "), strings.Join(missing, ", ")),
			connectCmd + " (adds the missing events, keeps the rest)"})
	default:
		out = append(out, checkResult{checkOK, "hook installed", "all " + fmt.Sprint(len(project.HookEvents)) + " events, in " + strings.Join(found, ", "), ""})
	}
	if len(doubled) > 0 {
		out = append(out, checkResult{checkWarn, "hook installed",
			"Vigil runs more than once for " + strings.Join(doubled, ", ") + " (every event is recorded twice)",
			"keep one: vigil disconnect --user, or vigil disconnect " + shellArg(dir)})
	}

	// The binary each entry runs.
	bins := map[string]project.HookCmd{}
	for _, cmds := range union {
		for _, c := range cmds {
			bins[c.Bin] = c
		}
	}
	names := make([]string, 0, len(bins))
	for b := range bins {
		names = append(names, b)
	}
	sort.Strings(names)
	for _, b := range names {
		st, err := os.Stat(b)
		switch {
		case err != nil:
			out = append(out, checkResult{checkFail, "hook binary", fmt.Sprintf("settings run %s, which does not exist: the hook fails on every event", b),
				connectCmd + " (rewrites the path to this binary, " + bin + ")"})
		case st.IsDir() || st.Mode().Perm()&0o111 == 0:
			out = append(out, checkResult{checkFail, "hook binary", b + " is not an executable file", "chmod +x " + shellArg(b) + ", or " + connectCmd})
		default:
			out = append(out, checkResult{checkOK, "hook binary", b + " exists and is executable", ""})
		}
		if h := bins[b].Home; h != env.Paths.Home {
			what := func(h string) string {
				if h == "" {
					return "the default XDG folders"
				}
				return "VIGIL_HOME=" + h
			}
			out = append(out, checkResult{checkWarn, "hook home",
				fmt.Sprintf("the hook records into %s, but this shell uses %s", what(h), what(env.Paths.Home)),
				"run vigil connect again with the VIGIL_HOME serve uses"})
		}
	}

	if off, why := project.Disabled(env.Paths, dir); off {
		fix := "vigil enable " + shellArg(dir)
		if strings.Contains(why, "globally") {
			fix = "vigil enable --global"
		}
		out = append(out, checkResult{checkWarn, "recording", "off: " + why, fix})
	} else {
		out = append(out, checkResult{checkOK, "recording", "on", ""})
	}
	switch {
	case regErr != nil:
		out = append(out, checkResult{checkWarn, "registry", regErr.Error(), "delete " + env.Paths.RegistryFile + " and run vigil connect for each project"})
	case len(found) > 0:
		if _, ok := reg.Lookup(dir); !ok && !isUserOnly(found, dir) {
			out = append(out, checkResult{checkWarn, "registry", dir + " is not registered: events are named after the folder",
				connectCmd + " [--name N]"})
		}
	}
	return out
}

func isUserOnly(found []string, dir string) bool {
	for _, f := range found {
		if strings.HasPrefix(f, filepath.Join(dir, ".claude")+string(filepath.Separator)) {
			return false
		}
	}
	return true
}

func doctorServe(ctx context.Context, env *Env, cfg config.Config) checkResult {
	pf, running, stale, err := findServer(ctx, env, cfg)
	if err != nil {
		return checkResult{checkFail, "serve", err.Error(), "remove " + pidfilePath(env.Paths) + " and run vigil start"}
	}
	if !running {
		detail := "not running: events wait in the spool and nothing is checked or stored"
		if stale {
			detail += fmt.Sprintf(" (stale pidfile: pid %d is gone)", pf.PID)
		}
		return checkResult{checkFail, "serve", detail, "vigil start"}
	}
	client := &http.Client{Timeout: 2 * time.Second}
	if ok, err := httpProbe(ctx, client, dialAddr(pf.Addr), "/healthz", cfg.Server.Token); !ok {
		return checkResult{checkFail, "serve", fmt.Sprintf("pid %d is alive but http://%s/healthz fails: %v", pf.PID, pf.Addr, err),
			"look at " + filepath.Join(env.Paths.LogDir, "serve.log") + ", then vigil stop && vigil start"}
	}
	if pf.PID == 0 {
		return checkResult{checkOK, "serve", "answers at http://" + pf.Addr + " (run in the foreground, no pidfile)", ""}
	}
	return checkResult{checkOK, "serve", fmt.Sprintf("running, pid %d, http://%s", pf.PID, pf.Addr), ""}
}

// doctorSpool proves the hook can write where it appends: it creates and
// removes a file in the spool folder.
func doctorSpool(cfg config.Config, user string) checkResult {
	dir := cfg.Spool.Dir
	fix := fmt.Sprintf("make %s writable by %s (chmod u+w, check the disk is not full), or set spool.dir", dir, user)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return checkResult{checkFail, "spool", "cannot create " + dir + ": " + err.Error() + "; the hook loses every event", fix}
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err == nil {
		_, err = io.WriteString(f, "vigil doctor\n")
		if err2 := f.Close(); err == nil {
			err = err2
		}
		os.Remove(f.Name())
	}
	if err != nil {
		return checkResult{checkFail, "spool", dir + " is not writable: " + err.Error() + "; the hook loses every event", fix}
	}
	return checkResult{checkOK, "spool", dir + " is writable", ""}
}

// doctorClock checks the wall clock: a plausible year, not behind the
// newest spool file (it would order new events before old ones), and not
// being stepped right now (wall time moving apart from monotonic time).
func doctorClock(ctx context.Context, cfg config.Config) checkResult {
	const fix = "sync the system clock (e.g. timedatectl set-ntp true, or sudo sntp -sS time.apple.com)"
	t0 := time.Now()
	time.Sleep(20 * time.Millisecond)
	now := time.Now()
	if now.Year() < 2024 {
		return checkResult{checkFail, "clock", "the system clock says " + now.Format(time.RFC3339), fix}
	}
	drift := now.Round(0).Sub(t0.Round(0)) - now.Sub(t0)
	if drift > 250*time.Millisecond || drift < -250*time.Millisecond {
		return checkResult{checkWarn, "clock", fmt.Sprintf("the wall clock moved %s against the monotonic clock in 20ms: it is being stepped", drift), fix}
	}
	var newest time.Time
	var newestName string
	filepath.WalkDir(cfg.Spool.Dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.ModTime().After(newest) {
			newest, newestName = info.ModTime(), p
		}
		return nil
	})
	if ahead := newest.Sub(now); ahead > time.Minute {
		return checkResult{checkFail, "clock", fmt.Sprintf("the clock is %s behind the newest spool file %s: it went back in time", ahead.Round(time.Second), newestName), fix}
	}
	if last := newestEvent(ctx, cfg.Store.Path); last.Sub(now) > time.Minute {
		return checkResult{checkFail, "clock", fmt.Sprintf("the clock is %s behind the newest stored event (%s): it went back in time",
			last.Sub(now).Round(time.Second), last.Format(time.RFC3339)), fix}
	}
	return checkResult{checkOK, "clock", now.UTC().Format(time.RFC3339), ""}
}

// newestEvent is the timestamp of the newest stored event, zero when there
// is no store or it cannot be read (other checks report that).
func newestEvent(ctx context.Context, path string) time.Time {
	st, err := store.Open(path, store.Options{ReadOnly: true, Readers: 1})
	if err != nil {
		return time.Time{}
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	if err != nil {
		return time.Time{}
	}
	return stats.Last
}

// shellArg quotes s for a shell command line when it needs it.
func shellArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == '@' || r == ',' || r == '=' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
