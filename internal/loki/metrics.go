package loki

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type forwarderMetrics struct {
	pushed         prometheus.Counter
	rejected       prometheus.Counter
	alreadyPresent prometheus.Counter
	pushErrors     *prometheus.CounterVec
	batches        prometheus.Counter
	bytes          prometheus.Counter
	lagEvents      prometheus.Gauge
	lagSeconds     prometheus.Gauge
	checkpoint     prometheus.Gauge
}

func newForwarderMetrics(reg prometheus.Registerer) (*forwarderMetrics, error) {
	m := &forwarderMetrics{
		pushed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_loki_events_pushed_total", Help: "Events Loki acknowledged.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_loki_events_rejected_total", Help: "Events Loki refused for good (4xx on the event alone); they stay in the local store.",
		}),
		alreadyPresent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_loki_events_already_present_total", Help: "Events not pushed again because Loki already held them after an uncertain push.",
		}),
		pushErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_loki_push_failures_total", Help: "Failed push or check attempts, by HTTP status (transport: no answer).",
		}, []string{"status"}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_loki_batches_total", Help: "Pushes Loki acknowledged.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_loki_sent_bytes_total", Help: "Request body bytes of acknowledged pushes (compressed).",
		}),
		lagEvents: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_loki_lag_events", Help: "Events in the store not yet acknowledged by Loki.",
		}),
		lagSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_loki_lag_seconds", Help: "Age of the oldest event not yet acknowledged by Loki (0 when caught up).",
		}),
		checkpoint: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_loki_checkpoint_seq", Help: "Store seq up to which Loki has every event.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.pushed, m.rejected, m.alreadyPresent, m.pushErrors, m.batches, m.bytes, m.lagEvents, m.lagSeconds, m.checkpoint} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("loki forwarder: register metrics: %w", err)
		}
	}
	return m, nil
}
