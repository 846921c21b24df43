package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/ingest"
	"github.com/vigil-sec/vigil/internal/server"
	"github.com/vigil-sec/vigil/internal/store"
)

// runServe is `vigil serve`: it builds every part of the server by hand,
// runs them, and stops them in reverse order.
func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "serve")
	addr := fs.String("addr", "", "listen address (default from config: 127.0.0.1:7474)")
	addrFile := fs.String("addr-file", "", "write the bound address to this file once listening (for scripts using port 0)")
	dbPath := fs.String("db", "", "store file (default from config)")
	lokiURL := fs.String("loki-url", "", "forward events to this Grafana Loki (e.g. http://127.0.0.1:3100)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := env.LoadConfig()
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Server.Addr = *addr
	}
	if *dbPath != "" {
		cfg.Store.Path = *dbPath
	}
	if *lokiURL != "" {
		cfg.Loki.URL = *lokiURL
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	var h slog.Handler = slog.NewTextHandler(env.Stderr, nil)
	if *logFormat == "json" {
		h = slog.NewJSONHandler(env.Stderr, nil)
	}
	log := slog.New(h)
	if !server.IsLoopbackAddr(cfg.Server.Addr) && cfg.Server.Token == "" {
		return fmt.Errorf("refusing to listen on %s without a token: set server.token in %s or VIGIL_TOKEN, or bind 127.0.0.1",
			cfg.Server.Addr, env.Paths.ConfigFile)
	}
	for _, d := range []string{filepath.Dir(cfg.Store.Path), cfg.Spool.Dir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}

	// A soft limit on the Go heap keeps serve's RSS within its 100 MB
	// budget while it drains a backlog at full speed (without it the heap
	// doubles past the batches in flight between collections); the GC
	// works harder only near the limit. GOMEMLIMIT overrides it.
	if env.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}

	// 1. The store: everything else reads or writes it.
	st, err := store.Open(cfg.Store.Path, store.Options{})
	if err != nil {
		return err
	}
	defer func() {
		// Last: every writer has stopped by now.
		if err := st.Close(); err != nil {
			log.Error("close store", "err", err.Error())
		}
	}()

	// 2. Metrics registry (no global state).
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(storeCollector(st))

	// 3. Live stream hub and the detection consumers.
	hub := server.NewHub()
	consumers := []ingest.Consumer{func(_ context.Context, stored []ingest.Stored) {
		for _, s := range stored {
			hub.Publish(server.Message{Kind: "event", Seq: s.Seq, Event: s.Event, Data: s.JSON})
		}
	}}
	det, err := newDetection(ctx, env, cfg, st, hub, reg, log)
	if err != nil {
		return err
	}
	defer det.Close() // after the pipeline stopped feeding it (deferred later, runs earlier)
	consumers = append(consumers, det.Consume)

	// 4. The ingest pipeline: the store's only writer of events.
	var annotate func(*event.Event) bool
	if cfg.Hook.Enforcement != config.ModeEnforce {
		annotate = det.WouldBlock
	}
	pipe := ingest.New(ingest.Options{
		Store: st, SpoolDir: cfg.Spool.Dir, Poll: cfg.Server.PollInterval, Annotate: annotate,
		KeepSegments: time.Duration(cfg.Spool.KeepHours) * time.Hour,
		Consumers:    consumers, Log: log.With("component", "ingest"), Registerer: reg,
	})

	// Events stored before a crash that the rules never saw go through
	// them first (the consumers' position is committed with the events).
	if n, err := pipe.Replay(ctx); err != nil {
		return fmt.Errorf("replay unconsumed events: %w", err)
	} else if n > 0 {
		log.Info("replaying stored events the rules had not seen", "events", n)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- pipe.Run(runCtx) }()

	// 5. Optional forwarder to Loki and the retention loop.
	fwdDone, err := startForwarder(runCtx, cfg, st, reg, log)
	if err != nil {
		return err
	}
	go retentionLoop(runCtx, st, cfg.Store, log.With("component", "retention"))

	// 6. HTTP.
	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another vigil serve running? try 'vigil status')", cfg.Server.Addr, err)
	}
	bound := ln.Addr().String()
	srv := server.New(server.Options{
		Store: st, Ingest: pipe, Hub: hub, Paths: env.Paths, Version: Version,
		Addr: bound, Token: cfg.Server.Token, MaxBodyBytes: cfg.Server.MaxBodyBytes,
		Log: log.With("component", "http"), Gatherer: reg,
		Ready: func() bool {
			select {
			case <-pipe.Ready():
				return true
			default:
				return false
			}
		},
	})
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(h, slog.LevelWarn),
	}
	httpDone := make(chan error, 1)
	go func() { httpDone <- httpSrv.Serve(ln) }()
	log.Info("vigil serve listening", "addr", "http://"+bound, "store", cfg.Store.Path, "spool", cfg.Spool.Dir, "version", Version)
	if *addrFile != "" {
		if err := writeFileAtomic(*addrFile, []byte(bound+"\n")); err != nil {
			log.Error("write addr file", "err", err.Error())
		}
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-httpDone:
		runErr = fmt.Errorf("http server: %w", err)
	case err := <-pipeDone:
		runErr = fmt.Errorf("ingest pipeline stopped: %w", err)
	}

	// Shutdown, in reverse order of dependency:
	// HTTP first, so no new remote batch is accepted and in-flight ones
	// finish (an acknowledged batch is already committed) ...
	shutCtx, shutCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer shutCancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err.Error())
	}
	// ... then the tailer and the forwarder (their positions are committed
	// with each batch, so stopping mid-way loses nothing) ...
	cancel()
	<-pipeDone
	<-fwdDone
	// ... then the consumers, once they have seen every stored event ...
	if err := pipe.Close(); err != nil {
		log.Error("record the rules' position", "err", err.Error())
	}
	// ... then detection (deferred Close flushes alert channels) and the store.
	return runErr
}

