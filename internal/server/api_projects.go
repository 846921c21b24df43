package server

import (
	"errors"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/project"
)

// Project statuses shown by the UI.
const (
	projConnected    = "connected"    // every hook event runs Vigil
	projPartial      = "partial"      // some hook events are missing
	projMissing      = "missing"      // the settings file or its hooks are gone
	projDisabled     = "disabled"     // the off switch is on
	projUnregistered = "unregistered" // events arrive but the project is not in the registry
)

type projectJSON struct {
	Name         string     `json:"name"`
	Dir          string     `json:"dir"`
	Status       string     `json:"status"`
	Note         string     `json:"note,omitempty"`
	ConnectedAt  *time.Time `json:"connected_at,omitempty"`
	LastActivity *time.Time `json:"last_activity,omitempty"`
	Sessions     int64      `json:"sessions"`
	Events       int64      `json:"events"`
}

// handleProjects is GET /api/v1/projects: the registry of connected
// projects, each with the state of its hooks, joined with the activity the
// store has seen (also for projects that send events but are not
// registered here, e.g. remote hosts).
func (s *Server) handleProjects(w http.ResponseWriter, r *http.Request) {
	reg, err := project.LoadRegistry(s.o.Paths.RegistryFile)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "projects: %v", err)
		return
	}
	act, err := s.o.Store.ProjectsActivity(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "projects: %v", err)
		return
	}
	out := []projectJSON{}
	seen := map[string]int{}
	for _, p := range reg.Projects {
		pj := projectJSON{Name: p.Name, Dir: p.Dir}
		if !p.ConnectedAt.IsZero() {
			t := p.ConnectedAt.UTC()
			pj.ConnectedAt = &t
		}
		pj.Status, pj.Note = s.projectStatus(p)
		seen[p.Name] = len(out)
		out = append(out, pj)
	}
	for _, a := range act {
		i, ok := seen[a.Project]
		if !ok {
			if a.Project == "" {
				continue
			}
			out = append(out, projectJSON{Name: a.Project, Status: projUnregistered,
				Note: "events arrive for this project but it is not connected on this machine"})
			i = len(out) - 1
			seen[a.Project] = i
		}
		t := a.Last
		out[i].LastActivity, out[i].Sessions, out[i].Events = &t, a.Sessions, a.Events
	}
	sort.SliceStable(out, func(i, j int) bool {
		li, lj := out[i].LastActivity, out[j].LastActivity
		if (li == nil) != (lj == nil) {
			return li != nil
		}
		if li != nil && !li.Equal(*lj) {
			return li.After(*lj)
		}
		return out[i].Name < out[j].Name
	})
	writeJSON(w, http.StatusOK, struct {
		Projects []projectJSON `json:"projects"`
	}{out})
}

func (s *Server) projectStatus(p project.Project) (status, note string) {
	if off, why := project.Disabled(s.o.Paths, p.Dir); off {
		return projDisabled, why
	}
	if p.Settings == "" {
		p.Settings = project.SettingsFile(p.Dir)
	}
	b, err := os.ReadFile(p.Settings)
	if errors.Is(err, os.ErrNotExist) {
		return projMissing, p.Settings + " is gone: run vigil connect again"
	}
	if err != nil {
		return projMissing, err.Error()
	}
	in, err := project.Inspect(p.Settings, b, nil)
	if err != nil {
		return projMissing, err.Error()
	}
	switch {
	case in.Installed():
		return projConnected, ""
	case in.Any():
		return projPartial, "hooks missing for " + strings.Join(in.Missing(), ", ")
	}
	return projMissing, "no Vigil hook in " + p.Settings + ": run vigil connect again"
}
