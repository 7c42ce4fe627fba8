package httpapi

import "github.com/prometheus/client_golang/prometheus"

// DefaultSpecs names the metrics of the Stats structs known at this
// release. Add a spec when a component grows a field whose fallback name
// is not what an operator would search for.
func DefaultSpecs() map[string]Spec {
	cause := func(c string) prometheus.Labels { return prometheus.Labels{"cause": c} }
	return map[string]Spec{
		// store registers its own metrics (store/metrics.go)

		// zoom.Client.Stats()
		"zoom.Calls.N":            {Name: "qoswatch_zoom_api_calls_total", Help: "Zoom API calls by rate-limit category and outcome (a call counts once, after its retries).", Kind: Counter, Labels: []string{"category", "outcome"}},
		"zoom.Retries":            {Name: "qoswatch_zoom_api_retries_total", Help: "Zoom API attempts beyond the first (429 QPS, 5xx, timeouts).", Kind: Counter},
		"zoom.QPS429":             {Name: "qoswatch_zoom_api_429_total", Help: "Zoom 429 answers by X-RateLimit-Type.", Kind: Counter, Const: prometheus.Labels{"type": "qps"}},
		"zoom.Daily429":           {Name: "qoswatch_zoom_api_429_total", Help: "Zoom 429 answers by X-RateLimit-Type.", Kind: Counter, Const: prometheus.Labels{"type": "daily_limit"}},
		"zoom.TokenFetches":       {Name: "qoswatch_zoom_oauth_token_fetches_total", Help: "Server-to-Server OAuth grants made.", Kind: Counter},
		"zoom.Values.Blank":       {Name: "qoswatch_qos_values_missing_total", Help: "QoS values that were missing, by cause (blank: Zoom sent none; unparseable: not a number in a known unit; impossible: a number its unit cannot have).", Kind: Counter, Const: cause("blank")},
		"zoom.Values.Unparseable": {Name: "qoswatch_qos_values_missing_total", Help: "QoS values that were missing, by cause (blank: Zoom sent none; unparseable: not a number in a known unit; impossible: a number its unit cannot have).", Kind: Counter, Const: cause("unparseable")},
		"zoom.Values.Impossible":  {Name: "qoswatch_qos_values_missing_total", Help: "QoS values that were missing, by cause (blank: Zoom sent none; unparseable: not a number in a known unit; impossible: a number its unit cannot have).", Kind: Counter, Const: cause("impossible")},
		"zoom.Values.BadTimes":    {Name: "qoswatch_qos_bad_times_total", Help: "date_time, join_time or leave_time values that are not RFC 3339.", Kind: Counter},
	}
}
