package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/rules"
)

// alerts: one row per deduplicated alert (internal/alert), upserted by the
// dispatcher as its count grows. The columns are what `vigil alerts`
// filters and groups on; json holds the whole alert (tags, event ids,
// context, summary). status, acked_by and acked_at are owned by
// AckAlert: the dispatcher's upserts never overwrite them, so an ack made
// by the CLI while serve runs is kept.
const schemaAlerts = `
CREATE TABLE alerts (
	id         TEXT    PRIMARY KEY,
	dedup_key  TEXT    NOT NULL,
	rule       TEXT    NOT NULL,
	severity   INTEGER NOT NULL,
	category   TEXT    NOT NULL DEFAULT '',
	session_id TEXT    NOT NULL DEFAULT '',
	project    TEXT    NOT NULL DEFAULT '',
	host       TEXT    NOT NULL DEFAULT '',
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	escalated  INTEGER NOT NULL DEFAULT 0,
	status     TEXT    NOT NULL DEFAULT 'open',
	acked_by   TEXT    NOT NULL DEFAULT '',
	acked_at   INTEGER NOT NULL DEFAULT 0,
	json       TEXT    NOT NULL
);
CREATE INDEX alerts_last_seen ON alerts(last_seen);
CREATE INDEX alerts_first_seen ON alerts(first_seen);
CREATE INDEX alerts_project ON alerts(project, last_seen);
CREATE INDEX alerts_session ON alerts(session_id);
CREATE INDEX alerts_status ON alerts(status, last_seen);
`

// SaveAlerts upserts alerts by id in one transaction. Counts and last_seen
// only grow, so a late, older snapshot cannot roll an alert back.
// It implements alert.Store.
func (s *Store) SaveAlerts(ctx context.Context, as []alert.Alert) error {
	if len(as) == 0 {
		return nil
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO alerts
			(id, dedup_key, rule, severity, category, session_id, project, host, first_seen, last_seen, count, escalated, status, json)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET
				severity  = max(severity, excluded.severity),
				first_seen = min(first_seen, excluded.first_seen),
				last_seen = max(last_seen, excluded.last_seen),
				escalated = max(escalated, excluded.escalated),
				json      = CASE WHEN excluded.count >= count THEN excluded.json ELSE json END,
				count     = max(count, excluded.count)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range as {
			a := &as[i]
			if a.ID == "" {
				return fmt.Errorf("alert without id (rule %s)", a.Rule)
			}
			status := a.Status
			if status == "" {
				status = alert.StatusOpen
			}
			b, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("alert %s: %w", a.ID, err)
			}
			if _, err := st.ExecContext(ctx, a.ID, a.Key, a.Rule, int(a.Severity), a.Category, a.SessionID, a.Project, a.Host,
				a.FirstSeen.UnixNano(), a.LastSeen.UnixNano(), a.Count, a.Escalated, status, string(b)); err != nil {
				return fmt.Errorf("alert %s: %w", a.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save alerts: %w", err)
	}
	return nil
}

// AlertFilter selects alerts. Zero fields do not filter.
type AlertFilter struct {
	// Since keeps alerts last seen at or after it.
	Since       time.Time
	MinSeverity rules.Severity
	Project     string
	Session     string
	Rule        string
	Status      string // open | acked
	// Limit caps the result (default 100); newest last_seen first.
	Limit int
}

const alertColumns = `json, status, acked_by, acked_at, count, last_seen, first_seen, escalated, severity`

func scanAlert(sc interface{ Scan(...any) error }) (alert.Alert, error) {
	var (
		a                          alert.Alert
		js, status, by             string
		ackedAt, last, first       int64
		count, escalated, severity int
	)
	if err := sc.Scan(&js, &status, &by, &ackedAt, &count, &last, &first, &escalated, &severity); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		return a, fmt.Errorf("decode alert: %w", err)
	}
	// The columns are authoritative: they carry the ack and merged counts.
	a.Status, a.AckedBy = status, by
	a.AckedAt = time.Time{}
	if ackedAt != 0 {
		a.AckedAt = time.Unix(0, ackedAt).UTC()
	}
	a.Count, a.Escalated, a.Severity = count, escalated != 0, rules.Severity(severity)
	a.LastSeen, a.FirstSeen = time.Unix(0, last).UTC(), time.Unix(0, first).UTC()
	return a, nil
}

// noAlertsTable reports whether err says the alerts table is missing (a
// database no serve of this version has opened yet).
func noAlertsTable(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table: alerts")
}

// Alerts returns the alerts matching f, newest last_seen first.
func (s *Store) Alerts(ctx context.Context, f AlertFilter) ([]alert.Alert, error) {
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where, args = append(where, "last_seen >= ?"), append(args, f.Since.UnixNano())
	}
	if f.MinSeverity > 0 {
		where, args = append(where, "severity >= ?"), append(args, int(f.MinSeverity))
	}
	for _, c := range []struct{ col, v string }{{"project", f.Project}, {"session_id", f.Session}, {"rule", f.Rule}, {"status", f.Status}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	q := "SELECT " + alertColumns + " FROM alerts"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY last_seen DESC, id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if noAlertsTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("query alerts: %w", err)
	}
	defer rows.Close()
	var out []alert.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("query alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query alerts: %w", err)
	}
	return out, nil
}

// ErrAmbiguous is returned when an alert id prefix matches several alerts.
var ErrAmbiguous = errors.New("ambiguous id prefix")

