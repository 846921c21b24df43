package store

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// TestCodecFormats checks every stored form a row can have: S2 (what is
// written now), zstd against dictionary 1 (rows of stores from before S2)
// and plain JSON, through a real store: each read back byte for byte.
func TestCodecFormats(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	g := newGenerator(t, t0, time.Second)
	recs := g.records(50)
	mustAppend(t, s, recs[:40])

	var tag []byte
	if err := s.rdb.QueryRowContext(ctx, `SELECT data FROM events WHERE seq = 1`).Scan(&tag); err != nil {
		t.Fatal(err)
	}
	if len(tag) == 0 || tag[0] != s2Tag || len(tag) >= len(recs[0].JSON) {
		t.Fatalf("stored value is not an S2 block smaller than the line: %d bytes for %d, first byte %#x", len(tag), len(recs[0].JSON), tag[:1])
	}
	// encode appends after what dst holds.
	if got := s.codec.encode([]byte("xy"), recs[0].JSON); !bytes.HasPrefix(got, []byte{'x', 'y', s2Tag}) {
		t.Fatalf("encode clobbered dst: % x", got[:4])
	}

	// Rows as an older binary wrote them: zstd against dictionary 1, and a
	// plain line.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDictRaw(zstdDictID, dictTemplate()), zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	for i, r := range recs[40:] {
		seq := int64(41 + i)
		stored := enc.EncodeAll(r.JSON, nil)
		if i%2 == 1 {
			stored = r.JSON
		}
		if _, err := s.wdb.ExecContext(ctx, `INSERT INTO events(seq, id, ts, data, prev_hash, hash) VALUES (?, ?, 0, ?, x'', x'')`,
			seq, r.Event.ID, stored); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := s.After(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 50 {
		t.Fatalf("%d rows, want 50", len(rows))
	}
	for i, r := range rows {
		if !bytes.Equal(r.JSON, recs[i].JSON) {
			t.Errorf("seq %d: read back %q, want %q", r.Seq, r.JSON, recs[i].JSON)
		}
	}
	// A corrupt S2 value is an error, not a panic or garbage.
	if _, err := s.codec.decode(nil, []byte{s2Tag, 0xff, 0xff, 0xff}); err == nil {
		t.Error("corrupt S2 value decoded without error")
	}
}
