// Package cli implements Vigil's command line: one file per subcommand.
// serve.go wires the server's parts together by hand.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/config"
)

// Version is set at build time with -ldflags "-X .../cli.Version=...".
var Version = "dev"

// Env is what every subcommand gets: its streams, the environment and the
// resolved file locations.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Paths  config.Paths
}

// LoadConfig loads the configuration for this environment.
func (e *Env) LoadConfig() (config.Config, error) {
	return config.Load(e.Paths, e.Getenv)
}

type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands is the dispatch table. Each entry lives in its own file.
func commands() map[string]command {
	return map[string]command{
		"hook":       {"handle one Claude Code hook event (stdin JSON)", runHook},
		"version":    {"print the version", runVersion},
		"serve":      {"run the server: spool tailer, store, API and web UI", runServe},
		"connect":    {"add Vigil's hook to a project's Claude Code settings", runConnect},
		"disconnect": {"remove Vigil's hook from a project's Claude Code settings", runDisconnect},
		"projects":   {"list connected projects with event counts", runProjects},
		"enable":     {"switch recording on for a project (or --global)", runEnable},
		"disable":    {"switch recording off for a project (or --global)", runDisable},
		"start":      {"run vigil serve in the background", runStart},
		"stop":       {"stop the background vigil serve", runStop},
		"status":     {"show whether serve runs, with counts and spool backlog", runStatus},
		"doctor":     {"check the hook, serve, spool and clock, with fixes", runDoctor},
		"alerts":     {"show, count and acknowledge alerts (show, stats, ack)", runAlerts},
		"rules":      {"list, validate and test detection rules", runRules},
		"replay":     {"run raw hook payload files through the rules offline", runReplay},
		"query":      {"search stored events (flags and/or a LogQL query)", runQuery},
		"tail":       {"print the latest events; -f follows new ones", runTail},
		"verify":     {"check the store's hash chain and name the first bad row", runVerify},
	}
}

// ErrUsage marks a command-line mistake; Main exits 2 for it.
var ErrUsage = errors.New("usage error")

// Main runs Vigil and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := Run(ctx, args, stdin, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		fmt.Fprintln(stderr, "vigil:", err)
		return 2
	default:
		var ec *ExitError
		if errors.As(err, &ec) {
			if ec.Msg != "" {
				fmt.Fprintln(stderr, "vigil:", ec.Msg)
			}
			return ec.Code
		}
		fmt.Fprintln(stderr, "vigil:", err)
		return 1
	}
}

// ExitError asks Main for a specific exit code.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return fmt.Sprintf("exit %d: %s", e.Code, e.Msg) }

// Run is Vigil's real entry point.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	env.Paths = config.ResolvePaths(env.Getenv)
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return fmt.Errorf("%w: no command given", ErrUsage)
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("%w: unknown command %q", ErrUsage, args[0])
	}
	return c.run(ctx, env, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("vigil: security flight recorder for AI coding agents\n\nUsage: vigil COMMAND [flags]\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-12s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nRun 'vigil COMMAND -h' for a command's flags.\n")
	io.WriteString(w, b.String())
}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
func newFlagSet(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("vigil "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// parseFlags parses args, mapping flag errors to ErrUsage. Flags may follow
// positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

func runVersion(_ context.Context, env *Env, _ []string) error {
	fmt.Fprintln(env.Stdout, "vigil", Version)
	return nil
}
