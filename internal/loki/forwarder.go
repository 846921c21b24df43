package loki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/event"
)

// DefaultService is the service label of every stream Vigil pushes.
const DefaultService = "claude-telemetry"

// DefaultCheckpoint names the forwarder's checkpoint in the store.
const DefaultCheckpoint = "loki.forwarder"

// Record is one stored event and its position in the store.
type Record struct {
	Seq int64
	// JSON is the event exactly as stored: the line pushed to Loki.
	JSON []byte
	// Meta holds the fields labels and metadata are made of; when nil they
	// are decoded from JSON.
	Meta *EventMeta
}

// EventMeta is the part of an event that becomes stream labels and
// structured metadata.
type EventMeta struct {
	ID, Project, SessionID, ToolName, ToolUseID, EventType, HookEvent string
	Host, User, AgentID                                               string
	Time                                                              time.Time
}

// MetaOf returns the label fields of ev.
func MetaOf(ev *event.Event) *EventMeta {
	return &EventMeta{
		ID: ev.ID, Project: ev.Project, SessionID: ev.SessionID, ToolName: ev.ToolName, ToolUseID: ev.ToolUseID,
		EventType: ev.EventType, HookEvent: ev.HookEvent, Host: ev.Host, User: ev.User, AgentID: ev.AgentID,
		Time: ev.Timestamp,
	}
}

// Source is what the forwarder needs from the store: events in seq order
// and a durable checkpoint. StoreSource adapts *store.Store.
type Source interface {
	// Records returns up to limit records with Seq > after, lowest first.
	Records(ctx context.Context, after int64, limit int) ([]Record, error)
	// LastSeq is the highest seq stored (0 when empty).
	LastSeq(ctx context.Context) (int64, error)
	// Checkpoint returns the named position, 0 when never saved.
	Checkpoint(ctx context.Context, name string) (int64, error)
	// SaveCheckpoint stores the named position durably.
	SaveCheckpoint(ctx context.Context, name string, seq int64) error
}

// ForwarderOptions configures a Forwarder. Zero values take the defaults
// noted.
type ForwarderOptions struct {
	Client *Client // required
	Source Source  // required
	// Service is the service label (default DefaultService).
	Service string
	// CheckpointName defaults to DefaultCheckpoint.
	CheckpointName string
	// MaxBatchEvents (default 2000) and MaxBatchBytes (default 2 MiB of
	// lines) bound one push; BatchWait (default 1s) bounds how long the
	// first event of a batch waits for company when the store is quiet.
	MaxBatchEvents int
	MaxBatchBytes  int
	BatchWait      time.Duration
	// PollInterval is how often the store is read when caught up
	// (default 200ms).
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait between failed pushes
	// (defaults 250ms and 5s; full jitter).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	Logger     *slog.Logger
	// Registerer receives the forwarder's metrics (none when nil).
	Registerer prometheus.Registerer
}

// Forwarder ships the store's events to Loki in seq order, exactly once in
// Loki without relying on Loki's own deduplication:
//   - the checkpoint advances only after Loki acknowledged a batch;
//   - before each push an in-flight mark (the batch's last seq) is saved,
//     so a restarted forwarder knows how far the previous one may have got;
//   - whenever a push may have been partly stored (a transport error, 5xx,
//     400, or batches up to the in-flight mark after a restart) the next
//     attempt first asks Loki which of the batch's event ids it already
//     holds and sends only the rest.
type Forwarder struct {
	c    *Client
	src  Source
	opts ForwarderOptions
	log  *slog.Logger
	m    *forwarderMetrics

	// lastTS is the newest timestamp given to each stream, so entries of a
	// stream get strictly increasing nanosecond timestamps.
	lastTS map[string]int64
	// pending holds records read from the store but not yet batched.
	pending []Record
	cursor  int64 // seq of the last record read from the store
	// uncertain is set when Loki may hold part of the next batch already.
	uncertain bool
	// verifyThrough is the highest seq a previous run may have pushed
	// (its in-flight mark): batches up to it are checked against Loki.
	verifyThrough int64
	// acked is the seq up to which Loki has every event.
	acked atomic.Int64
}

