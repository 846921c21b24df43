package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/query"
	"github.com/vigil-sec/vigil/internal/store"
)

const queryUsage = `Usage: vigil query [flags] [LOGQL]

Searches the local store. Flags and the optional LogQL query combine (all
must hold). The store is opened read-only, so this works while serve runs.

Examples:
  vigil query --project shop --tool Bash --text curl --since 2h
  vigil query '{project="shop", tool="Bash"} |= "curl"'
  vigil query --since 1d '{event=~"file_.*"} | json | security_flags_outside_project_scope="true"'
  vigil query --format json --limit 0 > events.ndjson

Flags:`

func runQuery(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "query")
	var qf queryFlags
	qf.register(fs)
	limit := fs.Int("limit", 100, "show at most `N` events (0: all)")
	format := fs.String("format", "table", "output `format`: table, json (one stored event line each) or csv")
	order := fs.String("order", "newest", "`order`: newest or oldest first")
	lokiURL := fs.String("loki", "", "run the LogQL query on the Loki at `URL` (query_range) instead of the local store")
	fs.Usage = func() { fmt.Fprintln(env.Stderr, queryUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if *limit < 0 {
		return fmt.Errorf("%w: --limit must be >= 0", ErrUsage)
	}
	if *lokiURL != "" {
		return runQueryLoki(ctx, env, *lokiURL, &qf, fs.Args(), *limit, *format, *order)
	}
	f, cfgPath, err := qf.filter(env, fs.Args())
	if err != nil {
		return err
	}
	switch *order {
	case "newest":
	case "oldest":
		f.Order = store.OldestFirst
	default:
		return fmt.Errorf("%w: --order must be newest or oldest, got %q", ErrUsage, *order)
	}
	f.Limit = *limit
	s, err := openStoreReadOnly(cfgPath)
	if err != nil {
		return err
	}
	defer s.Close()
	rows, err := s.Query(ctx, f)
	if err != nil {
		return err
	}
	w := newEventWriter(env.Stdout, *format)
	for i := range rows {
		if err := w.write(&rows[i]); err != nil {
			return err
		}
	}
	return w.flush()
}

// queryFlags are the filter flags query and tail share.
type queryFlags struct {
	fl    query.Flags
	flags struct{ outside, sensitive, redacted triBool }
	db    string
}

func (q *queryFlags) register(fs *flag.FlagSet) {
	fs.Var((*listFlag)(&q.fl.Projects), "project", "only this `project` (repeat or comma-separate for several)")
	fs.Var((*listFlag)(&q.fl.Sessions), "session", "only this session `id`")
	fs.Var((*listFlag)(&q.fl.Tools), "tool", "only this `tool` (Bash, Read, mcp__github__get_issue …)")
	fs.Var((*listFlag)(&q.fl.EventTypes), "event-type", "only this event `type` (command_execution, file_read …)")
	fs.Var((*listFlag)(&q.fl.HookEvents), "hook-event", "only this hook `event` (PreToolUse, Stop …)")
	fs.Var(&q.flags.outside, "outside-scope", "only events touching paths outside the project (=false: only inside)")
	fs.Var(&q.flags.sensitive, "sensitive", "only events touching sensitive paths (=false: none)")
	fs.Var(&q.flags.redacted, "redacted", "only events where secrets were redacted (=false: none)")
	fs.Var((*listFlag)(&q.fl.Text), "text", "only events whose JSON line contains `text` (case-sensitive; repeat: all must match)")
	fs.StringVar(&q.fl.Since, "since", "", "only events of the last `duration` (90m, 2h, 7d)")
	fs.StringVar(&q.fl.From, "from", "", "only events at or after `time` (RFC 3339, 2026-11-23 or '2026-11-23 14:00' local)")
	fs.StringVar(&q.fl.To, "to", "", "only events before `time`")
	fs.StringVar(&q.db, "db", "", "store `file` (default: the configured store)")
}

// filter builds the store filter from the flags and the positional LogQL
// query, and returns the store path to open.
func (q *queryFlags) filter(env *Env, args []string) (store.Filter, string, error) {
	cfg, err := env.LoadConfig()
	if err != nil {
		return store.Filter{}, "", err
	}
	q.fl.OutsideScope, q.fl.Sensitive, q.fl.Redacted = q.flags.outside.ptr(), q.flags.sensitive.ptr(), q.flags.redacted.ptr()
	f, err := q.fl.Filter(time.Now(), time.Local)
	if err != nil {
		return f, "", fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if len(args) > 0 {
		lf, err := query.Parse(strings.Join(args, " "), query.Options{Service: cfg.Loki.Service})
		if err != nil {
			return f, "", fmt.Errorf("%w: %v", ErrUsage, err)
		}
		f = query.Merge(f, lf)
	}
	path := cfg.Store.Path
	if q.db != "" {
		path = q.db
	}
	return f, path, nil
}

// openStoreReadOnly opens the store for reading, with a helpful message
// when there is none yet.
func openStoreReadOnly(path string) (*store.Store, error) {
	s, err := store.Open(path, store.Options{ReadOnly: true, Readers: 2})
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no store at %s yet: start `vigil serve` (or `vigil start`) so it ingests the spool", path)
	}
	return s, err
}

func checkFormat(f string) error {
	switch f {
	case "table", "json", "csv":
		return nil
	}
	return fmt.Errorf("%w: --format must be table, json or csv, got %q", ErrUsage, f)
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// triBool is a boolean flag that can also be unset.
type triBool struct {
	set, val bool
}

func (b *triBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.val)
}

func (b *triBool) Set(v string) error {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", v)
	}
	b.set, b.val = true, x
	return nil
}

