package server

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// The web UI is built from web/ by `make ui` (Vite) into ui/dist and
// committed, so `go build` works offline and without npm.
//
//go:embed ui/dist
var uiFS embed.FS

// uiCSP allows only this origin's scripts: even if some event text slipped
// into the DOM as markup, no inline script or handler could run. Inline
// style attributes are allowed (bar widths, nesting depth).
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// registerUI mounts the web UI and the endpoints only the UI uses.
func (s *Server) registerUI(mux *http.ServeMux) {
	dist, err := fs.Sub(uiFS, "ui/dist")
	if err != nil {
		panic("ui: embedded dist missing: " + err.Error()) // programmer bug: the embed pattern above
	}
	index, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		panic("ui: embedded index.html missing: run make ui: " + err.Error())
	}
	started := time.Now()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("X-Frame-Options", "DENY")
		http.ServeContent(w, r, "index.html", started, bytes.NewReader(index))
	})
	assets := http.FileServerFS(dist)
	mux.Handle("GET /assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Asset names carry a content hash: cache them for good.
		if strings.Contains(r.URL.Path[len("/assets/"):], "-") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		w.Header().Set("Content-Security-Policy", uiCSP)
		assets.ServeHTTP(w, r)
	}))

	mux.HandleFunc("GET /api/v1/sessions", s.handleSessions)
	mux.HandleFunc("GET /api/v1/sessions/{id}", s.handleSession)
	mux.HandleFunc("GET /api/v1/overview", s.handleOverview)
	mux.HandleFunc("GET /api/v1/projects", s.handleProjects)
	s.registerAlertsAPI(mux)
}
