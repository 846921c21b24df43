package alert

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/rules"
)

// metrics are the dispatcher's Prometheus series. They are created per
// Dispatcher and never registered globally: serve registers Collectors().
type metrics struct {
	occurrences *prometheus.CounterVec   // by severity
	raised      *prometheus.CounterVec   // new alerts, by severity
	held        prometheus.Counter       // notifications held back by the rate limit
	summaries   prometheus.Counter       // summary notifications emitted
	sent        *prometheus.CounterVec   // by channel
	failed      *prometheus.CounterVec   // by channel, after all retries
	dropped     *prometheus.CounterVec   // by channel, queue full
	retries     *prometheus.CounterVec   // by channel
	latency     *prometheus.HistogramVec // by channel: Handle → delivered
	persistErrs prometheus.Counter
	queue       *prometheus.GaugeVec // by channel

	occBySev, raisedBySev [rules.Critical + 1]prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		occurrences: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_alert_occurrences_total", Help: "Rule matches handled by the alert dispatcher.",
		}, []string{"severity"}),
		raised: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_alerts_raised_total", Help: "New (deduplicated) alerts opened.",
		}, []string{"severity"}),
		held: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_alert_notifications_held_total", Help: "Notifications held back by max_alerts_per_minute (reported in summaries).",
		}),
		summaries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_alert_summaries_total", Help: "Rate-limit summary notifications emitted.",
		}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_alert_notifications_sent_total", Help: "Notifications delivered, per channel.",
		}, []string{"channel"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_alert_notifications_failed_total", Help: "Notifications that failed after all retries, per channel.",
		}, []string{"channel"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_alert_notifications_dropped_total", Help: "Notifications dropped because the channel's queue was full.",
		}, []string{"channel"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_alert_notification_retries_total", Help: "Delivery attempts retried, per channel.",
		}, []string{"channel"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vigil_alert_delivery_seconds",
			Help:    "Time from the dispatcher handling a match to the channel accepting the notification.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
		persistErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_alert_persist_errors_total", Help: "Failed writes of alerts to the store (retried on the next flush).",
		}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_alert_queue_length", Help: "Notifications waiting per channel.",
		}, []string{"channel"}),
	}
	m.occBySev, m.raisedBySev = bySeverity(m.occurrences), bySeverity(m.raised)
	return m
}

// bySeverity pre-resolves a severity-labelled counter (Handle's hot path).
func bySeverity(v *prometheus.CounterVec) [rules.Critical + 1]prometheus.Counter {
	var out [rules.Critical + 1]prometheus.Counter
	for s := rules.Low; s <= rules.Critical; s++ {
		out[s] = v.WithLabelValues(s.String())
	}
	return out
}

func (m *metrics) occurrence(s rules.Severity) prometheus.Counter {
	if s < rules.Low || s > rules.Critical {
		return m.occurrences.WithLabelValues(s.String())
	}
	return m.occBySev[s]
}

func (m *metrics) raise(s rules.Severity) prometheus.Counter {
	if s < rules.Low || s > rules.Critical {
		return m.raised.WithLabelValues(s.String())
	}
	return m.raisedBySev[s]
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.occurrences, m.raised, m.held, m.summaries, m.sent, m.failed, m.dropped, m.retries, m.latency, m.persistErrs, m.queue}
}