// NewForwarder checks the options and returns a Forwarder; Run starts it.
func NewForwarder(o ForwarderOptions) (*Forwarder, error) {
	if o.Client == nil || o.Source == nil {
		return nil, errors.New("loki forwarder: Client and Source are required")
	}
	if o.Service == "" {
		o.Service = DefaultService
	}
	if o.CheckpointName == "" {
		o.CheckpointName = DefaultCheckpoint
	}
	if o.MaxBatchEvents <= 0 {
		o.MaxBatchEvents = 2000
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 2 << 20
	}
	if o.BatchWait <= 0 {
		o.BatchWait = time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 200 * time.Millisecond
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Second, o.MinBackoff)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newForwarderMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	return &Forwarder{
		c: o.Client, src: o.Source, opts: o, m: m,
		log:    o.Logger.With("component", "loki", "url", o.Client.URL()),
		lastTS: map[string]int64{},
	}, nil
}

// Run forwards until ctx is done, then returns nil. It returns an error
// only when the checkpoint cannot be read at start. Loki being down is
// not an error: events stay in the store and Run retries with backoff.
func (f *Forwarder) Run(ctx context.Context) error {
	cp, err := f.src.Checkpoint(ctx, f.opts.CheckpointName)
	if err != nil {
		return fmt.Errorf("loki forwarder: read checkpoint: %w", err)
	}
	// A previous run may have pushed past the checkpoint and died before
	// saving it, up to the in-flight mark it saved before each push:
	// batches up to that mark are checked against Loki first.
	inflight, err := f.src.Checkpoint(ctx, f.inflightName())
	if err != nil {
		return fmt.Errorf("loki forwarder: read checkpoint: %w", err)
	}
	f.verifyThrough = inflight
	f.cursor = cp
	f.acked.Store(cp)
	f.m.checkpoint.Set(float64(cp))
	f.log.Info("loki forwarder started", "checkpoint", cp)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The reader collects the next batch from the store while the current
	// one is being pushed; the lag monitor keeps the lag gauges fresh while
	// both wait.
	batches := make(chan []Record, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); f.read(ctx, batches) }()
	go func() { defer wg.Done(); f.monitorLag(ctx) }()
	defer wg.Wait()
	for {
		var batch []Record
		select {
		case <-ctx.Done():
			return nil
		case batch = <-batches:
		}
		hi := batch[len(batch)-1].Seq
		if hi > f.verifyThrough {
			if !f.saveCheckpoint(ctx, f.inflightName(), hi) {
				return nil
			}
		}
		if err := f.deliver(ctx, batch); err != nil {
			return nil // only the context ends delivery
		}
		// Loki has the batch; until the checkpoint is saved a restart
		// would check it against Loki again (nothing is pushed twice).
		if !f.saveCheckpoint(ctx, f.opts.CheckpointName, hi) {
			return nil
		}
		f.acked.Store(hi)
		f.m.checkpoint.Set(float64(hi))
		f.observeLag(ctx)
	}
}

// read sends batches in seq order until ctx ends.
func (f *Forwarder) read(ctx context.Context, out chan<- []Record) {
	for {
		batch, err := f.collect(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			f.log.Error("loki forwarder: read store", "err", err)
			if !sleep(ctx, f.opts.PollInterval*5) {
				return
			}
			continue
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return
		}
	}
}

func (f *Forwarder) monitorLag(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.observeLag(ctx)
		}
	}
}

func (f *Forwarder) inflightName() string { return f.opts.CheckpointName + ".inflight" }

// saveCheckpoint retries until the store takes the checkpoint; it returns
// false when ctx ended first.
func (f *Forwarder) saveCheckpoint(ctx context.Context, name string, seq int64) bool {
	for {
		err := f.src.SaveCheckpoint(ctx, name, seq)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		f.log.Error("loki forwarder: save checkpoint", "name", name, "seq", seq, "err", err)
		if !sleep(ctx, time.Second) {
			return false
		}
	}
}

// collect returns the next batch: up to MaxBatchEvents records and
// MaxBatchBytes of lines, returned as soon as it is full, or BatchWait
// after its first record was seen when the store has nothing more.
func (f *Forwarder) collect(ctx context.Context) ([]Record, error) {
	var batch []Record
	size := 0
	var first time.Time
	for {
		// Take what is pending first.
		for len(f.pending) > 0 {
			r := f.pending[0]
			n := len(r.JSON) + 200 // line + labels and metadata, roughly
			if len(batch) > 0 && (size+n > f.opts.MaxBatchBytes || len(batch) >= f.opts.MaxBatchEvents) {
				return batch, nil
			}
			if len(batch) == 0 {
				first = time.Now()
			}
			batch = append(batch, r)
			size += n
			f.pending = f.pending[1:]
		}
		if len(batch) >= f.opts.MaxBatchEvents || size >= f.opts.MaxBatchBytes {
			return batch, nil
		}
		want := f.opts.MaxBatchEvents - len(batch)
		recs, err := f.src.Records(ctx, f.cursor, want)
		if err != nil {
			if len(batch) > 0 {
				return batch, nil
			}
			return nil, err
		}
		if len(recs) > 0 {
			f.cursor = recs[len(recs)-1].Seq
			f.pending = recs
			continue
		}
		if len(batch) == 0 {
			if !sleep(ctx, f.opts.PollInterval) {
				return nil, ctx.Err()
			}
			continue
		}
		left := f.opts.BatchWait - time.Since(first)
		if left <= 0 {
			return batch, nil
		}
		if !sleep(ctx, min(left, f.opts.PollInterval)) {
			return nil, ctx.Err()
		}
	}
}

