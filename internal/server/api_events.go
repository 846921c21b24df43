package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/query"
	"github.com/vigil-sec/vigil/internal/store"
)

// handleIngest is POST /api/v1/events: a JSON array or NDJSON of v3
// events. Each event is strictly decoded (unknown fields are errors) and
// validated; the first bad one is named and nothing of the batch is stored.
// 200 only after the batch is committed.
func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, s.o.MaxBodyBytes)
	b, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "body larger than %d bytes: send smaller batches", mbe.Limit)
			return
		}
		writeError(w, http.StatusBadRequest, "read body: %v", err)
		return
	}
	evs, err := decodeBatch(b, r.Header.Get("Content-Type"), s.o.MaxBatch)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if len(evs) == 0 {
		writeError(w, http.StatusBadRequest, "empty batch: send a JSON array or NDJSON of events")
		return
	}
	inserted, err := s.o.Ingest.Ingest(r.Context(), evs)
	if err != nil {
		s.o.Log.Error("ingest batch failed", "err", err.Error(), "events", len(evs))
		writeError(w, http.StatusServiceUnavailable, "store unavailable, retry later: %v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"accepted": len(evs), "inserted": inserted, "duplicates": len(evs) - inserted})
}

// decodeBatch parses a JSON array or NDJSON body.
func decodeBatch(b []byte, contentType string, max int) ([]*event.Event, error) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil, nil
	}
	ct := strings.ToLower(contentType)
	if trimmed[0] == '[' && !strings.Contains(ct, "ndjson") {
		var raws []json.RawMessage
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, fmt.Errorf("body is not a JSON array of events: %v", err)
		}
		if len(raws) > max {
			return nil, fmt.Errorf("batch of %d events is over the limit of %d", len(raws), max)
		}
		evs := make([]*event.Event, 0, len(raws))
		for i, raw := range raws {
			ev, err := decodeEvent(raw)
			if err != nil {
				return nil, fmt.Errorf("event %d: %v", i, err)
			}
			evs = append(evs, ev)
		}
		return evs, nil
	}
	var evs []*event.Event
	sc := bufio.NewScanner(bytes.NewReader(trimmed))
	sc.Buffer(make([]byte, 0, 64<<10), len(trimmed)+1)
	line := 0
	for sc.Scan() {
		line++
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 {
			continue
		}
		if len(evs) == max {
			return nil, fmt.Errorf("batch is over the limit of %d events", max)
		}
		ev, err := decodeEvent(l)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		evs = append(evs, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read NDJSON: %v", err)
	}
	return evs, nil
}

