// Package daemon is qoswatch's long-running process: it wires the Zoom
// poller, the rules, the engine, the store, the notifier and the HTTP
// surface together, and runs them until its context ends. cmd/qoswatch
// only turns flags and environment into a Config; tests start Run in
// process.
package daemon

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/scrub"
	"github.com/qoswatch/qoswatch/zoom"
)

// Secret is a credential. It prints, logs and marshals as "[redacted]", so
// a careless %v or slog attribute cannot leak it; Reveal is the one way out.
type Secret string

const redacted = scrub.Redacted

func (s Secret) String() string               { return s.mask() }
func (s Secret) GoString() string             { return s.mask() }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(s.mask()) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }
func (s Secret) Reveal() string               { return string(s) }
func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Config is every setting of `qoswatch run`. Field comments name the
// environment variable; cmd/qoswatch documents each in --help.
type Config struct {
	Zoom   ZoomConfig
	Slack  SlackConfig
	Events EventsConfig // what Zoom pushes: webhooks, WebSocket

	Rules        string        // QOSWATCH_RULES
	DB           string        // QOSWATCH_DB
	Listen       string        // QOSWATCH_LISTEN
	PollInterval time.Duration // QOSWATCH_POLL_INTERVAL
	Watch        []string      // QOSWATCH_WATCH: webinars, meetings
	Sources      []string      // QOSWATCH_SOURCES: ids to watch besides the discovered ones
	LogFormat    string        // QOSWATCH_LOG_FORMAT: text | json
	LogLevel     string        // QOSWATCH_LOG_LEVEL: debug | info | warn | error
	APIToken     Secret        // QOSWATCH_API_TOKEN: bearer token every /api/v1 call needs
	AllowedHosts []string      // QOSWATCH_ALLOWED_HOSTS: host names the HTTP API answers to, besides IP addresses and localhost
	BudgetShare  float64       // QOSWATCH_BUDGET_SHARE: share of the daily cap qoswatch may spend
	StaleAfter   time.Duration // QOSWATCH_STALE_AFTER
	SilenceMax   time.Duration // QOSWATCH_SILENCE_MAX_DURATION: how far from now a silence may end
	RulesCheck   time.Duration // QOSWATCH_RULES_CHECK: how often the rules file's mtime is checked
	Grace        time.Duration // QOSWATCH_SHUTDOWN_GRACE: time to flush the outbox on shutdown
}

// ZoomConfig is the Server-to-Server OAuth app and the account's plan.
type ZoomConfig struct {
	AccountID    string // ZOOM_ACCOUNT_ID
	ClientID     string // ZOOM_CLIENT_ID
	ClientSecret Secret // ZOOM_CLIENT_SECRET or ZOOM_CLIENT_SECRET_FILE
	APIURL       string // ZOOM_API_URL
	OAuthURL     string // ZOOM_OAUTH_URL
	Plan         string // ZOOM_PLAN: pro | business
	DailyLimit   int    // ZOOM_DAILY_LIMIT: 0 means the plan's
}

// EventsConfig is how Zoom's events reach qoswatch: signed webhooks on a
// public listener, an outbound Zoom WebSocket, both, or neither (polling
// only).
type EventsConfig struct {
	Listen         string // QOSWATCH_EVENTS_LISTEN: the public listener (POST /zoom/events); off when empty
	WebhookSecret  Secret // ZOOM_WEBHOOK_SECRET_TOKEN or ZOOM_WEBHOOK_SECRET_TOKEN_FILE: the app's secret token
	WSSubscription string // ZOOM_WS_SUBSCRIPTION_ID: the WebSocket event subscription; off when empty
	WSURL          string // ZOOM_WS_URL
}

// on reports whether any event transport is configured.
func (e EventsConfig) on() bool { return e.Listen != "" || e.WSSubscription != "" }

