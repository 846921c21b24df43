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
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/spool"
	"github.com/vigil-sec/vigil/internal/store"
)

// Consumer receives events after they are durably stored, in store order,
// on the pipeline's consumer goroutine, which works on one batch while the
// writer commits the next: the writer waits for it only when it is still
// busy with the batch before. Events whose consumption a crash interrupted
// are handed to it again by Replay (at least once).
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
	// BatchLines (default 2,000) and BatchBytes (8 MiB) bound one store
	// transaction. Three batches are in memory at once while a backlog
	// drains (read, committing, consumed), ~3 KB per realistic event.
	// Halving the batch cost ~30 % of spool throughput at 1M stored
	// events (each commit rewrites the indexes' hot pages).
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
	o         Options
	mu        sync.Mutex // serialises Append + consumers so consumers see store order
	reader    spool.Reader
	metrics   metrics
	ready     chan struct{}
	readyOnce sync.Once

	// Consumers run on their own goroutine (consume), fed in commit order
	// through queue, so the writer never waits for the rules. consumed is
	// the seq of the last event they have seen; it is committed with the
	// next batch (and when idle, and at Close) as the "consumed"
	// checkpoint, from which Replay resumes after a crash.
	queue     chan []Stored
	consumers sync.WaitGroup
	consumed  atomic.Int64
	savedCons int64 // the consumed value last committed (guarded by mu)
	closed    bool  // guarded by mu

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
	if len(o.Consumers) > 0 {
		p.queue = make(chan []Stored)
		p.consumers.Add(1)
		go p.consume()
	}
	return p
}

// cpConsumed names the consumers' position among the store's checkpoints.
const cpConsumed = "consumed"

func (p *Pipeline) consume() {
	defer p.consumers.Done()
	for stored := range p.queue {
		for _, c := range p.o.Consumers {
			c(context.Background(), stored)
		}
		p.consumed.Store(stored[len(stored)-1].Seq)
	}
}

// ErrClosed is returned by Ingest after Close.
var ErrClosed = errors.New("ingest pipeline closed")

// Close stops the consumers once they have seen every committed event and
// records their position. Call it after Run has returned; Ingest fails
// with ErrClosed afterwards.
func (p *Pipeline) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	if p.queue != nil {
		close(p.queue)
	}
	p.mu.Unlock()
	p.consumers.Wait()
	return p.saveConsumed(context.Background())
}

// saveConsumed commits the consumers' position when it moved.
func (p *Pipeline) saveConsumed(ctx context.Context) error {
	if p.queue == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.consumed.Load()
	if c == p.savedCons {
		return nil
	}
	if err := p.o.Store.SetCheckpoints(ctx, store.Checkpoint{Name: cpConsumed, Value: c}); err != nil {
		return err
	}
	p.savedCons = c
	return nil
}

// Replay hands the consumers every stored event they have not seen: those
// committed before a crash left them queued. Call it once, before Run and
// before the first Ingest. A store without the checkpoint (new, or from a
// version without it) starts from its newest event: history is not
// re-alerted.
func (p *Pipeline) Replay(ctx context.Context) (int, error) {
	if p.queue == nil {
		return 0, nil
	}
	cps, err := p.o.Store.Checkpoints(ctx, cpConsumed)
	if err != nil {
		return 0, err
	}
	cp, ok := cps[cpConsumed]
	if !ok {
		st, err := p.o.Store.Stats(ctx)
		if err != nil {
			return 0, err
		}
		p.consumed.Store(st.LastSeq)
		return 0, p.saveConsumed(ctx)
	}
	p.consumed.Store(cp.Value)
	p.savedCons = cp.Value
	n := 0
	for after := cp.Value; ; {
		rows, err := p.o.Store.After(ctx, after, 1000)
		if err != nil {
			return n, err
		}
		if len(rows) == 0 {
			return n, nil
		}
		stored := make([]Stored, 0, len(rows))
		for _, r := range rows {
			var ev event.Event
			if err := json.Unmarshal(r.JSON, &ev); err != nil {
				return n, fmt.Errorf("replay event %d: %w", r.Seq, err)
			}
			stored = append(stored, Stored{Seq: r.Seq, Event: &ev, JSON: append([]byte(nil), r.JSON...)})
		}
		p.queue <- stored
		n += len(stored)
		after = rows[len(rows)-1].Seq
	}
}

