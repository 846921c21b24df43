package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/alert/channels"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/ingest"
	"github.com/vigil-sec/vigil/internal/loki"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/server"
	"github.com/vigil-sec/vigil/internal/store"
)

// detection runs the rules on every newly stored event, in store order,
// and hands matches to the alert dispatcher; alerts also go to the live
// stream.
type detection struct {
	engine *rules.Engine
	disp   *alert.Dispatcher
	hub    *server.Hub
	log    *slog.Logger
}

func newDetection(ctx context.Context, env *Env, cfg config.Config, st *store.Store, hub *server.Hub,
	reg prometheus.Registerer, log *slog.Logger) (*detection, error) {
	eng, err := rules.Load(cfg.Rules)
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	// A seed-format rule file brings its notification, dedup and rate
	// settings along.
	acfg := cfg.Alerts
	for _, sf := range eng.SeedFiles() {
		b, err := os.ReadFile(sf.Path)
		if err != nil {
			return nil, fmt.Errorf("read seed rule file: %w", err)
		}
		if acfg, err = alert.FromSeed(b, acfg, env.Paths.DataDir); err != nil {
			return nil, fmt.Errorf("seed rule file %s: %w", sf.Path, err)
		}
	}
	chans, err := channels.Build(acfg, env.Stderr)
	if err != nil {
		return nil, fmt.Errorf("alert channels: %w", err)
	}
	if cfg.Loki.Enabled() && cfg.Loki.Alerts {
		c, err := loki.NewClientFromConfig(cfg.Loki)
		if err != nil {
			return nil, fmt.Errorf("loki alert channel: %w", err)
		}
		chans = append(chans, loki.AlertChannel(cfg.Loki, c))
	}
	// Open alerts of the last day keep counting instead of reopening.
	open, err := st.OpenAlerts(ctx, time.Now().Add(-24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("load open alerts: %w", err)
	}
	disp, err := alert.New(acfg, chans, alert.Options{Store: st, Logger: log.With("component", "alerts"), Restore: open})
	if err != nil {
		return nil, err
	}
	reg.MustRegister(disp.Collectors()...)
	log.Info("detection ready", "rules", len(eng.Rules()), "channels", len(chans))
	return &detection{engine: eng, disp: disp, hub: hub, log: log}, nil
}

// liveAlert is what the live stream carries for an alert occurrence.
type liveAlert struct {
	AlertID   string    `json:"alert_id"`
	Rule      string    `json:"rule"`
	Severity  string    `json:"severity"`
	Category  string    `json:"category"`
	SessionID string    `json:"session_id"`
	Project   string    `json:"project"`
	EventID   string    `json:"event_id"`
	Summary   string    `json:"summary"`
	Action    string    `json:"action"`
	Time      time.Time `json:"time"`
}

// Consume is the ingest consumer.
func (d *detection) Consume(_ context.Context, stored []ingest.Stored) {
	for _, s := range stored {
		in := rules.Input{Event: s.Event, Content: rules.FromEventFacts(s.Event.Action.ContentFacts)}
		for _, m := range d.engine.EvaluateInput(in) {
			id := d.disp.Handle(m)
			b, err := json.Marshal(liveAlert{AlertID: id, Rule: m.RuleID, Severity: m.Severity.String(), Category: m.Category,
				SessionID: m.SessionID, Project: m.Project, EventID: m.EventID, Summary: m.Summary, Action: m.Action, Time: m.Time})
			if err == nil {
				d.hub.Publish(server.Message{Kind: "alert", Data: b})
			}
		}
	}
}

// WouldBlock records, on a PreToolUse event the hook did not decide (monitor
// mode), the decision enforce mode would have taken. It is the ingest
// annotation: the event is stored with it, so the audit trail and the UI
// show what would have been blocked.
func (d *detection) WouldBlock(ev *event.Event) bool {
	if ev.HookEvent != "PreToolUse" || ev.Decision != nil || ev.EventType == event.TypeHookError {
		return false
	}
	action, m := d.engine.DecideInput(rules.Input{Event: ev, Content: rules.FromEventFacts(ev.Action.ContentFacts)})
	if m == nil {
		return false
	}
	dec := &event.Decision{Rule: m.RuleID, Reason: m.Description, Mode: config.ModeMonitor}
	if m.Summary != "" {
		dec.Reason = m.Description + " (" + m.Summary + ")"
	}
	switch action {
	case rules.ActionBlock:
		dec.Action = event.DecisionWouldDeny
	case rules.ActionAsk:
		dec.Action = event.DecisionWouldAsk
	default:
		return false
	}
	ev.Decision = dec
	return true
}

// Close flushes pending notifications and alert updates.
func (d *detection) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.disp.Close(ctx); err != nil {
		d.log.Warn("alert dispatcher close", "err", err.Error())
	}
}

// startForwarder starts the Loki forwarder when configured; the returned
// channel closes when it has stopped.
func startForwarder(ctx context.Context, cfg config.Config, st *store.Store, reg prometheus.Registerer, log *slog.Logger) (<-chan struct{}, error) {
	done := make(chan struct{})
	if !cfg.Loki.Enabled() {
		close(done)
		return done, nil
	}
	fwd, err := loki.New(cfg.Loki, st, log.With("component", "loki"), reg)
	if err != nil {
		close(done)
		return done, fmt.Errorf("loki forwarder: %w", err)
	}
	go func() {
		defer close(done)
		if err := fwd.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("loki forwarder stopped", "err", err.Error())
		}
	}()
	log.Info("forwarding to loki", "url", cfg.Loki.URL)
	return done, nil
}