// Alert returns the alert whose id is id or starts with id (at least 8
// characters), or ErrNotFound / ErrAmbiguous.
func (s *Store) Alert(ctx context.Context, id string) (alert.Alert, error) {
	return s.alertByID(ctx, s.rdb, id)
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (s *Store) alertByID(ctx context.Context, db querier, id string) (alert.Alert, error) {
	var a alert.Alert
	if id == "" {
		return a, fmt.Errorf("alert %q: %w", id, ErrNotFound)
	}
	q := "SELECT " + alertColumns + " FROM alerts WHERE id = ?"
	args := []any{id}
	if len(id) >= 8 && len(id) < 36 {
		// A prefix: ids are UUIDs (hex and dashes), so no LIKE escaping is needed.
		q = "SELECT " + alertColumns + " FROM alerts WHERE id >= ? AND id < ? LIMIT 2"
		args = []any{id, id + "\xff"}
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if noAlertsTable(err) {
		return a, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("alert %s: %w", id, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		if a, err = scanAlert(rows); err != nil {
			return a, fmt.Errorf("alert %s: %w", id, err)
		}
	}
	if err := rows.Err(); err != nil {
		return a, fmt.Errorf("alert %s: %w", id, err)
	}
	switch n {
	case 0:
		return alert.Alert{}, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	case 1:
		return a, nil
	default:
		return alert.Alert{}, fmt.Errorf("alert %s: %w (give more characters)", id, ErrAmbiguous)
	}
}

// AckAlert marks an alert (by id or unique id prefix) acknowledged by by at
// at, and returns it. Acking twice keeps the first ack.
func (s *Store) AckAlert(ctx context.Context, id, by string, at time.Time) (alert.Alert, error) {
	var out alert.Alert
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		a, err := s.alertByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if a.Status != alert.StatusAcked {
			if _, err := tx.ExecContext(ctx, `UPDATE alerts SET status = ?, acked_by = ?, acked_at = ? WHERE id = ?`,
				alert.StatusAcked, by, at.UnixNano(), a.ID); err != nil {
				return fmt.Errorf("ack alert %s: %w", a.ID, err)
			}
			a.Status, a.AckedBy, a.AckedAt = alert.StatusAcked, by, at.UTC()
		}
		out = a
		return nil
	})
	return out, err
}

// OpenAlerts returns the open alerts last seen at or after since, oldest
// first: serve passes them to alert.Options.Restore so dedup and cooldown
// survive a restart.
func (s *Store) OpenAlerts(ctx context.Context, since time.Time) ([]alert.Alert, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+alertColumns+" FROM alerts WHERE status = ? AND last_seen >= ? ORDER BY last_seen",
		alert.StatusOpen, since.UnixNano())
	if noAlertsTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open alerts: %w", err)
	}
	defer rows.Close()
	var out []alert.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("open alerts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AlertCount is one group of AlertStats.
type AlertCount struct {
	Key         string `json:"key"`
	Alerts      int    `json:"alerts"`
	Occurrences int    `json:"occurrences"`
}

// AlertStats summarises alerts first seen in a period.
type AlertStats struct {
	Since       time.Time    `json:"since"`
	Alerts      int          `json:"alerts"`
	Occurrences int          `json:"occurrences"`
	Open        int          `json:"open"`
	Escalated   int          `json:"escalated"`
	BySeverity  []AlertCount `json:"by_severity"`
	ByCategory  []AlertCount `json:"by_category"`
	ByRule      []AlertCount `json:"by_rule"`
	ByDay       []AlertCount `json:"by_day"` // UTC dates, oldest first
}

// AlertStats counts alerts first seen at or after since: totals, by
// severity (highest first), category and rule (most first) and per UTC day.
func (s *Store) AlertStats(ctx context.Context, since time.Time) (AlertStats, error) {
	st := AlertStats{Since: since.UTC()}
	ns := since.UnixNano()
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(count), 0), coalesce(sum(status = 'open'), 0), coalesce(sum(escalated), 0)
		FROM alerts WHERE first_seen >= ?`, ns).Scan(&st.Alerts, &st.Occurrences, &st.Open, &st.Escalated)
	if noAlertsTable(err) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("alert stats: %w", err)
	}
	group := func(expr, order string) ([]AlertCount, error) {
		rows, err := s.rdb.QueryContext(ctx, `SELECT `+expr+` AS k, count(*), sum(count) FROM alerts WHERE first_seen >= ? GROUP BY k ORDER BY `+order, ns)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []AlertCount
		for rows.Next() {
			var c AlertCount
			var k any
			if err := rows.Scan(&k, &c.Alerts, &c.Occurrences); err != nil {
				return nil, err
			}
			switch v := k.(type) {
			case int64:
				c.Key = rules.Severity(v).String()
			case string:
				c.Key = v
			case []byte:
				c.Key = string(v)
			}
			out = append(out, c)
		}
		return out, rows.Err()
	}
	if st.BySeverity, err = group("severity", "k DESC"); err != nil {
		return st, fmt.Errorf("alert stats: %w", err)
	}
	if st.ByCategory, err = group("category", "count(*) DESC, k"); err != nil {
		return st, fmt.Errorf("alert stats: %w", err)
	}
	if st.ByRule, err = group("rule", "count(*) DESC, k"); err != nil {
		return st, fmt.Errorf("alert stats: %w", err)
	}
	if st.ByDay, err = group("date(first_seen / 1000000000, 'unixepoch')", "k"); err != nil {
		return st, fmt.Errorf("alert stats: %w", err)
	}
	return st, nil
}

// PruneAlerts deletes alerts last seen before before and returns how many
// went. Serve calls it with the events' retention age, so an alert never
// outlives the evidence by more than its own span.
func (s *Store) PruneAlerts(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM alerts WHERE last_seen < ?`, before.UnixNano())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune alerts: %w", err)
	}
	return int(n), nil
}
