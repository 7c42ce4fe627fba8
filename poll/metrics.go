package poll

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The poller's and the quota's metrics, and the client's paging stops:
// one Stats() snapshot per scrape, each series named here. Names and help texts are a public interface
// (docs/operations.md).
var (
	modeDesc      = prometheus.NewDesc("qoswatch_poller_mode", "How the poller spends its calls now: full, triage or degraded.", []string{"mode"}, nil)
	degradedDesc  = prometheus.NewDesc("qoswatch_poller_degraded", "1 when the budget forces the poller to thin its coverage.", nil, nil)
	windowDesc    = prometheus.NewDesc("qoswatch_poller_coverage_window_seconds", "The window of qoswatch_source_participants_seen.", nil, nil)
	callsDesc     = prometheus.NewDesc("qoswatch_poller_calls_total", "Zoom calls the poller made, by purpose.", []string{"purpose"}, nil)
	errorsDesc    = prometheus.NewDesc("qoswatch_poller_errors_total", "Zoom calls and ingests that failed (retried next interval).", nil, nil)
	intervalsDesc = prometheus.NewDesc("qoswatch_polls_total", "Poll intervals run.", nil, nil)

	budgetTotalDesc = prometheus.NewDesc("qoswatch_budget_daily_calls", "qoswatch's share of today's Heavy + Resource-intensive cap.", nil, nil)
	budgetSpentDesc = prometheus.NewDesc("qoswatch_budget_spent_calls", "Calls spent today (UTC), persisted across restarts.", nil, nil)
	budgetLeftDesc  = prometheus.NewDesc("qoswatch_budget_left_calls", "Calls left of today's share.", nil, nil)
	budgetPaceDesc  = prometheus.NewDesc("qoswatch_budget_allowed_calls_per_minute", "The pace the budget allows now.", nil, nil)
	dailyUsedDesc   = prometheus.NewDesc("qoswatch_zoom_daily_calls_used", "Heavy + Resource-intensive calls made today (UTC), by the client's count.", nil, nil)
	dailyLimitDesc  = prometheus.NewDesc("qoswatch_zoom_daily_calls_limit", "The daily cap of Heavy + Resource-intensive calls the client enforces.", nil, nil)
	dailyLeftDesc   = prometheus.NewDesc("qoswatch_zoom_daily_calls_remaining", "Calls left today; 0 while paused by a Daily-limit 429.", nil, nil)
	pauseDesc       = prometheus.NewDesc("qoswatch_zoom_daily_pause_until_timestamp_seconds", "End of a Daily-limit pause (unix time); absent when none.", nil, nil)
	pagingDesc      = prometheus.NewDesc("qoswatch_zoom_paging_stopped_total", "Walks through Zoom's paged lists cut short because the paging did not end as lists do, by reason (past_count, repeated_token, restarts, max_pages).", []string{"reason"}, nil)

	sourceLabels     = []string{"source", "topic"}
	participantsDesc = prometheus.NewDesc("qoswatch_source_participants", "Participants in each live source.", sourceLabels, nil)
	seenDesc         = prometheus.NewDesc("qoswatch_source_participants_seen", "Participants whose QoS was seen within the coverage window.", sourceLabels, nil)
	shareDesc        = prometheus.NewDesc("qoswatch_source_coverage_ratio", "Share of a source's participants seen within the coverage window.", sourceLabels, nil)
	oldestDesc       = prometheus.NewDesc("qoswatch_source_oldest_view_seconds", "Age of the oldest view of a participant of the source: what the bot cannot see.", sourceLabels, nil)
	ratingsDesc      = prometheus.NewDesc("qoswatch_source_quality_ratings", "1 when the source's participants list carries Zoom's quality ratings (triage works).", sourceLabels, nil)
)

// pollerCollector exports a poller's Stats().
type pollerCollector struct{ p *Poller }

func (c pollerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{modeDesc, degradedDesc, windowDesc, callsDesc, errorsDesc, intervalsDesc,
		budgetTotalDesc, budgetSpentDesc, budgetLeftDesc, budgetPaceDesc, dailyUsedDesc, dailyLimitDesc, dailyLeftDesc, pauseDesc, pagingDesc,
		participantsDesc, seenDesc, shareDesc, oldestDesc, ratingsDesc} {
		ch <- d
	}
}

func (c pollerCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.p.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(modeDesc, 1, st.Mode)
	gauge(degradedDesc, bit(st.Degraded))
	gauge(windowDesc, st.CoverageWindow.Seconds())
	for i := range numPurposes {
		counter(callsDesc, st.Calls[purposeNames[i]], purposeNames[i])
	}
	counter(errorsDesc, st.Errors)
	counter(intervalsDesc, st.Intervals)

	q := st.Quota
	gauge(budgetTotalDesc, float64(q.Total))
	gauge(budgetSpentDesc, float64(q.DailyUsed))
	gauge(budgetLeftDesc, float64(q.Left))
	gauge(budgetPaceDesc, q.AllowedPerMin)
	gauge(dailyUsedDesc, float64(q.DailyUsed))
	gauge(dailyLimitDesc, float64(q.DailyLimit))
	gauge(dailyLeftDesc, float64(q.DailyRemaining))
	if !q.PausedUntil.IsZero() {
		gauge(pauseDesc, float64(q.PausedUntil.UnixNano())/1e9)
	}
	for why, n := range c.p.c.PagingStops() {
		counter(pagingDesc, n, string(why))
	}

	for _, s := range st.Sources {
		gauge(participantsDesc, float64(s.Participants), s.Source, s.Topic)
		gauge(seenDesc, float64(s.Seen), s.Source, s.Topic)
		gauge(shareDesc, s.Share, s.Source, s.Topic)
		gauge(oldestDesc, s.OldestView.Seconds(), s.Source, s.Topic)
		gauge(ratingsDesc, bit(s.Ratings), s.Source, s.Topic)
	}
}

func bit(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
