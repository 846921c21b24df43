package cli

import (
	"log/slog"
	"sync"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/hook"
	"github.com/vigil-sec/vigil/internal/project"
	"github.com/vigil-sec/vigil/internal/rules"
)

// projectNamer maps a project dir to its registered name; the registry is
// read lazily, only when an event needs a name.
func projectNamer(env *Env, log *slog.Logger) func(string) (string, bool) {
	var reg *project.Registry
	return func(dir string) (string, bool) {
		if reg == nil {
			r, err := project.LoadRegistry(env.Paths.RegistryFile)
			if err != nil {
				log.Warn("project registry unreadable; using folder names", "err", err.Error())
				r = &project.Registry{}
			}
			reg = r
		}
		return reg.NameFor(dir)
	}
}

// disabledCheck reports whether recording is off for a project: the global
// switch or the project's marker.
func disabledCheck(env *Env) func(string) bool {
	return func(dir string) bool {
		off, _ := project.Disabled(env.Paths, dir)
		return off
	}
}

// hookRules gives the hook its rule-based enrichment and decision. The
// engine is compiled only when a PreToolUse event needs it.
func hookRules(cfg config.Config, log *slog.Logger) (enrich func(*event.Event, []byte), decide hook.Decider) {
	load := sync.OnceValues(func() (*rules.Engine, error) {
		e, err := rules.Load(cfg.Rules)
		if err != nil {
			log.Error("rules failed to load; no PreToolUse decisions", "err", err.Error())
		}
		return e, err
	})
	enrich = func(ev *event.Event, raw []byte) {
		text, old, ok := writtenContent(raw, ev.ToolName)
		if !ok {
			return
		}
		e, err := load()
		if err != nil {
			return
		}
		ev.Action.ContentFacts = toEventFacts(e.ScanContent(ev, text, old))
	}
	decide = func(ev *event.Event) (*event.Decision, error) {
		e, err := load()
		if err != nil {
			return nil, err
		}
		action, m := e.DecideInput(rules.Input{Event: ev, Content: toRuleFacts(ev.Action.ContentFacts)})
		return decision(action, m), nil
	}
	return enrich, decide
}