// Ready is closed once the tailer has completed its first pass: it has
// committed a batch, found nothing to read, or failed once.
func (p *Pipeline) Ready() <-chan struct{} { return p.ready }

func (p *Pipeline) markReady() { p.readyOnce.Do(func() { close(p.ready) }) }

// cpPrefix names spool offsets among the store's checkpoints.
const cpPrefix = "spool:"

// batch is a prepared spool batch and the offset its commit records.
type batch struct {
	b  *store.Batch
	cp store.Checkpoint
}

// Run tails the spool until ctx ends. After an error it starts again from
// the offsets committed in the store, so nothing is lost or doubled.
func (p *Pipeline) Run(ctx context.Context) error {
	for {
		err := p.tail(ctx)
		p.markReady()
		if ctx.Err() != nil {
			return nil
		}
		p.o.Log.Error("spool ingest failed; retrying", "err", err.Error())
		p.metrics.errors.Inc()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(p.o.Poll):
		}
	}
}

// tail runs a reader goroutine, which reads, decodes and prepares (Store.
// Prepare: compression, search text) the next batch while this goroutine
// commits the previous one: only one connection can write, so on two
// cores the commit overlaps everything else. The hand-over is unbuffered,
// so at most one prepared batch waits (memory is bounded by the batches
// in flight). Batches are committed in the
// order they were read, each with its segment offset, so the committed
// offsets always cover exactly the committed events. tail returns the
// first error once the reader has stopped.
func (p *Pipeline) tail(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan batch)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- p.read(ctx, batches)
	}()
	var err error
	for b := range batches {
		if err != nil {
			continue // drain what the reader sent before it saw the cancel
		}
		start := time.Now()
		if err = p.commit(ctx, b.b, "spool", b.cp); err != nil {
			cancel()
			continue
		}
		p.metrics.batchSeconds.Observe(time.Since(start).Seconds())
		p.markReady()
	}
	if rerr := <-readErr; err == nil {
		err = rerr
	}
	return err
}