// SlackConfig chooses the notifier: a bot token (threads, updates), a
// webhook (simple), or neither (the console).
type SlackConfig struct {
	BotToken   Secret // SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_FILE
	APIURL     string // SLACK_API_URL
	WebhookURL Secret // SLACK_WEBHOOK_URL or SLACK_WEBHOOK_URL_FILE
	Channel    string // SLACK_CHANNEL: the channel when no route names one

	// Answering from Slack (buttons, /qoswatch): over Socket Mode, over
	// signed HTTP on the public listener, or both. Either needs the bot.
	AppToken      Secret   // SLACK_APP_TOKEN or SLACK_APP_TOKEN_FILE: xapp-…, Socket Mode
	SigningSecret Secret   // SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_FILE: POST /slack/interactions, /slack/commands
	Responders    []string // QOSWATCH_SLACK_RESPONDERS: user IDs (U…, W…) and user group IDs (S…) allowed to act; empty: everyone
}

// answering reports whether responders can answer from Slack.
func (s SlackConfig) answering() bool { return s.AppToken != "" || s.SigningSecret != "" }

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{
		Zoom: ZoomConfig{
			APIURL:   "https://api.zoom.us/v2",
			OAuthURL: "https://zoom.us/oauth/token",
			Plan:     "pro",
		},
		Slack:  SlackConfig{APIURL: "https://slack.com/api/"},
		Events: EventsConfig{WSURL: zoom.DefaultWSURL},

		Rules:        "rules.yaml",
		DB:           "qoswatch.db",
		Listen:       "127.0.0.1:9797",
		PollInterval: time.Minute,
		Watch:        []string{"webinars", "meetings"},
		LogFormat:    "text",
		LogLevel:     "info",
		BudgetShare:  0.5,
		StaleAfter:   5 * time.Minute,
		SilenceMax:   engine.DefaultSilenceLimits.MaxDuration,
		RulesCheck:   5 * time.Second,
		Grace:        10 * time.Second,
	}
}

