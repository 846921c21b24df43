package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

// recorder is a real in-process channel: it keeps what it receives.
type recorder struct {
	name  string
	mu    sync.Mutex
	got   []Notification
	calls int
	// fail makes the first fail calls return err.
	fail int
	err  error
	// block makes Notify wait for ctx (a hanging endpoint).
	block bool
	ch    chan Notification
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Notify(ctx context.Context, n Notification) error {
	r.mu.Lock()
	r.calls++
	if r.calls <= r.fail {
		r.mu.Unlock()
		return r.err
	}
	block := r.block
	r.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	r.mu.Lock()
	r.got = append(r.got, n)
	r.mu.Unlock()
	if r.ch != nil {
		r.ch <- n
	}
	return nil
}

func (r *recorder) snapshot() ([]Notification, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Notification(nil), r.got...), r.calls
}

func channel(n Notifier, min string, timeout time.Duration, retries, queue int) Channel {
	return Channel{Notifier: n, AlertChannel: config.AlertChannel{Enabled: true, MinSeverity: min, Timeout: timeout, Retries: retries, QueueSize: queue}}
}

func newTestDispatcher(t *testing.T, cfg config.Alerts, chans ...Channel) *Dispatcher {
	t.Helper()
	d, err := New(cfg, chans, Options{RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Close(ctx)
	})
	return d
}

// metric returns the value of a counter series from the dispatcher.
func metric(t *testing.T, d *Dispatcher, name, channel string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range d.Collectors() {
		reg.MustRegister(c)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			match := channel == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "channel" && l.GetValue() == channel {
					match = true
				}
			}
			if match {
				sum += m.GetCounter().GetValue()
			}
		}
		return sum
	}
	return 0
}

func TestHangingChannelDoesNotDelayOthers(t *testing.T) {
	hang := &recorder{name: "hang", block: true}
	fast := &recorder{name: "fast", ch: make(chan Notification, 100)}
	d := newTestDispatcher(t, testConfig(),
		channel(hang, "LOW", 10*time.Second, 3, 4),
		channel(fast, "LOW", time.Second, 0, 100))
	const n = 20
	start := time.Now()
	for i := range n {
		d.Handle(m("r", fmt.Sprint("s", i), 0, rules.High, rules.Response{}))
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("Handle took %s for %d matches with a hanging channel", el, n)
	}
	deadline := time.After(2 * time.Second)
	for i := range n {
		select {
		case <-fast.ch:
		case <-deadline:
			t.Fatalf("fast channel got %d of %d notifications in 2s while another channel hangs", i, n)
		}
	}
	// The hanging channel holds 1 in flight and 4 queued: the rest are
	// dropped for it alone, and counted.
	if got := metric(t, d, "vigil_alert_notifications_dropped_total", "hang"); got < n-5 {
		t.Errorf("dropped for hang = %v, want >= %d", got, n-5)
	}
	if got := metric(t, d, "vigil_alert_notifications_dropped_total", "fast"); got != 0 {
		t.Errorf("dropped for fast = %v, want 0", got)
	}
	// Close gives up on the hanging channel at its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := d.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close with a hanging channel = %v, want deadline exceeded", err)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		fail      int
		err       error
		retries   int
		wantCalls int
		wantSent  float64
	}{
		{"fails twice then succeeds", 2, errors.New("503"), 3, 3, 1},
		{"gives up after retries", 10, errors.New("503"), 2, 3, 0},
		{"permanent error is not retried", 10, Permanent(errors.New("400")), 3, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{name: "r", fail: tc.fail, err: tc.err}
			d := newTestDispatcher(t, testConfig(), channel(r, "LOW", time.Second, tc.retries, 10))
			d.Handle(m("r", "s", 0, rules.High, rules.Response{}))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := d.Close(ctx); err != nil {
				t.Fatal(err)
			}
			got, calls := r.snapshot()
			if calls != tc.wantCalls || float64(len(got)) != tc.wantSent {
				t.Errorf("calls %d delivered %d, want %d and %v", calls, len(got), tc.wantCalls, tc.wantSent)
			}
			if s := metric(t, d, "vigil_alert_notifications_sent_total", "r"); s != tc.wantSent {
				t.Errorf("sent metric %v, want %v", s, tc.wantSent)
			}
			if f := metric(t, d, "vigil_alert_notifications_failed_total", "r"); f != 1-tc.wantSent {
				t.Errorf("failed metric %v, want %v", f, 1-tc.wantSent)
			}
		})
	}
}

