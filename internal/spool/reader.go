package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Line is one complete line read from a segment.
type Line struct {
	Segment string
	Offset  int64 // where the line starts
	End     int64 // offset just past its newline: the checkpoint after it
	Data    []byte
	// Oversized is set for a line longer than MaxLine; Data is then empty
	// and the line is skipped (the consumer records it as an error).
	Oversized bool
}

// Reader reads complete lines from segments, starting at given offsets.
type Reader struct {
	Dir string
	buf []byte
}

// ReadSegment reads complete lines of seg from offset, up to maxLines and
// roughly maxBytes, and returns them. A trailing line without its newline
// (a writer mid-append, or a torn write) is left for a later call.
func (r *Reader) ReadSegment(seg string, offset int64, maxLines, maxBytes int) ([]Line, error) {
	f, err := os.Open(filepath.Join(r.Dir, seg))
	if err != nil {
		return nil, fmt.Errorf("open spool segment: %w", err)
	}
	defer f.Close()
	const chunk = 1 << 20
	if cap(r.buf) < 2*chunk {
		r.buf = make([]byte, 0, 4*chunk)
	}
	var (
		lines    []Line
		total    int
		pending  = r.buf[:0] // bytes read but not yet split into lines
		base     = offset    // file offset of pending[0]
		skipFrom = int64(-1) // start of an oversized line being skipped
	)
	for len(lines) < maxLines && total < maxBytes {
		if cap(pending)-len(pending) < chunk {
			grown := make([]byte, len(pending), 2*cap(pending)+chunk)
			copy(grown, pending)
			pending = grown
		}
		n, err := f.ReadAt(pending[len(pending):len(pending)+chunk], base+int64(len(pending)))
		if n == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				return lines, fmt.Errorf("read spool segment %s: %w", seg, err)
			}
			break
		}
		pending = pending[:len(pending)+n]
		consumed := 0
		first := len(lines) // lines of this chunk whose Data is set below
		for len(lines) < maxLines && total < maxBytes {
			i := bytes.IndexByte(pending[consumed:], '\n')
			if i < 0 {
				break
			}
			start := base + int64(consumed)
			end := start + int64(i) + 1
			if skipFrom >= 0 {
				lines = append(lines, Line{Segment: seg, Offset: skipFrom, End: end, Oversized: true})
				skipFrom = -1
			} else {
				lines = append(lines, Line{Segment: seg, Offset: start, End: end})
				total += i
			}
			consumed += i + 1
		}
		// One copy for the chunk's lines (instead of one allocation per
		// line): each line's Data is a capacity-capped slice of it.
		slab := append([]byte(nil), pending[:consumed]...)
		for k := first; k < len(lines); k++ {
			if l := &lines[k]; !l.Oversized {
				at := l.Offset - base
				l.Data = slab[at : l.End-1-base : l.End-1-base]
			}
		}
		pending = append(pending[:0], pending[consumed:]...)
		base += int64(consumed)
		if len(pending) > MaxLine {
			// No newline within MaxLine bytes: drop them and skip to the
			// next newline; the consumer records the oversized line.
			if skipFrom < 0 {
				skipFrom = base
			}
			base += int64(len(pending))
			pending = pending[:0]
		}
	}
	if cap(pending) <= 8*chunk {
		r.buf = pending[:0]
	}
	return lines, nil
}

// Removable reports whether a fully consumed segment may be deleted: it is
// older than keep and not the current hour's segment.
func Removable(seg Segment, consumed int64, now time.Time, keep time.Duration) bool {
	if consumed < seg.Size || seg.Name >= SegmentName(now) {
		return false
	}
	return now.Sub(seg.Mod) >= keep
}
