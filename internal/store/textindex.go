package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The text index: trigram postings per block of seqs, built off the write
// path.
//
// Events are grouped into blocks of 2^shift consecutive seqs (4,096 by
// default; block k holds seqs k·2^shift+1 … (k+1)·2^shift). Once a block is
// sealed — the chain head has passed its last seq — a background indexer
// reads its rows back, extracts each event's search text (searchText: the
// same tokens the old FTS5 table indexed) and writes, for every byte
// trigram of that text, the block offsets of the events holding it. The
// trigrams of a block are spread over up to 1,024 rows of text_grams by a
// hash of the trigram (id = block << 10 | part), each row a sorted list of
// trigram → posting (delta varints, or a bitmap when that is smaller).
//
// Why not FTS5, as before: it indexed every event inside the ingest
// transaction, and its tokenising, hashing and segment merges were half of
// the single SQLite writer's time (~17 µs of ~35 µs per realistic event);
// the writer is what bounds ingest. The indexer does the same job in Go on
// its own goroutine, per block instead of per event, and commits ~1,000
// rows per 4,096 events.
//
// A query for `|= term` (search.go decides which terms may use the index)
// takes the term's trigrams, reads for every block of a seq window the
// part rows that hold them, ANDs the postings as bitmaps and re-checks each
// candidate row on its line. Seqs past the last indexed block (the open
// block, and any block the indexer has not reached yet) are scanned and
// checked without the index, so an answer never depends on how far the
// indexer has got: it is always what a plain substring scan gives.
//
// The trigrams are of raw bytes, case-sensitive, like the `|=` and regex
// literal matches they pre-filter, and never cross a token boundary (the
// '\n' between tokens of the search text).

const (
	// defaultBlockShift gives blocks of 4,096 seqs.
	defaultBlockShift = 12
	// partBits: a block's trigrams are spread over 1 << partBits rows.
	partBits = 10
)

// schemaTextBlocks replaces events_fts with the block index, and drops the
// per-row indexes on tool_name, event_type and (project, tool_name): with
// the one on project they were half the writer's B-tree work per event.
// Equality on tool_name, event_type or hook_event is served by label
// grams in the block index instead (see labelGram), a project's events by
// events_project.
const schemaTextBlocks = `
DROP TABLE events_fts;
DROP INDEX events_tool;
DROP INDEX events_type;
DROP INDEX events_project_tool;
CREATE TABLE text_grams (
	id   INTEGER PRIMARY KEY,
	data BLOB NOT NULL
);
CREATE TABLE text_blocks (
	blk    INTEGER PRIMARY KEY,
	events INTEGER NOT NULL,
	grams  INTEGER NOT NULL,
	bytes  INTEGER NOT NULL
);
CREATE TABLE text_state (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	shift    INTEGER NOT NULL,
	next_blk INTEGER NOT NULL
);
INSERT INTO text_state VALUES (1, 12, 0);
`

// textState is how far the index reaches: every block below next is
// indexed (or gone to retention); seqs above next << shift are not.
type textState struct {
	shift uint
	next  int64
}

// indexedThrough is the last seq the index covers.
func (t textState) indexedThrough() int64 { return t.next << t.shift }

