package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"

	"github.com/vigil-sec/vigil/internal/event"
)

// Record is one event to store: the parsed event (for the indexed columns)
// and its canonical JSON line, stored byte for byte and hashed.
type Record struct {
	Event *event.Event
	JSON  []byte
	// Seq is set by Append to the stored seq of a newly inserted event and
	// left 0 for a duplicate, so callers run rules and live streams on new
	// events only.
	Seq int64
}

// Checkpoint is a named ingest position (a spool segment offset, the Loki
// forwarder's last pushed seq …) written in the same transaction as the
// events it covers.
type Checkpoint struct {
	Name  string
	Value int64
	Text  string
}

// ErrInvalidRecord is returned (wrapped) for a record without an id or JSON.
var ErrInvalidRecord = errors.New("invalid record")

// Append stores recs and cps in one transaction and returns how many events
// were new. An event whose id is already stored (or appears earlier in the
// same batch) is skipped: not counted and not chained. Each inserted event
// gets the next seq and hash = sha256(prev_hash || JSON). The checkpoints
// are written whether or not any event was new, so a reader can record
// that it has consumed a batch of duplicates. On error nothing is written.
func (s *Store) Append(ctx context.Context, recs []Record, cps ...Checkpoint) (int, error) {
	for i, r := range recs {
		if r.Event == nil || r.Event.ID == "" || len(r.JSON) == 0 {
			return 0, fmt.Errorf("append record %d: %w: needs an event with an id and its JSON", i, ErrInvalidRecord)
		}
	}
	inserted := 0
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var headSeq int64
		var headHash []byte
		if err := tx.QueryRowContext(ctx, `SELECT head_seq, head_hash FROM chain WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
			return fmt.Errorf("read chain head: %w", err)
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO events
			(seq, id, ts, project, session_id, tool_name, event_type, hook_event, host, user, agent_id,
			 outside_scope, sensitive, redacted, decision, data, prev_hash, hash)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING`)
		if err != nil {
			return fmt.Errorf("prepare insert: %w", err)
		}
		defer ins.Close()
		fts, err := tx.PrepareContext(ctx, `INSERT INTO events_fts(rowid, text) VALUES (?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare fts insert: %w", err)
		}
		defer fts.Close()
		hookErrors := 0
		var text bytes.Buffer
		var stored []byte
		for i, r := range recs {
			recs[i].Seq = 0
			e := r.Event
			seq := headSeq + 1
			h := chainHash(headHash, r.JSON)
			stored = s.codec.encode(stored[:0], r.JSON)
			decision := ""
			if e.Decision != nil {
				decision = e.Decision.Action
			}
			res, err := ins.ExecContext(ctx, seq, e.ID, e.Timestamp.UnixNano(), e.Project, e.SessionID,
				e.ToolName, e.EventType, e.HookEvent, e.Host, e.User, e.AgentID,
				e.Security.OutsideProjectScope, e.Security.SensitivePath, len(e.Security.Redactions) > 0,
				decision, stored, headHash, h)
			if err != nil {
				return fmt.Errorf("insert event %s: %w", e.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // duplicate id
			}
			text.Reset()
			s.searchText(&text, r.JSON)
			if text.Len() > 0 {
				if _, err := fts.ExecContext(ctx, seq, text.Bytes()); err != nil {
					return fmt.Errorf("index event %s: %w", e.ID, err)
				}
			}
			if e.EventType == event.TypeHookError {
				hookErrors++
			}
			headSeq, headHash = seq, h
			recs[i].Seq = seq
			inserted++
		}
		if inserted > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE chain SET head_seq = ?, head_hash = ?,
				events = events + ?, hook_errors = hook_errors + ? WHERE id = 1`,
				headSeq, headHash, inserted, hookErrors); err != nil {
				return fmt.Errorf("update chain head: %w", err)
			}
		}
		return writeCheckpoints(ctx, tx, cps)
	})
	if err != nil {
		return 0, fmt.Errorf("append %d events: %w", len(recs), err)
	}
	return inserted, nil
}

// SetCheckpoints writes checkpoints alone, in one transaction.
func (s *Store) SetCheckpoints(ctx context.Context, cps ...Checkpoint) error {
	if err := s.writeTx(ctx, func(tx *sql.Tx) error { return writeCheckpoints(ctx, tx, cps) }); err != nil {
		return fmt.Errorf("set checkpoints: %w", err)
	}
	return nil
}

func writeCheckpoints(ctx context.Context, tx *sql.Tx, cps []Checkpoint) error {
	now := nowNS()
	for _, c := range cps {
		if c.Name == "" {
			return fmt.Errorf("checkpoint: empty name")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints(name, value, text, updated_ns) VALUES (?,?,?,?)
			ON CONFLICT(name) DO UPDATE SET value = excluded.value, text = excluded.text, updated_ns = excluded.updated_ns`,
			c.Name, c.Value, c.Text, now); err != nil {
			return fmt.Errorf("write checkpoint %s: %w", c.Name, err)
		}
	}
	return nil
}

// Checkpoints returns every checkpoint whose name starts with prefix ("" for
// all), keyed by name.
func (s *Store) Checkpoints(ctx context.Context, prefix string) (map[string]Checkpoint, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT name, value, text FROM checkpoints WHERE substr(name, 1, ?) = ? ORDER BY name`,
		len(prefix), prefix)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints %q: %w", prefix, err)
	}
	defer rows.Close()
	out := map[string]Checkpoint{}
	for rows.Next() {
		var c Checkpoint
		if err := rows.Scan(&c.Name, &c.Value, &c.Text); err != nil {
			return nil, fmt.Errorf("read checkpoints %q: %w", prefix, err)
		}
		out[c.Name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read checkpoints %q: %w", prefix, err)
	}
	return out, nil
}

// chainHash is sha256(prev || line).
func chainHash(prev, line []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(line)
	return h.Sum(nil)
}
