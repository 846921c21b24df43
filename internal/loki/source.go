package loki

import (
	"bytes"
	"context"
	"encoding/json"
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
	metas := make([]EventMeta, len(rows))
	for i, r := range rows {
		metas[i] = EventMeta{
			ID: r.ID, Project: r.Project, SessionID: r.SessionID, ToolName: r.ToolName,
			ToolUseID: toolUseID(r.JSON), EventType: r.EventType, HookEvent: r.HookEvent,
			Host: r.Host, User: r.User, AgentID: r.AgentID, Time: r.Time,
		}
		out[i] = Record{Seq: r.Seq, JSON: r.JSON, Meta: &metas[i]}
	}
	return out, nil
}

// toolUseID finds the top-level tool_use_id in an event line without
// decoding it: the store keeps the line as event.Event marshals it, where
// tool_use_id comes before action_details (which may hold a tool's own
// input with the same key), so only that prefix is searched.
func toolUseID(line []byte) string {
	head := line
	if i := bytes.Index(line, []byte(`"action_details":`)); i >= 0 {
		head = line[:i]
	}
	const key = `"tool_use_id":"`
	i := bytes.Index(head, []byte(key))
	if i < 0 {
		return ""
	}
	rest := head[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		// Escapes in an id: decode properly.
		var ev struct {
			ToolUseID string `json:"tool_use_id"`
		}
		_ = json.Unmarshal(line, &ev)
		return ev.ToolUseID
	}
	return string(rest[:j])
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