// read sends batches until ctx ends or an error, polling when the spool
// has nothing new. Its offsets run ahead of the committed ones by the
// batches in flight.
func (p *Pipeline) read(ctx context.Context, out chan<- batch) error {
	cps, err := p.o.Store.Checkpoints(ctx, cpPrefix)
	if err != nil {
		return err
	}
	offsets := make(map[string]int64, len(cps))
	for k, c := range cps {
		offsets[strings.TrimPrefix(k, cpPrefix)] = c.Value
	}
	t := time.NewTicker(p.o.Poll)
	defer t.Stop()
	// Consumed segments are removed (and the consumers' position saved)
	// whenever the spool is drained, and at least every tidyEvery while a
	// backlog keeps the reader busy.
	tidied := time.Now()
	tidy := func() error {
		tidied = time.Now()
		if err := p.removeIngested(ctx, offsets); err != nil {
			return err
		}
		return p.saveConsumed(ctx)
	}
	for {
		b, err := p.next(offsets)
		if err != nil {
			return err
		}
		if b != nil {
			select {
			case out <- *b:
			case <-ctx.Done():
				return nil
			}
			if time.Since(tidied) > tidyEvery {
				if err := tidy(); err != nil {
					return err
				}
			}
			continue // more may be waiting: do not sleep while behind
		}
		p.markReady()
		if err := tidy(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// tidyEvery bounds how long a busy reader goes without removing consumed
// segments.
const tidyEvery = time.Minute

// next reads and prepares one batch from the oldest segment with unread
// lines and advances offsets past it; nil when there is nothing to read.
func (p *Pipeline) next(offsets map[string]int64) (*batch, error) {
	segs, err := spool.List(p.o.SpoolDir)
	if err != nil {
		return nil, err
	}
	b, n := spool.Backlog(segs, offsets)
	p.setBacklog(b, n)
	for _, seg := range segs {
		off := offsets[seg.Name]
		if off >= seg.Size {
			continue
		}
		lines, err := p.reader.ReadSegment(seg.Name, off, p.o.BatchLines, p.o.BatchBytes)
		if err != nil {
			return nil, err
		}
		if len(lines) == 0 {
			continue // only a partial line so far
		}
		recs := make([]store.Record, 0, len(lines))
		for _, l := range lines {
			recs = append(recs, p.decodeLine(l))
		}
		prepared, err := p.o.Store.Prepare(recs)
		if err != nil {
			return nil, err
		}
		end := lines[len(lines)-1].End
		offsets[seg.Name] = end
		return &batch{b: prepared, cp: store.Checkpoint{Name: cpPrefix + seg.Name, Value: end}}, nil
	}
	return nil, nil
}

// removeIngested deletes the segments whose every line is committed (by
// the offsets in the store, not the reader's) once they are old enough.
func (p *Pipeline) removeIngested(ctx context.Context, offsets map[string]int64) error {
	segs, err := spool.List(p.o.SpoolDir)
	if err != nil {
		return err
	}
	cps, err := p.o.Store.Checkpoints(ctx, cpPrefix)
	if err != nil {
		return err
	}
	now := p.o.Now()
	for _, seg := range segs {
		done := cps[cpPrefix+seg.Name].Value
		if done >= seg.Size && spool.Removable(seg, done, now, p.o.KeepSegments) && p.removeSegment(ctx, seg.Name) {
			offsets[seg.Name] = 0
		}
	}
	return nil
}

func (p *Pipeline) removeSegment(ctx context.Context, name string) bool {
	// Reset the offset first, so a segment re-created under the same name
	// (a clock set back by hours) is read from its start even if we die
	// between the two steps. The other order could leave a stale offset
	// that skips the new segment's first lines; this one at worst re-reads
	// a segment, which stores nothing twice (ids are idempotent).
	if err := p.o.Store.SetCheckpoints(ctx, store.Checkpoint{Name: cpPrefix + name, Value: 0}); err != nil {
		p.o.Log.Warn("reset offset of ingested spool segment; not removing it", "segment", name, "err", err.Error())
		return false
	}
	if err := os.Remove(filepath.Join(p.o.SpoolDir, name)); err != nil {
		p.o.Log.Warn("remove ingested spool segment", "segment", name, "err", err.Error())
		return false
	}
	p.o.Log.Info("removed ingested spool segment", "segment", name)
	return true
}

// decodeLine parses a spool line; a corrupt or oversized line becomes a
// hook_error event whose id derives from its position, so re-reading the
// same bytes after a crash yields the same id and no duplicate.
func (p *Pipeline) decodeLine(l spool.Line) store.Record {
	if !l.Oversized {
		var ev event.Event
		if err := event.Unmarshal(l.Data, &ev); err == nil && ev.ID != "" {
			if p.o.Annotate != nil && p.o.Annotate(&ev) {
				return store.Record{Event: &ev, JSON: ev.AppendJSON(nil)}
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
	return store.Record{Event: ev, JSON: ev.AppendJSON(nil)}
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

// commit appends a prepared batch and runs consumers on the new events.
func (p *Pipeline) commit(ctx context.Context, b *store.Batch, source string, cps ...store.Checkpoint) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	cons := p.consumed.Load()
	if p.queue != nil && cons != p.savedCons {
		cps = append(cps, store.Checkpoint{Name: cpConsumed, Value: cons})
	}
	inserted, err := p.o.Store.AppendBatch(ctx, b, cps...)
	if err != nil {
		return err
	}
	if p.queue != nil {
		p.savedCons = cons
	}
	recs := b.Records()
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
	if p.queue != nil {
		p.queue <- stored
	}
	return nil
}

// Ingest stores a remote batch (already decoded and validated). It returns
// how many were new. It returns only after the batch is committed, so an
// acknowledged batch survives a crash.
func (p *Pipeline) Ingest(ctx context.Context, evs []*event.Event) (inserted int, err error) {
	recs := make([]store.Record, 0, len(evs))
	for _, ev := range evs {
		recs = append(recs, store.Record{Event: ev, JSON: ev.AppendJSON(nil)})
	}
	prepared, err := p.o.Store.Prepare(recs)
	if err != nil {
		return 0, err
	}
	if err := p.commit(ctx, prepared, "http"); err != nil {
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
