package server

import (
	"net/http"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

// overviewRanges maps the UI's range choices to a chart bucket size.
var overviewRanges = map[string]struct{ span, bucket time.Duration }{
	"1h":  {time.Hour, 5 * time.Minute},
	"6h":  {6 * time.Hour, 5 * time.Minute},
	"24h": {24 * time.Hour, 30 * time.Minute},
	"7d":  {7 * 24 * time.Hour, 3 * time.Hour},
	"30d": {30 * 24 * time.Hour, 12 * time.Hour},
}

type countJSON struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

func toCounts(cs []store.Count) []countJSON {
	out := make([]countJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, countJSON{c.Name, c.Count})
	}
	return out
}

// handleOverview is GET /api/v1/overview?range=1h|6h|24h|7d|30d (default
// 24h). It reads rollup tables only, so it costs the same with a thousand
// or a million events in the store.
func (s *Server) handleOverview(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("range")
	if name == "" {
		name = "24h"
	}
	rg, ok := overviewRanges[name]
	if !ok {
		writeError(w, http.StatusBadRequest, "range must be one of 1h, 6h, 24h, 7d, 30d, got %q", name)
		return
	}
	to := time.Now()
	from := to.Add(-rg.span)
	o, err := s.o.Store.Overview(r.Context(), from, to, rg.bucket)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "overview: %v", err)
		return
	}
	al := s.alertAggregates(r, from)
	times := make([]int64, len(o.Times))
	for i, t := range o.Times {
		times[i] = t.Unix()
	}
	type totals struct {
		Events     int64 `json:"events"`
		Flagged    int64 `json:"flagged"`
		Blocked    int64 `json:"blocked"`
		Sessions   int64 `json:"sessions"`
		Alerts     int64 `json:"alerts"`
		AlertsOpen int64 `json:"alerts_open"`
	}
	writeJSON(w, http.StatusOK, struct {
		Range            string      `json:"range"`
		From             time.Time   `json:"from"`
		To               time.Time   `json:"to"`
		BucketSeconds    int64       `json:"bucket_seconds"`
		Times            []int64     `json:"times"`
		Total            []int64     `json:"total"`
		Flagged          []int64     `json:"flagged"`
		Blocked          []int64     `json:"blocked"`
		Tools            []countJSON `json:"tools"`
		Projects         []countJSON `json:"projects"`
		EventTypes       []countJSON `json:"event_types"`
		AlertsBySeverity []countJSON `json:"alerts_by_severity"`
		AlertsByCategory []countJSON `json:"alerts_by_category"`
		Totals           totals      `json:"totals"`
	}{
		Range: name, From: from.UTC(), To: to.UTC(), BucketSeconds: int64(o.Bucket / time.Second),
		Times: times, Total: o.Events, Flagged: o.Flagged, Blocked: o.Blocked,
		Tools: toCounts(o.Tools), Projects: toCounts(o.Projects), EventTypes: toCounts(o.EventTypes),
		AlertsBySeverity: al.bySeverity, AlertsByCategory: al.byCategory,
		Totals: totals{Events: o.TotalEvents, Flagged: o.TotalFlagged, Blocked: o.TotalBlocked,
			Sessions: o.Sessions, Alerts: al.inRange, AlertsOpen: al.open},
	})
}
