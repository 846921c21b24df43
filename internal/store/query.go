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

// Row is one stored event: its indexed columns and the JSON line.
type Row struct {
	Seq          int64
	ID           string
	Time         time.Time
	Project      string
	SessionID    string
	ToolName     string
	EventType    string
	HookEvent    string
	Host         string
	User         string
	AgentID      string
	OutsideScope bool
	Sensitive    bool
	Redacted     bool
	Decision     string
	// JSON is the event line exactly as it was appended.
	JSON []byte
}

func (r *Row) column(name string) string {
	switch name {
	case ColProject:
		return r.Project
	case ColSession:
		return r.SessionID
	case ColTool:
		return r.ToolName
	case ColEventType:
		return r.EventType
	case ColHookEvent:
		return r.HookEvent
	case ColHost:
		return r.Host
	case ColUser:
		return r.User
	case ColAgentID:
		return r.AgentID
	case ColDecision:
		return r.Decision
	}
	return ""
}

const rowColumns = `seq, id, ts, project, session_id, tool_name, event_type, hook_event, host, "user", agent_id,
	outside_scope, sensitive, redacted, decision, data`

// scanRow reads one row into r, reusing r.JSON's buffer. RawBytes (no
// copy for rows a residual predicate drops) only works with *sql.Rows.
func (s *Store) scanRow(sc interface{ Scan(...any) error }, r *Row) error {
	var ts int64
	var js any = new(sql.RawBytes)
	if _, ok := sc.(*sql.Row); ok {
		js = new([]byte)
	}
	if err := sc.Scan(&r.Seq, &r.ID, &ts, &r.Project, &r.SessionID, &r.ToolName, &r.EventType, &r.HookEvent,
		&r.Host, &r.User, &r.AgentID, &r.OutsideScope, &r.Sensitive, &r.Redacted, &r.Decision, js); err != nil {
		return err
	}
	r.Time = time.Unix(0, ts).UTC()
	var stored []byte
	switch js := js.(type) {
	case *sql.RawBytes:
		stored = *js
	case *[]byte:
		stored = *js
	}
	var err error
	r.JSON, err = s.codec.decode(r.JSON[:0], stored)
	return err
}

// Query returns the events f selects, newest first unless f.Order says
// otherwise, at most f.Limit of them (0: all).
func (s *Store) Query(ctx context.Context, f Filter) ([]Row, error) {
	var out []Row
	err := s.scan(ctx, f, func(r *Row) bool {
		out = append(out, *r)
		r.JSON = nil // the next row gets its own buffer
		return f.Limit <= 0 || len(out) < f.Limit
	})
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return out, nil
}

// Count returns how many events f selects (f.Limit is ignored).
func (s *Store) Count(ctx context.Context, f Filter) (int64, error) {
	f.Limit = 0
	p, err := s.prepare(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	if !p.residual() {
		q, args := p.selectSQL("count(*)", f, false)
		var n int64
		if err := s.rdb.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("count: %w", err)
		}
		return n, nil
	}
	var n int64
	if err := s.scanPlan(ctx, p, f, func(*Row) bool { n++; return true }); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return n, nil
}

// After returns up to limit events with seq > seq, oldest first: the
// cursor for tail, the live stream and the Loki forwarder.
func (s *Store) After(ctx context.Context, seq int64, limit int) ([]Row, error) {
	return s.Query(ctx, Filter{AfterSeq: seq, Limit: limit, Order: OldestFirst})
}

// Get returns the event with the given id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Row, error) {
	var r Row
	err := s.scanRow(s.rdb.QueryRowContext(ctx, `SELECT `+rowColumns+` FROM events WHERE id = ?`, id), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("get event %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("get event %s: %w", id, err)
	}
	return r, nil
}

// prepare compiles f and decides which text terms the index serves.
func (s *Store) prepare(ctx context.Context, f Filter) (*plan, error) {
	p, err := s.compile(f)
	if err != nil {
		return nil, err
	}
	// Label grams serve equality on tool, event type or hook event unless
	// a project or session filter walks its own (newest-first) index.
	labels := p.labelGrams
	if p.narrow {
		labels = nil
	}
	if len(p.terms) == 0 && len(labels) == 0 {
		return p, nil
	}
	// How far the index reaches is read before the side values: every
	// block below it was committed with its side values, so the check
	// below sees all of them (a block indexed later is not used).
	st, err := s.readTextState(ctx, s.rdb)
	if err != nil {
		return nil, err
	}
	var use []string
	for _, t := range p.terms {
		ok, err := s.useIndex(ctx, t)
		if err != nil {
			return nil, err
		}
		if ok {
			use = append(use, t)
		}
	}
	if len(use) > 0 || len(labels) > 0 {
		p.grams, p.text = append(termGrams(use), labels...), st
	}
	return p, nil
}

