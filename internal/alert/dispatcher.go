package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

// Channel is a Notifier with its delivery policy (enabled is ignored: only
// enabled channels are passed to New).
type Channel struct {
	Notifier Notifier
	config.AlertChannel
}

// Options are the Dispatcher's dependencies; all are optional.
type Options struct {
	// Store persists alerts; nil keeps them in memory only.
	Store Store
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock (tests); defaults to time.Now.
	Now func() time.Time
	// FlushInterval is how often changed alerts are written to Store
	// (default 200ms).
	FlushInterval time.Duration
	// RetryBase is the first retry backoff (default 500ms); each retry
	// doubles it, with jitter, up to RetryMax (default 30s).
	RetryBase, RetryMax time.Duration
	// Restore primes dedup with these open alerts (from the store), so a
	// restart does not reopen and re-notify them.
	Restore []Alert
}

// Dispatcher is the live alert pipeline. Handle is safe for concurrent use
// and never blocks on a channel or on the store.
type Dispatcher struct {
	log     *slog.Logger
	now     func() time.Time
	store   Store
	m       *metrics
	chans   []*worker
	flushIv time.Duration

	mu    sync.Mutex
	eng   *engine
	dirty map[string]*Alert

	qmu    sync.RWMutex // closed and the queues' lifetime
	closed bool

	stop     chan struct{}
	stopOnce sync.Once
	bg       sync.WaitGroup // ticker/flusher
	workers  sync.WaitGroup
	cancel   context.CancelFunc // aborts deliveries in flight after Close's deadline
}

