package main

import (
	"strings"

	"github.com/qoswatch/qoswatch/daemon"
)

// runFlags declares every setting of `qoswatch run` (and the parts `demo`
// shares) on f, each with its environment variable. Secrets are read from
// the environment or a file only, never a flag, so `ps` cannot show them.
type runFlags struct {
	cfg                                daemon.Config
	watch, sources                     string
	secretFile, botTokenFile, hookFile string
	apiTokenFile, allowedHosts         string
	webhookSecretFile                  string
	appTokenFile, signingSecretFile    string
	responders                         string
}

func declareRun(f *flags) *runFlags {
	r := &runFlags{cfg: daemon.Defaults()}
	c := &r.cfg
	d := daemon.Defaults()

	f.String(&c.Zoom.AccountID, "zoom-account-id", "ZOOM_ACCOUNT_ID", "", "account id of the Zoom Server-to-Server OAuth app")
	f.String(&c.Zoom.ClientID, "zoom-client-id", "ZOOM_CLIENT_ID", "", "client id of the Zoom Server-to-Server OAuth app")
	f.String(&r.secretFile, "zoom-client-secret-file", "ZOOM_CLIENT_SECRET_FILE", "", "file holding the app's client secret")
	f.EnvOnly("ZOOM_CLIENT_SECRET", "the app's client secret (or ZOOM_CLIENT_SECRET_FILE)")
	f.String(&c.Zoom.APIURL, "zoom-api-url", "ZOOM_API_URL", d.Zoom.APIURL, "Zoom API base URL (ZoomGov: https://api.zoomgov.com/v2)")
	f.String(&c.Zoom.OAuthURL, "zoom-oauth-url", "ZOOM_OAUTH_URL", d.Zoom.OAuthURL, "Zoom OAuth token endpoint")
	f.String(&c.Zoom.Plan, "zoom-plan", "ZOOM_PLAN", d.Zoom.Plan, "account plan for rate limits: pro or business (Business, Education, Enterprise)")
	f.Int(&c.Zoom.DailyLimit, "zoom-daily-limit", "ZOOM_DAILY_LIMIT", 0, "daily cap of Heavy + Resource-intensive calls; 0 means the plan's (30000 pro, 60000 business)")

	f.String(&c.Events.Listen, "events-listen", "QOSWATCH_EVENTS_LISTEN", "", "public address of POST /zoom/events for Zoom's webhooks, e.g. :8080; off when empty")
	f.String(&r.webhookSecretFile, "zoom-webhook-secret-token-file", "ZOOM_WEBHOOK_SECRET_TOKEN_FILE", "", "file holding the Zoom app's webhook secret token")
	f.EnvOnly("ZOOM_WEBHOOK_SECRET_TOKEN", "the Zoom app's secret token, which signs its webhooks (or ZOOM_WEBHOOK_SECRET_TOKEN_FILE); required with --events-listen")
	f.String(&c.Events.WSSubscription, "zoom-ws-subscription-id", "ZOOM_WS_SUBSCRIPTION_ID", "", "the Zoom app's WebSocket event subscription id: receive events over an outbound WebSocket; off when empty")
	f.String(&c.Events.WSURL, "zoom-ws-url", "ZOOM_WS_URL", d.Events.WSURL, "Zoom WebSocket endpoint")

	f.String(&r.botTokenFile, "slack-bot-token-file", "SLACK_BOT_TOKEN_FILE", "", "file holding the Slack bot token")
	f.EnvOnly("SLACK_BOT_TOKEN", "Slack bot token xoxb-... (threads and updates; or SLACK_BOT_TOKEN_FILE)")
	f.String(&c.Slack.APIURL, "slack-api-url", "SLACK_API_URL", d.Slack.APIURL, "Slack Web API base URL")
	f.String(&r.hookFile, "slack-webhook-url-file", "SLACK_WEBHOOK_URL_FILE", "", "file holding the Slack incoming webhook URL")
	f.EnvOnly("SLACK_WEBHOOK_URL", "Slack incoming webhook URL (simple mode: no threads; or SLACK_WEBHOOK_URL_FILE)")
	f.String(&c.Slack.Channel, "slack-channel", "SLACK_CHANNEL", "", "channel for alerts no route sends elsewhere")
	f.String(&r.appTokenFile, "slack-app-token-file", "SLACK_APP_TOKEN_FILE", "", "file holding the Slack app-level token")
	f.EnvOnly("SLACK_APP_TOKEN", "Slack app-level token xapp-... (connections:write): answer alerts from Slack over Socket Mode (or SLACK_APP_TOKEN_FILE)")
	f.String(&r.signingSecretFile, "slack-signing-secret-file", "SLACK_SIGNING_SECRET_FILE", "", "file holding the Slack app's signing secret")
	f.EnvOnly("SLACK_SIGNING_SECRET", "the Slack app's signing secret: answer alerts from Slack over HTTP, POST /slack/interactions and /slack/commands on --events-listen (or SLACK_SIGNING_SECRET_FILE)")
	f.String(&r.responders, "slack-responders", "QOSWATCH_SLACK_RESPONDERS", "", "Slack user IDs (U...) and user group IDs (S...) allowed to act from Slack, comma-separated; empty: anyone in the channel")

	f.String(&c.Rules, "rules", "QOSWATCH_RULES", d.Rules, "rules file; reloaded on change and on SIGHUP")
	f.String(&c.DB, "db", "QOSWATCH_DB", d.DB, "bbolt database file: alert state, outbox, silences")
	f.String(&c.Listen, "listen", "QOSWATCH_LISTEN", d.Listen, "HTTP address of /healthz, /readyz, /metrics, /api/v1; port 0 picks a free one")
	f.Duration(&c.PollInterval, "poll-interval", "QOSWATCH_POLL_INTERVAL", d.PollInterval, "how often each source's participants QoS is swept")
	f.String(&r.watch, "watch", "QOSWATCH_WATCH", strings.Join(d.Watch, ","), "what to discover: webinars, meetings, both, or none (\"\")")
	f.String(&r.sources, "sources", "QOSWATCH_SOURCES", "", "ids to watch besides the discovered ones: webinar:ID,meeting:ID (a bare id is a webinar)")
	f.String(&c.LogFormat, "log-format", "QOSWATCH_LOG_FORMAT", d.LogFormat, "log format: text or json")
	f.String(&c.LogLevel, "log-level", "QOSWATCH_LOG_LEVEL", d.LogLevel, "log level: debug, info, warn or error")
	f.String(&r.apiTokenFile, "api-token-file", "QOSWATCH_API_TOKEN_FILE", "", "file holding the HTTP API's bearer token")
	f.EnvOnly("QOSWATCH_API_TOKEN", "bearer token every /api/v1 call needs (at least 16 characters; or QOSWATCH_API_TOKEN_FILE); required when --listen is not loopback")
	f.String(&r.allowedHosts, "allowed-hosts", "QOSWATCH_ALLOWED_HOSTS", "", "host names the HTTP API answers to besides IP addresses and localhost, comma-separated (a DNS-rebinding guard)")
	f.Float(&c.BudgetShare, "budget-share", "QOSWATCH_BUDGET_SHARE", d.BudgetShare, "share of Zoom's daily cap qoswatch may spend (0..1]")
	f.Duration(&c.StaleAfter, "stale-after", "QOSWATCH_STALE_AFTER", d.StaleAfter, "resolve a participant's alerts after this long without a sample")
	f.Duration(&c.SilenceMax, "silence-max-duration", "QOSWATCH_SILENCE_MAX_DURATION", d.SilenceMax, "how far from now a silence may end (a longer one is refused: raise this to mean it)")
	f.Duration(&c.RulesCheck, "rules-check", "QOSWATCH_RULES_CHECK", d.RulesCheck, "how often the rules file is checked for changes")
	f.Duration(&c.Grace, "shutdown-grace", "QOSWATCH_SHUTDOWN_GRACE", d.Grace, "on SIGTERM, how long to keep flushing the outbox")
	return r
}

