package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

func openTest(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vigil.db")
	// Text index blocks of 16 seqs, so a few hundred test events make many
	// indexed blocks and an open one.
	s, err := Open(path, Options{textBlockShift: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// rawDB opens the file with a plain connection, as an attacker (or a
// curious admin) with the sqlite3 shell would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// ev builds a record; mods adjust the event before it is encoded.
func ev(id string, minute int, mods ...func(*event.Event)) Record {
	e := &event.Event{
		ID: id, SchemaVersion: event.SchemaVersion, Timestamp: t0.Add(time.Duration(minute) * time.Minute),
		Host: "laptop", User: "dev", Agent: event.Agent, Project: "shop", ProjectDir: "/home/dev/shop",
		SessionID: "s1", HookEvent: "PreToolUse", ToolName: "Bash", EventType: event.TypeCommand,
		Security: event.Security{Redactions: []string{}},
	}
	for _, m := range mods {
		m(e)
	}
	js, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return Record{Event: e, JSON: js}
}

func mustAppend(t testing.TB, s *Store, recs []Record, cps ...Checkpoint) int {
	t.Helper()
	n, err := s.Append(context.Background(), recs, cps...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAppendIdempotent(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	batch := []Record{ev("a", 0), ev("b", 1), ev("c", 2), ev("b", 3)} // b twice in one batch
	if n := mustAppend(t, s, batch); n != 3 {
		t.Fatalf("first append inserted %d, want 3", n)
	}
	if n := mustAppend(t, s, batch); n != 0 {
		t.Fatalf("second append inserted %d, want 0", n)
	}
	if n := mustAppend(t, s, []Record{ev("c", 5), ev("d", 6)}); n != 1 {
		t.Fatalf("mixed append inserted %d, want 1", n)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 4 || st.LastSeq != 4 {
		t.Fatalf("stats = %+v, want 4 events, last seq 4", st)
	}
	rows, err := s.After(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, r := range rows {
		ids = append(ids, r.ID)
		if r.Seq != int64(i+1) {
			t.Errorf("row %d has seq %d", i, r.Seq)
		}
	}
	if got := strings.Join(ids, ","); got != "a,b,c,d" {
		t.Fatalf("ids in seq order = %s", got)
	}
	// The first copy of b is the one kept, byte for byte.
	r, err := s.Get(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if string(r.JSON) != string(batch[1].JSON) {
		t.Fatalf("stored JSON differs from the appended line")
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(nope) = %v, want ErrNotFound", err)
	}
	if v, err := s.Verify(ctx); err != nil || !v.OK {
		t.Fatalf("verify = %v, %v", v, err)
	}
}

// TestAppendChunks covers batches larger than one INSERT chunk, with
// duplicates in some chunks: the seqs stay dense, Record.Seq says which
// rows are new, the chain verifies.
func TestAppendChunks(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mk := func(lo, hi int) []Record {
		var recs []Record
		for i := lo; i < hi; i++ {
			recs = append(recs, ev(fmt.Sprintf("id-%04d", i), i))
		}
		return recs
	}
	if n := mustAppend(t, s, mk(100, 150)); n != 50 {
		t.Fatalf("inserted %d", n)
	}
	batch := mk(0, 300) // 100..149 already stored; 0..63 and 192..255 are clean chunks
	batch = append(batch, ev("id-0007", 0))
	n, err := s.Append(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if n != 250 {
		t.Fatalf("inserted %d, want 250", n)
	}
	wantSeq := int64(50)
	for i, r := range batch {
		dup := i >= 100 && i < 150 || i == 300
		switch {
		case dup && r.Seq != 0:
			t.Fatalf("duplicate %s got seq %d", r.Event.ID, r.Seq)
		case !dup:
			wantSeq++
			if r.Seq != wantSeq {
				t.Fatalf("%s got seq %d, want %d", r.Event.ID, r.Seq, wantSeq)
			}
		}
	}
	if c, _ := s.Count(ctx, Filter{}); c != 300 {
		t.Fatalf("count %d", c)
	}
	if v, _ := s.Verify(ctx); !v.OK || v.Checked != 300 {
		t.Fatalf("verify = %v", v)
	}
}

func TestAppendRejectsInvalid(t *testing.T) {
	s, _ := openTest(t)
	for name, r := range map[string]Record{
		"nil event": {JSON: []byte("{}")},
		"no id":     {Event: &event.Event{}, JSON: []byte("{}")},
		"no json":   {Event: &event.Event{ID: "x"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Append(context.Background(), []Record{r}); !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("err = %v, want ErrInvalidRecord", err)
			}
		})
	}
}

// TestAppendBatchOnce: a prepared batch is stored once; AppendBatch
// releases its compressed values, so a second call is refused instead of
// writing rows without data.
func TestAppendBatchOnce(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	b, err := s.Prepare([]Record{ev("a", 0), ev("b", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.AppendBatch(ctx, b); n != 2 || err != nil {
		t.Fatalf("AppendBatch = %d, %v; want 2, nil", n, err)
	}
	if _, err := s.AppendBatch(ctx, b); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("second AppendBatch err = %v, want ErrInvalidRecord", err)
	}
	if got := b.Records(); len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 {
		t.Fatalf("records after AppendBatch = %+v, want seqs 1 and 2", got)
	}
}

func TestCheckpoints(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustAppend(t, s, []Record{ev("a", 0)}, Checkpoint{Name: "spool/2026-11-01T12", Value: 100}, Checkpoint{Name: "loki", Value: 1, Text: "x"})
	mustAppend(t, s, []Record{ev("a", 0)}, Checkpoint{Name: "spool/2026-11-01T12", Value: 180}) // duplicate only: checkpoint still moves
	if err := s.SetCheckpoints(ctx, Checkpoint{Name: "spool/2026-11-01T13", Value: 7}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Checkpoints(ctx, "spool/")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"spool/2026-11-01T12": 180, "spool/2026-11-01T13": 7}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k].Value != v {
			t.Errorf("%s = %d, want %d", k, got[k].Value, v)
		}
	}
	all, _ := s.Checkpoints(ctx, "")
	if all["loki"].Text != "x" || len(all) != 3 {
		t.Fatalf("all checkpoints = %v", all)
	}
	// A failing batch writes neither its events nor its checkpoints.
	_, err = s.Append(ctx, []Record{ev("b", 1)}, Checkpoint{Name: "spool/2026-11-01T13", Value: 99}, Checkpoint{Name: ""})
	if err == nil {
		t.Fatal("append with an empty checkpoint name succeeded")
	}
	got, _ = s.Checkpoints(ctx, "spool/2026-11-01T13")
	if got["spool/2026-11-01T13"].Value != 7 {
		t.Fatalf("checkpoint moved by a failed batch: %v", got)
	}
	if _, err := s.Get(ctx, "b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("event of a failed batch was stored: %v", err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name    string
		tamper  []string // SQL run on a raw connection
		wantSeq int64
		wantID  string
		problem string
	}{
		{name: "untouched", problem: ""},
		{
			name:    "json altered",
			tamper:  []string{`UPDATE events SET data = '{"id":"e4","action_details":{"command":"rm -rf /"}}' WHERE seq = 4`},
			wantSeq: 4, wantID: "e4", problem: ProblemAltered,
		},
		{
			name: "json altered and hash recomputed",
			// The row's own hash is made consistent, but the next row
			// still links to the original hash.
			tamper:  []string{`UPDATE events SET data = '{}', hash = zeroblob(32) WHERE seq = 3`},
			wantSeq: 3, wantID: "e3", problem: ProblemAltered,
		},
		{
			name:    "middle row deleted",
			tamper:  []string{`DELETE FROM events WHERE seq = 5`},
			wantSeq: 6, wantID: "e6", problem: ProblemMissing,
		},
		{
			name: "rows swapped",
			tamper: []string{
				`UPDATE events SET seq = 100 WHERE seq = 3`,
				`UPDATE events SET seq = 3 WHERE seq = 4`,
				`UPDATE events SET seq = 4 WHERE seq = 100`,
			},
			wantSeq: 3, wantID: "e4", problem: ProblemReorder,
		},
		{
			name:    "newest rows deleted",
			tamper:  []string{`DELETE FROM events WHERE seq >= 7`},
			wantSeq: 6, problem: ProblemHead,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, path := openTest(t)
			ctx := context.Background()
			var recs []Record
			for i := 1; i <= 8; i++ {
				recs = append(recs, ev(fmt.Sprintf("e%d", i), i, func(e *event.Event) { e.Action.Command = "ls -la" }))
			}
			mustAppend(t, s, recs[:5])
			mustAppend(t, s, recs[5:])
			db := rawDB(t, path)
			for _, q := range tc.tamper {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			if tc.problem == ProblemAltered && tc.wantSeq == 3 {
				// Recompute row 3's hash properly so only the link breaks.
				var ph []byte
				db.QueryRow(`SELECT prev_hash FROM events WHERE seq = 3`).Scan(&ph)
				if _, err := db.Exec(`UPDATE events SET hash = ? WHERE seq = 3`, chainHash(ph, []byte("{}"))); err != nil {
					t.Fatal(err)
				}
			}
			v, err := s.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tc.problem == "" {
				if !v.OK || v.Checked != 8 {
					t.Fatalf("verify = %v", v)
				}
				return
			}
			if v.OK || v.Problem != tc.problem || v.BadSeq != tc.wantSeq || v.BadID != tc.wantID {
				t.Fatalf("verify = %+v\nwant problem %s at seq %d id %q", v, tc.problem, tc.wantSeq, tc.wantID)
			}
			t.Log(v)
		})
	}
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	t.Run("by age", func(t *testing.T) {
		s, _ := openTest(t)
		now := time.Now()
		var recs []Record
		for i := 0; i < 10; i++ {
			age := time.Duration(10-i) * 24 * time.Hour // 10 days … 1 day old
			recs = append(recs, ev(fmt.Sprintf("e%d", i), 0, func(e *event.Event) {
				e.Timestamp = now.Add(-age)
				if i == 1 {
					e.EventType = event.TypeHookError
				}
				e.Action.Command = "echo retention"
			}))
		}
		// A late arrival: old, but stored after younger events.
		recs = append(recs, ev("late", 0, func(e *event.Event) { e.Timestamp = now.Add(-30 * 24 * time.Hour) }))
		mustAppend(t, s, recs)
		n, err := s.ApplyRetention(ctx, 5*24*time.Hour+time.Hour, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Fatalf("deleted %d, want 5", n)
		}
		st, _ := s.Stats(ctx)
		if st.Events != 6 || st.Ingested != 11 || st.Deleted != 5 || st.HookErrors != 0 {
			t.Fatalf("stats after retention = %+v", st)
		}
		if c, _ := s.Count(ctx, Filter{}); c != 6 {
			t.Fatalf("count = %d, want 6", c)
		}
		// The index forgot the deleted rows too.
		if c, _ := s.Count(ctx, Filter{Lines: []LineFilter{{LineContains, "retention"}}}); c != 5 {
			t.Fatalf("text count = %d, want 5", c)
		}
		v, err := s.Verify(ctx)
		if err != nil || !v.OK || v.AnchorSeq != 5 || v.FirstSeq != 6 {
			t.Fatalf("verify after retention = %+v, %v", v, err)
		}
		// Appending continues the chain after retention.
		mustAppend(t, s, []Record{ev("new", 0, func(e *event.Event) { e.Timestamp = now })})
		if v, _ := s.Verify(ctx); !v.OK {
			t.Fatalf("verify after append = %v", v)
		}
		// Deleting everything old keeps the chain verifiable from the anchor.
		if _, err := s.ApplyRetention(ctx, time.Nanosecond, 0); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.Verify(ctx); !v.OK || v.Checked != 0 {
			t.Fatalf("verify of an emptied store = %v", v)
		}
	})
	t.Run("by size", func(t *testing.T) {
		s, _ := openTest(t)
		g := newGenerator(t, time.Now().Add(-time.Hour), time.Millisecond)
		batches := 10
		if raceEnabled {
			batches = 3
		}
		for i := 0; i < batches; i++ {
			mustAppend(t, s, g.records(1000))
		}
		before, _ := s.usedBytes(ctx)
		limit := before / 2
		n, err := s.ApplyRetention(ctx, 0, limit)
		if err != nil {
			t.Fatal(err)
		}
		after, _ := s.usedBytes(ctx)
		if n == 0 || after > limit {
			t.Fatalf("deleted %d rows, used bytes %d → %d, limit %d", n, before, after, limit)
		}
		st, _ := s.Stats(ctx)
		if st.Bytes > before {
			t.Fatalf("file did not shrink: %d > %d", st.Bytes, before)
		}
		if v, _ := s.Verify(ctx); !v.OK {
			t.Fatalf("verify after size retention = %v", v)
		}
		t.Logf("size retention: deleted %d of %d, %d → %d bytes (file %d)", n, batches*1000, before, after, st.Bytes)
	})
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing.db"), Options{ReadOnly: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("read-only open of a missing file = %v, want ErrNotFound", err)
	}
	path := filepath.Join(dir, "with space.db")
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	mustAppend(t, w, []Record{ev("a", 0)})
	r, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Append(ctx, []Record{ev("b", 0)}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append on read-only store = %v", err)
	}
	// The reader sees what the writer commits while both are open (WAL).
	mustAppend(t, w, []Record{ev("c", 1)})
	if n, _ := r.Count(ctx, Filter{}); n != 2 {
		t.Fatalf("reader sees %d events, want 2", n)
	}
}

func TestConcurrentReadersDuringAppends(t *testing.T) {
	s, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := newGenerator(t, t0, time.Millisecond)
	var batches [][]Record
	nb, size := 20, 200
	if raceEnabled {
		nb, size = 8, 100
	}
	for i := 0; i < nb; i++ {
		batches = append(batches, g.records(size))
	}
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			for ctx.Err() == nil {
				rows, err := s.After(ctx, last, 50)
				if err != nil {
					if ctx.Err() == nil {
						errc <- err
					}
					return
				}
				for _, row := range rows {
					if row.Seq != last+1 {
						errc <- fmt.Errorf("tail saw seq %d after %d", row.Seq, last)
						return
					}
					last = row.Seq
				}
				if _, err := s.Query(ctx, Filter{Tools: []string{"Bash"}, Lines: []LineFilter{{LineContains, "git"}}, Limit: 20}); err != nil && ctx.Err() == nil {
					errc <- err
					return
				}
				if _, err := s.Stats(ctx); err != nil && ctx.Err() == nil {
					errc <- err
					return
				}
				time.Sleep(2 * time.Millisecond) // leave the writer some CPU

			}
		}()
	}
	total := 0
	for _, b := range batches {
		total += mustAppend(t, s, b)
	}
	cancel()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if total != nb*size {
		t.Fatalf("inserted %d, want %d", total, nb*size)
	}
	if v, err := s.Verify(context.Background()); err != nil || !v.OK {
		t.Fatalf("verify = %v, %v", v, err)
	}
}
