package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one named schema step. Steps run in the order of
// migrations(), each in its own transaction, and are recorded by name in
// schema_migrations, so a step already applied is skipped. Never edit a
// step that has shipped: append a new one.
type migration struct {
	name string
	sql  string
}

// migrations lists every schema step of the package, in order. Files that
// add tables append one line here, e.g. {"0100_alerts", alertsSchema}.
func migrations() []migration {
	return []migration{
		{"0001_events", schemaEvents},
		{"0002_events_project", schemaEventsProject},
		{"0003_fts_automerge", schemaFTSAutomerge},
		{"0004_fts_sides", schemaFTSSides},
		{"0200_ui_sessions", schemaUISessions},        // sessions.go
		{"0210_ui_rollups", schemaUIRollups},          // overview.go
		{"0300_alerts", schemaAlerts},                 // alerts.go
		{"0310_ui_alert_counts", schemaUIAlertCounts}, // overview.go
		{"0320_ui_alert_rollup", schemaUIAlertRollup}, // overview.go
		{"0330_ui_alert_counts", schemaUIAlertCounts}, // overview.go: again, idempotent
		{"0400_ui_batched", schemaUIBatched},          // summary.go: Append maintains the summaries
		{"0500_text_blocks", schemaTextBlocks},        // textindex.go: block trigram index replaces events_fts
	}
}

const schemaEvents = `
CREATE TABLE events (
	seq           INTEGER PRIMARY KEY,
	id            TEXT    NOT NULL,
	ts            INTEGER NOT NULL,
	project       TEXT    NOT NULL DEFAULT '',
	session_id    TEXT    NOT NULL DEFAULT '',
	tool_name     TEXT    NOT NULL DEFAULT '',
	event_type    TEXT    NOT NULL DEFAULT '',
	hook_event    TEXT    NOT NULL DEFAULT '',
	host          TEXT    NOT NULL DEFAULT '',
	user          TEXT    NOT NULL DEFAULT '',
	agent_id      TEXT    NOT NULL DEFAULT '',
	outside_scope INTEGER NOT NULL DEFAULT 0,
	sensitive     INTEGER NOT NULL DEFAULT 0,
	redacted      INTEGER NOT NULL DEFAULT 0,
	decision      TEXT    NOT NULL DEFAULT '',
	data          BLOB    NOT NULL,
	prev_hash     BLOB    NOT NULL,
	hash          BLOB    NOT NULL
);
CREATE UNIQUE INDEX events_id ON events(id);
CREATE INDEX events_ts ON events(ts);
CREATE INDEX events_project_tool ON events(project, tool_name);
CREATE INDEX events_session ON events(session_id);
CREATE INDEX events_tool ON events(tool_name);
CREATE INDEX events_type ON events(event_type);
CREATE INDEX events_flagged ON events(outside_scope, sensitive, redacted)
	WHERE outside_scope OR sensitive OR redacted OR decision != '';
CREATE VIRTUAL TABLE events_fts USING fts5(
	text, content='', contentless_delete=1, detail='none', tokenize='trigram'
);
CREATE TABLE chain (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	head_seq    INTEGER NOT NULL,
	head_hash   BLOB    NOT NULL,
	anchor_seq  INTEGER NOT NULL,
	anchor_hash BLOB    NOT NULL,
	events      INTEGER NOT NULL,
	hook_errors INTEGER NOT NULL,
	deleted     INTEGER NOT NULL
);
INSERT INTO chain VALUES (1, 0, zeroblob(32), 0, zeroblob(32), 0, 0, 0);
CREATE TABLE fts_values (
	value BLOB PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE dicts (
	id      INTEGER PRIMARY KEY,
	content BLOB NOT NULL
);
CREATE TABLE checkpoints (
	name       TEXT PRIMARY KEY,
	value      INTEGER NOT NULL DEFAULT 0,
	text       TEXT    NOT NULL DEFAULT '',
	updated_ns INTEGER NOT NULL
) WITHOUT ROWID;
`

// schemaEventsProject serves "newest events of a project" without a sort:
// (project, tool_name) alone is not ordered by seq within a project.
const schemaEventsProject = `CREATE INDEX events_project ON events(project);`

// schemaFTSAutomerge lets FTS5 wait for 8 segments of a level (default 4)
// before merging them: fewer, larger merges at commit, measured ≈ 10 %
// less CPU per appended event, for a few more segments per lookup.
const schemaFTSAutomerge = `INSERT INTO events_fts(events_fts, rank) VALUES ('automerge', 8);`

// schemaFTSSides replaces fts_values with fts_sides plus its own trigram
// index: checking a term against every side value was a scan of all of
// them (5.5 MB and ~10–40 ms per text query at 1M events, growing with the
// number of sessions); the index makes it a lookup and an exact re-check of
// the few candidates.
const schemaFTSSides = `
CREATE TABLE fts_sides (
	id    INTEGER PRIMARY KEY,
	value BLOB NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE fts_sides_idx USING fts5(
	value, content='', contentless_delete=1, detail='none', tokenize='trigram'
);
INSERT INTO fts_sides(value) SELECT value FROM fts_values;
INSERT INTO fts_sides_idx(rowid, value) SELECT id, CAST(value AS TEXT) FROM fts_sides;
DROP TABLE fts_values;
`

// migrate applies every step of migrations() not yet recorded.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_ns INTEGER NOT NULL) WITHOUT ROWID`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range migrations() {
		if err := applyMigration(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, m.name).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(name, applied_ns) VALUES (?, ?)`, m.name, nowNS()); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	return nil
}