// useIndex reports whether the trigram index can serve `|= term` exactly:
// termIndexable, and the term occurs in no side-key value.
func (s *Store) useIndex(ctx context.Context, term string) (bool, error) {
	if !s.termIndexable(term) {
		return false, nil
	}
	var found bool
	if err := s.rdb.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM fts_sides
		WHERE id IN (SELECT rowid FROM fts_sides_idx WHERE fts_sides_idx MATCH ?) AND instr(value, ?) > 0)`,
		ftsQuery([]string{term}), []byte(term)).Scan(&found); err != nil {
		return false, fmt.Errorf("check side values: %w", err)
	}
	return !found, nil
}

// scan calls fn for each selected row, in order, until fn returns false.
// The row (and its JSON buffer) is reused between calls.
func (s *Store) scan(ctx context.Context, f Filter, fn func(*Row) bool) error {
	p, err := s.prepare(ctx, f)
	if err != nil {
		return err
	}
	return s.scanPlan(ctx, p, f, fn)
}

// ftsWindow is the first seq window of a text search that uses the index;
// each next window is twice as wide.
const ftsWindow = 1 << 14

func (s *Store) scanPlan(ctx context.Context, p *plan, f Filter, fn func(*Row) bool) error {
	if len(p.grams) > 0 {
		return s.scanText(ctx, p, f, fn)
	}
	return s.scanRange(ctx, p, f, fn, 0, 0)
}

// scanText runs a plan that uses the text index. The seqs the index
// covers are searched in windows of whole blocks from the end the order
// starts at, each window asking the index for its candidates, so a common
// term stops after the first window or two and a rare one costs about one
// pass (the windows double in size); the seqs past the index (the open
// block, blocks not indexed yet) are scanned without it.
func (s *Store) scanText(ctx context.Context, p *plan, f Filter, fn func(*Row) bool) error {
	var lo, hi int64 // the seq range to search: lo < seq < hi
	if err := s.rdb.QueryRowContext(ctx, `SELECT coalesce((SELECT min(seq) FROM events), 1) - 1,
		coalesce((SELECT max(seq) FROM events), 0) + 1`).Scan(&lo, &hi); err != nil {
		return err
	}
	lo = max(lo, f.AfterSeq)
	if f.BeforeSeq > 0 {
		hi = min(hi, f.BeforeSeq)
	}
	stop := false
	each := func(r *Row) bool {
		if !fn(r) {
			stop = true
		}
		return !stop
	}
	plain := *p
	plain.grams = nil
	through := p.text.indexedThrough()
	tail := func() error { // seqs past the index
		if tlo := max(lo, through); tlo+1 < hi && !stop {
			return s.scanRange(ctx, &plain, f, each, tlo, hi)
		}
		return nil
	}
	if f.Order != OldestFirst {
		if err := tail(); err != nil {
			return err
		}
	}
	shift := p.text.shift
	if ihi := min(hi-1, through); lo+1 <= ihi { // indexed seqs lo+1 … ihi
		first, last := lo>>shift, (ihi-1)>>shift // their blocks
		n := max(1, s.ftsWindow>>shift)
		for !stop && first <= last {
			b0, b1 := max(first, last-n+1), last
			if f.Order == OldestFirst {
				b0, b1 = first, min(last, first+n-1)
			}
			cands, err := s.textCandidates(ctx, p.text, p.grams, b0, b1)
			if err != nil {
				return err
			}
			var js strings.Builder
			js.WriteByte('[')
			for _, c := range cands {
				if c > lo && c <= ihi {
					if js.Len() > 1 {
						js.WriteByte(',')
					}
					js.WriteString(strconv.FormatInt(c, 10))
				}
			}
			if js.Len() > 1 {
				js.WriteByte(']')
				w := plain
				w.cands = js.String()
				if err := s.scanRange(ctx, &w, f, each, 0, 0); err != nil {
					return err
				}
			}
			if f.Order == OldestFirst {
				first = b1 + 1
			} else {
				last = b0 - 1
			}
			n *= 2
		}
	}
	if f.Order == OldestFirst {
		return tail()
	}
	return nil
}

// scanRange runs the plan, restricted to wlo < seq < whi when whi > 0.
func (s *Store) scanRange(ctx context.Context, p *plan, f Filter, fn func(*Row) bool, wlo, whi int64) error {
	if whi > 0 {
		w := *p
		w.where = append(w.where[:len(w.where):len(w.where)], "seq > ? AND seq < ?")
		w.args = append(w.args[:len(w.args):len(w.args)], wlo, whi)
		p = &w
	}
	q, args := p.selectSQL(rowColumns, f, true)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var r Row
	for rows.Next() {
		if err := s.scanRow(rows, &r); err != nil {
			return err
		}
		if p.residual() && !p.match(&r) {
			continue
		}
		if !fn(&r) {
			break
		}
	}
	return rows.Err()
}

// selectSQL builds the statement. The LIMIT goes into SQL only when no
// residual predicate can drop rows after it.
func (p *plan) selectSQL(cols string, f Filter, ordered bool) (string, []any) {
	var b strings.Builder
	args := append([]any(nil), p.args...)
	b.WriteString("SELECT ")
	b.WriteString(cols)
	b.WriteString(" FROM events")
	where := p.where
	if p.cands != "" {
		where = append(where[:len(where):len(where)], "seq IN (SELECT value FROM json_each(?))")
		args = append(args, p.cands)
	}
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	if ordered {
		if f.Order == OldestFirst {
			b.WriteString(" ORDER BY seq ASC")
		} else {
			b.WriteString(" ORDER BY seq DESC")
		}
		if f.Limit > 0 && !p.residual() {
			b.WriteString(" LIMIT ?")
			args = append(args, f.Limit)
		}
	}
	return b.String(), args
}
