package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/store"
)

// Message is one live item: a stored event or an alert.
type Message struct {
	Kind  string // "event" or "alert"
	Seq   int64  // events only
	Event *event.Event
	Data  []byte // JSON payload as sent
}

// Hub fans live messages out to stream subscribers. A subscriber that
// cannot keep up is disconnected (never blocks the pipeline); the browser
// reconnects with Last-Event-ID and catches up from the store.
type Hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	ch     chan Message
	closed bool
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*subscriber]struct{}{}} }

// Publish sends m to every subscriber without blocking.
func (h *Hub) Publish(m Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.ch <- m:
		default:
			close(s.ch)
			s.closed = true
			delete(h.subs, s)
		}
	}
}

func (h *Hub) subscribe() *subscriber {
	s := &subscriber{ch: make(chan Message, 4096)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *Hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	if !s.closed {
		delete(h.subs, s)
		close(s.ch)
		s.closed = true
	}
	h.mu.Unlock()
}

// liveFilter is the subset of filters the stream applies in memory.
type liveFilter struct {
	projects, sessions, tools, types, hooks map[string]bool
	outside, sensitive                      *bool
	text                                    string
}

func newLiveFilter(f store.Filter) liveFilter {
	set := func(vs []string) map[string]bool {
		if len(vs) == 0 {
			return nil
		}
		m := map[string]bool{}
		for _, v := range vs {
			m[v] = true
		}
		return m
	}
	lf := liveFilter{projects: set(f.Projects), sessions: set(f.Sessions), tools: set(f.Tools),
		types: set(f.EventTypes), hooks: set(f.HookEvents), outside: f.OutsideScope, sensitive: f.Sensitive}
	for _, l := range f.Lines {
		if l.Op == store.LineContains {
			lf.text = l.Value
		}
	}
	return lf
}

func (lf liveFilter) match(ev *event.Event, line []byte) bool {
	in := func(m map[string]bool, v string) bool { return m == nil || m[v] }
	if !in(lf.projects, ev.Project) || !in(lf.sessions, ev.SessionID) || !in(lf.tools, ev.ToolName) ||
		!in(lf.types, ev.EventType) || !in(lf.hooks, ev.HookEvent) {
		return false
	}
	if lf.outside != nil && *lf.outside != ev.Security.OutsideProjectScope {
		return false
	}
	if lf.sensitive != nil && *lf.sensitive != ev.Security.SensitivePath {
		return false
	}
	return lf.text == "" || bytes.Contains(line, []byte(lf.text))
}

// handleStream is GET /api/v1/stream (Server-Sent Events).
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	f, err := FilterFromQuery(r.URL.Query(), time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	lf := newLiveFilter(f)
	sub := s.o.Hub.subscribe()
	defer s.o.Hub.unsubscribe(sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")

	// Catch up from the store after Last-Event-ID (reconnects) before live.
	var last int64
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		last, _ = strconv.ParseInt(id, 10, 64)
	} else if a := r.URL.Query().Get("after"); a != "" {
		last, _ = strconv.ParseInt(a, 10, 64)
	}
	if last > 0 {
		last = s.backfill(r.Context(), w, f, last)
	}
	fl.Flush()

	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	simple := isSimple(f)
	var pending []Message
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			fl.Flush()
		case m, ok := <-sub.ch:
			if !ok {
				return // too slow: the client reconnects and backfills
			}
			switch {
			case m.Kind != "event":
				writeSSE(w, m.Kind, "", 0, m.Data)
			case m.Seq <= last:
			case simple:
				if lf.match(m.Event, m.Data) {
					last = m.Seq
					writeSSE(w, "event", strconv.FormatInt(m.Seq, 10), m.Seq, m.Data)
				}
			default:
				pending = append(pending, m)
			}
			// Once per burst: check queued events against the full filter
			// in one store query, then flush.
			if len(sub.ch) == 0 {
				if len(pending) > 0 {
					last = s.writeMatching(r.Context(), w, f, pending, last)
					pending = pending[:0]
				}
				fl.Flush()
			}
		}
	}
}

// isSimple reports whether the live filter alone decides f.
func isSimple(f store.Filter) bool {
	text := 0
	for _, l := range f.Lines {
		if l.Op != store.LineContains {
			return false
		}
		text++
	}
	return text <= 1 && len(f.Labels) == 0 && len(f.Fields) == 0 && len(f.Hosts) == 0 && len(f.Users) == 0 &&
		len(f.AgentIDs) == 0 && f.Redacted == nil && f.HasDecision == nil && f.From.IsZero() && f.To.IsZero() && !f.None
}

// writeMatching writes the queued events the store says match f.
func (s *Server) writeMatching(ctx context.Context, w http.ResponseWriter, f store.Filter, msgs []Message, last int64) int64 {
	f.AfterSeq, f.BeforeSeq = msgs[0].Seq-1, msgs[len(msgs)-1].Seq+1
	f.Order, f.Limit = store.OldestFirst, 0
	rows, err := s.o.Store.Query(ctx, f)
	if err != nil {
		s.o.Log.Warn("live stream filter", "err", err.Error())
		return last
	}
	for _, row := range rows {
		if row.Seq > last {
			last = row.Seq
			writeSSE(w, "event", strconv.FormatInt(row.Seq, 10), row.Seq, row.JSON)
		}
	}
	return last
}

// backfill replays stored events after a reconnect (at most 5,000).
func (s *Server) backfill(ctx context.Context, w http.ResponseWriter, f store.Filter, after int64) int64 {
	f.AfterSeq, f.BeforeSeq, f.Order, f.Limit = after, 0, store.OldestFirst, 5000
	rows, err := s.o.Store.Query(ctx, f)
	if err != nil {
		return after
	}
	for _, row := range rows {
		after = row.Seq
		writeSSE(w, "event", strconv.FormatInt(row.Seq, 10), row.Seq, row.JSON)
	}
	return after
}

func writeSSE(w http.ResponseWriter, name, id string, seq int64, data []byte) {
	var b bytes.Buffer
	b.WriteString("event: ")
	b.WriteString(name)
	b.WriteByte('\n')
	if id != "" {
		b.WriteString("id: ")
		b.WriteString(id)
		b.WriteByte('\n')
	}
	b.WriteString("data: ")
	if seq > 0 {
		writeWithSeq(&b, seq, data)
	} else {
		// JSON never holds a raw newline, but be safe for SSE framing.
		b.WriteString(strings.ReplaceAll(string(data), "\n", " "))
	}
	b.WriteString("\n\n")
	w.Write(b.Bytes())
}
