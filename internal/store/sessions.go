package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ui_sessions is a per-session summary of the events, so the web UI's
// session list is an index walk over sessions instead of a GROUP BY over
// every event. It was first kept by triggers on insert and delete; since
// migration 0400 Append adds each batch's share itself (summary.go) and
// the delete trigger below still follows retention. Both run in the
// transaction that writes the events, so the summary never drifts from
// the events it describes.
//
// "blocked" counts PreToolUse decisions other than allow: deny, ask and the
// monitor-mode would_deny / would_ask.
const schemaUISessions = `
CREATE TABLE ui_sessions (
	session_id TEXT PRIMARY KEY,
	project    TEXT    NOT NULL DEFAULT '',
	host       TEXT    NOT NULL DEFAULT '',
	user       TEXT    NOT NULL DEFAULT '',
	first_ts   INTEGER NOT NULL,
	last_ts    INTEGER NOT NULL,
	first_seq  INTEGER NOT NULL,
	last_seq   INTEGER NOT NULL,
	events     INTEGER NOT NULL DEFAULT 0,
	prompts    INTEGER NOT NULL DEFAULT 0,
	tool_calls INTEGER NOT NULL DEFAULT 0,
	subagents  INTEGER NOT NULL DEFAULT 0,
	flagged    INTEGER NOT NULL DEFAULT 0,
	blocked    INTEGER NOT NULL DEFAULT 0,
	failures   INTEGER NOT NULL DEFAULT 0,
	ended      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX ui_sessions_last ON ui_sessions(last_ts);
CREATE INDEX ui_sessions_project_last ON ui_sessions(project, last_ts);
CREATE INDEX ui_sessions_flagged_last ON ui_sessions(last_ts) WHERE flagged > 0 OR blocked > 0;

CREATE TRIGGER ui_sessions_ins AFTER INSERT ON events WHEN NEW.session_id != '' BEGIN
	INSERT INTO ui_sessions (session_id, project, host, user, first_ts, last_ts, first_seq, last_seq,
		events, prompts, tool_calls, subagents, flagged, blocked, failures, ended)
	VALUES (NEW.session_id, NEW.project, NEW.host, NEW.user, NEW.ts, NEW.ts, NEW.seq, NEW.seq, 1,
		NEW.event_type = 'user_prompt', NEW.hook_event = 'PreToolUse', NEW.event_type = 'subagent_start',
		(NEW.outside_scope OR NEW.sensitive OR NEW.redacted), NEW.decision NOT IN ('', 'allow'),
		(NEW.hook_event = 'PostToolUseFailure' OR NEW.event_type = 'tool_failure'),
		NEW.event_type = 'session_end')
	ON CONFLICT (session_id) DO UPDATE SET
		project    = CASE WHEN project = '' THEN excluded.project ELSE project END,
		host       = CASE WHEN host = '' THEN excluded.host ELSE host END,
		user       = CASE WHEN user = '' THEN excluded.user ELSE user END,
		first_ts   = min(first_ts, excluded.first_ts),
		last_ts    = max(last_ts, excluded.last_ts),
		last_seq   = max(last_seq, excluded.last_seq),
		events     = events + 1,
		prompts    = prompts + excluded.prompts,
		tool_calls = tool_calls + excluded.tool_calls,
		subagents  = subagents + excluded.subagents,
		flagged    = flagged + excluded.flagged,
		blocked    = blocked + excluded.blocked,
		failures   = failures + excluded.failures,
		ended      = CASE WHEN excluded.ended THEN 1
		                  WHEN NEW.event_type = 'session_start' THEN 0 ELSE ended END;
END;

CREATE TRIGGER ui_sessions_del AFTER DELETE ON events WHEN OLD.session_id != '' BEGIN
	UPDATE ui_sessions SET
		events     = events - 1,
		prompts    = prompts - (OLD.event_type = 'user_prompt'),
		tool_calls = tool_calls - (OLD.hook_event = 'PreToolUse'),
		subagents  = subagents - (OLD.event_type = 'subagent_start'),
		flagged    = flagged - (OLD.outside_scope OR OLD.sensitive OR OLD.redacted),
		blocked    = blocked - (OLD.decision NOT IN ('', 'allow')),
		failures   = failures - (OLD.hook_event = 'PostToolUseFailure' OR OLD.event_type = 'tool_failure'),
		first_ts   = max(first_ts, OLD.ts),
		first_seq  = max(first_seq, OLD.seq + 1)
	WHERE session_id = OLD.session_id;
	DELETE FROM ui_sessions WHERE session_id = OLD.session_id AND events <= 0;
END;

INSERT INTO ui_sessions (session_id, project, host, user, first_ts, last_ts, first_seq, last_seq,
	events, prompts, tool_calls, subagents, flagged, blocked, failures, ended)
SELECT session_id, max(project), max(host), max(user), min(ts), max(ts), min(seq), max(seq), count(*),
	sum(event_type = 'user_prompt'), sum(hook_event = 'PreToolUse'), sum(event_type = 'subagent_start'),
	sum(outside_scope OR sensitive OR redacted), sum(decision NOT IN ('', 'allow')),
	sum(hook_event = 'PostToolUseFailure' OR event_type = 'tool_failure'),
	coalesce(max(CASE WHEN event_type = 'session_end' THEN seq END), 0) >
		coalesce(max(CASE WHEN event_type = 'session_start' THEN seq END), 0)
FROM events WHERE session_id != '' GROUP BY session_id;
`