// Validate checks every setting and reports all problems in one error,
// each naming its environment variable. It never includes a secret.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if c.Zoom.AccountID == "" {
		bad("ZOOM_ACCOUNT_ID is not set")
	}
	if c.Zoom.ClientID == "" {
		bad("ZOOM_CLIENT_ID is not set")
	}
	if c.Zoom.ClientSecret == "" {
		bad("ZOOM_CLIENT_SECRET (or ZOOM_CLIENT_SECRET_FILE) is not set")
	}
	// A secret too short to be real is a mistake (a placeholder, a cut
	// paste), and one that could not be scrubbed from logs as a token.
	for _, s := range c.secretSettings() {
		if n := len(s.value); n > 0 && n < scrub.MinLen {
			bad("%s is %d characters: a real one has at least %d (check it was pasted whole)", s.env, n, scrub.MinLen)
		}
	}
	checkURL(bad, "ZOOM_API_URL", c.Zoom.APIURL, false)
	checkURL(bad, "ZOOM_OAUTH_URL", c.Zoom.OAuthURL, false)
	if _, ok := zoom.PlanLimits(c.Zoom.Plan); !ok {
		bad("ZOOM_PLAN=%q: want pro or business (also education, enterprise: Business limits)", c.Zoom.Plan)
	}
	if c.Zoom.DailyLimit < 0 {
		bad("ZOOM_DAILY_LIMIT=%d: must be 0 (the plan's) or more", c.Zoom.DailyLimit)
	}

	c.Slack.validate(c.Events.Listen, bad)

	if c.Rules == "" {
		bad("QOSWATCH_RULES is empty")
	}
	if c.DB == "" {
		bad("QOSWATCH_DB is empty")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("QOSWATCH_LISTEN=%q: want host:port (port 0 picks a free one)", c.Listen)
	} else if c.APIToken == "" && !loopback(c.Listen) {
		bad("QOSWATCH_LISTEN=%s reaches beyond this machine and QOSWATCH_API_TOKEN is not set: set a token (every /api/v1 call then needs it; /healthz, /readyz and /metrics stay open) or listen on 127.0.0.1", c.Listen)
	}
	for _, h := range c.AllowedHosts {
		if strings.ContainsAny(h, ":/ ") || h == "" {
			bad("QOSWATCH_ALLOWED_HOSTS: %q: want a host name, without a port or scheme", h)
		}
	}
	c.Events.validate(c.Listen, c.Slack.SigningSecret != "", bad)
	if c.PollInterval < 10*time.Second {
		bad("QOSWATCH_POLL_INTERVAL=%s: must be at least 10s (Zoom's QoS data is per minute)", c.PollInterval)
	}
	if len(c.Watch) == 0 && len(c.Sources) == 0 {
		bad("QOSWATCH_WATCH is empty and QOSWATCH_SOURCES names nothing: nothing to watch")
	}
	for _, w := range c.Watch {
		if w != "webinars" && w != "meetings" {
			bad("QOSWATCH_WATCH: %q is not webinars or meetings", w)
		}
	}
	for _, s := range c.Sources {
		if _, _, err := ParseSource(s); err != nil {
			bad("QOSWATCH_SOURCES: %v", err)
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("QOSWATCH_LOG_FORMAT=%q: want text or json", c.LogFormat)
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		bad("QOSWATCH_LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel)
	}
	if !(c.BudgetShare > 0 && c.BudgetShare <= 1) {
		bad("QOSWATCH_BUDGET_SHARE=%g: want a share above 0 and at most 1", c.BudgetShare)
	}
	if c.SilenceMax <= 0 {
		bad("QOSWATCH_SILENCE_MAX_DURATION=%s: must be more than 0", c.SilenceMax)
	}
	if c.StaleAfter < c.PollInterval {
		bad("QOSWATCH_STALE_AFTER=%s: must be at least QOSWATCH_POLL_INTERVAL (%s)", c.StaleAfter, c.PollInterval)
	}
	if c.RulesCheck <= 0 {
		bad("QOSWATCH_RULES_CHECK=%s: must be positive", c.RulesCheck)
	}
	if c.Grace <= 0 {
		bad("QOSWATCH_SHUTDOWN_GRACE=%s: must be positive", c.Grace)
	}
	return joinLine(errs)
}

// secretSetting is one secret of a Config and the environment variable
// that sets it.
type secretSetting struct {
	env   string
	value Secret
}

// secretSettings are every secret of the Config: Validate checks each,
// the scrubber cuts each out of what the process prints.
func (c *Config) secretSettings() []secretSetting {
	return []secretSetting{
		{"ZOOM_CLIENT_SECRET", c.Zoom.ClientSecret},
		{"SLACK_BOT_TOKEN", c.Slack.BotToken},
		{"SLACK_WEBHOOK_URL", c.Slack.WebhookURL},
		{"QOSWATCH_API_TOKEN", c.APIToken},
		{"ZOOM_WEBHOOK_SECRET_TOKEN", c.Events.WebhookSecret},
		{"SLACK_APP_TOKEN", c.Slack.AppToken},
		{"SLACK_SIGNING_SECRET", c.Slack.SigningSecret},
	}
}

// secrets are every form in which a configured secret could be printed:
// the values, and the Basic credential the OAuth grant sends.
func (c *Config) secrets() []string {
	var out []string
	for _, s := range c.secretSettings() {
		out = append(out, s.value.Reveal())
	}
	if c.Zoom.ClientSecret != "" {
		out = append(out, base64.StdEncoding.EncodeToString([]byte(c.Zoom.ClientID+":"+c.Zoom.ClientSecret.Reveal())))
	}
	return out
}

// Scrubber removes every configured secret from text leaving the
// process: Run wraps its logger with it, main prints its error through it.
func (c *Config) Scrubber() *scrub.Scrubber { return scrub.New(c.secrets()...) }

// checkURL reports (with bad) a setting that is not an http(s) URL; a
// secret one is named without its value.
func checkURL(bad func(string, ...any), env, raw string, secret bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		if secret {
			bad("%s is not an http(s) URL", env)
		} else {
			bad("%s=%q is not an http(s) URL", env, raw)
		}
	}
}

