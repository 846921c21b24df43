package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/hook"
	"github.com/vigil-sec/vigil/internal/spool"
)

// runHook is `vigil hook`. Whatever happens it returns nil (exit 0),
// except in fail-closed enforcement where a bad PreToolUse input is denied
// through the decision on stdout; diagnostics go to the hook log only.
func runHook(ctx context.Context, env *Env, args []string) error {
	logf := &hook.LogFile{Path: filepath.Join(env.Paths.LogDir, "hook.log"), MaxBytes: 10 << 20}
	defer logf.Close()
	log := slog.New(slog.NewJSONHandler(logf, nil)).With("component", "hook", "pid", os.Getpid())
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(env.Stderr, "usage: vigil hook < payload.json   (run by Claude Code for every hook event)")
		return nil
	}
	cfg, err := env.LoadConfig()
	if err != nil {
		// A broken config must not break the agent: record with defaults.
		log.Error("config invalid; hook running with defaults", "err", err.Error())
		cfg = config.Default(env.Paths)
	}
	host, _ := os.Hostname()
	norm := event.NewNormalizer(event.Options{
		Host:        host,
		User:        currentUser(env),
		ProjectDir:  env.Getenv("CLAUDE_PROJECT_DIR"),
		Home:        env.Getenv("HOME"),
		MaxField:    cfg.Hook.MaxFieldBytes,
		ProjectName: projectNamer(env, log),
	})
	enrich, decide := hookRules(cfg, log)
	opts := hook.Options{
		Normalizer:  norm,
		Spool:       &spool.Writer{Dir: cfg.Spool.Dir, Fsync: cfg.Spool.Fsync == config.FsyncAlways},
		Disabled:    disabledCheck(env),
		Enforcement: cfg.Hook.Enforcement,
		FailMode:    cfg.Hook.FailMode,
		MaxInput:    cfg.Hook.MaxInputBytes,
		Log:         log,
		Enrich:      enrich,
		Decide:      decide,
	}
	hook.Run(ctx, opts, env.Stdin, env.Stdout)
	return nil
}

func currentUser(env *Env) string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if u := env.Getenv(k); u != "" {
			return u
		}
	}
	return fmt.Sprintf("uid:%d", os.Getuid())
}
