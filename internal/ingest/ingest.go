// Package ingest moves events into the store: it tails the hook spool and
// accepts remote batches, commits each batch in one store transaction
// (with the spool offsets it consumed, so kill -9 neither loses nor
// duplicates an event), then hands newly stored events to the consumers
// (rules, live stream) in order.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/spool"
	"github.com/vigil-sec/vigil/internal/store"
)

// Consumer receives events after they are durably stored, in store order.
// It must not block for long: the pipeline waits for it.
type Consumer func(ctx context.Context, stored []Stored)

// Stored is one newly stored event.
type Stored struct {
	Seq   int64
	Event *event.Event
	JSON  []byte
}

// Options configure a Pipeline.
type Options struct {
	Store    *store.Store
	SpoolDir string
	// Poll is how often the spool is checked (default 50 ms).
	Poll time.Duration
	// KeepSegments keeps fully ingested segments this long (default 24 h).
	KeepSegments time.Duration
	// BatchLines and BatchBytes bound one store transaction.
	BatchLines int
	BatchBytes int
	Consumers  []Consumer
	// Annotate, when set, may amend a spool event before it is stored
	// (serve records monitor-mode would-block decisions with it); it
	// reports whether it changed the event.
	Annotate   func(ev *event.Event) bool
	Log        *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Pipeline is the single writer of events into the store.
type Pipeline struct {
	o       Options
	mu      sync.Mutex // serialises Append + consumers so consumers see store order
	reader  spool.Reader
	metrics metrics
	ready   chan struct{}

	statMu      sync.Mutex
	lastEvent   time.Time
	backlogB    int64
	backlogSegs int
}

// New returns a pipeline; Run starts tailing.
func New(o Options) *Pipeline {
	if o.Poll <= 0 {
		o.Poll = 50 * time.Millisecond
	}
	if o.KeepSegments <= 0 {
		o.KeepSegments = 24 * time.Hour
	}
	if o.BatchLines <= 0 {
		o.BatchLines = 2000
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 8 << 20
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &Pipeline{o: o, reader: spool.Reader{Dir: o.SpoolDir}, ready: make(chan struct{})}
	p.metrics = newMetrics(o.Registerer)
	return p
}

// Ready is closed once the tailer has completed its first pass.
func (p *Pipeline) Ready() <-chan struct{} { return p.ready }

// cpPrefix names spool offsets among the store's checkpoints.
const cpPrefix = "spool:"

// Run tails the spool until ctx ends.
func (p *Pipeline) Run(ctx context.Context) error {
	t := time.NewTicker(p.o.Poll)
	defer t.Stop()
	first := true
	for {
		n, err := p.drain(ctx)
		if err != nil && ctx.Err() == nil {
			p.o.Log.Error("spool ingest failed; retrying", "err", err.Error())
			p.metrics.errors.Inc()
		}
		if first {
			close(p.ready)
			first = false
		}
		if n > 0 {
			continue // more may be waiting: do not sleep while behind
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// drain ingests one batch from the spool and returns how many lines it
// consumed.
func (p *Pipeline) drain(ctx context.Context) (int, error) {
	segs, err := spool.List(p.o.SpoolDir)
	if err != nil {
		return 0, err
	}
	cps, err := p.o.Store.Checkpoints(ctx, cpPrefix)
	if err != nil {
		return 0, err
	}
	offsets := make(map[string]int64, len(cps))
	for k, c := range cps {
		offsets[strings.TrimPrefix(k, cpPrefix)] = c.Value
	}
	b, n := spool.Backlog(segs, offsets)
	p.setBacklog(b, n)
	now := p.o.Now()
	for _, seg := range segs {
		off := offsets[seg.Name]
		if off >= seg.Size {
			if spool.Removable(seg, off, now, p.o.KeepSegments) {
				p.removeSegment(ctx, seg.Name)
			}
			continue
		}
		lines, err := p.reader.ReadSegment(seg.Name, off, p.o.BatchLines, p.o.BatchBytes)
		if err != nil {
			return 0, err
		}
		if len(lines) == 0 {
			continue // only a partial line so far
		}
		recs := make([]store.Record, 0, len(lines))
		for _, l := range lines {
			recs = append(recs, p.decodeLine(l))
		}
		end := lines[len(lines)-1].End
		start := time.Now()
		if err := p.commit(ctx, recs, "spool", store.Checkpoint{Name: cpPrefix + seg.Name, Value: end}); err != nil {
			return 0, err
		}
		p.metrics.batchSeconds.Observe(time.Since(start).Seconds())
		return len(lines), nil
	}
	return 0, nil
}

func (p *Pipeline) removeSegment(ctx context.Context, name string) {
	if err := os.Remove(filepath.Join(p.o.SpoolDir, name)); err != nil {
		p.o.Log.Warn("remove ingested spool segment", "segment", name, "err", err.Error())
		return
	}
	// Reset the offset so a segment re-created under the same name (a clock
	// set back by hours) is read from its start.
	if err := p.o.Store.SetCheckpoints(ctx, store.Checkpoint{Name: cpPrefix + name, Value: 0}); err != nil {
		p.o.Log.Warn("reset offset of removed spool segment", "segment", name, "err", err.Error())
	}
	p.o.Log.Info("removed ingested spool segment", "segment", name)
}

// decodeLine parses a spool line; a corrupt or oversized line becomes a
// hook_error event whose id derives from its position, so re-reading the
// same bytes after a crash yields the same id and no duplicate.
func (p *Pipeline) decodeLine(l spool.Line) store.Record {
	if !l.Oversized {
		var ev event.Event
		if err := json.Unmarshal(l.Data, &ev); err == nil && ev.ID != "" {
			if p.o.Annotate != nil && p.o.Annotate(&ev) {
				if b, err := json.Marshal(&ev); err == nil {
					return store.Record{Event: &ev, JSON: b}
				}
			}
			return store.Record{Event: &ev, JSON: l.Data}
		} else if err == nil {
			return p.corrupt(l, errors.New("event has no id"))
		} else {
			return p.corrupt(l, err)
		}
	}
	return p.corrupt(l, fmt.Errorf("line longer than %d bytes", spool.MaxLine))
}

func (p *Pipeline) corrupt(l spool.Line, cause error) store.Record {
	p.o.Log.Error("corrupt spool line; recorded hook_error", "segment", l.Segment, "offset", l.Offset, "err", cause.Error())
	sum := sha256.Sum256([]byte(l.Segment + ":" + strconv.FormatInt(l.Offset, 10)))
	ev := &event.Event{
		ID: positionID(sum), SchemaVersion: event.SchemaVersion, Timestamp: p.o.Now().UTC(),
		Agent: event.Agent, EventType: event.TypeHookError,
		Security: event.Security{Redactions: []string{}},
		HookError: &event.HookError{
			Reason:     fmt.Sprintf("corrupt spool line in %s at offset %d: %v", l.Segment, l.Offset, cause),
			InputBytes: int(l.End - l.Offset - 1),
		},
	}
	b, _ := json.Marshal(ev)
	return store.Record{Event: ev, JSON: b}
}

// positionID formats a hash as a UUID (version 8, RFC 9562 custom).
func positionID(h [32]byte) string {
	h[6] = 0x80 | (h[6] & 0x0f)
	h[8] = 0x80 | (h[8] & 0x3f)
	const hexd = "0123456789abcdef"
	var s [36]byte
	j := 0
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hexd[h[i]>>4], hexd[h[i]&0xf]
		j += 2
	}
	return string(s[:])
}

// commit appends a batch and runs consumers on the new events.
func (p *Pipeline) commit(ctx context.Context, recs []store.Record, source string, cps ...store.Checkpoint) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	inserted, err := p.o.Store.Append(ctx, recs, cps...)
	if err != nil {
		return err
	}
	p.metrics.ingested.WithLabelValues(source).Add(float64(inserted))
	p.metrics.duplicates.WithLabelValues(source).Add(float64(len(recs) - inserted))
	if inserted == 0 {
		return nil
	}
	stored := make([]Stored, 0, inserted)
	var last time.Time
	for _, r := range recs {
		if r.Seq == 0 {
			continue
		}
		stored = append(stored, Stored{Seq: r.Seq, Event: r.Event, JSON: r.JSON})
		if r.Event.EventType == event.TypeHookError {
			p.metrics.hookErrors.Inc()
		}
		if r.Event.Timestamp.After(last) {
			last = r.Event.Timestamp
		}
	}
	if !last.IsZero() {
		p.statMu.Lock()
		if last.After(p.lastEvent) {
			p.lastEvent = last
		}
		p.statMu.Unlock()
		p.metrics.lag.Set(p.o.Now().Sub(last).Seconds())
	}
	for _, c := range p.o.Consumers {
		c(ctx, stored)
	}
	return nil
}

// Ingest stores a remote batch (already decoded and validated). It returns
// how many were new. It returns only after the batch is committed, so an
// acknowledged batch survives a crash.
func (p *Pipeline) Ingest(ctx context.Context, evs []*event.Event) (inserted int, err error) {
	recs := make([]store.Record, 0, len(evs))
	for _, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			return 0, fmt.Errorf("encode event %s: %w", ev.ID, err)
		}
		recs = append(recs, store.Record{Event: ev, JSON: b})
	}
	if err := p.commit(ctx, recs, "http"); err != nil {
		return 0, err
	}
	for _, r := range recs {
		if r.Seq != 0 {
			inserted++
		}
	}
	return inserted, nil
}

// Status is the pipeline's view for /api/v1/status.
type Status struct {
	LastEvent       time.Time
	BacklogBytes    int64
	BacklogSegments int
}

// Status reports the newest ingested event time and the spool backlog as
// of the last pass.
func (p *Pipeline) Status() Status {
	p.statMu.Lock()
	defer p.statMu.Unlock()
	return Status{LastEvent: p.lastEvent, BacklogBytes: p.backlogB, BacklogSegments: p.backlogSegs}
}

func (p *Pipeline) setBacklog(b int64, n int) {
	p.statMu.Lock()
	p.backlogB, p.backlogSegs = b, n
	p.statMu.Unlock()
	p.metrics.backlog.Set(float64(b))
}