// SessionSummary is one session as the session list shows it.
type SessionSummary struct {
	SessionID string
	Project   string
	Host      string
	User      string
	// First and Last are the timestamps of the session's first and last event.
	First, Last       time.Time
	FirstSeq, LastSeq int64
	Events            int64
	Prompts           int64
	ToolCalls         int64 // PreToolUse events
	Subagents         int64
	Flagged           int64 // outside scope, sensitive path or redacted
	Blocked           int64 // deny, ask, would_deny, would_ask decisions
	Failures          int64
	Ended             bool
}

// SessionFilter selects sessions for the list, newest activity first.
type SessionFilter struct {
	Project string
	// FlaggedOnly keeps sessions with at least one flagged or blocked event.
	FlaggedOnly bool
	// ActiveFrom keeps sessions whose last event is at or after it.
	ActiveFrom time.Time
	// Cursor continues a previous page (SessionsPage.Next); "" starts at the newest.
	Cursor string
	// Limit caps the page (default 100, max 1000).
	Limit int
}

// SessionsPage is one page of sessions and the cursor of the next ("" at the end).
type SessionsPage struct {
	Sessions []SessionSummary
	Next     string
}

// ErrBadCursor is returned (wrapped) for a cursor this store did not make.
var ErrBadCursor = errors.New("bad cursor")

const sessionColumns = `session_id, project, host, user, first_ts, last_ts, first_seq, last_seq,
	events, prompts, tool_calls, subagents, flagged, blocked, failures, ended`

func scanSession(sc interface{ Scan(...any) error }) (SessionSummary, error) {
	var s SessionSummary
	var first, last int64
	err := sc.Scan(&s.SessionID, &s.Project, &s.Host, &s.User, &first, &last, &s.FirstSeq, &s.LastSeq,
		&s.Events, &s.Prompts, &s.ToolCalls, &s.Subagents, &s.Flagged, &s.Blocked, &s.Failures, &s.Ended)
	s.First, s.Last = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
	return s, err
}

// Sessions lists sessions by most recent activity. Every page is one walk
// of an index on ui_sessions, however many events the store holds.
func (s *Store) Sessions(ctx context.Context, f SessionFilter) (SessionsPage, error) {
	var page SessionsPage
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	var where []string
	var args []any
	if f.Project != "" {
		where = append(where, "project = ?")
		args = append(args, f.Project)
	}
	if f.FlaggedOnly {
		where = append(where, "(flagged > 0 OR blocked > 0)")
	}
	if !f.ActiveFrom.IsZero() {
		where = append(where, "last_ts >= ?")
		args = append(args, f.ActiveFrom.UnixNano())
	}
	if f.Cursor != "" {
		ts, id, ok := strings.Cut(f.Cursor, ":")
		n, err := strconv.ParseInt(ts, 10, 64)
		if !ok || err != nil {
			return page, fmt.Errorf("list sessions: %w: %q", ErrBadCursor, f.Cursor)
		}
		where = append(where, "(last_ts, session_id) < (?, ?)")
		args = append(args, n, id)
	}
	q := "SELECT " + sessionColumns + " FROM ui_sessions"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY last_ts DESC, session_id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return page, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		ss, err := scanSession(rows)
		if err != nil {
			return page, fmt.Errorf("list sessions: %w", err)
		}
		page.Sessions = append(page.Sessions, ss)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list sessions: %w", err)
	}
	if len(page.Sessions) > f.Limit {
		page.Sessions = page.Sessions[:f.Limit]
		last := page.Sessions[f.Limit-1]
		page.Next = strconv.FormatInt(last.Last.UnixNano(), 10) + ":" + last.SessionID
	}
	return page, nil
}

// Session returns one session's summary, or ErrNotFound.
func (s *Store) Session(ctx context.Context, id string) (SessionSummary, error) {
	ss, err := scanSession(s.rdb.QueryRowContext(ctx, "SELECT "+sessionColumns+" FROM ui_sessions WHERE session_id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return ss, fmt.Errorf("session %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return ss, fmt.Errorf("session %s: %w", id, err)
	}
	return ss, nil
}

// SessionEvents returns a session's events in ingest order, at most limit
// of them, and whether more exist. It walks the session_id index.
func (s *Store) SessionEvents(ctx context.Context, id string, limit int) ([]Row, bool, error) {
	rows, err := s.Query(ctx, Filter{Sessions: []string{id}, Order: OldestFirst, Limit: limit + 1})
	if err != nil {
		return nil, false, fmt.Errorf("session %s events: %w", id, err)
	}
	if len(rows) > limit {
		return rows[:limit], true, nil
	}
	return rows, false, nil
}

// ProjectActivity is what the store knows about one project's use.
type ProjectActivity struct {
	Project  string
	Last     time.Time
	Sessions int64
	Events   int64
}

// ProjectsActivity summarises every project seen in ui_sessions (one row
// per session, not per event).
func (s *Store) ProjectsActivity(ctx context.Context) ([]ProjectActivity, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT project, max(last_ts), count(*), sum(events)
		FROM ui_sessions GROUP BY project ORDER BY max(last_ts) DESC`)
	if err != nil {
		return nil, fmt.Errorf("projects activity: %w", err)
	}
	defer rows.Close()
	var out []ProjectActivity
	for rows.Next() {
		var p ProjectActivity
		var last int64
		if err := rows.Scan(&p.Project, &last, &p.Sessions, &p.Events); err != nil {
			return nil, fmt.Errorf("projects activity: %w", err)
		}
		p.Last = time.Unix(0, last).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projects activity: %w", err)
	}
	return out, nil
}
