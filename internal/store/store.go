package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"
)

// ErrNotFound is returned by Get when no event has the id, and by Open in
// read-only mode when the database file does not exist.
var ErrNotFound = errors.New("not found")

// Options tune a Store. The zero value is a good default for serve.
type Options struct {
	// ReadOnly opens an existing store for reading only (the CLI): no
	// migration runs, writes fail, and a missing file is ErrNotFound.
	ReadOnly bool
	// Synchronous is "NORMAL" (default: a commit survives kill -9 of the
	// process, not power loss) or "FULL" (fsync per commit: survives power
	// loss too).
	Synchronous string
	// Readers is the size of the reader pool (default 4).
	Readers int
	// CacheKiB bounds each connection's page cache (default 4096 KiB for
	// the writer, half that for each reader: serve's memory budget; 8 MiB
	// ingested no faster at 1M events, appends touch few hot pages).
	CacheKiB int
	// BusyTimeout is how long a connection waits for a lock (default 5s).
	BusyTimeout time.Duration
	// Log receives what background work (the text indexer) cannot return
	// (default: discarded).
	Log *slog.Logger

	// textBlockShift sets the text index's block size (2^shift seqs) of a
	// store created now: tests use small blocks. 0: defaultBlockShift.
	textBlockShift uint
}

func (o Options) withDefaults() Options {
	if o.Synchronous == "" {
		o.Synchronous = "NORMAL"
	}
	o.Synchronous = strings.ToUpper(o.Synchronous)
	if o.Readers <= 0 {
		o.Readers = 4
	}
	if o.CacheKiB <= 0 {
		o.CacheKiB = 4096
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Store is the SQLite event store. It is safe for concurrent use: writes are
// serialised on one connection, reads use a pool.
type Store struct {
	path string
	opts Options
	wdb  *sql.DB // the single writer connection; nil when read-only
	rdb  *sql.DB // the reader pool
	// wmu serialises write transactions so the chain head read at the start
	// of a batch is still the head at commit.
	wmu   sync.Mutex
	keys  map[string]bool // JSON keys of the v3 schema, see search.go
	codec *codec          // stored form of event lines, see codec.go
	// sideSeen caches side-key values known to be in fts_sides (guarded
	// by wmu; reset whenever a write fails, so it never claims a value
	// that a rolled-back transaction did not store).
	sideSeen map[string]struct{}
	// textShift is the text index's block size (textindex.go), fixed when
	// the store is created; imu serialises BuildTextIndex; ix is the
	// background indexer (writable stores only).
	textShift uint
	imu       sync.Mutex
	ix        *indexer
	bb        *blockBuilder // the indexer's buffers (guarded by imu)
	cp        *checkpointer // background WAL checkpoints (writable stores)
	// open keeps the search text of blocks not indexed yet, as ingest
	// stored them (textindex.go), guarded by omu.
	omu  sync.Mutex
	open map[int64]*openBlock
	// ftsWindow is the first window of a windowed text search (ftsWindow
	// in query.go; tests make it small).
	ftsWindow int64
}

// Open opens (creating it when needed, unless read-only) the store at path.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if opts.Synchronous != "NORMAL" && opts.Synchronous != "FULL" {
		return nil, fmt.Errorf("open store %s: synchronous must be NORMAL or FULL, got %q", path, opts.Synchronous)
	}
	s := &Store{path: path, opts: opts, keys: schemaKeys(), ftsWindow: ftsWindow}
	ctx := context.Background()
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("open store %s: %w (has vigil serve ingested anything yet?)", path, ErrNotFound)
			}
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	} else {
		w, err := sql.Open("sqlite", dsn(path, opts, opts.CacheKiB, false))
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		s.wdb = w
		if err := migrate(ctx, w); err != nil {
			w.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	r, err := sql.Open("sqlite", dsn(path, opts, opts.CacheKiB/2, true))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	r.SetConnMaxIdleTime(5 * time.Minute)
	s.rdb = r
	if err := r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if opts.ReadOnly {
		var n int
		if err := r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'events'`).Scan(&n); err != nil || n == 0 {
			s.Close()
			if err == nil {
				err = ErrNotFound
			}
			return nil, fmt.Errorf("open store %s: no events table: %w", path, err)
		}
	}
	if s.codec, err = loadCodec(ctx, s.wdb, s.rdb); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if s.wdb != nil && opts.textBlockShift > 0 {
		if _, err := s.wdb.ExecContext(ctx, `UPDATE text_state SET shift = ? WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM events)`, opts.textBlockShift); err != nil {
			s.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	st, err := s.readTextState(ctx, s.rdb)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.textShift = st.shift
	if s.wdb != nil {
		if err := s.startCheckpointer(); err != nil {
			s.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		s.startIndexer()
	}
	return s, nil
}

// dsn builds the modernc.org/sqlite data source name.
func dsn(path string, o Options, cacheKiB int, reader bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()))
	if !reader {
		// auto_vacuum only takes effect on a new database; it lets retention
		// give pages back with incremental_vacuum instead of a full VACUUM.
		q.Add("_pragma", "auto_vacuum(INCREMENTAL)")
		q.Add("_pragma", "journal_mode(WAL)")
		// Checkpoints run in the background (walcheckpoint.go); the
		// writer's own automatic one is only a backstop.
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walBackstopPages))
		q.Add("_txlock", "immediate")
		// Statement journals (every insert that fires triggers has one)
		// stay in memory instead of costing a write syscall per page.
		q.Add("_pragma", "temp_store(MEMORY)")
	}
	q.Add("_pragma", "synchronous("+o.Synchronous+")")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheKiB))
	q.Add("_pragma", "mmap_size(0)")
	if reader {
		// Big sorts and materialised sub-queries of a query spill to disk
		// rather than grow the heap.
		q.Add("_pragma", "temp_store(FILE)")
		q.Add("_pragma", "query_only(ON)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes every connection. The WAL is checkpointed by SQLite when the
// last connection closes.
func (s *Store) Close() error {
	var errs []error
	s.stopIndexer()
	errs = append(errs, s.stopCheckpointer())
	s.codec.close()
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	return errors.Join(errs...)
}

// ErrReadOnly is returned by writes on a store opened with ReadOnly.
var ErrReadOnly = errors.New("store is read-only")

// writeTx runs fn in one write transaction (BEGIN IMMEDIATE), serialised with
// every other write of this Store. Other files of the package use it for
// their own tables.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.wdb == nil {
		return ErrReadOnly
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func nowNS() int64 { return time.Now().UnixNano() }
