package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/vigil-sec/vigil/internal/rules"
)

// runRules is `vigil rules list|validate|test`.
func runRules(ctx context.Context, env *Env, args []string) error {
	usage := "usage: vigil rules list [--format table|json] [--rules FILE...]\n" +
		"       vigil rules validate [FILE...]\n" +
		"       vigil rules test [--data FILE...]\n" +
		"       vigil rules export --loki-ruler [-o FILE]"
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, usage)
		return fmt.Errorf("%w: rules needs a subcommand: list, validate, test or export", ErrUsage)
	}
	switch args[0] {
	case "list", "ls":
		return runRulesList(env, args[1:])
	case "validate":
		return runRulesValidate(env, args[1:])
	case "test":
		return runRulesTest(env, args[1:])
	case "export":
		return runRulesExport(ctx, env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(env.Stdout, usage)
		return nil
	}
	fmt.Fprintln(env.Stderr, usage)
	return fmt.Errorf("%w: unknown rules subcommand %q", ErrUsage, args[0])
}

// stringsFlag collects a repeatable flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// loadRulesEngine loads the configured rules, plus extra files.
func loadRulesEngine(env *Env, extra []string, noDefaults bool) (*rules.Engine, error) {
	cfg, err := env.LoadConfig()
	if err != nil {
		return nil, err
	}
	rc := cfg.Rules
	rc.Files = append(append([]string(nil), rc.Files...), extra...)
	if noDefaults {
		rc.Defaults = false
	}
	eng, err := rules.Load(rc)
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	return eng, nil
}

func runRulesList(env *Env, args []string) error {
	fs := newFlagSet(env, "rules list")
	format := fs.String("format", "table", "output format: table or json")
	var files stringsFlag
	fs.Var(&files, "rules", "extra rule file (repeatable)")
	noDefaults := fs.Bool("no-defaults", false, "leave the built-in rules out")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	eng, err := loadRulesEngine(env, files, *noDefaults)
	if err != nil {
		return err
	}
	type row struct {
		ID          string   `json:"id"`
		Severity    string   `json:"severity"`
		Category    string   `json:"category"`
		Action      string   `json:"action"`
		Enabled     bool     `json:"enabled"`
		Kind        string   `json:"kind"`
		Tags        []string `json:"tags,omitempty"`
		Source      string   `json:"source"`
		Description string   `json:"description"`
	}
	var rows []row
	for _, r := range eng.Rules() {
		rows = append(rows, row{r.ID, r.Severity.String(), r.Category, r.Action, r.Enabled, r.Kind, r.Tags, r.Source, r.Description})
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(env.Stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	case "table":
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSEVERITY\tCATEGORY\tACTION\tENABLED\tSOURCE")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", r.ID, r.Severity, r.Category, r.Action, r.Enabled, r.Source)
		}
		return tw.Flush()
	}
	return fmt.Errorf("%w: --format must be table or json, got %q", ErrUsage, *format)
}

// runRulesValidate checks rule files (or, without arguments, the
// configured rules) and reports every problem with file:line, field and
// value; it exits 1 when there is any.
func runRulesValidate(env *Env, args []string) error {
	fs := newFlagSet(env, "rules validate")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var err error
	var n int
	if fs.NArg() == 0 {
		var eng *rules.Engine
		eng, err = loadRulesEngine(env, nil, false)
		if eng != nil {
			n = len(eng.Rules())
		}
	} else {
		var srcs []rules.Source
		for _, f := range fs.Args() {
			b, rerr := os.ReadFile(f)
			if rerr != nil {
				err = errors.Join(err, fmt.Errorf("read %s: %w", f, rerr))
				continue
			}
			srcs = append(srcs, rules.Source{Name: f, Data: b})
		}
		if err == nil {
			err = rules.Validate(srcs...)
			if err == nil {
				eng, lerr := rules.Load(rulesConfigNone(), rules.WithSources(srcs...))
				if lerr != nil {
					err = lerr
				} else {
					n = len(eng.Rules())
				}
			}
		}
	}
	if err != nil {
		var les rules.LoadErrors
		if errors.As(err, &les) {
			for _, e := range les {
				fmt.Fprintln(env.Stderr, e.Error())
			}
			return &ExitError{Code: 1, Msg: fmt.Sprintf("%d problem(s) found", len(les))}
		}
		return &ExitError{Code: 1, Msg: err.Error()}
	}
	fmt.Fprintf(env.Stdout, "ok: %d rules\n", n)
	return nil
}

// runRulesTest runs rule test files (events in, matches out); without
// --data it runs the built-in tests of the default set against the
// configured rules, which shows whether local files broke them.
func runRulesTest(env *Env, args []string) error {
	fs := newFlagSet(env, "rules test")
	var data stringsFlag
	fs.Var(&data, "data", "rule test file (repeatable); default: the built-in tests")
	verbose := fs.Bool("v", false, "print every case, not only failures")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	data = append(data, fs.Args()...)
	cfg, err := env.LoadConfig()
	if err != nil {
		return err
	}
	var srcs []rules.Source
	if len(data) == 0 {
		srcs = rules.DefaultTests()
	}
	for _, f := range data {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read rule test file: %w", err)
		}
		srcs = append(srcs, rules.Source{Name: f, Data: b})
	}
	total, failed := 0, 0
	for _, src := range srcs {
		res, err := rules.RunTestFile(src, cfg.Rules)
		if err != nil {
			return err
		}
		for _, r := range res {
			total++
			if r.Passed() {
				if *verbose {
					fmt.Fprintf(env.Stdout, "PASS %s: %s\n", r.File, r.Name)
				}
				continue
			}
			failed++
			fmt.Fprintf(env.Stdout, "FAIL %s: %s\n", r.File, r.Name)
			for _, f := range r.Failures {
				fmt.Fprintf(env.Stdout, "  %s\n", f)
			}
			if len(r.Got) > 0 {
				fmt.Fprintf(env.Stdout, "  matches:\n    %s\n", strings.Join(r.Got, "\n    "))
			}
		}
	}
	fmt.Fprintf(env.Stdout, "%d/%d rule tests passed\n", total-failed, total)
	if failed > 0 {
		return &ExitError{Code: 1, Msg: fmt.Sprintf("%d rule test(s) failed", failed)}
	}
	return nil
}
