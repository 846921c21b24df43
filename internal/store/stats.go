package store

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Stats summarises the store.
type Stats struct {
	// Events and HookErrors are what the store holds now.
	Events     int64
	HookErrors int64
	// Ingested counts every event ever stored (monotonic); Deleted those
	// removed by retention since. Events = Ingested - Deleted.
	Ingested, Deleted int64
	// Bytes is the size on disk: the database file plus its WAL.
	Bytes int64
	// First and Last are the oldest and newest event timestamps (zero when empty).
	First, Last time.Time
	// LastSeq is the seq of the newest event (0 when none was ever stored).
	LastSeq int64
}

// Stats reads the running counters kept with the chain head (O(1), no
// table scan) and the file sizes.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	if err := s.rdb.QueryRowContext(ctx, `SELECT head_seq, events, hook_errors, deleted FROM chain WHERE id = 1`).
		Scan(&st.LastSeq, &st.Ingested, &st.HookErrors, &st.Deleted); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	st.Events = st.Ingested - st.Deleted
	var first, last int64
	// min and max of an indexed column are single index lookups, but only
	// one per SELECT.
	if err := s.rdb.QueryRowContext(ctx, `SELECT coalesce((SELECT min(ts) FROM events), 0),
		coalesce((SELECT max(ts) FROM events), 0)`).
		Scan(&first, &last); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	if st.Events > 0 {
		st.First, st.Last = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
	}
	st.Bytes = s.diskBytes()
	return st, nil
}

// diskBytes is the size of the database file and its WAL.
func (s *Store) diskBytes() int64 {
	var n int64
	for _, p := range []string{s.path, s.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}