func TestMinSeverityPerChannel(t *testing.T) {
	low := &recorder{name: "low"}
	high := &recorder{name: "high"}
	d := newTestDispatcher(t, testConfig(), channel(low, "LOW", time.Second, 0, 10), channel(high, "HIGH", time.Second, 0, 10))
	d.Handle(m("a", "s", 0, rules.Medium, rules.Response{}))
	d.Handle(m("b", "s", 0, rules.Critical, rules.Response{}))
	d.Close(context.Background())
	gl, _ := low.snapshot()
	gh, _ := high.snapshot()
	if len(gl) != 2 || len(gh) != 1 || gh[0].Alert.Rule != "b" {
		t.Errorf("low got %d, high got %d (%v); want 2 and 1 (b)", len(gl), len(gh), gh)
	}
}

func TestSummaryOnClose(t *testing.T) {
	cfg := testConfig()
	cfg.MaxPerMinute = 1
	r := &recorder{name: "r"}
	d := newTestDispatcher(t, cfg, channel(r, "LOW", time.Second, 0, 10))
	for i := range 5 {
		d.Handle(m("r", fmt.Sprint("s", i), 0, rules.High, rules.Response{}))
	}
	d.Close(context.Background())
	got, _ := r.snapshot()
	if len(got) != 2 || got[1].Kind != KindSummary || got[1].Title != "held back 4 alerts (limit 1/min): 4× r" {
		t.Fatalf("got %d notifications: %+v", len(got), got)
	}
	if h := metric(t, d, "vigil_alert_notifications_held_total", ""); h != 4 {
		t.Errorf("held metric %v, want 4", h)
	}
}

func TestHandleAfterCloseDoesNotPanic(t *testing.T) {
	r := &recorder{name: "r"}
	d := newTestDispatcher(t, testConfig(), channel(r, "LOW", time.Second, 0, 10))
	d.Close(context.Background())
	if id := d.Handle(m("r", "s", 0, rules.High, rules.Response{})); id == "" {
		t.Error("no alert id after Close")
	}
}

func TestDuplicateChannelName(t *testing.T) {
	_, err := New(testConfig(), []Channel{channel(&recorder{name: "x"}, "LOW", time.Second, 0, 1), channel(&recorder{name: "x"}, "LOW", time.Second, 0, 1)}, Options{})
	if err == nil {
		t.Fatal("two channels named x accepted")
	}
}

// gate blocks the notification of rule "slow" until released.
type gate struct {
	release chan struct{}
	got     chan string
}

func (g *gate) Name() string { return "gate" }
func (g *gate) Notify(ctx context.Context, n Notification) error {
	if n.Alert.Rule == "slow" {
		select {
		case <-g.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	g.got <- n.Alert.Rule
	return nil
}

func TestChannelWorkers(t *testing.T) {
	g := &gate{release: make(chan struct{}), got: make(chan string, 2)}
	c := channel(g, "LOW", 5*time.Second, 0, 10)
	c.Workers = 2
	d := newTestDispatcher(t, testConfig(), c)
	d.Handle(m("slow", "s", 0, rules.High, rules.Response{}))
	d.Handle(m("fast", "s", 0, rules.High, rules.Response{}))
	select {
	case r := <-g.got:
		if r != "fast" {
			t.Fatalf("got %s first", r)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a slow notification blocked the channel's second worker")
	}
	close(g.release)
	if r := <-g.got; r != "slow" {
		t.Errorf("got %s", r)
	}
}
