package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-sec/vigil/internal/project"
)

// runDisconnect removes exactly the hook entries connect added, and the
// project from the registry. Events already recorded stay in the store.
func runDisconnect(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "disconnect")
	user := fs.Bool("user", false, "remove Vigil from ~/.claude/settings.json")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: vigil disconnect [DIR] [--user]\n\nRemoves Vigil's hook entries from DIR/.claude/settings.json (or the user\nsettings), leaving every other hook, and forgets the project.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	bin, err := vigilBinary()
	if err != nil {
		return err
	}
	var file, dir string
	if *user {
		if fs.NArg() > 0 {
			return fmt.Errorf("%w: --user takes no DIR", ErrUsage)
		}
		home, err := userHome(env)
		if err != nil {
			return err
		}
		file = project.SettingsFile(home)
	} else {
		if dir, err = projectDir(fs.Args()); err != nil {
			return err
		}
		file = project.SettingsFile(dir)
	}
	// What connect created (it is in the registry) goes again if nothing
	// else was put there since.
	created := map[string]bool{}
	var opts project.DisconnectOptions
	if dir != "" {
		if reg, err := project.LoadRegistry(env.Paths.RegistryFile); err == nil {
			if p, ok := reg.Find(dir); ok {
				for _, c := range p.Created {
					created[c] = true
				}
				opts.KeepEmpty = p.KeepEmpty
			}
		}
	}
	opts.CreatedFile = created[file]
	res, err := project.Disconnect(file, isSelf(bin), time.Now(), opts)
	if err != nil {
		return connectError(err)
	}
	switch {
	case res.Deleted:
		fmt.Fprintf(env.Stdout, "removed %d Vigil hook entries and %s, which connect had created\n", res.Removed, res.File)
		if created[filepath.Dir(file)] && os.Remove(filepath.Dir(file)) == nil {
			fmt.Fprintf(env.Stdout, "removed the empty folder %s\n", filepath.Dir(file))
		}
	case res.Changed:
		fmt.Fprintf(env.Stdout, "removed %d Vigil hook entries from %s (backup: %s)\n", res.Removed, res.File, res.Backup)
	default:
		fmt.Fprintf(env.Stdout, "no Vigil hook entries in %s, nothing changed\n", res.File)
	}
	if dir != "" {
		found, err := project.Unregister(env.Paths.RegistryFile, dir)
		if err != nil {
			return fmt.Errorf("unregister project: %w", err)
		}
		if found {
			fmt.Fprintf(env.Stdout, "forgot project %s (its recorded events stay in the store)\n", dir)
		}
	}
	return nil
}
