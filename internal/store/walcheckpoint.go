package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"time"
)

// WAL checkpoints run on their own connection and goroutine, not in the
// writer's commits. SQLite's automatic checkpoint copies the WAL into the
// database inside whichever commit crosses the threshold, which put about
// 5 µs per event (pread, pwrite, fsync) on the single writer during a
// sustained ingest (BenchmarkSpoolIngest/corpus at 300,000 events). A
// PASSIVE checkpoint from another connection copies the same pages while
// the writer goes on appending; the writer keeps a much higher automatic
// threshold only as a backstop should this goroutine fall behind.

const (
	// walCheckpointBytes is the WAL size that starts a background
	// checkpoint.
	walCheckpointBytes = 64 << 20
	// walBackstopPages is the writer's own automatic checkpoint threshold.
	walBackstopPages = 32768
	// walPoll is how often the WAL size is looked at when no commit wakes
	// the checkpointer.
	walPoll = time.Second
)

type checkpointer struct {
	db     *sql.DB
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

func (s *Store) startCheckpointer() error {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", s.opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "synchronous("+s.opts.Synchronous+")")
	q.Add("_pragma", "cache_size(-256)")
	q.Add("_pragma", "mmap_size(0)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: s.path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("checkpoint connection: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	s.cp = c
	go func() {
		defer close(c.done)
		t := time.NewTicker(walPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
			case <-t.C:
			}
			if fi, err := os.Stat(s.path + "-wal"); err != nil || fi.Size() < walCheckpointBytes {
				continue
			}
			var busy, logPages, done int
			if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logPages, &done); err != nil && ctx.Err() == nil {
				s.opts.Log.Warn("wal checkpoint", "err", err.Error())
			}
		}
	}()
	return nil
}

// walGrew tells the checkpointer a commit appended to the WAL.
func (s *Store) walGrew() {
	if s.cp != nil {
		select {
		case s.cp.wake <- struct{}{}:
		default:
		}
	}
}

func (s *Store) stopCheckpointer() error {
	if s.cp == nil {
		return nil
	}
	s.cp.cancel()
	<-s.cp.done
	return s.cp.db.Close()
}