// decodeEvent strictly decodes and validates one event.
func decodeEvent(raw []byte) (*event.Event, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ev event.Event
	if err := dec.Decode(&ev); err != nil {
		return nil, fmt.Errorf("invalid event JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("extra data after the event object")
	}
	switch {
	case ev.ID == "" || len(ev.ID) > 64:
		return nil, fmt.Errorf("id must be 1-64 characters (a UUIDv7), got %q", ev.ID)
	case ev.SchemaVersion != event.SchemaVersion:
		return nil, fmt.Errorf("schema_version must be %d, got %d", event.SchemaVersion, ev.SchemaVersion)
	case ev.Timestamp.IsZero():
		return nil, errors.New("timestamp is required (RFC3339Nano)")
	case ev.EventType == "":
		return nil, errors.New("event_type is required")
	}
	for name, v := range map[string]string{"project": ev.Project, "session_id": ev.SessionID, "tool_name": ev.ToolName,
		"hook_event": ev.HookEvent, "host": ev.Host, "user": ev.User, "event_type": ev.EventType} {
		if len(v) > 4096 {
			return nil, fmt.Errorf("%s is longer than 4096 bytes", name)
		}
	}
	return &ev, nil
}

// handleEvents is GET /api/v1/events.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	f, err := FilterFromQuery(r.URL.Query(), time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 5000 {
		f.Limit = 5000
	}
	rows, err := s.o.Store.Query(r.Context(), f)
	if err != nil {
		if errors.Is(err, store.ErrBadFilter) {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		writeError(w, http.StatusInternalServerError, "query: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	var buf bytes.Buffer
	buf.WriteString(`{"events":[`)
	for i := range rows {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeWithSeq(&buf, rows[i].Seq, rows[i].JSON)
	}
	next := int64(0)
	if len(rows) == f.Limit && f.Order == store.NewestFirst {
		next = rows[len(rows)-1].Seq
	}
	fmt.Fprintf(&buf, `],"next_before":%d}`, next)
	buf.WriteByte('\n')
	w.Write(buf.Bytes())
}

// writeWithSeq writes an event JSON object with "_seq" added first.
func writeWithSeq(buf *bytes.Buffer, seq int64, js []byte) {
	buf.WriteString(`{"_seq":`)
	buf.WriteString(strconv.FormatInt(seq, 10))
	if len(js) > 2 {
		buf.WriteByte(',')
		buf.Write(js[1:])
	} else {
		buf.WriteByte('}')
	}
}

// handleEvent is GET /api/v1/events/{id}.
func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request) {
	row, err := s.o.Store.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no event with id %q", r.PathValue("id"))
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "get event: %v", err)
		return
	}
	var buf bytes.Buffer
	writeWithSeq(&buf, row.Seq, row.JSON)
	w.Header().Set("Content-Type", "application/json")
	w.Write(buf.Bytes())
}

// FilterFromQuery builds a store filter from URL parameters: project,
// session, tool, event_type, hook_event, outside_scope, sensitive,
// redacted, text, since, from, to, limit, before, after, q.
func FilterFromQuery(v map[string][]string, now time.Time) (store.Filter, error) {
	var f store.Filter
	get := func(k string) string {
		if vs := v[k]; len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	list := func(k string) []string {
		var out []string
		for _, s := range v[k] {
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	if q := get("q"); q != "" {
		qf, err := query.Parse(q, query.Options{})
		if err != nil {
			return f, fmt.Errorf("q: %v", err)
		}
		f = qf
	}
	f.Projects = append(f.Projects, list("project")...)
	f.Sessions = append(f.Sessions, list("session")...)
	f.Tools = append(f.Tools, list("tool")...)
	f.EventTypes = append(f.EventTypes, list("event_type")...)
	f.HookEvents = append(f.HookEvents, list("hook_event")...)
	for _, flag := range []struct {
		name string
		dst  **bool
	}{{"outside_scope", &f.OutsideScope}, {"sensitive", &f.Sensitive}, {"redacted", &f.Redacted}, {"decision", &f.HasDecision}} {
		if s := get(flag.name); s != "" {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return f, fmt.Errorf("%s must be true or false, got %q", flag.name, s)
			}
			*flag.dst = store.Bool(b)
		}
	}
	if t := get("text"); t != "" {
		f.Lines = append(f.Lines, store.LineFilter{Op: store.LineContains, Value: t})
	}
	if s := get("since"); s != "" {
		d, err := query.ParseSince(s)
		if err != nil {
			return f, fmt.Errorf("since: %v", err)
		}
		f.From = now.Add(-d)
	}
	for _, tb := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if s := get(tb.name); s != "" {
			t, err := query.ParseTime(s, time.UTC)
			if err != nil {
				return f, fmt.Errorf("%s: %v", tb.name, err)
			}
			*tb.dst = t
		}
	}
	for _, nb := range []struct {
		name string
		dst  *int64
	}{{"before", &f.BeforeSeq}, {"after", &f.AfterSeq}} {
		if s := get(nb.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return f, fmt.Errorf("%s must be a non-negative integer, got %q", nb.name, s)
			}
			*nb.dst = n
		}
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return f, fmt.Errorf("limit must be a non-negative integer, got %q", s)
		}
		f.Limit = n
	}
	if get("order") == "asc" {
		f.Order = store.OldestFirst
	}
	return f, nil
}
