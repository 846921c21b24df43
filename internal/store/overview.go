package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/rules"
)

// Rollups for the overview page, kept in the transaction that writes the
// events (Append adds each batch's share since migration 0400, see
// summary.go; the delete trigger follows retention), so the charts read a
// few hundred small rows instead of aggregating millions of events.
//
//	ui_activity: one row per 5-minute bucket: events, flagged, blocked.
//	ui_rollup:   one row per (hour, project, tool_name, event_type): events.
const schemaUIRollups = `
CREATE TABLE ui_activity (
	bucket  INTEGER PRIMARY KEY,
	events  INTEGER NOT NULL DEFAULT 0,
	flagged INTEGER NOT NULL DEFAULT 0,
	blocked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE ui_rollup (
	hour       INTEGER NOT NULL,
	project    TEXT    NOT NULL,
	tool_name  TEXT    NOT NULL,
	event_type TEXT    NOT NULL,
	events     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (hour, project, tool_name, event_type)
) WITHOUT ROWID;

CREATE TRIGGER ui_rollup_ins AFTER INSERT ON events BEGIN
	INSERT INTO ui_activity (bucket, events, flagged, blocked)
	VALUES (NEW.ts / 300000000000, 1, (NEW.outside_scope OR NEW.sensitive OR NEW.redacted), NEW.decision NOT IN ('', 'allow'))
	ON CONFLICT (bucket) DO UPDATE SET events = events + 1,
		flagged = flagged + excluded.flagged, blocked = blocked + excluded.blocked;
	INSERT INTO ui_rollup (hour, project, tool_name, event_type, events)
	VALUES (NEW.ts / 3600000000000, NEW.project, NEW.tool_name, NEW.event_type, 1)
	ON CONFLICT (hour, project, tool_name, event_type) DO UPDATE SET events = events + 1;
END;

CREATE TRIGGER ui_rollup_del AFTER DELETE ON events BEGIN
	UPDATE ui_activity SET events = events - 1,
		flagged = flagged - (OLD.outside_scope OR OLD.sensitive OR OLD.redacted),
		blocked = blocked - (OLD.decision NOT IN ('', 'allow'))
	WHERE bucket = OLD.ts / 300000000000;
	UPDATE ui_rollup SET events = events - 1
	WHERE hour = OLD.ts / 3600000000000 AND project = OLD.project AND tool_name = OLD.tool_name AND event_type = OLD.event_type;
END;

INSERT INTO ui_activity (bucket, events, flagged, blocked)
SELECT ts / 300000000000, count(*), sum(outside_scope OR sensitive OR redacted), sum(decision NOT IN ('', 'allow'))
FROM events GROUP BY 1;
INSERT INTO ui_rollup (hour, project, tool_name, event_type, events)
SELECT ts / 3600000000000, project, tool_name, event_type, count(*) FROM events GROUP BY 1, 2, 3, 4;
`

// activityBucket is the granularity of ui_activity.
const activityBucket = 5 * time.Minute

// Count is one bar of a distribution.
type Count struct {
	Name  string
	Count int64
}

// Overview is the overview page's data for one time range.
type Overview struct {
	From, To time.Time
	Bucket   time.Duration
	// Times are the bucket starts; Events, Flagged and Blocked line up with them.
	Times                    []time.Time
	Events, Flagged, Blocked []int64
	// Totals over the range.
	TotalEvents, TotalFlagged, TotalBlocked, Sessions int64
	// Distributions over the range (hour-aligned), largest first.
	Tools, Projects, EventTypes []Count
}