// errStopped is returned by deliver when the context ended.
var errStopped = errors.New("stopped")

// deliver pushes batch until Loki has all of it (or refused some entries
// for good). It returns errStopped only when ctx ends.
func (f *Forwarder) deliver(ctx context.Context, batch []Record) error {
	streams := f.build(batch)
	if batch[0].Seq <= f.verifyThrough {
		f.uncertain = true
	}
	return f.push(ctx, streams)
}

// serverErrorsBeforeSplit is how many 5xx answers in a row make the
// forwarder push a batch in halves: a gateway or Loki itself may fail on
// requests above its size limit (e.g. the 4 MB gRPC limit between Loki's
// distributor and ingesters) without saying so with a 413.
const serverErrorsBeforeSplit = 3

// push delivers streams, retrying, checking Loki after uncertain failures
// and splitting requests Loki cannot take whole.
func (f *Forwarder) push(ctx context.Context, streams []Stream) error {
	serverErrors := 0
	for attempt := 0; ; attempt++ {
		if attempt > 0 && !sleep(ctx, f.backoff(attempt)) {
			return errStopped
		}
		if f.uncertain {
			rest, present, err := f.dropPresent(ctx, streams)
			if err != nil {
				if ctx.Err() != nil {
					return errStopped
				}
				f.m.pushErrors.WithLabelValues("verify").Inc()
				f.log.Warn("loki forwarder: cannot check which events Loki already has; retrying", "attempt", attempt+1, "err", err)
				continue
			}
			f.uncertain = false
			if present > 0 {
				f.log.Info("loki forwarder: skipping events Loki already holds", "events", present)
				f.m.alreadyPresent.Add(float64(present))
			}
			streams = rest
			if countEntries(streams) == 0 {
				return nil
			}
		}
		n, err := f.c.Push(ctx, streams)
		if err == nil {
			f.m.batches.Inc()
			f.m.bytes.Add(float64(n))
			f.m.pushed.Add(float64(countEntries(streams)))
			if attempt > 0 {
				f.log.Info("loki forwarder: push succeeded after retries", "attempts", attempt+1, "events", countEntries(streams))
			}
			return nil
		}
		if ctx.Err() != nil {
			return errStopped
		}
		var pe *PushError
		if !errors.As(err, &pe) {
			f.m.pushErrors.WithLabelValues("encode").Inc()
			f.log.Error("loki forwarder: push", "err", err)
			continue
		}
		f.m.pushErrors.WithLabelValues(statusClass(pe.Status)).Inc()
		if pe.Status >= 500 {
			serverErrors++
		} else {
			serverErrors = 0
		}
		if (pe.Status == http.StatusRequestEntityTooLarge || serverErrors >= serverErrorsBeforeSplit) && countEntries(streams) > 1 {
			f.uncertain = f.uncertain || pe.Delivered()
			a, b := splitStreams(streams)
			f.log.Warn("loki forwarder: Loki keeps failing on this request; pushing it in halves", "events", countEntries(streams), "err", err)
			if err := f.push(ctx, a); err != nil {
				return err
			}
			return f.push(ctx, b)
		}
		switch {
		case pe.Retryable():
			f.uncertain = pe.Delivered()
			f.log.Warn("loki forwarder: push failed; will retry", "attempt", attempt+1, "events", countEntries(streams), "err", err)
		case pe.Status == http.StatusBadRequest || pe.Status == http.StatusUnprocessableEntity || pe.Status == http.StatusRequestEntityTooLarge:
			// Loki refused some of the data (too old, too long, bad
			// labels…) and may have stored the rest.
			return f.salvage(ctx, streams, pe)
		default:
			// 401, 403, 404…: a configuration problem, not the data's
			// fault. Keep the batch and keep trying, loudly: the events
			// are safe in the store and flow once the setting is fixed.
			f.log.Error("loki forwarder: Loki refuses our requests; check loki.url and credentials", "status", pe.Status, "err", err)
		}
	}
}

