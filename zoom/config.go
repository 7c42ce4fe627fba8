package zoom

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
)

// Default base URLs. ZoomGov and tests use others.
const (
	DefaultAPIURL   = "https://api.zoom.us/v2"
	DefaultOAuthURL = "https://zoom.us/oauth/token"
)

// Config is what the client needs. Zero optional fields take defaults.
type Config struct {
	APIURL       string // ZOOM_API_URL; default DefaultAPIURL
	OAuthURL     string // ZOOM_OAUTH_URL; default DefaultOAuthURL
	AccountID    string // ZOOM_ACCOUNT_ID; required
	ClientID     string // ZOOM_CLIENT_ID; required
	ClientSecret string // ZOOM_CLIENT_SECRET; required; never logged
	Plan         string // ZOOM_PLAN: "pro" (default) or "business" ("education", "enterprise" alike)
	DailyLimit   int    // ZOOM_DAILY_LIMIT: Heavy+Resource-intensive calls a UTC day; 0 is the plan's
	// Quota is qoswatch's share of that cap (QOSWATCH_BUDGET_SHARE), its
	// pace over the day and where today's spend persists (quota.go).
	Quota QuotaConfig

	HTTPClient *http.Client // default: a new client; deadlines come from Timeout
	Logger     *slog.Logger // default: discard
	// Registerer gets the client's metrics (calls, retries, 429s, grants,
	// missing QoS values); nil: not registered.
	Registerer prometheus.Registerer
	// Clock drives the token's lifetime, the quota's pace and day, and
	// the waits between retries; default engine.SystemClock. The simulator
	// and tests pass a fake one (internal/fakeclock).
	Clock engine.Clock

	Timeout     time.Duration // one attempt, token fetch included; default 30s
	MaxAttempts int           // attempts per call on 429 QPS, 5xx and timeouts; default 4
	BackoffBase time.Duration // first retry delay, doubled per attempt; default 500ms
	BackoffMax  time.Duration // cap of one retry delay; default 30s
	// HealthWindow is how long Health tolerates failures since Zoom last
	// answered; default 5m. The daemon passes 3 poll intervals.
	HealthWindow time.Duration
}

// settingError names the bad setting and its environment variable. It
// never contains the value of a secret.
func settingError(field, env, format string, args ...any) error {
	return fmt.Errorf("zoom: setting %s (%s): %s", field, env, fmt.Sprintf(format, args...))
}

// withDefaults validates c and fills in the defaults.
func (c Config) withDefaults() (Config, Limits, error) {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if c.OAuthURL == "" {
		c.OAuthURL = DefaultOAuthURL
	}
	for _, u := range []struct{ field, env, val string }{
		{"APIURL", "ZOOM_API_URL", c.APIURL},
		{"OAuthURL", "ZOOM_OAUTH_URL", c.OAuthURL},
	} {
		// Credentials are refused before the value is ever quoted.
		p, err := url.Parse(u.val)
		if strings.Contains(u.val, "@") || (err == nil && p.User != nil) {
			return c, Limits{}, settingError(u.field, u.env, "must not contain credentials")
		}
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return c, Limits{}, settingError(u.field, u.env, "%q is not an http(s) URL", u.val)
		}
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	for _, s := range []struct{ field, env, val string }{
		{"AccountID", "ZOOM_ACCOUNT_ID", c.AccountID},
		{"ClientID", "ZOOM_CLIENT_ID", c.ClientID},
		{"ClientSecret", "ZOOM_CLIENT_SECRET", c.ClientSecret},
	} {
		if strings.TrimSpace(s.val) == "" {
			return c, Limits{}, settingError(s.field, s.env, "is required (from the Server-to-Server OAuth app's App Credentials)")
		}
	}
	if c.Plan == "" {
		c.Plan = "pro"
	}
	lim, ok := PlanLimits(c.Plan)
	if !ok {
		return c, Limits{}, settingError("Plan", "ZOOM_PLAN", "%q: want pro or business", c.Plan)
	}
	switch {
	case c.DailyLimit < 0:
		return c, Limits{}, settingError("DailyLimit", "ZOOM_DAILY_LIMIT", "%d: want 0 (the plan's %d) or more", c.DailyLimit, lim.Daily)
	case c.DailyLimit > 0:
		lim.Daily = c.DailyLimit
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 || c.BackoffBase < 0 || c.BackoffMax < 0 {
		return c, Limits{}, fmt.Errorf("zoom: Timeout, MaxAttempts, BackoffBase and BackoffMax must not be negative")
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = engine.SystemClock{}
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 4
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = 500 * time.Millisecond
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = 30 * time.Second
	}
	if c.HealthWindow <= 0 {
		c.HealthWindow = 5 * time.Minute
	}
	return c, lim, nil
}