func (b *triBool) IsBoolFlag() bool { return true }

func (b *triBool) ptr() *bool {
	if !b.set {
		return nil
	}
	v := b.val
	return &v
}

// eventWriter prints rows as a table, JSON lines or CSV.
type eventWriter struct {
	format string
	out    io.Writer
	tw     *tabwriter.Writer
	cw     *csv.Writer
	header bool
}

func newEventWriter(out io.Writer, format string) *eventWriter {
	w := &eventWriter{format: format, out: out}
	switch format {
	case "table":
		w.tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	case "csv":
		w.cw = csv.NewWriter(out)
	}
	return w
}

func (w *eventWriter) write(r *store.Row) error {
	switch w.format {
	case "json":
		if _, err := w.out.Write(r.JSON); err != nil {
			return err
		}
		_, err := io.WriteString(w.out, "\n")
		return err
	case "csv":
		if !w.header {
			w.header = true
			if err := w.cw.Write([]string{"seq", "id", "timestamp", "project", "session_id", "host", "user", "hook_event",
				"tool_name", "event_type", "outside_scope", "sensitive", "redacted", "decision", "summary"}); err != nil {
				return err
			}
		}
		return w.cw.Write([]string{strconv.FormatInt(r.Seq, 10), r.ID, r.Time.Format(time.RFC3339Nano), r.Project,
			r.SessionID, r.Host, r.User, r.HookEvent, r.ToolName, r.EventType, strconv.FormatBool(r.OutsideScope),
			strconv.FormatBool(r.Sensitive), strconv.FormatBool(r.Redacted), r.Decision, summary(r.JSON, 0)})
	}
	if !w.header {
		w.header = true
		fmt.Fprintln(w.tw, "TIME\tPROJECT\tSESSION\tHOOK\tTOOL\tFLAGS\tSUMMARY")
	}
	tool := r.ToolName
	if tool == "" {
		tool = r.EventType
	}
	_, err := fmt.Fprintf(w.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.Local().Format("2006-01-02 15:04:05"),
		r.Project, shortSession(r.SessionID), r.HookEvent, tool, flagsOf(r), summary(r.JSON, 100))
	return err
}

func (w *eventWriter) flush() error {
	switch {
	case w.tw != nil:
		return w.tw.Flush()
	case w.cw != nil:
		w.cw.Flush()
		return w.cw.Error()
	}
	return nil
}

func shortSession(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

// flagsOf renders the security flags compactly: O outside scope, S
// sensitive, R redacted, and the decision when it is not allow.
func flagsOf(r *store.Row) string {
	var b strings.Builder
	if r.OutsideScope {
		b.WriteByte('O')
	}
	if r.Sensitive {
		b.WriteByte('S')
	}
	if r.Redacted {
		b.WriteByte('R')
	}
	if r.Decision != "" && r.Decision != event.DecisionAllow {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r.Decision)
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// summary is the one thing worth showing about an event: its command,
// path, URL, prompt … on one line, cut to max runes (0: no cut).
func summary(line []byte, max int) string {
	var e event.Event
	if err := json.Unmarshal(line, &e); err != nil {
		return ""
	}
	a := e.Action
	var s string
	switch {
	case e.HookError != nil:
		s = "hook error: " + e.HookError.Reason
	case a.Command != "":
		s = a.Command
	case a.FilePath != "":
		s = a.FilePath
	case a.URL != "":
		s = a.URL
	case a.Pattern != "":
		s = a.Pattern
	case a.Query != "":
		s = a.Query
	case a.Prompt != "":
		s = a.Prompt
	case a.MCPServer != "":
		s = a.MCPServer + "/" + a.MCPTool
	case a.Message != "":
		s = a.Message
	case a.Source != "" || a.Reason != "":
		s = a.Source + a.Reason
	}
	if e.Outcome != nil && !e.Outcome.Success && e.Outcome.Error != "" {
		s += " → " + e.Outcome.Error
	}
	s = strings.Join(strings.Fields(s), " ")
	if max > 0 && utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max-1]) + "…"
	}
	return s
}