// New builds a Dispatcher and starts its goroutines: one per channel and
// one that flushes alerts to the store and emits rate-limit summaries.
// Call Close to stop it.
func New(cfg config.Alerts, chans []Channel, o Options) (*Dispatcher, error) {
	d := &Dispatcher{
		log:     o.Logger,
		now:     o.Now,
		store:   o.Store,
		m:       newMetrics(),
		flushIv: o.FlushInterval,
		eng:     newEngine(cfg),
		dirty:   map[string]*Alert{},
		stop:    make(chan struct{}),
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.flushIv <= 0 {
		d.flushIv = 200 * time.Millisecond
	}
	retryBase, retryMax := o.RetryBase, o.RetryMax
	if retryBase <= 0 {
		retryBase = 500 * time.Millisecond
	}
	if retryMax <= 0 {
		retryMax = 30 * time.Second
	}
	for _, a := range o.Restore {
		if a.Status == StatusOpen {
			d.eng.restore(a)
		}
	}
	seen := map[string]bool{}
	for _, c := range chans {
		if c.Notifier == nil {
			return nil, errors.New("alert channel without notifier")
		}
		name := c.Notifier.Name()
		if seen[name] {
			return nil, fmt.Errorf("alert channel %q configured twice", name)
		}
		seen[name] = true
		minSev := rules.Low
		if c.MinSeverity != "" {
			var err error
			if minSev, err = rules.ParseSeverity(c.MinSeverity); err != nil {
				return nil, fmt.Errorf("alert channel %s: min_severity: %w", name, err)
			}
		}
		w := &worker{
			d: d, n: c.Notifier, name: name, min: minSev,
			timeout: c.Timeout, retries: c.Retries, base: retryBase, max: retryMax,
			queue:   make(chan Notification, queueSize(c.QueueSize)),
			qlen:    d.m.queue.WithLabelValues(name),
			sent:    d.m.sent.WithLabelValues(name),
			failed:  d.m.failed.WithLabelValues(name),
			drops:   d.m.dropped.WithLabelValues(name),
			retried: d.m.retries.WithLabelValues(name),
			latency: d.m.latency.WithLabelValues(name),
		}
		if w.timeout <= 0 {
			w.timeout = 10 * time.Second
		}
		w.workers = max(c.Workers, 1)
		d.chans = append(d.chans, w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	for _, w := range d.chans {
		for range w.workers {
			d.workers.Add(1)
			go w.run(ctx)
		}
	}
	d.bg.Add(1)
	go d.loop()
	return d, nil
}

// queueSize defaults an unset queue_size (code that builds channels
// without config) to 1024.
func queueSize(n int) int {
	if n < 1 {
		return 1024
	}
	return n
}

// Collectors returns the dispatcher's Prometheus collectors for the caller
// to register.
func (d *Dispatcher) Collectors() []prometheus.Collector { return d.m.collectors() }

// Handle records one match and queues whatever notifications it causes.
// It returns the id of the alert the match was counted on.
func (d *Dispatcher) Handle(m rules.Match) string {
	now := d.now()
	d.mu.Lock()
	out := d.eng.handle(now, &m)
	a := out.alert
	d.dirty[a.ID] = a
	id := a.ID
	d.mu.Unlock()

	d.m.occurrence(m.Severity).Inc()
	if out.isNew {
		d.m.raise(m.Severity).Inc()
	}
	if out.held > 0 {
		d.m.held.Add(float64(out.held))
	}
	d.fanout(now, out.notes)
	return id
}

func (d *Dispatcher) fanout(now time.Time, notes []Notification) {
	if len(notes) == 0 {
		return
	}
	d.qmu.RLock()
	defer d.qmu.RUnlock()
	if d.closed {
		return
	}
	for i := range notes {
		n := notes[i]
		n.Raised = now
		if n.Kind == KindSummary {
			d.m.summaries.Inc()
			d.log.Warn("alert rate limit: held back notifications", "summary", n.Title)
		}
		for _, w := range d.chans {
			if n.Severity < w.min {
				continue
			}
			select {
			case w.queue <- n:
				w.qlen.Set(float64(len(w.queue)))
			default:
				// Full queue: the channel is slower than the alert rate.
				// Drop for this channel only; the alert itself is stored.
				c := w.dropped.Add(1)
				w.drops.Inc()
				if c == 1 || c%100 == 0 {
					d.log.Warn("alert channel queue full: notification dropped", "channel", w.name, "dropped_total", c, "alert", n.Alert.ID)
				}
			}
		}
	}
}

// loop emits rate-limit summaries when the minute rolls over without new
// matches, and flushes changed alerts to the store.
func (d *Dispatcher) loop() {
	defer d.bg.Done()
	flush := time.NewTicker(d.flushIv)
	defer flush.Stop()
	sec := time.NewTicker(time.Second)
	defer sec.Stop()
	for {
		select {
		case <-d.stop:
			d.flush()
			return
		case <-sec.C:
			now := d.now()
			d.mu.Lock()
			notes := d.eng.roll(now, nil)
			d.eng.expire(now)
			d.mu.Unlock()
			d.fanout(now, notes)
		case <-flush.C:
			d.flush()
		}
	}
}

// Flush writes changed alerts to the store now.
func (d *Dispatcher) flush() {
	if d.store == nil {
		d.mu.Lock()
		clear(d.dirty)
		d.mu.Unlock()
		return
	}
	d.mu.Lock()
	if len(d.dirty) == 0 {
		d.mu.Unlock()
		return
	}
	batch := make([]Alert, 0, len(d.dirty))
	for _, a := range d.dirty {
		batch = append(batch, a.clone())
	}
	clear(d.dirty)
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.store.SaveAlerts(ctx, batch); err != nil {
		d.m.persistErrs.Inc()
		d.log.Error("save alerts", "err", err, "alerts", len(batch))
		// Put them back unless a newer version is already pending.
		d.mu.Lock()
		for i := range batch {
			if _, ok := d.dirty[batch[i].ID]; !ok {
				d.dirty[batch[i].ID] = &batch[i]
			}
		}
		d.mu.Unlock()
	}
}

// Close stops accepting work, writes pending alerts, lets every channel
// drain its queue until ctx is done, then aborts what is still in flight.
// Matches handled after Close are counted but notify no one.
func (d *Dispatcher) Close(ctx context.Context) error {
	var err error
	d.stopOnce.Do(func() {
		// Order: the loop first (final flush and summary), then the
		// queues, so nothing is enqueued on a closed channel.
		close(d.stop)
		d.bg.Wait()
		now := d.now()
		d.mu.Lock()
		d.eng.rlStart = time.Time{} // end the minute: report anything held
		notes := d.eng.roll(now, nil)
		d.mu.Unlock()
		d.fanout(now, notes)
		d.qmu.Lock()
		d.closed = true
		for _, w := range d.chans {
			close(w.queue)
		}
		d.qmu.Unlock()
		done := make(chan struct{})
		go func() { d.workers.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			d.cancel()
			<-done
			err = fmt.Errorf("alert dispatcher: channels not drained: %w", ctx.Err())
		}
		d.cancel()
		for _, w := range d.chans {
			if c, ok := w.n.(io.Closer); ok {
				if cerr := c.Close(); cerr != nil && err == nil {
					err = fmt.Errorf("close alert channel %s: %w", w.name, cerr)
				}
			}
		}
	})
	return err
}

// worker delivers one channel's notifications: in order with one
// goroutine, concurrently with several (Workers).
type worker struct {
	d       *Dispatcher
	n       Notifier
	name    string
	min     rules.Severity
	timeout time.Duration
	retries int
	base    time.Duration
	max     time.Duration
	queue   chan Notification
	workers int           // goroutines reading queue
	dropped atomic.Uint64 // for log throttling

	qlen                         prometheus.Gauge
	sent, failed, drops, retried prometheus.Counter
	latency                      prometheus.Observer
}

func (w *worker) run(ctx context.Context) {
	defer w.d.workers.Done()
	for n := range w.queue {
		w.qlen.Set(float64(len(w.queue)))
		w.deliver(ctx, n)
	}
}

func (w *worker) deliver(ctx context.Context, n Notification) {
	var err error
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, w.timeout)
		err = w.n.Notify(actx, n)
		cancel()
		if err == nil {
			w.sent.Inc()
			if !n.Raised.IsZero() {
				w.latency.Observe(time.Since(n.Raised).Seconds())
			}
			return
		}
		if attempt >= w.retries || IsPermanent(err) || ctx.Err() != nil {
			break
		}
		w.retried.Inc()
		t := time.NewTimer(backoff(attempt, w.base, w.max))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	w.failed.Inc()
	w.d.log.Error("alert notification failed", "channel", w.name, "kind", n.Kind, "alert", n.Alert.ID, "err", err)
}

// backoff is exponential with "equal jitter": half fixed, half random, so
// retries of many alerts spread out but never collapse to zero.
func backoff(attempt int, base, max time.Duration) time.Duration {
	d := base << attempt
	if d > max || d <= 0 {
		d = max
	}
	half := d / 2
	return half + rand.N(half+1)
}
