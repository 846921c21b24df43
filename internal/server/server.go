// Package server is Vigil's HTTP surface: remote ingest, the query API,
// the live stream (SSE), status, health, Prometheus metrics and the web
// UI. Every input is untrusted: bodies are size-limited, JSON is strict,
// errors are clear 4xx responses, and any non-loopback listener requires a
// bearer token.
package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/ingest"
	"github.com/vigil-sec/vigil/internal/store"
)

// Ingester stores remote batches.
type Ingester interface {
	Ingest(ctx context.Context, evs []*event.Event) (int, error)
	Status() ingest.Status
}

// Options configure a Server.
type Options struct {
	Store   *store.Store
	Ingest  Ingester
	Hub     *Hub
	Paths   config.Paths
	Version string
	// Addr is the address serve is bound to; a non-loopback address makes
	// the token mandatory for every request.
	Addr         string
	Token        string
	MaxBodyBytes int64
	// MaxBatch caps events per ingest request (default 10,000).
	MaxBatch int
	Log      *slog.Logger
	Gatherer prometheus.Gatherer
	// Ready reports readiness (store open, tailer running).
	Ready func() bool
	// Started is when serve started (for status and uptime).
	Started time.Time
}

// Server serves the HTTP API and UI.
type Server struct {
	o        Options
	loopback bool // bound to a loopback address only
	mux      *http.ServeMux
}

// New builds the server and its routes.
func New(o Options) *Server {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 16 << 20
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 10000
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Hub == nil {
		o.Hub = NewHub()
	}
	if o.Started.IsZero() {
		o.Started = time.Now()
	}
	s := &Server{o: o, loopback: IsLoopbackAddr(o.Addr), mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n"))
	})
	m.HandleFunc("GET /readyz", s.handleReady)
	if s.o.Gatherer != nil {
		m.Handle("GET /metrics", promhttp.HandlerFor(s.o.Gatherer, promhttp.HandlerOpts{}))
	}
	m.HandleFunc("POST /api/v1/events", s.handleIngest)
	m.HandleFunc("GET /api/v1/events", s.handleEvents)
	m.HandleFunc("GET /api/v1/events/{id}", s.handleEvent)
	m.HandleFunc("GET /api/v1/stream", s.handleStream)
	m.HandleFunc("GET /api/v1/status", s.handleStatus)
	m.HandleFunc("GET /login", s.handleLogin)
	s.registerUI(m)
}

// Handler returns the server's handler with auth and hardening applied.
func (s *Server) Handler() http.Handler {
	return s.guard(s.mux)
}

// IsLoopbackAddr reports whether a listen address binds loopback only.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

func peerIsLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// tokenCookie carries the token for the browser UI and EventSource.
const tokenCookie = "vigil_token"

// guard enforces, in order: Host checks against DNS rebinding on a
// loopback listener, same-origin for state-changing requests, and the
// bearer token where it is required.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if s.loopback && !loopbackHost(r.Host) {
			// A web page can point its own hostname at 127.0.0.1 (DNS
			// rebinding); only loopback names may talk to a loopback server.
			writeError(w, http.StatusForbidden, "host %q not allowed: use http://127.0.0.1 or http://localhost", r.Host)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
				writeError(w, http.StatusForbidden, "cross-origin %s from %q refused", r.Method, o)
				return
			}
		}
		if s.needsToken(r) && !s.hasToken(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			writeError(w, http.StatusUnauthorized, "missing or invalid token: send Authorization: Bearer <token> (server.token in config or VIGIL_TOKEN)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) needsToken(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/login":
		return false
	}
	if s.loopback {
		// Only loopback peers can reach a loopback listener.
		return false
	}
	// Bound to a routable address: everything needs the token, except
	// ingest from this machine (its hook-side shippers).
	if r.URL.Path == "/api/v1/events" && r.Method == http.MethodPost && peerIsLoopback(r) {
		return false
	}
	return true
}

func (s *Server) hasToken(r *http.Request) bool {
	if s.o.Token == "" {
		return false
	}
	got := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		got = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	} else if c, err := r.Cookie(tokenCookie); err == nil {
		got = c.Value
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.o.Token)) == 1
}

func loopbackHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

func sameOrigin(origin, host string) bool {
	i := strings.Index(origin, "://")
	return i >= 0 && origin[i+3:] == host
}

// handleLogin sets the token cookie for the browser UI.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if s.o.Token == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.o.Token)) != 1 {
		writeError(w, http.StatusUnauthorized, "invalid token")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	if s.o.Ready != nil && !s.o.Ready() {
		writeError(w, http.StatusServiceUnavailable, "not ready: store or spool tailer still starting")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ready\n"))
}

// Status is GET /api/v1/status.
type Status struct {
	Version              string     `json:"version"`
	StartedAt            time.Time  `json:"started_at"`
	UptimeSeconds        float64    `json:"uptime_seconds"`
	Addr                 string     `json:"addr"`
	EventsTotal          int64      `json:"events_total"`
	HookErrorsTotal      int64      `json:"hook_errors_total"`
	StoreBytes           int64      `json:"store_bytes"`
	SpoolBacklogBytes    int64      `json:"spool_backlog_bytes"`
	SpoolBacklogSegments int        `json:"spool_backlog_segments"`
	LastEventTime        *time.Time `json:"last_event_time"`
	LastEventAgeSeconds  *float64   `json:"last_event_age_seconds"`
	IngestLagSeconds     float64    `json:"ingest_lag_seconds"`
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.o.Store.Stats(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store stats: %v", err)
		return
	}
	out := Status{
		Version: s.o.Version, StartedAt: s.o.Started.UTC(), UptimeSeconds: time.Since(s.o.Started).Seconds(),
		Addr: s.o.Addr, EventsTotal: st.Events, HookErrorsTotal: st.HookErrors, StoreBytes: st.Bytes,
	}
	if s.o.Ingest != nil {
		is := s.o.Ingest.Status()
		out.SpoolBacklogBytes, out.SpoolBacklogSegments = is.BacklogBytes, is.BacklogSegments
	}
	if !st.Last.IsZero() {
		t := st.Last
		age := time.Since(t).Seconds()
		out.LastEventTime, out.LastEventAgeSeconds = &t, &age
	}
	if out.SpoolBacklogBytes > 0 && out.LastEventAgeSeconds != nil {
		out.IngestLagSeconds = *out.LastEventAgeSeconds
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
