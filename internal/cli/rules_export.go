package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/vigil-sec/vigil/internal/loki"
	"github.com/vigil-sec/vigil/internal/rules"
)

const rulesExportUsage = `Usage: vigil rules export --loki-ruler [flags]

Translates the configured rules (built-in set, rules.files, minus
rules.disabled) that LogQL can express into Loki ruler alerting rule
groups (YAML) over the events the Loki forwarder pushes. Rules it cannot
translate are listed, with the reason, at the top of the output and
counted on stderr. Put the file where Loki's ruler reads rules:
<rules_directory>/<tenant>/vigil.yaml (tenant "fake" without auth).

Flags:`

// runRulesExport is `vigil rules export --loki-ruler`.
func runRulesExport(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "rules export")
	ruler := fs.Bool("loki-ruler", false, "export Loki ruler alerting rules (the only format so far)")
	var files stringsFlag
	fs.Var(&files, "rules", "extra rule `file` (repeatable)")
	noDefaults := fs.Bool("no-defaults", false, "leave the built-in rules out")
	service := fs.String("service", "", "service `label` of the pushed streams (default: loki.service)")
	window := fs.Duration("window", 5*time.Minute, "`range` plain rules count over: an alert fires while a matching event is this recent")
	interval := fs.Duration("interval", time.Minute, "rule group evaluation `interval`")
	out := fs.String("o", "", "write to `file` instead of stdout")
	fs.Usage = func() { fmt.Fprintln(env.Stderr, rulesExportUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !*ruler {
		fs.Usage()
		return fmt.Errorf("%w: rules export needs --loki-ruler", ErrUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	cfg, err := env.LoadConfig()
	if err != nil {
		return err
	}
	var src []loki.RuleFile
	if cfg.Rules.Defaults && !*noDefaults {
		for _, s := range rules.DefaultSources() {
			src = append(src, loki.RuleFile{Name: s.Name, Data: s.Data})
		}
	}
	for _, f := range append(append([]string(nil), cfg.Rules.Files...), files...) {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read rule file: %w", err)
		}
		src = append(src, loki.RuleFile{Name: f, Data: b})
	}
	// Reject files Vigil itself would not load, with its error messages.
	var rs []rules.Source
	for _, f := range src {
		rs = append(rs, rules.Source{Name: f.Name, Data: f.Data})
	}
	if err := rules.Validate(rs...); err != nil {
		return fmt.Errorf("invalid rules: %w", err)
	}
	svc := cfg.Loki.Service
	if *service != "" {
		svc = *service
	}
	x, err := loki.ExportRuler(src, loki.RulerOptions{Service: svc, Window: *window, Interval: *interval, Disabled: cfg.Rules.Disabled})
	if err != nil {
		return err
	}
	b, err := x.YAML()
	if err != nil {
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
	} else if _, err := env.Stdout.Write(b); err != nil {
		return err
	}
	n := 0
	for _, g := range x.Groups.Groups {
		n += len(g.Rules)
	}
	fmt.Fprintf(env.Stderr, "exported %d rules for the Loki ruler; %d not translatable (listed at the top of the output)\n", n, len(x.Untranslated))
	return nil
}
