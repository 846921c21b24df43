// Package spool owns the hook's local, append-only spool: hourly NDJSON
// segments that any number of concurrent hook processes append to, and the
// reader serve uses to tail them. A line is appended with a single write
// under an exclusive flock, so concurrent hooks never interleave; the
// reader only consumes complete lines, so a line being written is never
// half-read. Offsets are checkpointed by the consumer (serve commits them
// in the same store transaction as the events they carried).
package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Ext is the segment file extension.
const Ext = ".ndjson"

// segmentLayout names segments by UTC hour, so concurrent writers agree on
// the current segment without coordinating.
const segmentLayout = "20060102T15"

// SegmentName returns the segment a line written at t belongs to.
func SegmentName(t time.Time) string {
	return t.UTC().Format(segmentLayout) + Ext
}

// Writer appends lines. It holds no open file between calls: each Append
// is a complete open/lock/write/unlock/close, which is what a short-lived
// hook process needs.
type Writer struct {
	Dir   string
	Fsync bool
	Now   func() time.Time
}

// ErrLineTooLarge is returned for a line over MaxLine bytes.
var ErrLineTooLarge = errors.New("spool line too large")

// MaxLine is the largest line the writer accepts and the reader expects.
const MaxLine = 8 << 20

// Append writes line (a single JSON object, no newline) plus "\n".
func (w *Writer) Append(line []byte) error {
	if len(line)+1 > MaxLine {
		return fmt.Errorf("%w: %d bytes", ErrLineTooLarge, len(line))
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	path := filepath.Join(w.Dir, SegmentName(now()))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		if mkErr := os.MkdirAll(w.Dir, 0o700); mkErr != nil {
			return fmt.Errorf("create spool dir %s: %w", w.Dir, mkErr)
		}
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	}
	if err != nil {
		return fmt.Errorf("open spool segment: %w", err)
	}
	defer f.Close()
	fd := int(f.Fd())
	if err := flock(fd, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock spool segment %s: %w", path, err)
	}
	buf := make([]byte, 0, len(line)+1)
	buf = append(append(buf, line...), '\n')
	n, err := f.Write(buf)
	if err == nil && n != len(buf) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(buf))
	}
	if err == nil && w.Fsync {
		err = syscall.Fdatasync(fd)
	}
	// Unlock explicitly before close so the next writer proceeds at once.
	_ = flock(fd, syscall.LOCK_UN)
	if err != nil {
		return fmt.Errorf("write spool segment %s: %w", path, err)
	}
	return nil
}

func flock(fd, how int) error {
	for {
		err := syscall.Flock(fd, how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// Segment is one spool file.
type Segment struct {
	Name string
	Size int64
	Mod  time.Time
}

// List returns the segments in dir, oldest first. A missing dir is empty.
func List(dir string) ([]Segment, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list spool %s: %w", dir, err)
	}
	var segs []Segment
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), Ext) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed while listing
		}
		segs = append(segs, Segment{Name: e.Name(), Size: info.Size(), Mod: info.ModTime()})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].Name < segs[j].Name })
	return segs, nil
}

// Backlog sums what is left to read given the consumer's offsets.
func Backlog(segs []Segment, offsets map[string]int64) (bytes int64, segments int) {
	for _, s := range segs {
		if left := s.Size - offsets[s.Name]; left > 0 {
			bytes += left
			segments++
		}
	}
	return bytes, segments
}
