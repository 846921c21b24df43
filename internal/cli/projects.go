package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-sec/vigil/internal/project"
	"github.com/vigil-sec/vigil/internal/store"
)

// runProjects is `vigil projects [--status]`: the connected projects with
// their event counts and last activity from the store, and with --status
// whether each one's hook is installed and recording is on.
func runProjects(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "projects")
	status := fs.Bool("status", false, "also show whether the hook is installed and recording is on")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: projects takes no arguments", ErrUsage)
	}
	reg, err := project.LoadRegistry(env.Paths.RegistryFile)
	if err != nil {
		return err
	}
	if len(reg.Projects) == 0 {
		fmt.Fprintln(env.Stdout, "no connected projects; connect one with `vigil connect DIR`")
		return nil
	}
	cfg, err := env.LoadConfig()
	if err != nil {
		return err
	}
	names := make([]string, len(reg.Projects))
	for i, p := range reg.Projects {
		names[i] = p.Name
	}
	stats, statsErr := projectStats(ctx, cfg.Store.Path, names)

	bin, _ := vigilBinary()
	self := isSelf(bin)
	now := time.Now()
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	head := "NAME\tDIR\tEVENTS\tLAST ACTIVITY"
	if *status {
		head += "\tHOOK\tRECORDING"
	}
	fmt.Fprintln(tw, head)
	for _, p := range reg.Projects {
		events, last := "-", "-"
		if statsErr == nil {
			st := stats[p.Name]
			events = fmt.Sprint(st.Events)
			if !st.Last.IsZero() {
				last = fmt.Sprintf("%s (%s ago)", st.Last.Local().Format(time.DateTime), now.Sub(st.Last).Round(time.Second))
			} else {
				last = "never"
			}
		}
		row := fmt.Sprintf("%s\t%s\t%s\t%s", p.Name, p.Dir, events, last)
		if *status {
			row += "\t" + hookState(p, self) + "\t" + recordingState(env, p.Dir)
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
	if statsErr != nil {
		fmt.Fprintf(env.Stderr, "note: event counts unavailable: %v\n", statsErr)
	}
	return nil
}

// hookState says whether the project's settings run Vigil for every event.
func hookState(p project.Project, self func(string) bool) string {
	file := p.Settings
	if file == "" {
		file = project.SettingsFile(p.Dir)
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return "missing (no settings.json)"
	}
	if err != nil {
		return "unreadable"
	}
	inst, err := project.Inspect(file, b, self)
	if err != nil {
		return "broken settings.json"
	}
	switch m := inst.Missing(); {
	case len(m) == 0:
		for _, cmds := range inst.Commands {
			for _, c := range cmds {
				if st, err := os.Stat(c.Bin); err != nil || st.Mode().Perm()&0o111 == 0 {
					return "binary missing"
				}
			}
		}
		return "installed"
	case len(m) == len(project.HookEvents):
		return "missing"
	default:
		return "partial (" + strings.Join(m, ",") + " missing)"
	}
}

func recordingState(env *Env, dir string) string {
	if off, why := project.Disabled(env.Paths, dir); off {
		if strings.Contains(why, "globally") {
			return "off (global)"
		}
		return "off"
	}
	return "on"
}

// projectStat is what the store knows of one project.
type projectStat struct {
	Events int64
	Last   time.Time
}

// projectStats reads each project's event count and last activity from
// the store, read-only (serve may be writing; WAL lets both run). A store
// that does not exist yet means no events.
func projectStats(ctx context.Context, path string, names []string) (map[string]projectStat, error) {
	st, err := store.Open(path, store.Options{ReadOnly: true, Readers: 1})
	if errors.Is(err, store.ErrNotFound) {
		return map[string]projectStat{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	out := make(map[string]projectStat, len(names))
	for _, name := range names {
		f := store.Filter{Projects: []string{name}}
		n, err := st.Count(ctx, f)
		if err != nil {
			return nil, err
		}
		ps := projectStat{Events: n}
		if n > 0 {
			f.Limit = 1
			rows, err := st.Query(ctx, f)
			if err != nil {
				return nil, err
			}
			if len(rows) > 0 {
				ps.Last = rows[0].Time
			}
		}
		out[name] = ps
	}
	return out, nil
}