// Overview aggregates [from, to) from the rollup tables. bucket is rounded
// up to a multiple of 5 minutes. Distributions use whole hours, so their
// range starts at the hour that contains from.
func (s *Store) Overview(ctx context.Context, from, to time.Time, bucket time.Duration) (Overview, error) {
	if bucket < activityBucket {
		bucket = activityBucket
	}
	bucket = (bucket + activityBucket - 1) / activityBucket * activityBucket
	start := from.Truncate(bucket)
	o := Overview{From: from, To: to, Bucket: bucket}
	n := int((to.Sub(start) + bucket - 1) / bucket)
	if n <= 0 || n > 10000 {
		return o, fmt.Errorf("overview: %d buckets from %s to %s by %s: pick a larger bucket", n, from, to, bucket)
	}
	o.Times = make([]time.Time, n)
	for i := range o.Times {
		o.Times[i] = start.Add(time.Duration(i) * bucket)
	}
	o.Events, o.Flagged, o.Blocked = make([]int64, n), make([]int64, n), make([]int64, n)
	bFrom, bTo := from.UnixNano()/int64(activityBucket), (to.UnixNano()+int64(activityBucket)-1)/int64(activityBucket)
	rows, err := s.rdb.QueryContext(ctx, `SELECT bucket, events, flagged, blocked FROM ui_activity
		WHERE bucket >= ? AND bucket < ? ORDER BY bucket`, bFrom, bTo)
	if err != nil {
		return o, fmt.Errorf("overview activity: %w", err)
	}
	for rows.Next() {
		var b, ev, fl, bl int64
		if err := rows.Scan(&b, &ev, &fl, &bl); err != nil {
			rows.Close()
			return o, fmt.Errorf("overview activity: %w", err)
		}
		i := int(time.Unix(0, b*int64(activityBucket)).Sub(start) / bucket)
		if i < 0 || i >= n {
			continue
		}
		o.Events[i] += ev
		o.Flagged[i] += fl
		o.Blocked[i] += bl
		o.TotalEvents += ev
		o.TotalFlagged += fl
		o.TotalBlocked += bl
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("overview activity: %w", err)
	}
	hFrom, hTo := from.UnixNano()/int64(time.Hour), (to.UnixNano()+int64(time.Hour)-1)/int64(time.Hour)
	for _, d := range []struct {
		col string
		out *[]Count
	}{{"tool_name", &o.Tools}, {"project", &o.Projects}, {"event_type", &o.EventTypes}} {
		where := ""
		if d.col == "tool_name" {
			where = " AND tool_name != ''"
		}
		// d.col is one of three constants above, never user input.
		q := `SELECT ` + d.col + `, sum(events) AS n FROM ui_rollup WHERE hour >= ? AND hour < ?` + where +
			` GROUP BY 1 HAVING n > 0 ORDER BY n DESC, 1 LIMIT 20`
		if err := s.counts(ctx, d.out, q, hFrom, hTo); err != nil {
			return o, fmt.Errorf("overview %s: %w", d.col, err)
		}
	}
	// Active in [from, to): last_ts >= from minus those that start at or
	// after to. Both walk ui_sessions_last; only the few sessions seen after
	// to (none when to is now) need their row read.
	if err := s.rdb.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM ui_sessions WHERE last_ts >= ?1) -
		(SELECT count(*) FROM ui_sessions WHERE last_ts >= ?2 AND first_ts >= ?2)`,
		from.UnixNano(), to.UnixNano()).Scan(&o.Sessions); err != nil {
		return o, fmt.Errorf("overview sessions: %w", err)
	}
	return o, nil
}

func (s *Store) counts(ctx context.Context, out *[]Count, q string, args ...any) error {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Name, &c.Count); err != nil {
			return err
		}
		*out = append(*out, c)
	}
	return rows.Err()
}

// schemaUIAlertCounts is idempotent and runs twice (0310 and 0330): an
// early 0310 made only an index, so a store that ran it would otherwise
// never get ui_alert_counts.
//
// It holds a covering index for the projects page (per-project
// last activity, sessions and events without reading session rows), and
// ui_alert_counts, which keeps the per-severity open/total counts, maintained by
// triggers on alerts (the dispatcher's upserts and AckAlert), so the alerts
// page and the navigation badge read four rows however many alerts exist.
const schemaUIAlertCounts = `
DROP INDEX IF EXISTS ui_alerts_severity_status;
DROP INDEX IF EXISTS ui_sessions_project_last;
CREATE INDEX IF NOT EXISTS ui_sessions_project_cover ON ui_sessions(project, last_ts, events);

