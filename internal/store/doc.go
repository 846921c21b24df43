// Package store owns Vigil's embedded event store: a single SQLite file
// (modernc.org/sqlite, no cgo) that holds every event, hash-chained, with
// indexes for the fields people filter on, a trigram full-text pre-filter,
// ingest checkpoints, retention and chain verification.
//
// # Connections and durability
//
// A Store has one writer connection (all writes are serialised through it)
// and a small pool of query-only reader connections. The database runs in
// WAL mode, so readers never block the writer and another process (the
// CLI) can read while serve writes. synchronous=NORMAL is used by default:
// in WAL mode a committed transaction is in the WAL file before Commit
// returns, so it survives kill -9 of the process; only an OS crash or power
// loss can roll back the last transactions. Options.Synchronous = "FULL"
// makes commits survive power loss too, at the price of an fsync per batch.
// Page caches are bounded per connection (Options.CacheKiB) and mmap is off,
// so the store's resident memory stays small.
//
// # Schema
//
// events: one row per event.
//
//	seq           INTEGER PRIMARY KEY  ingest order, 1, 2, 3 … (the cursor everywhere)
//	id            TEXT UNIQUE          the event's UUIDv7; ingest is idempotent on it
//	ts            INTEGER              event timestamp, unix nanoseconds
//	project, session_id, tool_name, event_type, hook_event, host, user, agent_id  TEXT ('' when absent)
//	outside_scope, sensitive, redacted  INTEGER 0/1 (security_flags)
//	decision      TEXT                 decision.action of PreToolUse events, '' if none
//	data          BLOB                 the event's JSON line, S2-compressed against
//	                                   the dictionary in dicts (see codec.go); Row.JSON
//	                                   gives back the original bytes
//	prev_hash     BLOB                 hash of the previous row (or of the anchor)
//	hash          BLOB                 sha256(prev_hash || original JSON line)
//
// Indexes (every SQLite index ends with the rowid, i.e. seq, so each one
// also serves "newest first" walks): (ts), (project), (session_id),
// unique (id), and a partial index on the flagged rows (outside_scope,
// sensitive, redacted or a decision). Equality on tool_name, event_type
// and hook_event is served by label grams in the text index instead.
//
// text_grams, text_blocks, text_state: the text index (textindex.go).
// Blocks of 4,096 seqs; once a block is sealed a background indexer writes
// its byte-trigram postings (and label grams) into up to 1,024 rows of
// text_grams. It indexes the event's JSON string values minus keys of the
// v3 schema, hex/time-like values (ids, digests, timestamps) and the
// values of per-session/per-project keys (cwd, transcript_path, project,
// host …), which go once each into fts_sides (with their own FTS5 trigram
// index, fts_sides_idx) instead. It is only a pre-filter for `|=` line
// filters (and a regex's literal prefix) of three characters or more;
// every candidate row is re-checked exactly against the JSON line, and
// seqs the index has not reached are scanned, so the answer is always what
// a plain substring scan would give. See search.go for why the pre-filter
// can never drop a matching row. A text query runs in windows of blocks
// from the end it starts at (query.go), so a common term stops early and a
// rare one costs one pass.
//
// dicts: the dictionaries the data column is compressed against (S2; zstd
// for rows written before S2).
//
// chain: one row with the head of the hash chain (seq, hash), the retention
// anchor (seq and hash of the last row deleted by retention, so the chain
// verifies from the first kept row) and running counters for Stats.
//
// checkpoints: name → (value, text). Ingest writes spool offsets in the
// same transaction as the events they cover, which makes ingest
// exactly-once across kill -9.
//
// schema_migrations: the names of the schema steps applied so far.
//
// # Adding tables
//
// Other files of this package (alerts*.go, sessions*.go, overview*.go …)
// add their tables by declaring a migration and appending one line to the
// list in migrations() (schema.go). They write through Store.writeTx and
// read through Store.rdb.
package store