// finish reads the secrets and the lists after Parse. The error names
// every variable that is wrong, never a secret's value.
func (r *runFlags) finish(getenv func(string) string) error {
	c := &r.cfg
	c.Watch = splitList(r.watch)
	c.Sources = splitList(r.sources)
	c.AllowedHosts = splitList(r.allowedHosts)
	c.Slack.Responders = splitList(r.responders)
	var errs envErrors
	for _, s := range []struct {
		dst  *daemon.Secret
		env  string
		file string
	}{
		{&c.Zoom.ClientSecret, "ZOOM_CLIENT_SECRET", r.secretFile},
		{&c.Slack.BotToken, "SLACK_BOT_TOKEN", r.botTokenFile},
		{&c.Slack.WebhookURL, "SLACK_WEBHOOK_URL", r.hookFile},
		{&c.APIToken, "QOSWATCH_API_TOKEN", r.apiTokenFile},
		{&c.Events.WebhookSecret, "ZOOM_WEBHOOK_SECRET_TOKEN", r.webhookSecretFile},
		{&c.Slack.AppToken, "SLACK_APP_TOKEN", r.appTokenFile},
		{&c.Slack.SigningSecret, "SLACK_SIGNING_SECRET", r.signingSecretFile},
	} {
		v, err := readSecret(getenv, s.env, s.file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*s.dst = daemon.Secret(v)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
