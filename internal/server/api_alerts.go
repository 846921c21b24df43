package server

import (
	"net/http"
	"time"
)

// alertAggs are the alert figures of the overview page.
type alertAggs struct {
	bySeverity, byCategory []countJSON
	inRange, open          int64
}

// registerAlertsAPI mounts the alert endpoints.
func (s *Server) registerAlertsAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/alerts", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"alerts": []any{}, "counts": []any{}})
	})
	mux.HandleFunc("GET /api/v1/alerts/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no alert %q", r.PathValue("id"))
	})
}

func (s *Server) sessionAlertCounts(_ *http.Request, _ []string) map[string]int64 {
	return map[string]int64{}
}

func (s *Server) alertAggregates(_ *http.Request, _ time.Time) alertAggs {
	return alertAggs{bySeverity: []countJSON{}, byCategory: []countJSON{}}
}
