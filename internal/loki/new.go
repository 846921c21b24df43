package loki

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/store"
)

// NewClientFromConfig builds a Client from the loki config section.
func NewClientFromConfig(cfg config.Loki) (*Client, error) {
	return NewClient(ClientOptions{
		URL:         cfg.URL,
		TenantID:    cfg.TenantID,
		Username:    cfg.Username,
		Password:    cfg.Password,
		BearerToken: cfg.BearerToken,
		Format:      cfg.Format,
		Timeout:     cfg.Timeout,
	})
}

// New builds the forwarder `vigil serve` runs when loki.url is set: it
// reads st in seq order and keeps its checkpoint in st. Run it in its own
// goroutine; it returns when ctx ends. Metrics go to reg (none when nil).
func New(cfg config.Loki, st *store.Store, logger *slog.Logger, reg prometheus.Registerer) (*Forwarder, error) {
	c, err := NewClientFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	return NewForwarder(ForwarderOptions{
		Client:         c,
		Source:         StoreSource{Store: st},
		Service:        cfg.Service,
		MaxBatchEvents: cfg.BatchMaxEvents,
		MaxBatchBytes:  cfg.BatchMaxBytes,
		BatchWait:      cfg.BatchWait,
		MinBackoff:     cfg.MinBackoff,
		MaxBackoff:     cfg.MaxBackoff,
		Logger:         logger,
		Registerer:     reg,
	})
}

// Client returns the forwarder's client, e.g. for NewAlertNotifier.
func (f *Forwarder) Client() *Client { return f.c }
