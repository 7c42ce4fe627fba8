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
		"zoom.DailyUsed":          {Name: "qoswatch_zoom_daily_calls_used", Help: "Heavy + Resource-intensive calls made today (UTC), by the client's count."},
		"zoom.DailyLimit":         {Name: "qoswatch_zoom_daily_calls_limit", Help: "The daily cap of Heavy + Resource-intensive calls the client enforces."},
		"zoom.DailyRemaining":     {Name: "qoswatch_zoom_daily_calls_remaining", Help: "Calls left today; 0 while paused by a Daily-limit 429."},
		"zoom.PausedUntil":        {Name: "qoswatch_zoom_daily_pause_until_timestamp_seconds", Help: "End of a Daily-limit pause (unix time); absent when none."},
		"zoom.Values.Blank":       {Name: "qoswatch_qos_values_missing_total", Help: "QoS values that were missing, by cause (blank: Zoom sent none; unparseable: not a number in a known unit).", Kind: Counter, Const: cause("blank")},
		"zoom.Values.Unparseable": {Name: "qoswatch_qos_values_missing_total", Help: "QoS values that were missing, by cause (blank: Zoom sent none; unparseable: not a number in a known unit).", Kind: Counter, Const: cause("unparseable")},
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

		// zoom.Poller.Stats()
		"poller.Mode":                 {Name: "qoswatch_poller_mode", Help: "How the poller spends its calls now: full, triage or degraded.", Kind: Info, Labels: []string{"mode"}},
		"poller.Degraded":             {Name: "qoswatch_poller_degraded", Help: "1 when the budget forces the poller to thin its coverage."},
		"poller.Budget.Total":         {Name: "qoswatch_budget_daily_calls", Help: "qoswatch's share of today's Heavy + Resource-intensive cap."},
		"poller.Budget.Spent":         {Name: "qoswatch_budget_spent_calls", Help: "Calls spent today (UTC), persisted across restarts."},
		"poller.Budget.Left":          {Name: "qoswatch_budget_left_calls", Help: "Calls left of today's share."},
		"poller.Budget.AllowedPerMin": {Name: "qoswatch_budget_allowed_calls_per_minute", Help: "The pace the budget allows now."},
		"poller.Budget.Unlimited":     {Name: "qoswatch_budget_unlimited", Help: "1 when the budget is ignored (simulate's naive baseline only)."},
		"poller.CoverageWindow":       {Name: "qoswatch_poller_coverage_window_seconds", Help: "The window of qoswatch_source_participants_seen."},
		"poller.Sources.Participants": {Name: "qoswatch_source_participants", Help: "Participants in each live source.", Labels: []string{"source", "topic"}},
		"poller.Sources.Seen":         {Name: "qoswatch_source_participants_seen", Help: "Participants whose QoS was seen within the coverage window.", Labels: []string{"source", "topic"}},
		"poller.Sources.Share":        {Name: "qoswatch_source_coverage_ratio", Help: "Share of a source's participants seen within the coverage window.", Labels: []string{"source", "topic"}},
		"poller.Sources.OldestView":   {Name: "qoswatch_source_oldest_view_seconds", Help: "Age of the oldest view of a participant of the source: what the bot cannot see.", Labels: []string{"source", "topic"}},
		"poller.Sources.Ratings":      {Name: "qoswatch_source_quality_ratings", Help: "1 when the source's participants list carries Zoom's quality ratings (triage works).", Labels: []string{"source", "topic"}},
		"poller.Calls":                {Name: "qoswatch_poller_calls_total", Help: "Zoom calls the poller made, by purpose.", Kind: Counter, Labels: []string{"purpose"}},
		"poller.Errors":               {Name: "qoswatch_poller_errors_total", Help: "Zoom calls and ingests that failed (retried next interval).", Kind: Counter},
		"poller.Intervals":            {Name: "qoswatch_polls_total", Help: "Poll intervals run.", Kind: Counter},
	}
}
