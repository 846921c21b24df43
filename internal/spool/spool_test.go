package spool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestConcurrentAppendsNeverInterleave(t *testing.T) {
	dir := t.TempDir()
	fixed := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	w := &Writer{Dir: filepath.Join(dir, "spool"), Now: func() time.Time { return fixed }}
	const writers, each = 16, 200
	// Lines of very different sizes make torn or interleaved writes visible.
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				pad := bytes.Repeat([]byte{'a' + byte(g)}, (i*997)%20000)
				line, _ := json.Marshal(map[string]any{"g": g, "i": i, "pad": string(pad)})
				if err := w.Append(line); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	segs, err := List(w.Dir)
	if err != nil || len(segs) != 1 {
		t.Fatalf("List = %v, %v; want one segment", segs, err)
	}
	r := &Reader{Dir: w.Dir}
	seen := map[string]bool{}
	var off int64
	for {
		lines, err := r.ReadSegment(segs[0].Name, off, 1000, 4<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) == 0 {
			break
		}
		for _, l := range lines {
			var m struct {
				G, I int
				Pad  string
			}
			if err := json.Unmarshal(l.Data, &m); err != nil {
				t.Fatalf("corrupt line at %d: %v", l.Offset, err)
			}
			if len(m.Pad) != (m.I*997)%20000 || (len(m.Pad) > 0 && m.Pad[0] != 'a'+byte(m.G)) {
				t.Fatalf("line g=%d i=%d has a foreign or cut pad", m.G, m.I)
			}
			seen[fmt.Sprint(m.G, "/", m.I)] = true
			off = l.End
		}
	}
	if len(seen) != writers*each {
		t.Fatalf("read %d distinct lines, want %d", len(seen), writers*each)
	}
	if off != segs[0].Size {
		t.Fatalf("consumed %d bytes, segment has %d", off, segs[0].Size)
	}
}

func TestReaderLeavesPartialLine(t *testing.T) {
	dir := t.TempDir()
	seg := "20261123T10" + Ext
	if err := os.WriteFile(filepath.Join(dir, seg), []byte("{\"a\":1}\n{\"b\":"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &Reader{Dir: dir}
	lines, err := r.ReadSegment(seg, 0, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || string(lines[0].Data) != `{"a":1}` || lines[0].End != 8 {
		t.Fatalf("lines = %+v; want just the complete first line", lines)
	}
	// The writer finishes the line: the next read picks it up whole.
	f, _ := os.OpenFile(filepath.Join(dir, seg), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("2}\n")
	f.Close()
	lines, err = r.ReadSegment(seg, 8, 100, 1<<20)
	if err != nil || len(lines) != 1 || string(lines[0].Data) != `{"b":2}` {
		t.Fatalf("second read = %+v, %v", lines, err)
	}
}

func TestReaderSkipsOversizedLine(t *testing.T) {
	dir := t.TempDir()
	seg := "20261123T10" + Ext
	var b bytes.Buffer
	b.WriteString("{\"first\":1}\n")
	b.Write(bytes.Repeat([]byte("x"), MaxLine+5<<20))
	b.WriteString("\n{\"last\":1}\n")
	if err := os.WriteFile(filepath.Join(dir, seg), b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &Reader{Dir: dir}
	var got []Line
	var off int64
	for i := 0; i < 100; i++ {
		lines, err := r.ReadSegment(seg, off, 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) == 0 {
			break
		}
		got = append(got, lines...)
		off = lines[len(lines)-1].End
	}
	if len(got) != 3 || !got[1].Oversized || string(got[2].Data) != `{"last":1}` || got[1].Offset != 12 {
		t.Fatalf("got %d lines: %+v", len(got), summary(got))
	}
	if off != int64(b.Len()) {
		t.Fatalf("offset %d, want %d", off, b.Len())
	}
}

func summary(ls []Line) []string {
	var s []string
	for _, l := range ls {
		s = append(s, fmt.Sprintf("[%d,%d) oversized=%v %.20q", l.Offset, l.End, l.Oversized, l.Data))
	}
	return s
}

func TestAppendUnwritableDir(t *testing.T) {
	// Root ignores permission bits, so make the dir impossible instead: a
	// path under a regular file.
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o600)
	w := &Writer{Dir: filepath.Join(blocker, "spool")}
	if err := w.Append([]byte(`{}`)); err == nil {
		t.Fatal("Append under a regular file succeeded")
	}
}

func TestRemovable(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	old := Segment{Name: "20261123T08" + Ext, Size: 10, Mod: now.Add(-2 * time.Hour)}
	cur := Segment{Name: SegmentName(now), Size: 10, Mod: now.Add(-2 * time.Hour)}
	cases := []struct {
		name     string
		seg      Segment
		consumed int64
		keep     time.Duration
		want     bool
	}{
		{"consumed and old", old, 10, time.Hour, true},
		{"not fully consumed", old, 9, time.Hour, false},
		{"kept", old, 10, 3 * time.Hour, false},
		{"current hour", cur, 10, 0, false},
	}
	for _, c := range cases {
		if got := Removable(c.seg, c.consumed, now, c.keep); got != c.want {
			t.Errorf("%s: Removable = %v, want %v", c.name, got, c.want)
		}
	}
}
