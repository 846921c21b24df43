package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/store"
)

// runAlerts is `vigil alerts show|stats|ack`: it reads and acks the alerts
// serve stored, straight from the store's database file (WAL mode lets it
// do so while serve runs).
func runAlerts(ctx context.Context, env *Env, args []string) error {
	usage := "usage: vigil alerts show [--limit N --severity SEV --since DUR --project P --session S --rule R --status open|acked --format table|json]\n" +
		"       vigil alerts stats [--days N --format table|json]\n" +
		"       vigil alerts ack ID [--by NAME]"
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, usage)
		return fmt.Errorf("%w: alerts needs a subcommand: show, stats or ack", ErrUsage)
	}
	switch args[0] {
	case "show", "list":
		return runAlertsShow(ctx, env, args[1:])
	case "stats":
		return runAlertsStats(ctx, env, args[1:])
	case "ack":
		return runAlertsAck(ctx, env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(env.Stdout, usage)
		return nil
	}
	fmt.Fprintln(env.Stderr, usage)
	return fmt.Errorf("%w: unknown alerts subcommand %q", ErrUsage, args[0])
}

// openAlertStore opens the configured store; readOnly for show and stats.
// ok is false (with a message printed) when nothing was stored yet.
func openAlertStore(env *Env, readOnly bool) (*store.Store, bool, error) {
	cfg, err := env.LoadConfig()
	if err != nil {
		return nil, false, err
	}
	if _, err := os.Stat(cfg.Store.Path); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(env.Stderr, "no alerts: the store %s does not exist yet (is `vigil serve` running?)\n", cfg.Store.Path)
		return nil, false, nil
	}
	s, err := store.Open(cfg.Store.Path, store.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, false, err
	}
	return s, true, nil
}

// parseAlertSince accepts a duration back from now (90m, 24h, 7d) or a time
// (RFC 3339 or YYYY-MM-DD, UTC).
func parseAlertSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateTime, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: --since %q: want a duration (90m, 24h, 7d) or a time (2026-11-20, RFC 3339)", ErrUsage, s)
}

func checkAlertFormat(f string) error {
	if f != "table" && f != "json" {
		return fmt.Errorf("%w: --format %q: want table or json", ErrUsage, f)
	}
	return nil
}

func runAlertsShow(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "alerts show")
	limit := fs.Int("limit", 50, "show at most N alerts, newest first")
	sev := fs.String("severity", "", "minimum severity: LOW, MEDIUM, HIGH or CRITICAL")
	since := fs.String("since", "", "only alerts seen since: a duration (24h, 7d) or a time (2026-11-20)")
	proj := fs.String("project", "", "only this project")
	sess := fs.String("session", "", "only this session id")
	rule := fs.String("rule", "", "only this rule id")
	status := fs.String("status", "", "only open or acked alerts")
	format := fs.String("format", "table", "table or json (one alert per line)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: alerts show takes no arguments", ErrUsage)
	}
	if err := checkAlertFormat(*format); err != nil {
		return err
	}
	f := store.AlertFilter{Limit: *limit, Project: *proj, Session: *sess, Rule: *rule, Status: *status}
	if *limit < 1 {
		return fmt.Errorf("%w: --limit must be at least 1", ErrUsage)
	}
	if *status != "" && *status != alert.StatusOpen && *status != alert.StatusAcked {
		return fmt.Errorf("%w: --status %q: want open or acked", ErrUsage, *status)
	}
	if *sev != "" {
		s, err := rules.ParseSeverity(*sev)
		if err != nil {
			return fmt.Errorf("%w: --severity: %v", ErrUsage, err)
		}
		f.MinSeverity = s
	}
	var err error
	if f.Since, err = parseAlertSince(*since, time.Now()); err != nil {
		return err
	}
	s, ok, err := openAlertStore(env, true)
	if err != nil || !ok {
		return err
	}
	defer s.Close()
	as, err := s.Alerts(ctx, f)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		for _, a := range as {
			if err := enc.Encode(a); err != nil {
				return err
			}
		}
		return nil
	}
	if len(as) == 0 {
		fmt.Fprintln(env.Stdout, "no alerts match")
		return nil
	}
	writeAlertTable(env.Stdout, as)
	return nil
}

func writeAlertTable(w io.Writer, as []alert.Alert) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tRULE\tCOUNT\tLAST SEEN\tPROJECT\tSESSION\tSTATUS\tSUMMARY")
	for _, a := range as {
		sev := a.Severity.String()
		if a.Escalated {
			sev += "↑"
		}
		st := a.Status
		if a.Status == alert.StatusAcked && a.AckedBy != "" {
			st += " (" + a.AckedBy + ")"
		}
		sum := a.Summary
		if sum == "" {
			sum = a.Description
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", a.ID, sev, a.Rule, a.Count,
			a.LastSeen.Local().Format(time.DateTime), alertDash(a.Project), alertDash(alertClip(a.SessionID, 12)), st, alertClip(alertOneLine(sum), 60))
	}
	tw.Flush()
}

func alertDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func alertClip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func alertOneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func runAlertsStats(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "alerts stats")
	days := fs.Int("days", 7, "count alerts first seen in the last N days")
	format := fs.String("format", "table", "table or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: alerts stats takes no arguments", ErrUsage)
	}
	if *days < 1 {
		return fmt.Errorf("%w: --days must be at least 1", ErrUsage)
	}
	if err := checkAlertFormat(*format); err != nil {
		return err
	}
	s, ok, err := openAlertStore(env, true)
	if err != nil || !ok {
		return err
	}
	defer s.Close()
	// Whole UTC days: today plus the N-1 before it.
	now := time.Now().UTC()
	since := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(*days - 1))
	st, err := s.AlertStats(ctx, since)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	w := env.Stdout
	fmt.Fprintf(w, "Alerts since %s (%d days, UTC): %d alerts, %d occurrences, %d open, %d escalated\n",
		since.Format(time.DateOnly), *days, st.Alerts, st.Occurrences, st.Open, st.Escalated)
	for _, g := range []struct {
		title string
		rows  []store.AlertCount
	}{{"SEVERITY", st.BySeverity}, {"CATEGORY", st.ByCategory}, {"RULE", st.ByRule}, {"DAY", st.ByDay}} {
		if len(g.rows) == 0 {
			continue
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\tALERTS\tOCCURRENCES\n", g.title)
		for _, r := range g.rows {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", alertDash(r.Key), r.Alerts, r.Occurrences)
		}
		tw.Flush()
	}
	return nil
}

func runAlertsAck(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "alerts ack")
	by := fs.String("by", "", "who acknowledges (default $USER)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: alerts ack needs exactly one alert ID (or a unique prefix of 8+ characters)", ErrUsage)
	}
	name := *by
	if name == "" {
		name = env.Getenv("USER")
	}
	if name == "" {
		name = "cli"
	}
	s, ok, err := openAlertStore(env, false)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("alert %s: %w", fs.Arg(0), store.ErrNotFound)
	}
	defer s.Close()
	a, err := s.AckAlert(ctx, fs.Arg(0), name, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "acked %s (%s %s, %d occurrences) by %s at %s\n", a.ID, a.Severity, a.Rule, a.Count, a.AckedBy, a.AckedAt.Local().Format(time.DateTime))
	return nil
}