// serveMemoryLimit is serve's soft Go memory limit: with the SQLite page
// caches and the mapped binary (~35 MB) it keeps RSS under 100 MB.
const serveMemoryLimit = 70 << 20

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func retentionLoop(ctx context.Context, st *store.Store, c config.Store, log *slog.Logger) {
	if c.RetentionDays == 0 && c.MaxSizeMB == 0 {
		return
	}
	t := time.NewTicker(c.RetentionEvery)
	defer t.Stop()
	for {
		age := time.Duration(c.RetentionDays) * 24 * time.Hour
		n, err := st.ApplyRetention(ctx, age, c.MaxSizeMB<<20)
		if err != nil && ctx.Err() == nil {
			log.Error("retention failed", "err", err.Error())
		} else if n > 0 {
			log.Info("retention removed old events", "deleted", n)
		}
		if age > 0 {
			// Alerts go with their evidence.
			if n, err := st.PruneAlerts(ctx, time.Now().Add(-age)); err != nil && ctx.Err() == nil {
				log.Error("alert retention failed", "err", err.Error())
			} else if n > 0 {
				log.Info("retention removed old alerts", "deleted", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// storeCollector exposes store size and counts as gauges read at scrape time.
func storeCollector(st *store.Store) prometheus.Collector {
	return &storeStats{st: st,
		size:   prometheus.NewDesc("vigil_store_size_bytes", "Store size on disk (database + WAL).", nil, nil),
		events: prometheus.NewDesc("vigil_store_events", "Events in the store.", nil, nil),
		errs:   prometheus.NewDesc("vigil_store_hook_errors", "hook_error events in the store.", nil, nil),
	}
}

type storeStats struct {
	st                 *store.Store
	size, events, errs *prometheus.Desc
}

func (s *storeStats) Describe(ch chan<- *prometheus.Desc) { ch <- s.size; ch <- s.events; ch <- s.errs }

func (s *storeStats) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := s.st.Stats(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(s.size, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(s.events, prometheus.GaugeValue, float64(st.Events))
	ch <- prometheus.MustNewConstMetric(s.errs, prometheus.GaugeValue, float64(st.HookErrors))
}
