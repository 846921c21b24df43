package hook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/project"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/spool"
)

// Main is `vigil hook` (and the lean `vigil-hook` binary): it wires the
// hook from the environment and runs it once. It always returns: the
// decision, if any, is on stdout and diagnostics go to the hook log. This
// package links only what the hook needs, so a binary built around it
// starts in a fraction of the full binary's time.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) {
	// One short-lived process per event: collecting garbage only costs
	// time (on a 2 MB payload a fifth of the run). The memory limit still
	// makes the runtime collect if an input ever gets near it.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(512 << 20)
	paths := config.ResolvePaths(getenv)
	logf := &LogFile{Path: filepath.Join(paths.LogDir, "hook.log"), MaxBytes: 10 << 20}
	defer logf.Close()
	log := slog.New(slog.NewJSONHandler(logf, nil)).With("component", "hook", "pid", os.Getpid())
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stderr, "usage: vigil hook < payload.json   (run by Claude Code for every hook event)")
		return
	}
	cfg, err := config.Load(paths, getenv)
	if err != nil {
		// A broken config must not break the agent: record with defaults.
		log.Error("config invalid; hook running with defaults", "err", err.Error())
		cfg = config.Default(paths)
	}
	host, _ := os.Hostname()
	norm := event.NewNormalizer(event.Options{
		Host:        host,
		User:        currentUser(getenv),
		ProjectDir:  getenv("CLAUDE_PROJECT_DIR"),
		Home:        getenv("HOME"),
		MaxField:    cfg.Hook.MaxFieldBytes,
		ProjectName: projectNamer(paths, log),
	})
	enrich, decide := ruleHooks(cfg, log)
	if cfg.Hook.Enforcement != config.ModeEnforce {
		// Monitor mode blocks nothing, so the hook does not pay for
		// compiling the rule set on every PreToolUse: serve records the
		// would-block decision when it ingests the event (see
		// ingest.Options.Annotate). Written content is still scanned
		// here, because only the hook ever sees it.
		decide = nil
	}
	Run(ctx, Options{
		Normalizer:  norm,
		Spool:       &spool.Writer{Dir: cfg.Spool.Dir, Fsync: cfg.Spool.Fsync == config.FsyncAlways},
		Disabled:    func(dir string) bool { off, _ := project.Disabled(paths, dir); return off },
		Enforcement: cfg.Hook.Enforcement,
		FailMode:    cfg.Hook.FailMode,
		MaxInput:    cfg.Hook.MaxInputBytes,
		Log:         log,
		Enrich:      enrich,
		Decide:      decide,
	}, stdin, stdout)
}

func currentUser(getenv func(string) string) string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if u := getenv(k); u != "" {
			return u
		}
	}
	return fmt.Sprintf("uid:%d", os.Getuid())
}

// projectNamer maps a project dir to its registered name; the registry is
// read lazily, only when an event needs a name.
func projectNamer(paths config.Paths, log *slog.Logger) func(string) (string, bool) {
	var reg *project.Registry
	return func(dir string) (string, bool) {
		if reg == nil {
			r, err := project.LoadRegistry(paths.RegistryFile)
			if err != nil {
				log.Warn("project registry unreadable; using folder names", "err", err.Error())
				r = &project.Registry{}
			}
			reg = r
		}
		return reg.NameFor(dir)
	}
}

// ruleHooks gives the hook its rule-based enrichment and decision. Each
// engine is compiled only when an event needs it: content scanning needs
// the whole default set, a decision only the rules that block or ask
// (rules.WithDecidersOnly), unless the whole set is already loaded.
func ruleHooks(cfg config.Config, log *slog.Logger) (enrich func(*event.Event, []byte), decide Decider) {
	var whole *rules.Engine
	loader := func(what string, opts ...rules.Option) func() (*rules.Engine, error) {
		return sync.OnceValues(func() (*rules.Engine, error) {
			e, err := rules.Load(cfg.Rules, opts...)
			if err != nil {
				log.Error("rules failed to load; "+what, "err", err.Error())
			}
			return e, err
		})
	}
	loadWhole := loader("written content not scanned")
	loadDeciders := loader("no PreToolUse decisions", rules.WithDecidersOnly())
	enrich = func(ev *event.Event, raw []byte) {
		text, old, ok := writtenContent(raw, ev.ToolName)
		if !ok {
			return
		}
		e, err := loadWhole()
		if err != nil {
			return
		}
		whole = e
		ev.Action.ContentFacts = rules.ToEventFacts(e.ScanContent(ev, text, old))
	}
	decide = func(ev *event.Event) (*event.Decision, error) {
		e := whole
		if e == nil {
			var err error
			if e, err = loadDeciders(); err != nil {
				return nil, err
			}
		}
		action, m := e.DecideInput(rules.Input{Event: ev, Content: rules.FromEventFacts(ev.Action.ContentFacts)})
		return decision(action, m), nil
	}
	return enrich, decide
}

// writtenContent extracts the text a Write, Edit, MultiEdit or
// NotebookEdit payload puts into a file, and what an Edit replaces. The
// hook analyses it and then discards it; only the facts are kept.
func writtenContent(raw []byte, tool string) (text, old string, ok bool) {
	switch tool {
	case "Write", "Edit", "MultiEdit", "NotebookEdit":
	default:
		return "", "", false
	}
	var p struct {
		ToolInput struct {
			Content   string `json:"content"`
			NewString string `json:"new_string"`
			OldString string `json:"old_string"`
			NewSource string `json:"new_source"`
			Edits     []struct {
				OldString string `json:"old_string"`
				NewString string `json:"new_string"`
			} `json:"edits"`
		} `json:"tool_input"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return "", "", false
	}
	in := p.ToolInput
	switch tool {
	case "Write":
		return in.Content, "", true
	case "Edit":
		return in.NewString, in.OldString, true
	case "NotebookEdit":
		return in.NewSource, "", true
	}
	var news, olds []string
	for _, e := range in.Edits {
		news = append(news, e.NewString)
		olds = append(olds, e.OldString)
	}
	return strings.Join(news, "\n"), strings.Join(olds, "\n"), true
}

// decision maps a rule engine verdict to the event's decision.
func decision(action string, m *rules.Match) *event.Decision {
	if m == nil {
		return nil
	}
	d := &event.Decision{Rule: m.RuleID, Reason: m.Description}
	if m.Summary != "" {
		d.Reason = m.Description + " (" + m.Summary + ")"
	}
	switch action {
	case rules.ActionBlock:
		d.Action = event.DecisionDeny
	case rules.ActionAsk:
		d.Action = event.DecisionAsk
	default:
		return nil
	}
	return d
}
