package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// The UI summaries (ui_sessions, ui_activity, ui_rollup) grow with every
// stored event. Append adds a whole batch's worth in the transaction that
// stores the events: one upsert per session, 5-minute bucket and rollup key
// of the batch instead of per-row triggers, which cost about a fifth of
// the write path (ui_sessions alone has three indexes on last_ts). Deletes
// (retention) still go through the *_del triggers, row by row.
//
// Each summary is defined by the backfill queries of schemaUISessions and
// schemaUIRollups; TestSummariesMatchEvents holds the batched form to them.
const schemaUIBatched = `
DROP TRIGGER IF EXISTS ui_sessions_ins;
DROP TRIGGER IF EXISTS ui_rollup_ins;
`

// sessionDelta is one session's share of a batch.
type sessionDelta struct {
	id, project, host, user               string
	firstTS, lastTS, firstSeq, lastSeq    int64
	events, prompts, toolCalls, subagents int64
	flagged, blocked, failures            int64
	ended                                 int // endedMark*
}

const (
	endedUnchanged = -1 // no session_start or session_end in the batch
	endedNo        = 0  // the batch's last start/end marker is a start
	endedYes       = 1  // ... is an end
)

type activityDelta struct{ events, flagged, blocked int64 }

type rollupKey struct {
	hour                         int64
	project, toolName, eventType string
}

// summaries accumulates the deltas of one Append, in first-seen order.
type summaries struct {
	sessions   []*sessionDelta
	sessionIdx map[string]*sessionDelta
	buckets    []int64
	activity   map[int64]*activityDelta
	rollupKeys []rollupKey
	rollup     map[rollupKey]int64
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// add counts one stored event (the values of its events row).
func (u *summaries) add(e *event.Event, seq int64) {
	ts := e.Timestamp.UnixNano()
	flagged := b2i(e.Security.OutsideProjectScope || e.Security.SensitivePath || len(e.Security.Redactions) > 0)
	blocked := int64(0)
	if e.Decision != nil && e.Decision.Action != "" && e.Decision.Action != event.DecisionAllow {
		blocked = 1
	}
	if u.activity == nil {
		u.sessionIdx = map[string]*sessionDelta{}
		u.activity = map[int64]*activityDelta{}
		u.rollup = map[rollupKey]int64{}
	}
	bucket := ts / int64(activityBucket)
	a, ok := u.activity[bucket]
	if !ok {
		a = &activityDelta{}
		u.activity[bucket] = a
		u.buckets = append(u.buckets, bucket)
	}
	a.events++
	a.flagged += flagged
	a.blocked += blocked
	k := rollupKey{ts / int64(time.Hour), e.Project, e.ToolName, e.EventType}
	if _, ok := u.rollup[k]; !ok {
		u.rollupKeys = append(u.rollupKeys, k)
	}
	u.rollup[k]++

	if e.SessionID == "" {
		return
	}
	s, ok := u.sessionIdx[e.SessionID]
	if !ok {
		s = &sessionDelta{id: e.SessionID, firstTS: ts, lastTS: ts, firstSeq: seq, lastSeq: seq, ended: endedUnchanged}
		u.sessionIdx[e.SessionID] = s
		u.sessions = append(u.sessions, s)
	}
	if s.project == "" {
		s.project = e.Project
	}
	if s.host == "" {
		s.host = e.Host
	}
	if s.user == "" {
		s.user = e.User
	}
	s.firstTS, s.lastTS = min(s.firstTS, ts), max(s.lastTS, ts)
	s.firstSeq, s.lastSeq = min(s.firstSeq, seq), max(s.lastSeq, seq)
	s.events++
	s.prompts += b2i(e.EventType == event.TypeUserPrompt)
	s.toolCalls += b2i(e.HookEvent == "PreToolUse")
	s.subagents += b2i(e.EventType == event.TypeSubagentStart)
	s.flagged += flagged
	s.blocked += blocked
	s.failures += b2i(e.HookEvent == "PostToolUseFailure" || e.EventType == event.TypeToolFailure)
	switch e.EventType {
	case event.TypeSessionEnd:
		s.ended = endedYes
	case event.TypeSessionStart:
		s.ended = endedNo
	}
}

const upsertSession = `INSERT INTO ui_sessions (session_id, project, host, user, first_ts, last_ts, first_seq, last_seq,
		events, prompts, tool_calls, subagents, flagged, blocked, failures, ended)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16 = 1)
	ON CONFLICT (session_id) DO UPDATE SET
		project    = CASE WHEN project = '' THEN excluded.project ELSE project END,
		host       = CASE WHEN host = '' THEN excluded.host ELSE host END,
		user       = CASE WHEN user = '' THEN excluded.user ELSE user END,
		first_ts   = min(first_ts, excluded.first_ts),
		last_ts    = max(last_ts, excluded.last_ts),
		last_seq   = max(last_seq, excluded.last_seq),
		events     = events + excluded.events,
		prompts    = prompts + excluded.prompts,
		tool_calls = tool_calls + excluded.tool_calls,
		subagents  = subagents + excluded.subagents,
		flagged    = flagged + excluded.flagged,
		blocked    = blocked + excluded.blocked,
		failures   = failures + excluded.failures,
		ended      = CASE ?16 WHEN 1 THEN 1 WHEN 0 THEN 0 ELSE ended END`

const upsertActivity = `INSERT INTO ui_activity (bucket, events, flagged, blocked) VALUES (?, ?, ?, ?)
	ON CONFLICT (bucket) DO UPDATE SET events = events + excluded.events,
		flagged = flagged + excluded.flagged, blocked = blocked + excluded.blocked`

const upsertRollup = `INSERT INTO ui_rollup (hour, project, tool_name, event_type, events) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (hour, project, tool_name, event_type) DO UPDATE SET events = events + excluded.events`

// write applies the deltas in tx.
func (u *summaries) write(ctx context.Context, tx *sql.Tx) error {
	if len(u.buckets) == 0 {
		return nil
	}
	each := func(what, q string, n int, args func(i int) []any) error {
		if n == 0 {
			return nil
		}
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("update %s: %w", what, err)
		}
		defer st.Close()
		for i := range n {
			if _, err := st.ExecContext(ctx, args(i)...); err != nil {
				return fmt.Errorf("update %s: %w", what, err)
			}
		}
		return nil
	}
	if err := each("session summaries", upsertSession, len(u.sessions), func(i int) []any {
		s := u.sessions[i]
		return []any{s.id, s.project, s.host, s.user, s.firstTS, s.lastTS, s.firstSeq, s.lastSeq,
			s.events, s.prompts, s.toolCalls, s.subagents, s.flagged, s.blocked, s.failures, s.ended}
	}); err != nil {
		return err
	}
	if err := each("activity rollup", upsertActivity, len(u.buckets), func(i int) []any {
		a := u.activity[u.buckets[i]]
		return []any{u.buckets[i], a.events, a.flagged, a.blocked}
	}); err != nil {
		return err
	}
	return each("event rollup", upsertRollup, len(u.rollupKeys), func(i int) []any {
		k := u.rollupKeys[i]
		return []any{k.hour, k.project, k.toolName, k.eventType, u.rollup[k]}
	})
}
