package notifier

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a notification, the outcome label of qoswatch_notifications_total.
const (
	OutcomeDelivered    = "delivered"     // its own message or thread reply
	OutcomeGrouped      = "grouped"       // told inside a storm message or a thread batch
	OutcomeDeadLettered = "dead_lettered" // a permanent error: removed from the outbox untold
	OutcomeMaybeSent    = "maybe_sent"    // Slack did not answer in time, the message could not be looked up, and the retries allowed for that were spent
)

// metrics are the notifier's counters, incremented where things happen.
// Their names and help texts are a public interface: keep them.
type metrics struct {
	notifications    *prometheus.CounterVec
	rateLimited      prometheus.Counter
	authFailures     prometheus.Counter
	retries          prometheus.Counter
	permanent        *prometheus.CounterVec
	groupMessages    prometheus.Counter
	threadBatches    prometheus.Counter
	updates          prometheus.Counter
	updateFailures   prometheus.Counter
	pending          prometheus.Gauge
	storeFailures    prometheus.Counter
	retryAfterCapped prometheus.Counter
	lookups          *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		notifications:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qoswatch_notifications_total", Help: "Notifications by kind and delivery outcome."}, []string{"kind", "outcome"}),
		rateLimited:    counter("qoswatch_slack_rate_limited_total", "429 answers from Slack."),
		authFailures:   counter("qoswatch_slack_auth_failures_total", "Calls Slack refused for the token or webhook; delivery pauses and keeps every notification."),
		retries:        counter("qoswatch_slack_retries_total", "Transient delivery failures (5xx, timeouts, network) retried later."),
		permanent:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qoswatch_slack_permanent_failures_total", Help: "Deliveries that failed for good (channel_not_found, not_in_channel, invalid_auth), by channel."}, []string{"channel"}),
		groupMessages:  counter("qoswatch_slack_group_messages_total", "Storm messages posted (one for many alerts of a rule in a source)."),
		threadBatches:  counter("qoswatch_slack_thread_batches_total", "Thread replies that told several notifications at once."),
		updates:        counter("qoswatch_slack_updates_total", "First messages updated on resolve."),
		updateFailures: counter("qoswatch_slack_update_failures_total", "Updates that failed for good."),
		pending:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "qoswatch_notifier_pending", Help: "Outbox entries seen at the dispatcher's last pass."}),
		storeFailures: counter("qoswatch_notifier_store_write_failures_total",
			"Acks the store could not write after Slack took the message (disk full, read-only file); delivery pauses until it can, and the message is not posted again."),
		retryAfterCapped: counter("qoswatch_slack_retry_after_capped_total", "429 answers whose Retry-After was longer than the longest wait honoured (1h); the channel waited the cap."),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qoswatch_slack_lookups_total",
			Help: "Looks in Slack for a message whose post went unanswered (a timeout), before posting it again, by result (found, absent, error)."}, []string{"result"}),
	}
	for _, r := range []string{"found", "absent", "error"} {
		m.lookups.WithLabelValues(r) // shown at 0, so a rate() works from the start
	}
	if reg != nil {
		reg.MustRegister(m.notifications, m.rateLimited, m.authFailures, m.retries, m.permanent, m.groupMessages,
			m.threadBatches, m.updates, m.updateFailures, m.pending, m.storeFailures, m.retryAfterCapped, m.lookups)
	}
	return m
}

func (m *metrics) notified(kind, outcome string, n int) {
	m.notifications.WithLabelValues(kind, outcome).Add(float64(n))
}
