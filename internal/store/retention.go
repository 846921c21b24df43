package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// retentionChunk bounds the rows one retention transaction deletes, so the
// writer lock is never held long while ingest waits: on the 1M store a
// delete costs 25–85 µs per row (index, FTS and the UI's triggers), so
// 2,000 rows hold it for 50–170 ms, inside the 250 ms ingest budget.
const retentionChunk = 2000

// ApplyRetention deletes the oldest events: those older than maxAge
// (0: no age limit) and, while the live data exceeds maxBytes (0: no size
// limit), more of the oldest ones. It always deletes a prefix in seq order,
// and records the hash of the last deleted row as the chain anchor, so
// Verify still passes from the first kept row. An old event that arrived
// late (after younger ones) is kept until the rows before it go. Freed
// pages are given back to the file system with incremental_vacuum.
func (s *Store) ApplyRetention(ctx context.Context, maxAge time.Duration, maxBytes int64) (int, error) {
	if s.wdb == nil {
		return 0, ErrReadOnly
	}
	deleted := 0
	if maxAge > 0 {
		cutoff := time.Now().Add(-maxAge).UnixNano()
		// Delete every row before the first one that is still young. The
		// walk in seq order stops at that row, so it costs the old rows, not
		// the whole table ("+ts" keeps SQLite off the ts index, which would
		// visit every young row and sort).
		var upto int64
		err := s.wdb.QueryRowContext(ctx, `SELECT coalesce((SELECT seq FROM events WHERE +ts >= ? ORDER BY seq LIMIT 1) - 1,
			(SELECT max(seq) FROM events), 0)`, cutoff).Scan(&upto)
		if err != nil {
			return 0, fmt.Errorf("retention by age: %w", err)
		}
		n, err := s.deleteThrough(ctx, upto)
		deleted += n
		if err != nil {
			return deleted, fmt.Errorf("retention by age: %w", err)
		}
	}
	if maxBytes > 0 {
		for {
			used, err := s.usedBytes(ctx)
			if err != nil {
				return deleted, fmt.Errorf("retention by size: %w", err)
			}
			if used <= maxBytes {
				break
			}
			var count, first int64
			if err := s.wdb.QueryRowContext(ctx, `SELECT count(*), coalesce(min(seq), 0) FROM events`).Scan(&count, &first); err != nil {
				return deleted, fmt.Errorf("retention by size: %w", err)
			}
			if count == 0 {
				break
			}
			// Delete enough of the oldest rows to get 10% under the limit.
			perRow := used / count
			want := (used - maxBytes*9/10) / max(perRow, 1)
			want = min(max(want, 1), retentionChunk, count)
			n, err := s.deleteThrough(ctx, first+want-1)
			deleted += n
			if err != nil {
				return deleted, fmt.Errorf("retention by size: %w", err)
			}
			if n == 0 {
				break
			}
			if err := s.vacuum(ctx); err != nil {
				return deleted, err
			}
		}
	}
	if deleted > 0 {
		if err := s.vacuum(ctx); err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// deleteThrough deletes every event with seq <= upto, in chunks.
func (s *Store) deleteThrough(ctx context.Context, upto int64) (int, error) {
	deleted := 0
	for {
		var n int
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			var last int64
			var hash []byte
			err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM events WHERE seq <= ?
				ORDER BY seq LIMIT 1 OFFSET ?`, upto, retentionChunk-1).Scan(&last, &hash)
			if errors.Is(err, sql.ErrNoRows) {
				err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM events WHERE seq <= ? ORDER BY seq DESC LIMIT 1`, upto).Scan(&last, &hash)
			}
			if errors.Is(err, sql.ErrNoRows) {
				return nil // nothing left to delete
			}
			if err != nil {
				return err
			}
			var hookErrors int64
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE seq <= ? AND event_type = 'hook_error'`, last).Scan(&hookErrors); err != nil {
				return err
			}
			// The text index of every block now wholly deleted goes too; a
			// block cut in two keeps its rows until its last event goes
			// (postings of deleted seqs match no row).
			full := last >> s.textShift
			if _, err := tx.ExecContext(ctx, `DELETE FROM text_grams WHERE id < ?`, full<<partBits); err != nil {
				return fmt.Errorf("delete from index: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM text_blocks WHERE blk < ?`, full); err != nil {
				return fmt.Errorf("delete from index: %w", err)
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE seq <= ?`, last)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n = int(k)
			_, err = tx.ExecContext(ctx, `UPDATE chain SET anchor_seq = ?, anchor_hash = ?, deleted = deleted + ?,
				hook_errors = hook_errors - ? WHERE id = 1`, last, hash, k, hookErrors)
			return err
		})
		deleted += n
		if err != nil || n == 0 {
			return deleted, err
		}
	}
}

// usedBytes is the size of the live pages (file pages minus free pages).
func (s *Store) usedBytes(ctx context.Context) (int64, error) {
	var pages, free, size int64
	for _, q := range []struct {
		sql string
		v   *int64
	}{{"PRAGMA page_count", &pages}, {"PRAGMA freelist_count", &free}, {"PRAGMA page_size", &size}} {
		if err := s.wdb.QueryRowContext(ctx, q.sql).Scan(q.v); err != nil {
			return 0, fmt.Errorf("%s: %w", q.sql, err)
		}
	}
	return (pages - free) * size, nil
}

// vacuumStep is how many free pages one incremental_vacuum gives back;
// each step holds the writer briefly instead of once for all.
const vacuumStep = 1000

// vacuum gives free pages back to the file system and truncates the WAL,
// waiting at most 100 ms for readers (a busy WAL is truncated next time).
func (s *Store) vacuum(ctx context.Context) error {
	for {
		var free int64
		if err := s.wdb.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
			return fmt.Errorf("freelist count: %w", err)
		}
		if free == 0 {
			break
		}
		s.wmu.Lock()
		_, err := s.wdb.ExecContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, vacuumStep))
		s.wmu.Unlock()
		if err != nil {
			return fmt.Errorf("incremental vacuum: %w", err)
		}
		if free <= vacuumStep {
			break
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("wal checkpoint: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 100`); err != nil {
		return fmt.Errorf("wal checkpoint: %w", err)
	}
	defer conn.ExecContext(context.Background(), fmt.Sprintf(`PRAGMA busy_timeout = %d`, s.opts.BusyTimeout.Milliseconds()))
	// The result row says whether it completed; a busy WAL is not an error.
	var busy, logPages, done int
	err = conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &done)
	if err != nil && !strings.Contains(err.Error(), "SQLITE_BUSY") && !strings.Contains(err.Error(), "database is locked") {
		return fmt.Errorf("wal checkpoint: %w", err)
	}
	return nil
}
