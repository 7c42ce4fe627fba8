package httpapi

import "github.com/prometheus/client_golang/prometheus"

// DefaultSpecs names the metrics of the Stats structs known at this
// release. Add a spec when a component grows a field whose fallback name
// is not what an operator would search for.
func DefaultSpecs() map[string]Spec {
	cause := func(c string) prometheus.Labels { return prometheus.Labels{"cause": c} }
	return map[string]Spec{
		// store.Stats
		"store.OutboxDepth":  {Name: "qoswatch_outbox_depth", Help: "Notifications waiting for delivery."},
		"store.FileSize":     {Name: "qoswatch_store_file_size_bytes", Help: "Size of the bbolt file."},
		"store.Commits":      {Name: "qoswatch_store_commits_total", Help: "Engine commits (one write transaction each).", Kind: Counter},
		"store.WriteTxs":     {Name: "qoswatch_store_write_transactions_total", Help: "All write transactions.", Kind: Counter},
		"store.BytesWritten": {Name: "qoswatch_store_written_bytes_total", Help: "Page bytes written.", Kind: Counter},
		"store.PageWrites":   {Name: "qoswatch_store_page_writes_total", Help: "Write calls to the file.", Kind: Counter},

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

		// notifier.Dispatcher.Stats()
		"notifier.Notifications":      {Name: "qoswatch_notifications_total", Help: "Notifications by kind and delivery outcome.", Kind: Counter, Labels: []string{"kind", "outcome"}},
		"notifier.RateLimited":        {Name: "qoswatch_slack_rate_limited_total", Help: "429 answers from Slack.", Kind: Counter},
		"notifier.AuthFailures":       {Name: "qoswatch_slack_auth_failures_total", Help: "Calls Slack refused for the token or webhook; delivery pauses and keeps every notification.", Kind: Counter},
		"notifier.Retries":            {Name: "qoswatch_slack_retries_total", Help: "Transient delivery failures (5xx, timeouts, network) retried later.", Kind: Counter},
		"notifier.PermanentByChannel": {Name: "qoswatch_slack_permanent_failures_total", Help: "Deliveries that failed for good (channel_not_found, not_in_channel, invalid_auth), by channel.", Kind: Counter, Labels: []string{"channel"}},
		"notifier.GroupMessages":      {Name: "qoswatch_slack_group_messages_total", Help: "Storm messages posted (one for many alerts of a rule in a source).", Kind: Counter},
		"notifier.ThreadBatches":      {Name: "qoswatch_slack_thread_batches_total", Help: "Thread replies that told several notifications at once.", Kind: Counter},
		"notifier.Updates":            {Name: "qoswatch_slack_updates_total", Help: "First messages updated on resolve.", Kind: Counter},
		"notifier.UpdateFailures":     {Name: "qoswatch_slack_update_failures_total", Help: "Updates that failed for good.", Kind: Counter},
		"notifier.Pending":            {Name: "qoswatch_notifier_pending", Help: "Outbox entries seen at the dispatcher's last pass."},
	}
}