// salvage handles a batch Loki refused in part: it finds out which entries
// Loki stored, then pushes the others one at a time. An entry Loki refuses
// on its own is skipped, loudly: logged with its event id, seq and Loki's
// reason, and counted in vigil_loki_events_rejected_total. It stays in the
// local store, where `vigil query` still finds it.
func (f *Forwarder) salvage(ctx context.Context, streams []Stream, first *PushError) error {
	f.log.Warn("loki forwarder: Loki refused part of a batch; pushing its entries one by one", "events", countEntries(streams), "err", first)
	var rest []Stream
	for attempt := 0; ; attempt++ {
		if attempt > 0 && !sleep(ctx, f.backoff(attempt)) {
			return errStopped
		}
		r, present, err := f.dropPresent(ctx, streams)
		if err == nil {
			f.m.alreadyPresent.Add(float64(present))
			rest = r
			break
		}
		if ctx.Err() != nil {
			return errStopped
		}
		f.log.Warn("loki forwarder: cannot check which events Loki stored; retrying", "err", err)
	}
	for _, s := range rest {
		for _, e := range s.Entries {
			one := []Stream{{Labels: s.Labels, Entries: []Entry{e}}}
			for attempt := 0; ; attempt++ {
				if attempt > 0 && !sleep(ctx, f.backoff(attempt)) {
					return errStopped
				}
				n, err := f.c.Push(ctx, one)
				if err == nil {
					f.m.batches.Inc()
					f.m.bytes.Add(float64(n))
					f.m.pushed.Inc()
					break
				}
				if ctx.Err() != nil {
					return errStopped
				}
				var pe *PushError
				if errors.As(err, &pe) && !pe.Retryable() && pe.Status >= 400 && pe.Status < 500 &&
					pe.Status != http.StatusUnauthorized && pe.Status != http.StatusForbidden && pe.Status != http.StatusNotFound {
					f.m.rejected.Inc()
					f.log.Error("loki forwarder: Loki rejected an event; skipping it (it stays in the local store)",
						"event_id", metaValue(e.Metadata, "event_id"), "time", e.Time.Format(time.RFC3339Nano), "status", pe.Status, "reason", pe.Body)
					break
				}
				f.log.Warn("loki forwarder: single-event push failed; will retry", "err", err)
			}
		}
	}
	return nil
}

func statusClass(status int) string {
	if status == 0 {
		return "transport"
	}
	return strconv.Itoa(status)
}

