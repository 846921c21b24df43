package alert

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rules"
)

// discard is a channel that accepts everything at once.
type discard struct{}

func (discard) Name() string                               { return "discard" }
func (discard) Notify(context.Context, Notification) error { return nil }

func benchMatches(n int) []rules.Match {
	ms := make([]rules.Match, n)
	for i := range ms {
		ms[i] = rules.Match{
			RuleID: fmt.Sprint("rule-", i%20), Severity: rules.Severity(1 + i%4), Category: "cat", Tags: []string{"T1059"},
			SessionID: fmt.Sprint("session-", i%100), Project: "proj", EventID: fmt.Sprint("ev-", i),
			Summary: "rm -rf ~", Context: map[string]string{"command": "rm -rf ~"},
			Response: rules.Response{ImmediateAlert: true, CooldownMinutes: 5, EscalateAfter: 10},
		}
	}
	return ms
}

// BenchmarkHandle is the dispatcher's hot path: dedup, counting, policy and
// fan-out to one channel, with 2,000 open alerts (20 rules × 100 sessions).
func BenchmarkHandle(b *testing.B) {
	cfg := testConfig()
	cfg.MaxPerMinute = 60
	d, err := New(cfg, []Channel{channel(discard{}, "LOW", time.Second, 0, 1<<16)}, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close(context.Background())
	ms := benchMatches(4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Handle(ms[i&4095])
		i++
	}
}

// BenchmarkHandleParallel is Handle from several goroutines (serve's
// ingest workers).
func BenchmarkHandleParallel(b *testing.B) {
	d, err := New(testConfig(), []Channel{channel(discard{}, "LOW", time.Second, 0, 1<<16)}, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close(context.Background())
	ms := benchMatches(4096)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			d.Handle(ms[i&4095])
			i++
		}
	})
}

// BenchmarkCollector is replay's path: the same policy on event time.
func BenchmarkCollector(b *testing.B) {
	c := NewCollector(testConfig(), nil)
	ms := benchMatches(4096)
	for i := range ms {
		ms[i].Time = t0.Add(time.Duration(i) * time.Millisecond)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m := ms[i&4095]
		m.Time = m.Time.Add(time.Duration(i>>12) * 5 * time.Second)
		c.Handle(m)
		i++
	}
}