func (s *Store) readTextState(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (textState, error) {
	var t textState
	err := db.QueryRowContext(ctx, `SELECT shift, next_blk FROM text_state WHERE id = 1`).Scan(&t.shift, &t.next)
	if err != nil && s.wdb == nil && strings.Contains(err.Error(), "no such table") {
		// A store of an older schema opened read-only (a CLI newer than
		// the serve that wrote it): no block index yet, every search
		// scans. serve migrates it at its next start.
		return textState{shift: defaultBlockShift}, nil
	}
	if err != nil {
		return t, fmt.Errorf("read text index state: %w", err)
	}
	return t, nil
}

func gramOf(a, b, c byte) uint32 { return uint32(a)<<16 | uint32(b)<<8 | uint32(c) }

// labelCols are the columns whose values the block index holds as label
// grams, in the order indexBlock reads them.
var labelCols = [...]string{ColTool, ColEventType, ColHookEvent}

func isLabelCol(col string) bool {
	for _, c := range labelCols {
		if c == col {
			return true
		}
	}
	return false
}

// labelGram stands for "col = v" in the block index: 0xFF (a byte never in
// UTF-8 text, so text trigrams seldom share the space; when a stray byte
// does, it only adds candidates) and a 16-bit FNV-1a hash of the pair.
// Two values sharing a hash only add candidates: the query still checks
// the column.
func labelGram(col, v string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(col); i++ {
		h = (h ^ uint32(col[i])) * 16777619
	}
	h = (h ^ 0) * 16777619
	for i := 0; i < len(v); i++ {
		h = (h ^ uint32(v[i])) * 16777619
	}
	return 0xFF<<16 | (h^h>>16)&0xFFFF
}

// gramPart spreads trigrams over the rows of a block (Fibonacci hashing).
func gramPart(g uint32) int64 { return int64((g * 0x9E3779B1) >> (32 - partBits)) }

// termGrams returns the trigrams of the terms to look up: for each term up
// to maxTrigrams of them, spread over it (any subset of a term's trigrams
// is exact; a few well-spread ones already make the candidates few).
func termGrams(terms []string) []uint32 {
	var out []uint32
	for _, t := range terms {
		n := len(t) - 2
		if n <= 0 {
			continue
		}
		step := max(1, (n+maxTrigrams-1)/maxTrigrams)
		for i := 0; i < n; i += step {
			out = append(out, gramOf(t[i], t[i+1], t[i+2]))
		}
		out = append(out, gramOf(t[n-1], t[n], t[n+1]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// blockBuilder turns the search text of a block's events into part rows.
// It is reused from block to block (its tables keep their memory).
type blockBuilder struct {
	shift uint
	// A hash table gram → list (open addressing, linear probing; slot
	// value list+1, 0 empty), and per list its gram and the last offset
	// added (each event counts once per gram).
	slots []uint32
	keys  []uint32 // slot → gram
	grams []uint32 // list → gram
	last  []int32  // list → last offset added
	// occ holds every (list, offset) added, in offset order: a counting
	// sort by list then yields each list's offsets in order.
	occ   []uint64
	text  bytes.Buffer
	sides map[string]struct{}
	n     int // events added
}

func newBlockBuilder(shift uint) *blockBuilder {
	bb := &blockBuilder{shift: shift}
	bb.reset()
	return bb
}

func (bb *blockBuilder) reset() {
	if len(bb.slots) == 0 {
		bb.slots, bb.keys = make([]uint32, 1<<15), make([]uint32, 1<<15)
	} else {
		clear(bb.slots)
	}
	bb.grams, bb.last, bb.occ = bb.grams[:0], bb.last[:0], bb.occ[:0]
	bb.sides = map[string]struct{}{}
	bb.n = 0
}

// gram records one occurrence of g at offset off.
func (bb *blockBuilder) gram(g uint32, off int32) {
	mask := uint32(len(bb.slots) - 1)
	i := (g * 0x9E3779B1) >> 7 & mask
	for {
		v := bb.slots[i]
		if v == 0 {
			break
		}
		if bb.keys[i] == g {
			l := v - 1
			if bb.last[l] != off {
				bb.last[l] = off
				bb.occ = append(bb.occ, uint64(l)<<32|uint64(off))
			}
			return
		}
		i = (i + 1) & mask
	}
	l := uint32(len(bb.grams))
	bb.grams = append(bb.grams, g)
	bb.last = append(bb.last, off)
	bb.occ = append(bb.occ, uint64(l)<<32|uint64(off))
	bb.slots[i], bb.keys[i] = l+1, g
	if 2*len(bb.grams) > len(bb.slots) {
		bb.grow()
	}
}

func (bb *blockBuilder) grow() {
	slots, keys := make([]uint32, 2*len(bb.slots)), make([]uint32, 2*len(bb.slots))
	mask := uint32(len(slots) - 1)
	for l, g := range bb.grams {
		i := (g * 0x9E3779B1) >> 7 & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i], keys[i] = uint32(l)+1, g
	}
	bb.slots, bb.keys = slots, keys
}

// add records the trigrams of one event's line, and the label grams of
// its labelCols values, at offset off.
func (bb *blockBuilder) add(s *Store, off int, line []byte, labels []string) {
	bb.text.Reset()
	s.searchText(&bb.text, line, func(v []byte) {
		if _, ok := bb.sides[string(v)]; !ok {
			bb.sides[string(v)] = struct{}{}
		}
	})
	bb.addText(off, bb.text.Bytes(), labels)
}

// maxIndexedText is the longest search text of one event that is split
// into trigrams (the normaliser caps fields at 16 KiB, but a spool or HTTP
// line may hold up to 8 MiB). A longer one is recorded under alwaysGram
// and is a candidate of every search in its block, so a flood of huge
// events cannot make the indexer hold gigabytes of trigrams.
const maxIndexedText = 64 << 10

// alwaysGram lists a block's events too long to index: outside the 24-bit
// space of trigrams and label grams.
const alwaysGram uint32 = 1 << 24

// addText records the trigrams of one event's search text (tokens, each
// ended by '\n') and its label grams at offset off.
func (bb *blockBuilder) addText(off int, t []byte, labels []string) {
	o := int32(off)
	for i, v := range labels {
		bb.gram(labelGram(labelCols[i], v), o)
	}
	if len(t) > maxIndexedText {
		bb.gram(alwaysGram, o)
		t = nil
	}
	for len(t) > 0 {
		tok := t
		if i := bytes.IndexByte(t, '\n'); i >= 0 {
			tok, t = t[:i], t[i+1:]
		} else {
			t = nil
		}
		for i := 0; i+3 <= len(tok); i++ {
			bb.gram(gramOf(tok[i], tok[i+1], tok[i+2]), o)
		}
	}
	bb.n++
}

// gramRow is one part row of a block.
type gramRow struct {
	id   int64
	data []byte
}

// rows encodes the block's part rows.
func (bb *blockBuilder) rows(blk int64) []gramRow {
	nl := len(bb.grams)
	// Each list's offsets, in order: a counting sort of occ by list.
	start := make([]int32, nl+1)
	for _, x := range bb.occ {
		start[x>>32+1]++
	}
	for l := range nl {
		start[l+1] += start[l]
	}
	offs := make([]uint32, len(bb.occ))
	fill := slices.Clone(start[:nl])
	for _, x := range bb.occ {
		l := x >> 32
		offs[fill[l]] = uint32(x)
		fill[l]++
	}
	// The lists by part, each part's by gram.
	byPart := make([][]uint32, 1<<partBits)
	for l, g := range bb.grams {
		p := gramPart(g)
		byPart[p] = append(byPart[p], uint32(l))
	}
	bitmapBytes := max(1, (1<<bb.shift)/8)
	var out []gramRow
	var post []byte
	for p, lists := range byPart {
		if len(lists) == 0 {
			continue
		}
		slices.SortFunc(lists, func(a, b uint32) int { return int(int64(bb.grams[a]) - int64(bb.grams[b])) })
		data := binary.AppendUvarint(nil, uint64(len(lists)))
		prev := uint32(0)
		for _, l := range lists {
			g := bb.grams[l]
			post = encodePosting(post[:0], offs[start[l]:start[l+1]], bitmapBytes)
			data = binary.AppendUvarint(data, uint64(g-prev))
			data = append(data, post...)
			prev = g
		}
		out = append(out, gramRow{id: blk<<partBits | int64(p), data: data})
	}
	return out
}

// encodePosting appends a posting: uvarint(len << 1 | bitmap) and then
// either the offsets as delta varints or a bitmap of the block, whichever
// is smaller.
func encodePosting(dst []byte, offs []uint32, bitmapBytes int) []byte {
	var list []byte
	prev := uint32(0)
	for i, o := range offs {
		if i == 0 {
			list = binary.AppendUvarint(list, uint64(o))
		} else {
			list = binary.AppendUvarint(list, uint64(o-prev))
		}
		prev = o
		if len(list) > bitmapBytes {
			break
		}
	}
	if len(list) <= bitmapBytes {
		dst = binary.AppendUvarint(dst, uint64(len(list))<<1)
		return append(dst, list...)
	}
	dst = binary.AppendUvarint(dst, uint64(bitmapBytes)<<1|1)
	at := len(dst)
	dst = append(dst, make([]byte, bitmapBytes)...)
	for _, o := range offs {
		dst[at+int(o>>3)] |= 1 << (o & 7)
	}
	return dst
}

// errCorruptGrams reports a text_grams row that does not parse.
var errCorruptGrams = errors.New("corrupt text index row")

// postingOf finds gram g in a part row and ANDs its posting into bm (one
// bit per block offset). It reports false, leaving bm alone, when the row
// has no such gram.
func postingOf(data []byte, g uint32, bm []uint64) (bool, error) {
	n, k := binary.Uvarint(data)
	if k <= 0 {
		return false, errCorruptGrams
	}
	data = data[k:]
	cur := uint32(0)
	for range n {
		d, k := binary.Uvarint(data)
		if k <= 0 {
			return false, errCorruptGrams
		}
		data = data[k:]
		cur += uint32(d)
		h, k := binary.Uvarint(data)
		if k <= 0 || uint64(len(data)-k) < h>>1 {
			return false, errCorruptGrams
		}
		post := data[k : k+int(h>>1)]
		data = data[k+int(h>>1):]
		if cur < g {
			continue
		}
		if cur > g {
			return false, nil
		}
		var got [64]uint64
		mine := got[:0]
		if len(bm) > len(got) {
			mine = make([]uint64, 0, len(bm))
		}
		mine = mine[:len(bm)]
		if h&1 == 1 {
			for i, b := range post {
				if i/8 < len(mine) {
					mine[i/8] |= uint64(b) << (8 * (i % 8))
				}
			}
		} else {
			o := uint64(0)
			for i := 0; len(post) > 0; i++ {
				d, k := binary.Uvarint(post)
				if k <= 0 {
					return false, errCorruptGrams
				}
				post = post[k:]
				if i == 0 {
					o = d
				} else {
					o += d
				}
				if o/64 < uint64(len(mine)) {
					mine[o/64] |= 1 << (o % 64)
				}
			}
		}
		for i := range bm {
			bm[i] &= mine[i]
		}
		return true, nil
	}
	return false, nil
}

// textCandidates returns, ascending, the seqs in blocks b0 … b1 whose
// search text holds every gram.
func (s *Store) textCandidates(ctx context.Context, st textState, grams []uint32, b0, b1 int64) ([]int64, error) {
	if b1 < b0 || len(grams) == 0 {
		return nil, nil
	}
	parts := []int64{gramPart(alwaysGram)}
	for _, g := range grams {
		parts = append(parts, gramPart(g))
	}
	slices.Sort(parts)
	parts = slices.Compact(parts)
	var ids strings.Builder
	ids.WriteByte('[')
	for b := b0; b <= b1; b++ {
		for _, p := range parts {
			if ids.Len() > 1 {
				ids.WriteByte(',')
			}
			ids.WriteString(strconv.FormatInt(b<<partBits|p, 10))
		}
	}
	ids.WriteByte(']')
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, data FROM text_grams WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`, ids.String())
	if err != nil {
		return nil, fmt.Errorf("read text index: %w", err)
	}
	defer rows.Close()
	type blockRows map[int64][]byte // part → data
	found := map[int64]blockRows{}
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, fmt.Errorf("read text index: %w", err)
		}
		b := id >> partBits
		if found[b] == nil {
			found[b] = blockRows{}
		}
		found[b][id&(1<<partBits-1)] = data
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read text index: %w", err)
	}
	words := max(1, (1<<st.shift)/64)
	bm, all := make([]uint64, words), make([]uint64, words)
	var out []int64
	for b := b0; b <= b1; b++ {
		parts := found[b]
		if len(parts) == 0 {
			continue
		}
		for i := range bm {
			bm[i] = ^uint64(0)
		}
		hit := true
		for _, g := range grams {
			data, ok := parts[gramPart(g)]
			if !ok {
				hit = false
				break
			}
			ok, err := postingOf(data, g, bm)
			if err != nil {
				return nil, fmt.Errorf("text index block %d: %w", b, err)
			}
			if !ok {
				hit = false
				break
			}
		}
		if !hit {
			clear(bm)
		}
		// Events whose text was too long to index are candidates for
		// every search of their block.
		if data, ok := parts[gramPart(alwaysGram)]; ok {
			for i := range all {
				all[i] = ^uint64(0)
			}
			found, err := postingOf(data, alwaysGram, all)
			if err != nil {
				return nil, fmt.Errorf("text index block %d: %w", b, err)
			}
			if found {
				for i := range bm {
					bm[i] |= all[i]
				}
			}
		}
		base := b<<st.shift + 1
		for w, word := range bm {
			for word != 0 {
				o := bits.TrailingZeros64(word)
				word &= word - 1
				if off := int64(w*64 + o); off < 1<<st.shift {
					out = append(out, base+off)
				}
			}
		}
	}
	return out, nil
}

// BuildTextIndex indexes every sealed block not indexed yet and returns
// how many it indexed. The store's own indexer goroutine calls it whenever
// ingest seals a block; tests call it to index synchronously.
func (s *Store) BuildTextIndex(ctx context.Context) (int, error) {
	if s.wdb == nil {
		return 0, ErrReadOnly
	}
	s.imu.Lock()
	defer s.imu.Unlock()
	built := 0
	for {
		st, err := s.readTextState(ctx, s.rdb)
		if err != nil {
			return built, err
		}
		var head, first int64
		if err := s.rdb.QueryRowContext(ctx, `SELECT head_seq, coalesce((SELECT min(seq) FROM events), 0) FROM chain WHERE id = 1`).Scan(&head, &first); err != nil {
			return built, fmt.Errorf("read chain head: %w", err)
		}
		blk := st.next
		if first > 0 {
			blk = max(blk, (first-1)>>st.shift) // blocks retention removed
		}
		if (blk+1)<<st.shift > head {
			return built, nil // the block is still open
		}
		if err := s.indexBlock(ctx, st, blk); err != nil {
			return built, fmt.Errorf("index block %d: %w", blk, err)
		}
		built++
	}
}

// indexBlock builds block blk — from the search text ingest kept when it
// saw the whole block (openBlock), else from its rows, read outside the
// write lock — and commits it.
func (s *Store) indexBlock(ctx context.Context, st textState, blk int64) error {
	if s.bb == nil || s.bb.shift != st.shift {
		s.bb = newBlockBuilder(st.shift)
	}
	bb := s.bb
	bb.reset()
	if ob := s.takeOpen(blk); ob != nil && ob.complete(st.shift) {
		// Ingest kept the block's search text: no need to read it back.
		for off := range ob.ends {
			start := int32(0)
			if off > 0 {
				start = ob.ends[off-1]
			}
			bb.addText(off, ob.text[start:ob.ends[off]], ob.labels[off][:])
		}
		bb.sides = ob.sides
		return s.commitBlock(ctx, blk, bb)
	}
	lo := blk << st.shift
	rows, err := s.rdb.QueryContext(ctx, `SELECT seq, data, tool_name, event_type, hook_event FROM events
		WHERE seq > ? AND seq <= ? ORDER BY seq`, lo, lo+1<<st.shift)
	if err != nil {
		return err
	}
	var line []byte
	labels := make([]string, len(labelCols))
	for rows.Next() {
		var seq int64
		var stored sql.RawBytes
		if err := rows.Scan(&seq, &stored, &labels[0], &labels[1], &labels[2]); err != nil {
			rows.Close()
			return err
		}
		if line, err = s.codec.decode(line[:0], stored); err != nil {
			rows.Close()
			return fmt.Errorf("seq %d: %w", seq, err)
		}
		bb.add(s, int(seq-1-lo), line, labels)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	return s.commitBlock(ctx, blk, bb)
}

// commitBlock writes a built block's part rows, the side values it holds
// and the new index state in one transaction.
func (s *Store) commitBlock(ctx context.Context, blk int64, bb *blockBuilder) error {
	parts, grams := bb.rows(blk), len(bb.grams)
	size := 0
	for _, r := range parts {
		size += len(r.data)
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		var next int64
		if err := tx.QueryRowContext(ctx, `SELECT next_blk FROM text_state WHERE id = 1`).Scan(&next); err != nil {
			return err
		}
		if next > blk {
			return nil // indexed meanwhile (another process)
		}
		const chunk = 256
		for i := 0; i < len(parts); i += chunk {
			rs := parts[i:min(len(parts), i+chunk)]
			q := "INSERT OR REPLACE INTO text_grams(id, data) VALUES " + strings.TrimSuffix(strings.Repeat("(?,?),", len(rs)), ",")
			args := make([]any, 0, 2*len(rs))
			for _, r := range rs {
				args = append(args, r.id, r.data)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("write postings: %w", err)
			}
		}
		if err := s.storeSides(ctx, tx, bb.sides); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO text_blocks(blk, events, grams, bytes) VALUES (?, ?, ?, ?)`,
			blk, bb.n, grams, size); err != nil {
			return fmt.Errorf("write block: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE text_state SET next_blk = ? WHERE id = 1`, blk+1); err != nil {
			return fmt.Errorf("write text index state: %w", err)
		}
		return nil
	})
}

// storeSides adds the side values not stored yet to fts_sides and its
// trigram index (see search.go), a few statements for all of them (each
// statement that writes an FTS5 table flushes its pending terms). Called
// under the write lock.
func (s *Store) storeSides(ctx context.Context, tx *sql.Tx, sides map[string]struct{}) (err error) {
	defer func() {
		if err != nil {
			s.sideSeen = nil // a rolled-back value must not count as stored
		}
	}()
	if s.sideSeen == nil || len(s.sideSeen) > maxSideSeen {
		s.sideSeen = make(map[string]struct{})
	}
	var vals []string
	for v := range sides {
		if _, ok := s.sideSeen[v]; !ok {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	const chunk = 500
	for len(vals) > 0 {
		vs := vals[:min(len(vals), chunk)]
		vals = vals[len(vs):]
		args := make([]any, len(vs))
		for i, v := range vs {
			args[i] = []byte(v)
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO fts_sides(value) VALUES `+strings.TrimSuffix(strings.Repeat("(?),", len(vs)), ",")+
			` ON CONFLICT(value) DO NOTHING RETURNING id, value`, args...)
		if err != nil {
			return fmt.Errorf("store side values: %w", err)
		}
		var idx []any // (rowid, value) pairs of the values new to the table
		for rows.Next() {
			var id int64
			var v []byte
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return fmt.Errorf("store side values: %w", err)
			}
			idx = append(idx, id, string(v))
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store side values: %w", err)
		}
		if len(idx) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO fts_sides_idx(rowid, value) VALUES `+
				strings.TrimSuffix(strings.Repeat("(?,?),", len(idx)/2), ","), idx...); err != nil {
				return fmt.Errorf("index side values: %w", err)
			}
		}
		for _, v := range vs {
			s.sideSeen[v] = struct{}{}
		}
	}
	return nil
}

// maxSideSeen bounds the cache of side values already stored.
const maxSideSeen = 50000

// indexer runs BuildTextIndex whenever ingest seals a block, until Close.
type indexer struct {
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

func (s *Store) startIndexer() {
	ctx, cancel := context.WithCancel(context.Background())
	ix := &indexer{wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	s.ix = ix
	ix.wake <- struct{}{} // catch up with what is sealed already
	go func() {
		defer close(ix.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ix.wake:
			}
			if _, err := s.BuildTextIndex(ctx); err != nil && ctx.Err() == nil {
				s.opts.Log.Error("text index", "err", err.Error())
				select { // retry later; searches scan what is not indexed
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
					s.wakeIndexer()
				}
			}
		}
	}()
}

func (s *Store) wakeIndexer() {
	if s.ix != nil {
		select {
		case s.ix.wake <- struct{}{}:
		default:
		}
	}
}

func (s *Store) stopIndexer() {
	if s.ix != nil {
		s.ix.cancel()
		<-s.ix.done
	}
}

// openBlock is the search text of a block's events as ingest stored them
// (Prepare extracts it while the previous batch commits), so the indexer
// need not read the rows back. It is complete when it holds every offset
// from 0 in order; a block begun before this process started, or one the
// indexer fell far behind on, is read from the rows instead.
type openBlock struct {
	text   []byte
	ends   []int32     // per offset, where its text ends in text
	labels [][3]string // per offset, the labelCols values
	sides  map[string]struct{}
	gap    bool // an offset was missed: read the rows
}

func (ob *openBlock) complete(shift uint) bool {
	return !ob.gap && len(ob.ends) == 1<<shift
}

// maxOpenBlocks bounds the blocks whose text is kept (~0.5 MB each).
const maxOpenBlocks = 8

// capture keeps the search text of events just committed (seqs ascending).
func (s *Store) capture(b *Batch, idx []int, seqs []int64) {
	s.omu.Lock()
	defer s.omu.Unlock()
	if s.open == nil {
		s.open = map[int64]*openBlock{}
	}
	for k, i := range idx {
		seq := seqs[k] - 1
		blk, off := seq>>s.textShift, int(seq&(1<<s.textShift-1))
		ob := s.open[blk]
		if ob == nil {
			if len(s.open) >= maxOpenBlocks {
				oldest := blk
				for b := range s.open {
					oldest = min(oldest, b)
				}
				delete(s.open, oldest)
			}
			ob = &openBlock{sides: map[string]struct{}{}, gap: off != 0}
			s.open[blk] = ob
		}
		if off != len(ob.ends) {
			ob.gap = true
			continue
		}
		sp := b.spans[i]
		text := b.text.Bytes()[sp.start:sp.end]
		if len(text) > maxIndexedText {
			text = text[:maxIndexedText+1] // still too long: indexed as alwaysGram
		}
		ob.text = append(ob.text, text...)
		ob.ends = append(ob.ends, int32(len(ob.text)))
		e := b.recs[i].Event
		ob.labels = append(ob.labels, [3]string{e.ToolName, e.EventType, e.HookEvent})
		for _, v := range b.sides[sp.side0:sp.side1] {
			if _, ok := ob.sides[string(v)]; !ok {
				ob.sides[string(v)] = struct{}{}
			}
		}
	}
}

// takeOpen removes and returns the kept text of block blk, if any.
func (s *Store) takeOpen(blk int64) *openBlock {
	s.omu.Lock()
	defer s.omu.Unlock()
	ob := s.open[blk]
	delete(s.open, blk)
	return ob
}
