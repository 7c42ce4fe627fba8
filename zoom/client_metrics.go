package zoom

import "github.com/prometheus/client_golang/prometheus"

// The client's metrics: one Stats() snapshot per scrape. Names and help
// texts are a public interface (docs/operations.md).
var (
	apiCallsDesc = prometheus.NewDesc("qoswatch_zoom_api_calls_total",
		"Zoom API calls by rate-limit category and outcome (a call counts once, after its retries).", []string{"category", "outcome"}, nil)
	apiRetriesDesc = prometheus.NewDesc("qoswatch_zoom_api_retries_total",
		"Zoom API attempts beyond the first (429 QPS, 5xx, timeouts).", nil, nil)
	api429Desc = prometheus.NewDesc("qoswatch_zoom_api_429_total",
		"Zoom 429 answers by X-RateLimit-Type.", []string{"type"}, nil)
	tokenFetchesDesc = prometheus.NewDesc("qoswatch_zoom_oauth_token_fetches_total",
		"Server-to-Server OAuth grants made.", nil, nil)
	tokenFailuresDesc = prometheus.NewDesc("qoswatch_zoom_oauth_token_failures_total",
		"Server-to-Server OAuth grants that failed, by reason (unreachable, timeout, html, refused, rate_limited, server_error, bad_answer).", []string{"reason"}, nil)
	valuesMissingDesc = prometheus.NewDesc("qoswatch_qos_values_missing_total",
		"QoS values that were missing, by cause (blank: Zoom sent none; unparseable: not a number in a known unit; impossible: a number its unit cannot have).", []string{"cause"}, nil)
	badTimesDesc = prometheus.NewDesc("qoswatch_qos_bad_times_total",
		"date_time, join_time or leave_time values that are not RFC 3339.", nil, nil)
)

// clientCollector exports a client's Stats() and the process-wide counts
// of missing QoS values.
type clientCollector struct{ c *Client }

func (clientCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{apiCallsDesc, apiRetriesDesc, api429Desc, tokenFetchesDesc, tokenFailuresDesc, valuesMissingDesc, badTimesDesc} {
		ch <- d
	}
}

func (cc clientCollector) Collect(ch chan<- prometheus.Metric) {
	st := cc.c.Stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, n := range st.Calls {
		counter(apiCallsDesc, n.N, n.Category, n.Outcome)
	}
	counter(apiRetriesDesc, st.Retries)
	counter(api429Desc, st.QPS429, "qps")
	counter(api429Desc, st.Daily429, "daily_limit")
	counter(tokenFetchesDesc, st.TokenFetches)
	for _, reason := range tokenFailureNames {
		counter(tokenFailuresDesc, st.TokenFailures[reason], reason)
	}
	counter(valuesMissingDesc, st.Values.Blank, "blank")
	counter(valuesMissingDesc, st.Values.Unparseable, "unparseable")
	counter(valuesMissingDesc, st.Values.Impossible, "impossible")
	counter(badTimesDesc, st.Values.BadTimes)
}
