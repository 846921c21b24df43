package cli

import (
	"context"
	"fmt"

	"github.com/vigil-sec/vigil/internal/project"
)

func runEnable(ctx context.Context, env *Env, args []string) error {
	return setEnabled(env, "enable", args, true)
}

func runDisable(ctx context.Context, env *Env, args []string) error {
	return setEnabled(env, "disable", args, false)
}

// setEnabled removes or writes an off switch: the project's
// .claude/vigil.disabled, or with --global the file config.Paths.DisabledFile.
// The hook stays installed either way; it just records nothing while off.
func setEnabled(env *Env, name string, args []string, enabled bool) error {
	fs := newFlagSet(env, name)
	global := fs.Bool("global", false, "switch recording for every project (the global off switch)")
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: vigil %s [DIR] [--global]\n\nvigil disable writes DIR/.claude/%s (DIR defaults to the current\nfolder), or the global off switch with --global; vigil enable removes it.\n", name, project.DisabledMarker)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var marker, scope, dir string
	if *global {
		if fs.NArg() > 0 {
			return fmt.Errorf("%w: --global takes no DIR", ErrUsage)
		}
		marker, scope = env.Paths.DisabledFile, "every project"
	} else {
		var err error
		if dir, err = projectDir(fs.Args()); err != nil {
			return err
		}
		marker, scope = project.MarkerPath(dir), dir
	}
	changed, err := project.SetEnabled(marker, enabled)
	if err != nil {
		return err
	}
	state := map[bool]string{true: "on", false: "off"}[enabled]
	if changed {
		fmt.Fprintf(env.Stdout, "recording is now %s for %s\n", state, scope)
	} else {
		fmt.Fprintf(env.Stdout, "recording was already %s for %s\n", state, scope)
	}
	if enabled {
		if off, why := project.Disabled(env.Paths, dir); off {
			fmt.Fprintf(env.Stdout, "note: still off: %s\n", why)
		}
	}
	return nil
}