// validate checks the Slack settings: one way to post, and the settings
// of answering from Slack; events is QOSWATCH_EVENTS_LISTEN.
func (s *SlackConfig) validate(events string, bad func(string, ...any)) {
	if s.BotToken != "" && s.WebhookURL != "" {
		bad("SLACK_BOT_TOKEN and SLACK_WEBHOOK_URL are both set: use one")
	}
	if s.BotToken != "" {
		checkURL(bad, "SLACK_API_URL", s.APIURL, false)
	}
	if s.WebhookURL != "" {
		checkURL(bad, "SLACK_WEBHOOK_URL", s.WebhookURL.Reveal(), true)
	}
	if s.answering() && s.BotToken == "" {
		bad("SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not: responders answer the bot's messages (a webhook's messages have no buttons)")
	}
	if s.AppToken != "" && !strings.HasPrefix(s.AppToken.Reveal(), "xapp-") {
		bad("SLACK_APP_TOKEN is not an app-level token (xapp-…: Basic Information → App-Level Tokens, scope connections:write)")
	}
	if s.SigningSecret != "" && events == "" {
		bad("SLACK_SIGNING_SECRET is set but QOSWATCH_EVENTS_LISTEN is not: Slack's requests would have nowhere to arrive (set the listener, or use SLACK_APP_TOKEN for Socket Mode)")
	}
	if len(s.Responders) > 0 && !s.answering() {
		bad("QOSWATCH_SLACK_RESPONDERS is set but neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is: nobody can answer from Slack")
	}
	for _, id := range s.Responders {
		if len(id) < 2 || !strings.ContainsAny(id[:1], "UWS") || strings.ToUpper(id) != id {
			bad("QOSWATCH_SLACK_RESPONDERS: %q is neither a Slack user ID (U…, W…) nor a user group ID (S…)", id)
		}
	}
}

// validate checks the event settings; admin is QOSWATCH_LISTEN; slack
// is whether Slack's signed requests use the listener too.
func (e *EventsConfig) validate(admin string, slack bool, bad func(string, ...any)) {
	switch {
	case e.Listen == "" && e.WebhookSecret != "":
		bad("ZOOM_WEBHOOK_SECRET_TOKEN is set but QOSWATCH_EVENTS_LISTEN is not: webhooks would have nowhere to arrive (set the listener, or use ZOOM_WS_SUBSCRIPTION_ID)")
	case e.Listen == "":
	case e.WebhookSecret == "" && !slack:
		bad("QOSWATCH_EVENTS_LISTEN=%s serves only signed endpoints: set ZOOM_WEBHOOK_SECRET_TOKEN (the Zoom app's secret token) or SLACK_SIGNING_SECRET", e.Listen)
	default:
		if _, port, err := net.SplitHostPort(e.Listen); err != nil {
			bad("QOSWATCH_EVENTS_LISTEN=%q: want host:port, e.g. :8080", e.Listen)
		} else if e.Listen == admin && port != "0" { // port 0: each picks a free one
			bad("QOSWATCH_EVENTS_LISTEN=%s is QOSWATCH_LISTEN too: the public listener and the admin API need their own ports", e.Listen)
		}
	}
	if e.WSSubscription != "" {
		// The value is never quoted: it could carry credentials.
		if u, err := url.Parse(e.WSURL); err != nil || (u.Scheme != "wss" && u.Scheme != "ws") || u.Host == "" || u.User != nil {
			bad("ZOOM_WS_URL is not a wss:// URL without credentials (the token goes in the query qoswatch adds)")
		}
	}
}

// loopback reports whether a listen address is reachable from this
// machine only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// joinLine joins errors into one line: an operator reads it in one glance.
func joinLine(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// ParseSource parses a QOSWATCH_SOURCES entry: "webinar:ID", "meeting:ID",
// or a bare id (a webinar).
func ParseSource(s string) (kind, id string, err error) {
	kind, id, ok := strings.Cut(s, ":")
	if !ok {
		kind, id = "webinar", s
	}
	if kind != "webinar" && kind != "meeting" {
		return "", "", fmt.Errorf("%q: want webinar:ID or meeting:ID", s)
	}
	if id == "" {
		return "", "", fmt.Errorf("%q: the id is empty", s)
	}
	return kind, id, nil
}

// ParseLevel parses a log level name.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// NewLogger returns the process logger in the configured format.
func NewLogger(w interface{ Write([]byte) (int, error) }, format, level string) *slog.Logger {
	lvl, err := ParseLevel(level)
	if err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