CREATE TABLE IF NOT EXISTS ui_alert_counts (
	severity INTEGER PRIMARY KEY,
	open     INTEGER NOT NULL DEFAULT 0,
	total    INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER IF NOT EXISTS ui_alert_counts_ins AFTER INSERT ON alerts BEGIN
	INSERT INTO ui_alert_counts (severity, open, total) VALUES (NEW.severity, NEW.status = 'open', 1)
	ON CONFLICT (severity) DO UPDATE SET open = open + excluded.open, total = total + 1;
END;
CREATE TRIGGER IF NOT EXISTS ui_alert_counts_upd AFTER UPDATE OF severity, status ON alerts BEGIN
	UPDATE ui_alert_counts SET open = open - (OLD.status = 'open'), total = total - 1 WHERE severity = OLD.severity;
	INSERT INTO ui_alert_counts (severity, open, total) VALUES (NEW.severity, NEW.status = 'open', 1)
	ON CONFLICT (severity) DO UPDATE SET open = open + excluded.open, total = total + 1;
END;
CREATE TRIGGER IF NOT EXISTS ui_alert_counts_del AFTER DELETE ON alerts BEGIN
	UPDATE ui_alert_counts SET open = open - (OLD.status = 'open'), total = total - 1 WHERE severity = OLD.severity;
END;
DELETE FROM ui_alert_counts;
INSERT INTO ui_alert_counts (severity, open, total)
SELECT severity, sum(status = 'open'), count(*) FROM alerts GROUP BY severity;
`

// SeverityCount is the number of alerts of one severity.
type SeverityCount struct {
	Severity    rules.Severity
	Open, Total int64
}

// AlertSeverityCounts counts every stored alert by severity (highest
// first), open and in total, from ui_alert_counts.
func (s *Store) AlertSeverityCounts(ctx context.Context) ([]SeverityCount, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT severity, open, total FROM ui_alert_counts WHERE total > 0 ORDER BY severity DESC`)
	if err != nil {
		return nil, fmt.Errorf("alert severity counts: %w", err)
	}
	defer rows.Close()
	var out []SeverityCount
	for rows.Next() {
		var c SeverityCount
		if err := rows.Scan(&c.Severity, &c.Open, &c.Total); err != nil {
			return nil, fmt.Errorf("alert severity counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// schemaUIAlertRollup counts alerts per (hour first seen, severity,
// category), kept by triggers on alerts, so the overview's alert charts
// over 30 days read a few thousand rows instead of every alert.
const schemaUIAlertRollup = `
DROP INDEX IF EXISTS ui_alerts_first_seen_cover;
CREATE TABLE ui_alert_rollup (
	hour     INTEGER NOT NULL,
	severity INTEGER NOT NULL,
	category TEXT    NOT NULL,
	n        INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (hour, severity, category)
) WITHOUT ROWID;
CREATE TRIGGER ui_alert_rollup_ins AFTER INSERT ON alerts BEGIN
	INSERT INTO ui_alert_rollup (hour, severity, category, n) VALUES (NEW.first_seen / 3600000000000, NEW.severity, NEW.category, 1)
	ON CONFLICT (hour, severity, category) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER ui_alert_rollup_upd AFTER UPDATE OF first_seen, severity, category ON alerts
WHEN OLD.first_seen / 3600000000000 != NEW.first_seen / 3600000000000 OR OLD.severity != NEW.severity OR OLD.category != NEW.category BEGIN
	UPDATE ui_alert_rollup SET n = n - 1
	WHERE hour = OLD.first_seen / 3600000000000 AND severity = OLD.severity AND category = OLD.category;
	INSERT INTO ui_alert_rollup (hour, severity, category, n) VALUES (NEW.first_seen / 3600000000000, NEW.severity, NEW.category, 1)
	ON CONFLICT (hour, severity, category) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER ui_alert_rollup_del AFTER DELETE ON alerts BEGIN
	UPDATE ui_alert_rollup SET n = n - 1
	WHERE hour = OLD.first_seen / 3600000000000 AND severity = OLD.severity AND category = OLD.category;
END;
INSERT INTO ui_alert_rollup (hour, severity, category, n)
SELECT first_seen / 3600000000000, severity, category, count(*) FROM alerts GROUP BY 1, 2, 3;
`

// AlertBreakdown counts the alerts first seen since the start of the hour
// that holds since, by severity (highest first) and by category (most
// first), from ui_alert_rollup.
func (s *Store) AlertBreakdown(ctx context.Context, since time.Time) (bySeverity, byCategory []Count, err error) {
	hour := since.UnixNano() / int64(time.Hour)
	rows, err := s.rdb.QueryContext(ctx, `SELECT severity, sum(n) AS c FROM ui_alert_rollup WHERE hour >= ?
		GROUP BY severity HAVING c > 0 ORDER BY severity DESC`, hour)
	if err != nil {
		return nil, nil, fmt.Errorf("alert breakdown: %w", err)
	}
	for rows.Next() {
		var sev rules.Severity
		var n int64
		if err := rows.Scan(&sev, &n); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("alert breakdown: %w", err)
		}
		bySeverity = append(bySeverity, Count{sev.String(), n})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("alert breakdown: %w", err)
	}
	if err := s.counts(ctx, &byCategory, `SELECT category, sum(n) AS c FROM ui_alert_rollup WHERE hour >= ?
		GROUP BY category HAVING c > 0 ORDER BY c DESC, category LIMIT 20`, hour); err != nil {
		return nil, nil, fmt.Errorf("alert breakdown: %w", err)
	}
	return bySeverity, byCategory, nil
}

// SessionAlertCounts returns how many alerts each of the sessions has (one
// lookup per session on the alerts_session index).
func (s *Store) SessionAlertCounts(ctx context.Context, sessions []string) (map[string]int64, error) {
	out := make(map[string]int64, len(sessions))
	if len(sessions) == 0 {
		return out, nil
	}
	q := `SELECT session_id, count(*) FROM alerts WHERE session_id IN (?` + strings.Repeat(",?", len(sessions)-1) + `) GROUP BY session_id`
	args := make([]any, len(sessions))
	for i, id := range sessions {
		args[i] = id
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if noAlertsTable(err) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session alert counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("session alert counts: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}
