package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/query"
	"github.com/vigil-sec/vigil/internal/store"
)

// sessionJSON is one session in the UI's list and detail.
type sessionJSON struct {
	SessionID  string    `json:"session_id"`
	Project    string    `json:"project"`
	Host       string    `json:"host"`
	User       string    `json:"user"`
	StartedAt  time.Time `json:"started_at"`
	LastAt     time.Time `json:"last_at"`
	DurationMS int64     `json:"duration_ms"`
	Events     int64     `json:"events"`
	Prompts    int64     `json:"prompts"`
	ToolCalls  int64     `json:"tool_calls"`
	Subagents  int64     `json:"subagents"`
	Flagged    int64     `json:"flagged"`
	Blocked    int64     `json:"blocked"`
	Failures   int64     `json:"failures"`
	Alerts     int64     `json:"alerts"`
	Ended      bool      `json:"ended"`
	// Risk is the analytics score; null until analytics exists.
	Risk *float64 `json:"risk"`
}

func toSessionJSON(s store.SessionSummary, alerts int64) sessionJSON {
	return sessionJSON{
		SessionID: s.SessionID, Project: s.Project, Host: s.Host, User: s.User,
		StartedAt: s.First, LastAt: s.Last, DurationMS: s.Last.Sub(s.First).Milliseconds(),
		Events: s.Events, Prompts: s.Prompts, ToolCalls: s.ToolCalls, Subagents: s.Subagents,
		Flagged: s.Flagged, Blocked: s.Blocked, Failures: s.Failures, Alerts: alerts, Ended: s.Ended,
	}
}

// handleSessions is GET /api/v1/sessions?project=&flagged=true&since=&limit=&before=<cursor>.
func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.SessionFilter{Project: q.Get("project"), Cursor: q.Get("before"), FlaggedOnly: q.Get("flagged") == "true"}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "limit must be a non-negative integer, got %q", v)
			return
		}
		f.Limit = n
	}
	if v := q.Get("since"); v != "" {
		d, err := query.ParseSince(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		f.ActiveFrom = time.Now().Add(-d)
	}
	page, err := s.o.Store.Sessions(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		writeError(w, http.StatusBadRequest, "%v: use next_before from the previous page", err)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "list sessions: %v", err)
		return
	}
	ids := make([]string, len(page.Sessions))
	for i, ss := range page.Sessions {
		ids[i] = ss.SessionID
	}
	counts := s.sessionAlertCounts(r, ids)
	out := struct {
		Sessions   []sessionJSON `json:"sessions"`
		NextBefore string        `json:"next_before"`
	}{Sessions: make([]sessionJSON, 0, len(page.Sessions)), NextBefore: page.Next}
	for _, ss := range page.Sessions {
		out.Sessions = append(out.Sessions, toSessionJSON(ss, counts[ss.SessionID]))
	}
	writeJSON(w, http.StatusOK, out)
}

// maxTimelineEvents bounds one session detail response.
const maxTimelineEvents = 20000

// handleSession is GET /api/v1/sessions/{id}: the summary and every event
// of the session in ingest order (up to limit, default and max 20,000),
// each the stored JSON plus "_seq", written without re-encoding.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	limit := maxTimelineEvents
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "limit must be a positive integer, got %q", v)
			return
		}
		limit = min(n, maxTimelineEvents)
	}
	sum, err := s.o.Store.Session(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no session %q in the store", id)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "session: %v", err)
		return
	}
	rows, truncated, err := s.o.Store.SessionEvents(r.Context(), id, limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "session events: %v", err)
		return
	}
	head, err := json.Marshal(toSessionJSON(sum, s.sessionAlertCounts(r, []string{id})[id]))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode session: %v", err)
		return
	}
	var buf bytes.Buffer
	size := 64 + len(head)
	for i := range rows {
		size += len(rows[i].JSON) + 24
	}
	buf.Grow(size)
	buf.WriteString(`{"session":`)
	buf.Write(head)
	buf.WriteString(`,"events":[`)
	for i := range rows {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeWithSeq(&buf, rows[i].Seq, rows[i].JSON)
	}
	buf.WriteString(`],"truncated":`)
	buf.WriteString(strconv.FormatBool(truncated))
	buf.WriteString(`,"limit":`)
	buf.WriteString(strconv.Itoa(limit))
	buf.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	writeCompressed(w, r, buf.Bytes())
}

// writeCompressed sends body gzipped to a remote client that accepts it:
// a 5,000-event timeline is 5 MB of JSON and about a tenth of that
// gzipped. A loopback client gets it as is, where compressing would only
// add time.
func writeCompressed(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Add("Vary", "Accept-Encoding")
	if len(body) < 32<<10 || peerIsLoopback(r) || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		w.Write(body)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // the level is valid
	zw.Write(body)
	zw.Close()
}

func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return strings.ReplaceAll(q, " ", "") != "q=0"
		}
	}
	return false
}
