package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
)

// Record is one event to store: the parsed event (for the indexed columns)
// and its canonical JSON line, stored byte for byte and hashed.
type Record struct {
	Event *event.Event
	JSON  []byte
	// Seq is set by Append to the stored seq of a newly inserted event and
	// left 0 for a duplicate, so callers run rules and live streams on new
	// events only. It means nothing when Append returns an error.
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

// Batch is a set of records made ready to store off the write lock: each
// line compressed and its search text extracted. Prepare needs no database,
// so an ingest pipeline can prepare one batch while the previous commits.
type Batch struct {
	recs   []Record
	stored [][]byte // what goes into events.data, per record
	// text holds the search text of every record (search.go); spans[i] is
	// record i's text and its side values (sides[side0:side1]), kept for
	// the text index (textindex.go) once the records are stored.
	text  bytes.Buffer
	spans []textSpan
	sides [][]byte
}

type textSpan struct{ start, end, side0, side1 int }

// Records returns the batch's records; after AppendBatch each has its Seq.
// A batch is stored once: AppendBatch releases everything else it holds.
func (b *Batch) Records() []Record { return b.recs }

// Prepare validates, compresses and extracts the search text of recs for
// AppendBatch. It keeps recs
// (AppendBatch sets their Seq) and is safe to call concurrently with any
// other Store method.
func (s *Store) Prepare(recs []Record) (*Batch, error) {
	for i, r := range recs {
		if r.Event == nil || r.Event.ID == "" || len(r.JSON) == 0 {
			return nil, fmt.Errorf("append record %d: %w: needs an event with an id and its JSON", i, ErrInvalidRecord)
		}
	}
	b := &Batch{recs: recs, stored: s.codec.encodeAll(recs), spans: make([]textSpan, len(recs))}
	addSide := func(v []byte) { b.sides = append(b.sides, v) }
	for i := range recs {
		sp := textSpan{start: b.text.Len(), side0: len(b.sides)}
		s.searchText(&b.text, recs[i].JSON, addSide)
		sp.end, sp.side1 = b.text.Len(), len(b.sides)
		b.spans[i] = sp
	}
	return b, nil
}

// Append stores recs and cps in one transaction and returns how many events
// were new: Prepare, then AppendBatch.
func (s *Store) Append(ctx context.Context, recs []Record, cps ...Checkpoint) (int, error) {
	b, err := s.Prepare(recs)
	if err != nil {
		return 0, err
	}
	return s.AppendBatch(ctx, b, cps...)
}

// AppendBatch stores a prepared batch and cps in one transaction and
// returns how many events were new. An event whose id is already stored
// (or appears earlier in the same batch) is skipped: not counted and not
// chained. Each inserted event gets the next seq and hash = sha256(prev_hash
// || JSON). The checkpoints are written whether or not any event was new,
// so a reader can record that it has consumed a batch of duplicates. On
// error nothing is written.
func (s *Store) AppendBatch(ctx context.Context, b *Batch, cps ...Checkpoint) (int, error) {
	recs := b.recs
	if len(b.stored) != len(recs) {
		return 0, fmt.Errorf("append %d events: %w: the batch was already stored", len(recs), ErrInvalidRecord)
	}
	inserted := 0
	var head0 int64
	sealed := false // a block of the text index was completed
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		a := appender{s: s, tx: tx, b: b}
		if err := tx.QueryRowContext(ctx, `SELECT head_seq, head_hash FROM chain WHERE id = 1`).Scan(&a.headSeq, &a.headHash); err != nil {
			return fmt.Errorf("read chain head: %w", err)
		}
		head0 = a.headSeq
		for i := range recs {
			recs[i].Seq = 0
		}
		// Rows go in with one multi-row INSERT per chunk. A chunk that
		// hits a duplicate id is rolled back to its savepoint and inserted
		// row by row, skipping the duplicates (rare: replays after a crash,
		// at-least-once resends).
		for i := 0; i < len(recs); i += insertChunk {
			j := min(len(recs), i+insertChunk)
			ok, err := a.insertChunk(ctx, i, j)
			if err != nil {
				return err
			}
			if !ok {
				if err := a.insertEach(ctx, i, j); err != nil {
					return err
				}
			}
		}
		if err := a.ui.write(ctx, tx); err != nil {
			return err
		}
		sealed = a.headSeq>>s.textShift > head0>>s.textShift
		if a.inserted > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE chain SET head_seq = ?, head_hash = ?,
				events = events + ?, hook_errors = hook_errors + ? WHERE id = 1`,
				a.headSeq, a.headHash, a.inserted, a.hookErrors); err != nil {
				return fmt.Errorf("update chain head: %w", err)
			}
		}
		inserted = a.inserted
		return writeCheckpoints(ctx, tx, cps)
	})
	if err != nil {
		return 0, fmt.Errorf("append %d events: %w", len(recs), err)
	}
	if inserted > 0 {
		idx, seqs := make([]int, 0, inserted), make([]int64, 0, inserted)
		for i := range recs {
			if recs[i].Seq > 0 {
				idx, seqs = append(idx, i), append(seqs, recs[i].Seq)
			}
		}
		s.capture(b, idx, seqs)
		s.walGrew()
		if sealed {
			s.wakeIndexer()
		}
	}
	// The stored values and search text are written (and captured) now;
	// only the records are still needed by the caller (the consumers), so
	// the rest goes to the GC while they run.
	b.stored, b.text, b.spans, b.sides = nil, bytes.Buffer{}, nil, nil
	return inserted, nil
}

// insertChunk is how many events one INSERT statement writes (18 bound
// parameters each; SQLite allows 32,766).
const insertChunk = 64

const insertHead = `INSERT INTO events
	(seq, id, ts, project, session_id, tool_name, event_type, hook_event, host, user, agent_id,
	 outside_scope, sensitive, redacted, decision, data, prev_hash, hash) VALUES `

const insertRow = `(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`

// appender is the state of one Append transaction.
type appender struct {
	s          *Store
	tx         *sql.Tx
	b          *Batch
	headSeq    int64
	headHash   []byte
	inserted   int
	hookErrors int
	args       []any     // bound parameters of one statement
	full       *sql.Stmt // the prepared insertChunk-row statement
	one        *sql.Stmt // the prepared one-row statement
	// ui holds the batch's additions to the UI summaries (summary.go).
	ui summaries
}

// rowArgs appends the parameters of one event row, chained on prev.
func (a *appender) rowArgs(args []any, r *Record, stored []byte, seq int64, prev, hash []byte) []any {
	e := r.Event
	decision := ""
	if e.Decision != nil {
		decision = e.Decision.Action
	}
	return append(args, seq, e.ID, e.Timestamp.UnixNano(), e.Project, e.SessionID,
		e.ToolName, e.EventType, e.HookEvent, e.Host, e.User, e.AgentID,
		e.Security.OutsideProjectScope, e.Security.SensitivePath, len(e.Security.Redactions) > 0,
		decision, stored, prev, hash)
}

// accepted records row i of the batch as stored.
func (a *appender) accepted(i int, seq int64, hash []byte) {
	r := &a.b.recs[i]
	if r.Event.EventType == event.TypeHookError {
		a.hookErrors++
	}
	a.ui.add(r.Event, seq)
	a.headSeq, a.headHash = seq, hash
	r.Seq = seq
	a.inserted++
}

// insertChunk inserts rows [from, to) of the batch with one statement,
// inside a savepoint. It
// reports false (and leaves nothing behind) when an id was already stored.
func (a *appender) insertChunk(ctx context.Context, from, to int) (bool, error) {
	recs, stored := a.b.recs[from:to], a.b.stored[from:to]
	if _, err := a.tx.ExecContext(ctx, `SAVEPOINT chunk`); err != nil {
		return false, fmt.Errorf("savepoint: %w", err)
	}
	a.args = a.args[:0]
	seq, prev := a.headSeq, a.headHash
	hashes := make([][]byte, len(recs))
	for i := range recs {
		seq++
		hashes[i] = chainHash(prev, recs[i].JSON)
		a.args = a.rowArgs(a.args, &recs[i], stored[i], seq, prev, hashes[i])
		prev = hashes[i]
	}
	var res sql.Result
	var err error
	if len(recs) == insertChunk {
		if a.full == nil {
			q := insertHead + strings.TrimSuffix(strings.Repeat(insertRow+",", insertChunk), ",") + ` ON CONFLICT(id) DO NOTHING`
			if a.full, err = a.tx.PrepareContext(ctx, q); err != nil {
				return false, fmt.Errorf("prepare insert: %w", err)
			}
		}
		res, err = a.full.ExecContext(ctx, a.args...)
	} else {
		q := insertHead + strings.TrimSuffix(strings.Repeat(insertRow+",", len(recs)), ",") + ` ON CONFLICT(id) DO NOTHING`
		res, err = a.tx.ExecContext(ctx, q, a.args...)
	}
	if err != nil {
		return false, fmt.Errorf("insert events: %w", err)
	}
	if n, _ := res.RowsAffected(); n != int64(len(recs)) {
		if _, err := a.tx.ExecContext(ctx, `ROLLBACK TO chunk`); err != nil {
			return false, fmt.Errorf("rollback to savepoint: %w", err)
		}
		if _, err := a.tx.ExecContext(ctx, `RELEASE chunk`); err != nil {
			return false, fmt.Errorf("release savepoint: %w", err)
		}
		return false, nil
	}
	if _, err := a.tx.ExecContext(ctx, `RELEASE chunk`); err != nil {
		return false, fmt.Errorf("release savepoint: %w", err)
	}
	seq = a.headSeq
	for i := range recs {
		seq++
		a.accepted(from+i, seq, hashes[i])
	}
	return true, nil
}

// insertEach inserts recs one by one, skipping ids already stored.
func (a *appender) insertEach(ctx context.Context, from, to int) error {
	recs, stored := a.b.recs[from:to], a.b.stored[from:to]
	if a.one == nil {
		var err error
		if a.one, err = a.tx.PrepareContext(ctx, insertHead+insertRow+` ON CONFLICT(id) DO NOTHING`); err != nil {
			return fmt.Errorf("prepare insert: %w", err)
		}
	}
	for i := range recs {
		r := &recs[i]
		seq := a.headSeq + 1
		h := chainHash(a.headHash, r.JSON)
		res, err := a.one.ExecContext(ctx, a.rowArgs(a.args[:0], r, stored[i], seq, a.headHash, h)...)
		if err != nil {
			return fmt.Errorf("insert event %s: %w", r.Event.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // duplicate id
		}
		a.accepted(from+i, seq, h)
	}
	return nil
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