// backoff returns a full-jitter exponential wait for the given attempt.
func (f *Forwarder) backoff(attempt int) time.Duration {
	d := f.opts.MinBackoff << min(attempt-1, 16)
	if d > f.opts.MaxBackoff || d <= 0 {
		d = f.opts.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx is done; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// EventLabels returns the stream labels of an event: few values each, so
// Loki's index stays small. Per-event identifiers go to metadata.
func EventLabels(service string, m *EventMeta) []Label {
	return []Label{
		{"service", service},
		{"stream", "events"},
		{"project", m.Project},
		{"tool", m.ToolName},
		{"event", m.EventType},
		{"hook_event", m.HookEvent},
	}
}

// EventMetadata returns the structured metadata of an event.
func EventMetadata(m *EventMeta) []Label {
	return []Label{
		{"event_id", m.ID},
		{"session_id", m.SessionID},
		{"tool_use_id", m.ToolUseID},
		{"agent_id", m.AgentID},
		{"host", m.Host},
		{"user", m.User},
	}
}

// build turns records into streams, grouping by label set in seq order and
// giving each entry a nanosecond timestamp strictly above the previous one
// of its stream: a tie or a step back is bumped by 1ns, so Loki keeps every
// entry and the stream's order is the store's order. The event's own
// timestamp stays in the line.
func (f *Forwarder) build(recs []Record) []Stream {
	type streamKey struct{ project, tool, event, hook string }
	idx := map[streamKey]int{}
	var keys []string // LabelString of each stream, for lastTS
	var out []Stream
	for _, r := range recs {
		m := r.Meta
		if m == nil {
			var ev event.Event
			_ = json.Unmarshal(r.JSON, &ev) // a bad line still goes out, with empty labels
			m = MetaOf(&ev)
		}
		sk := streamKey{m.Project, m.ToolName, m.EventType, m.HookEvent}
		i, ok := idx[sk]
		if !ok {
			labels := EventLabels(f.opts.Service, m)
			i = len(out)
			idx[sk] = i
			out = append(out, Stream{Labels: labels})
			keys = append(keys, LabelString(labels))
		}
		key := keys[i]
		ts := m.Time.UnixNano()
		if m.Time.Unix() <= 0 {
			ts = time.Now().UnixNano()
		}
		if last, ok := f.lastTS[key]; ok && ts <= last {
			ts = last + 1
		}
		f.lastTS[key] = ts
		out[i].Entries = append(out[i].Entries, Entry{Time: time.Unix(0, ts), Line: string(r.JSON), Metadata: EventMetadata(m), orig: m.Time})
	}
	return out
}

// splitStreams halves a request: by streams when there are several, else
// the one stream's entries, keeping each stream's order (the first half
// is pushed first).
func splitStreams(ss []Stream) (a, b []Stream) {
	if len(ss) > 1 {
		return ss[:len(ss)/2], ss[len(ss)/2:]
	}
	s := ss[0]
	h := len(s.Entries) / 2
	return []Stream{{Labels: s.Labels, Entries: s.Entries[:h]}}, []Stream{{Labels: s.Labels, Entries: s.Entries[h:]}}
}

func countEntries(ss []Stream) int {
	n := 0
	for _, s := range ss {
		n += len(s.Entries)
	}
	return n
}

func metaValue(ls []Label, name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// idsPerCheck bounds the event ids in one verification query.
const idsPerCheck = 500

// dropPresent asks Loki which of the entries' event ids it already holds
// and returns the streams without them, and how many were dropped.
func (f *Forwarder) dropPresent(ctx context.Context, streams []Stream) ([]Stream, int, error) {
	var ids []string
	var lo, hi int64
	for _, s := range streams {
		for _, e := range s.Entries {
			if id := metaValue(e.Metadata, "event_id"); id != "" {
				ids = append(ids, id)
			}
			ts := e.Time.UnixNano()
			// A previous run may have moved this entry less than this run
			// did (ties are broken against different neighbours): start
			// at the event's own timestamp.
			start := ts
			if e.orig.Unix() > 0 {
				start = min(start, e.orig.UnixNano())
			}
			if lo == 0 || start < lo {
				lo = start
			}
			if ts > hi {
				hi = ts
			}
		}
	}
	if len(ids) == 0 {
		return streams, 0, nil
	}
	have := map[string]bool{}
	// The range reaches to now so that Loki also asks its ingesters, which
	// hold what was pushed recently whatever its timestamps.
	end := time.Unix(0, max(hi+1, time.Now().UnixNano())).Add(time.Minute)
	for i := 0; i < len(ids); i += idsPerCheck {
		chunk := ids[i:min(i+idsPerCheck, len(ids))]
		alt := make([]string, len(chunk))
		for j, id := range chunk {
			alt[j] = regexp.QuoteMeta(id)
		}
		q := fmt.Sprintf(`{service=%s} | event_id=~%s`, strconv.Quote(f.opts.Service), strconv.Quote(strings.Join(alt, "|")))
		got, err := f.c.QueryAll(ctx, QueryRange{Query: q, Start: time.Unix(0, lo), End: end}, 5000)
		if err != nil {
			return nil, 0, err
		}
		for _, e := range got {
			have[e.Labels["event_id"]] = true
		}
	}
	if len(have) == 0 {
		return streams, 0, nil
	}
	dropped := 0
	out := make([]Stream, 0, len(streams))
	for _, s := range streams {
		keep := s.Entries[:0:0]
		for _, e := range s.Entries {
			if have[metaValue(e.Metadata, "event_id")] {
				dropped++
				continue
			}
			keep = append(keep, e)
		}
		if len(keep) > 0 {
			out = append(out, Stream{Labels: s.Labels, Entries: keep})
		}
	}
	return out, dropped, nil
}

// observeLag sets the lag gauges: events stored but not yet acknowledged
// by Loki, and the age of the oldest of them (0 when caught up).
func (f *Forwarder) observeLag(ctx context.Context) {
	acked := f.acked.Load()
	last, err := f.src.LastSeq(ctx)
	if err != nil {
		return
	}
	lag := max(last-acked, 0)
	f.m.lagEvents.Set(float64(lag))
	if lag == 0 {
		f.m.lagSeconds.Set(0)
		return
	}
	recs, err := f.src.Records(ctx, acked, 1)
	if err != nil || len(recs) == 0 {
		return
	}
	m := recs[0].Meta
	if m == nil {
		var ev event.Event
		_ = json.Unmarshal(recs[0].JSON, &ev)
		m = MetaOf(&ev)
	}
	if m.Time.Unix() > 0 {
		f.m.lagSeconds.Set(max(time.Since(m.Time).Seconds(), 0))
	}
}
