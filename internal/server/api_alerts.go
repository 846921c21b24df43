package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/query"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/store"
)

// alertAggs are the alert figures of the overview page.
type alertAggs struct {
	bySeverity, byCategory []countJSON
	inRange, open          int64
}

// maxAlertsListed bounds one alert list response.
const maxAlertsListed = 1000

// registerAlertsAPI mounts the alert endpoints. Acking is the one write
// the UI makes.
func (s *Server) registerAlertsAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/alerts", s.handleAlerts)
	mux.HandleFunc("GET /api/v1/alerts/{id}", s.handleAlert)
	mux.HandleFunc("POST /api/v1/alerts/{id}/ack", s.handleAck)
}

type severityCountJSON struct {
	Severity string `json:"severity"`
	Open     int64  `json:"open"`
	Total    int64  `json:"total"`
}

// handleAlerts is GET /api/v1/alerts?status=open|acked&severity=&category=
// &project=&session=&rule=&since=&limit= : alerts newest first, and the
// count of every stored alert per severity (open and total).
func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AlertFilter{Project: q.Get("project"), Session: q.Get("session"), Rule: q.Get("rule"), Status: q.Get("status"), Limit: 200}
	if f.Status != "" && f.Status != alert.StatusOpen && f.Status != alert.StatusAcked {
		writeError(w, http.StatusBadRequest, "status must be open or acked, got %q", f.Status)
		return
	}
	var sev rules.Severity
	if v := q.Get("severity"); v != "" {
		var err error
		if sev, err = rules.ParseSeverity(v); err != nil {
			writeError(w, http.StatusBadRequest, "severity: %v", err)
			return
		}
		f.MinSeverity = sev
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "limit must be a positive integer, got %q", v)
			return
		}
		f.Limit = min(n, maxAlertsListed)
	}
	if v := q.Get("since"); v != "" {
		d, err := query.ParseSince(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		f.Since = time.Now().Add(-d)
	}
	category := q.Get("category")
	want := f.Limit
	if sev > 0 || category != "" {
		// The store filters by minimum severity only and not by category:
		// read more and keep the exact matches.
		f.Limit = maxAlertsListed
	}
	as, err := s.o.Store.Alerts(r.Context(), f)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "alerts: %v", err)
		return
	}
	out := make([]alert.Alert, 0, len(as))
	for _, a := range as {
		if (sev > 0 && a.Severity != sev) || (category != "" && a.Category != category) {
			continue
		}
		a.EventIDs = nil // up to 100 per alert: the detail has them
		out = append(out, a)
	}
	truncated := len(out) > want || len(as) == f.Limit
	if len(out) > want {
		out = out[:want]
	}
	sc, err := s.o.Store.AlertSeverityCounts(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "alerts: %v", err)
		return
	}
	counts := make([]severityCountJSON, 0, len(sc))
	for _, c := range sc {
		counts = append(counts, severityCountJSON{c.Severity.String(), c.Open, c.Total})
	}
	writeJSON(w, http.StatusOK, struct {
		Alerts    []alert.Alert       `json:"alerts"`
		Counts    []severityCountJSON `json:"counts"`
		Truncated bool                `json:"truncated"`
	}{out, counts, truncated})
}

// handleAlert is GET /api/v1/alerts/{id}: the alert and the stored events
// that triggered it (the first and last 50 occurrences; count has the
// true number).
func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request) {
	a, ok := s.lookupAlert(w, r)
	if !ok {
		return
	}
	aj, err := json.Marshal(a)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode alert: %v", err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(`{"alert":`)
	buf.Write(aj)
	buf.WriteString(`,"events":[`)
	n := 0
	for _, id := range a.EventIDs {
		row, err := s.o.Store.Get(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			continue // removed by retention
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, "alert events: %v", err)
			return
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		writeWithSeq(&buf, row.Seq, row.JSON)
		n++
	}
	buf.WriteString("]}\n")
	w.Header().Set("Content-Type", "application/json")
	w.Write(buf.Bytes())
}

// handleAck is POST /api/v1/alerts/{id}/ack with an optional JSON body
// {"by": "name"}. Acking twice keeps the first ack. 200 with the alert.
func (s *Server) handleAck(w http.ResponseWriter, r *http.Request) {
	var body struct {
		By string `json:"by"`
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 4096))
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body: %v", err)
		return
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			writeError(w, http.StatusBadRequest, `body must be {"by": "name"}: %v`, err)
			return
		}
	}
	by := strings.TrimSpace(body.By)
	if by == "" {
		by = "web"
	}
	if len(by) > 128 {
		by = by[:128]
	}
	a, err := s.o.Store.AckAlert(r.Context(), r.PathValue("id"), by, time.Now())
	if err != nil {
		s.alertError(w, r.PathValue("id"), err)
		return
	}
	s.o.Log.Info("alert acked", "id", a.ID, "rule", a.Rule, "by", by, "peer", r.RemoteAddr)
	writeJSON(w, http.StatusOK, struct {
		Alert alert.Alert `json:"alert"`
	}{a})
}

func (s *Server) lookupAlert(w http.ResponseWriter, r *http.Request) (alert.Alert, bool) {
	a, err := s.o.Store.Alert(r.Context(), r.PathValue("id"))
	if err != nil {
		s.alertError(w, r.PathValue("id"), err)
		return a, false
	}
	return a, true
}

func (s *Server) alertError(w http.ResponseWriter, id string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no alert %q", id)
	case errors.Is(err, store.ErrAmbiguous):
		writeError(w, http.StatusBadRequest, "alert id %q is ambiguous: give more characters", id)
	default:
		writeError(w, http.StatusInternalServerError, "alert %s: %v", id, err)
	}
}

// sessionAlertCounts counts alerts per session; on error the list still
// renders, without alert counts.
func (s *Server) sessionAlertCounts(r *http.Request, ids []string) map[string]int64 {
	m, err := s.o.Store.SessionAlertCounts(r.Context(), ids)
	if err != nil {
		s.o.Log.Warn("session alert counts", "err", err.Error())
		return map[string]int64{}
	}
	return m
}

// alertAggregates are the overview's alert charts for alerts first seen
// since from, and the number of open alerts overall. An error leaves the
// charts empty rather than failing the page.
func (s *Server) alertAggregates(r *http.Request, from time.Time) alertAggs {
	out := alertAggs{bySeverity: []countJSON{}, byCategory: []countJSON{}}
	bySev, byCat, err := s.o.Store.AlertBreakdown(r.Context(), from)
	if err != nil {
		s.o.Log.Warn("overview alert breakdown", "err", err.Error())
	}
	out.bySeverity, out.byCategory = append(out.bySeverity, toCounts(bySev)...), append(out.byCategory, toCounts(byCat)...)
	for _, c := range bySev {
		out.inRange += c.Count
	}
	sc, err := s.o.Store.AlertSeverityCounts(r.Context())
	if err != nil {
		s.o.Log.Warn("overview alert counts", "err", err.Error())
	}
	for _, c := range sc {
		out.open += c.Open
	}
	return out
}
