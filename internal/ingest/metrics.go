package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	ingested     *prometheus.CounterVec
	duplicates   *prometheus.CounterVec
	hookErrors   prometheus.Counter
	errors       prometheus.Counter
	lag          prometheus.Gauge
	backlog      prometheus.Gauge
	batchSeconds prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) metrics {
	m := metrics{
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_events_ingested_total", Help: "Events newly stored, by source (spool, http).",
		}, []string{"source"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_events_duplicate_total", Help: "Events skipped because their id was already stored.",
		}, []string{"source"}),
		hookErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_hook_errors_total", Help: "hook_error events stored (bad hook input, corrupt spool lines).",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_ingest_errors_total", Help: "Failed ingest passes (retried).",
		}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_ingest_lag_seconds", Help: "Age of the newest event at the moment it was stored.",
		}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_spool_backlog_bytes", Help: "Spool bytes written by hooks and not yet stored.",
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigil_ingest_batch_seconds", Help: "Time to store one spool batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.ingested, m.duplicates, m.hookErrors, m.errors, m.lag, m.backlog, m.batchSeconds)
	}
	return m
}
