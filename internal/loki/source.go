package loki

import (
	"context"
	"fmt"

	"github.com/vigil-sec/vigil/internal/store"
)

// StoreSource adapts the SQLite store to Source: events by seq, and the
// forwarder's checkpoint in the store's checkpoints table, so the position
// survives restarts together with the events it refers to.
type StoreSource struct {
	Store *store.Store
}

var _ Source = StoreSource{}

// Records implements Source.
func (s StoreSource) Records(ctx context.Context, after int64, limit int) ([]Record, error) {
	rows, err := s.Store.After(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Record, len(rows))
	for i, r := range rows {
		out[i] = Record{Seq: r.Seq, JSON: r.JSON}
	}
	return out, nil
}

// LastSeq implements Source.
func (s StoreSource) LastSeq(ctx context.Context) (int64, error) {
	rows, err := s.Store.Query(ctx, store.Filter{Limit: 1, Order: store.NewestFirst})
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	return rows[0].Seq, nil
}

// Checkpoint implements Source.
func (s StoreSource) Checkpoint(ctx context.Context, name string) (int64, error) {
	cps, err := s.Store.Checkpoints(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("read checkpoint %s: %w", name, err)
	}
	return cps[name].Value, nil
}

// SaveCheckpoint implements Source.
func (s StoreSource) SaveCheckpoint(ctx context.Context, name string, seq int64) error {
	return s.Store.SetCheckpoints(ctx, store.Checkpoint{Name: name, Value: seq})
}
