package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

// replayAlert is one line of `vigil replay` output.
type replayAlert struct {
	Rule      string            `json:"rule"`
	Severity  string            `json:"severity"`
	Category  string            `json:"category"`
	Tags      []string          `json:"tags,omitempty"`
	Action    string            `json:"action"`
	SessionID string            `json:"session_id"`
	Project   string            `json:"project,omitempty"`
	EventID   string            `json:"event_id"`
	AlertID   string            `json:"alert_id"`
	File      string            `json:"file"`
	Line      int               `json:"line"`
	Summary   string            `json:"summary"`
	Context   map[string]string `json:"context,omitempty"`
}

func rulesConfigNone() config.Rules { return config.Rules{} }

// runReplay is `vigil replay FILE...`: raw hook payloads, one per line,
// through normalisation, the rules and the alert policy (dedup, cooldown,
// escalation, rate limit; no channels). It prints each new alert.
func runReplay(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "replay")
	format := fs.String("format", "json", "output format: json (one alert per line) or table")
	var ruleFiles stringsFlag
	fs.Var(&ruleFiles, "rules", "rule file to use in addition to the configured ones (repeatable)")
	noDefaults := fs.Bool("no-defaults", false, "leave the built-in rules out")
	score := fs.String("score", "", "labels.json of a labelled corpus: print the score table")
	quiet := fs.Bool("q", false, "do not print alerts (with --score: only the table)")
	all := fs.Bool("all", false, "print every match, not only the first of each alert (dedup still counts them)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: replay needs at least one FILE (or directory of .jsonl files)", ErrUsage)
	}
	if *format != "json" && *format != "table" {
		return fmt.Errorf("%w: --format must be json or table, got %q", ErrUsage, *format)
	}
	files, err := replayFiles(fs.Args())
	if err != nil {
		return err
	}
	cfg, err := env.LoadConfig()
	if err != nil {
		return err
	}
	rc := cfg.Rules
	rc.Files = append(append([]string(nil), rc.Files...), ruleFiles...)
	if *noDefaults {
		rc.Defaults = false
	}
	eng, err := rules.Load(rc)
	if err != nil {
		return fmt.Errorf("load rules: %w", err)
	}
	acfg := cfg.Alerts
	for _, sf := range eng.SeedFiles() {
		b, err := os.ReadFile(sf.Path)
		if err != nil {
			return fmt.Errorf("read seed rule file: %w", err)
		}
		if acfg, err = alert.FromSeed(b, acfg, env.Paths.DataDir); err != nil {
			return fmt.Errorf("seed rule file %s: %w", sf.Path, err)
		}
	}
	col := alert.NewCollector(acfg, nil)
	rp := rules.NewReplayer(eng, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))

	var tw *tabwriter.Writer
	if *format == "table" && !*quiet {
		tw = tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FILE:LINE\tSEVERITY\tRULE\tCATEGORY\tSESSION\tSUMMARY")
	}
	enc := json.NewEncoder(env.Stdout)
	var scored []rules.ScoredAlert
	lines, bad, alerts := 0, 0, 0
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		fh, err := os.Open(f)
		if err != nil {
			fmt.Fprintf(env.Stderr, "vigil replay: %v\n", err)
			bad++
			continue
		}
		err = rp.Run(f, fh, func(l rules.ReplayLine) {
			lines++
			if l.Err != nil {
				bad++
				fmt.Fprintf(env.Stderr, "%s:%d: skipped: %v\n", l.File, l.Line, l.Err)
				return
			}
			for _, m := range l.Matches {
				a, isNew, _ := col.Handle(m)
				if isNew {
					alerts++
					scored = append(scored, rules.ScoredAlert{File: l.File, Line: l.Line, Severity: m.Severity, Category: m.Category})
				}
				if !isNew && !*all {
					continue
				}
				if *quiet {
					continue
				}
				ra := replayAlert{Rule: m.RuleID, Severity: m.Severity.String(), Category: m.Category, Tags: m.Tags,
					Action: m.Action, SessionID: m.SessionID, Project: m.Project, EventID: m.EventID, AlertID: a.ID,
					File: l.File, Line: l.Line, Summary: m.Summary, Context: m.Context}
				if tw != nil {
					fmt.Fprintf(tw, "%s:%d\t%s\t%s\t%s\t%s\t%s\n", filepath.Base(l.File), l.Line, ra.Severity, ra.Rule, ra.Category, shortID(ra.SessionID), oneLine(ra.Summary, 100))
					continue
				}
				enc.Encode(ra)
			}
		})
		fh.Close()
		if err != nil {
			fmt.Fprintf(env.Stderr, "vigil replay: %v\n", err)
			bad++
		}
	}
	col.Flush()
	if tw != nil {
		tw.Flush()
	}
	fmt.Fprintf(env.Stderr, "replayed %d lines from %d files: %d alerts, %d lines skipped\n", lines, len(files), alerts, bad)
	if *score != "" {
		b, err := os.ReadFile(*score)
		if err != nil {
			return fmt.Errorf("read labels: %w", err)
		}
		var labels map[string]rules.Label
		if err := json.Unmarshal(b, &labels); err != nil {
			return fmt.Errorf("labels %s: %w", *score, err)
		}
		if !*quiet {
			fmt.Fprintln(env.Stdout)
		}
		rules.ScoreCorpus(labels, scored).Write(env.Stdout)
	}
	return nil
}

// replayFiles expands directories into their .jsonl files, sorted.
func replayFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		ms, err := filepath.Glob(filepath.Join(a, "*.jsonl"))
		if err != nil {
			return nil, err
		}
		sort.Strings(ms)
		out = append(out, ms...)
	}
	return out, nil
}

func shortID(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
