package cli

import (
	"log/slog"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/hook"
	"github.com/vigil-sec/vigil/internal/project"
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

// hookDecider returns the PreToolUse rule evaluation. Wired to
// internal/rules when the engine lands.
func hookDecider(env *Env, cfg config.Config, log *slog.Logger) hook.Decider {
	return nil
}
