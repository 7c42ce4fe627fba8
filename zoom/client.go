package zoom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// maxBody bounds a response body. A past-type QoS page of 10 participants
// over a whole day is a few MB.
const maxBody = 64 << 20

// Client calls Zoom's Dashboard metrics API. It is safe for concurrent use;
// its quota (pace and daily count) is shared by all calls.
type Client struct {
	cfg     Config
	log     *slog.Logger
	auth    *auth
	quota   *Quota
	stats   stats
	health  health
	maxBody int64 // maxBody; tests lower it
	paging  [numStopReasons]atomic.Int64
}

// NewClient validates cfg, loads today's spend from cfg.Quota.Spend and
// returns a client. It makes no call: the first call fetches the token.
func NewClient(cfg Config) (*Client, error) {
	cfg, lim, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, log: cfg.Logger.With("component", "zoom")}
	c.auth = newAuth(&c.cfg, c.log)
	if c.quota, err = newQuota(context.Background(), lim, cfg.Quota, cfg.Clock, c.log); err != nil {
		return nil, fmt.Errorf("zoom: %w", err)
	}
	c.maxBody = maxBody
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(clientCollector{c}); err != nil {
			return nil, fmt.Errorf("zoom: metrics: %w", err)
		}
	}
	return c, nil
}

// Limits returns the limits the client keeps to: the plan's, with
// DailyLimit applied.
func (c *Client) Limits() Limits { return c.quota.Limits() }

// Quota is the account of every call the client makes.
func (c *Client) Quota() *Quota { return c.quota }

// request is one API call: a GET of path with query, decoded into out.
type request struct {
	cat   Category
	path  string // escaped, below the API URL: "/metrics/webinars/123/participants/qos"
	query url.Values
}

func (r *request) endpoint() string { return "GET " + r.path }

// get makes the call, with retries: once with a fresh token after 401
// code 124; on 429 QPS, 5xx and timeouts up to MaxAttempts with capped
// exponential back-off and jitter. Every failure is an *Error.
func (c *Client) get(ctx context.Context, r *request, out any) error {
	refreshed := false
	for attempt := 1; ; attempt++ {
		token, e := c.attempt(ctx, r, out)
		if e == nil {
			c.stats.call(r.cat, outcomeOK)
			return nil
		}
		var delay time.Duration
		switch {
		case ctx.Err() != nil:
			return c.fail(r, e)
		case e.Status == http.StatusUnauthorized && e.Code == CodeInvalidToken && !refreshed:
			c.log.Info("zoom refused the access token; fetching a new one", "endpoint", e.Endpoint, "tracking_id", e.TrackingID)
			c.auth.invalidate(token)
			refreshed = true
			attempt-- // not a failure of Zoom's: it does not use up an attempt
			continue
		case e.RateLimit == RateLimitDaily:
			return c.fail(r, e)
		case e.Status == http.StatusTooManyRequests:
			delay = c.backoff(attempt)
			if !e.RetryAfter.IsZero() {
				delay = min(max(e.RetryAfter.Sub(c.cfg.Clock.Now()), 0), c.cfg.BackoffMax)
			}
		case retryable(e):
			delay = c.backoff(attempt)
		default:
			return c.fail(r, e)
		}
		if attempt >= c.cfg.MaxAttempts {
			return c.fail(r, e)
		}
		c.stats.retries.Add(1)
		c.log.Debug("retrying zoom call", "endpoint", e.Endpoint, "attempt", attempt, "delay", delay, "error", e)
		if err := engine.Sleep(ctx, c.cfg.Clock, delay); err != nil {
			return c.fail(r, e)
		}
	}
}

// retryable: Zoom failed or did not answer; the same call may succeed.
// An answer whose body did not arrive in time is not retried: Zoom is
// there but slow, and a retry would stall the caller as long again.
func retryable(e *Error) bool {
	if e.Status >= 500 {
		return true
	}
	return e.Status == 0 && e.Err != nil && !errors.Is(e.Err, errDecode) && !errors.Is(e.Err, errSlowBody) && !errors.Is(e.Err, context.Canceled)
}

// backoff is the delay before retry n (1-based): BackoffBase doubled per
// attempt, capped at BackoffMax, with jitter so clients do not retry in step.
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.BackoffBase << min(n-1, 20)
	if d <= 0 || d > c.cfg.BackoffMax {
		d = c.cfg.BackoffMax
	}
	return d/2 + rand.N(d/2+1)
}

// fail counts and logs a call's final error and returns it.
func (c *Client) fail(r *request, e *Error) error {
	o := outcomeOf(e)
	c.stats.call(r.cat, o)
	attrs := []any{"endpoint", e.Endpoint} // and what is known: no empty keys
	for _, a := range []struct {
		key string
		v   any
		set bool
	}{{"status", e.Status, e.Status != 0}, {"code", e.Code, e.Code != 0}, {"message", e.Message, e.Message != ""},
		{"tracking_id", e.TrackingID, e.TrackingID != ""}, {"cause", e.Err, e.Err != nil}} {
		if a.set {
			attrs = append(attrs, a.key, a.v)
		}
	}
	switch o {
	case outcomeNotFound, outcomeCanceled, outcomeDailyLimit:
		c.log.Debug("zoom call failed", attrs...) // expected; the daily pause is logged once by attempt
	default:
		c.log.Warn("zoom call failed", attrs...)
	}
	return e
}

// attempt makes one HTTP request. It returns the access token it used, so
// a 401 can invalidate exactly that one, and an *Error (typed, so get
// needs no type assertion) when the attempt failed.
func (c *Client) attempt(ctx context.Context, r *request, out any) (string, *Error) {
	ep := r.endpoint()
	if r.cat.daily() {
		if until, blocked := c.quota.Blocked(); blocked {
			return "", c.dailyError(ep, until)
		}
	}
	if err := c.quota.wait(ctx, r.cat); err != nil {
		return "", &Error{Endpoint: ep, Err: err}
	}
	// One deadline bounds the attempt: the token grant when one is due,
	// the request's headers and the whole body.
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	token, fetched, e := c.auth.get(ctx)
	if fetched {
		c.grant(e)
	}
	if e != nil {
		return "", e
	}
	if !r.cat.daily() {
		e = c.exchange(ctx, r, token, out)
		c.observe(e)
		return token, e
	}
	// Counted before it is sent, so concurrent calls never overshoot the
	// share; a 429 is given back (Zoom did not count it).
	day, until, ok := c.quota.take()
	if !ok {
		return token, c.dailyError(ep, until)
	}
	e = c.exchange(ctx, r, token, out)
	c.observe(e)
	if e != nil && e.Status == http.StatusTooManyRequests {
		c.quota.refund(day)
	}
	return token, e
}

// exchange sends the request with token and reads and decodes the whole
// answer, within ctx's deadline.
func (c *Client) exchange(ctx context.Context, r *request, token string, out any) *Error {
	ep := r.endpoint()
	u := c.cfg.APIURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &Error{Endpoint: ep, Message: "bad request URL", Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "qoswatch")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return &Error{Endpoint: ep, Message: "no answer", Err: unwrapURLError(err)}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // drain, so the connection is reused
		resp.Body.Close()
	}()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	e := &Error{Endpoint: ep, Status: resp.StatusCode, TrackingID: resp.Header.Get("x-zm-trackingid")}
	switch {
	case err != nil && resp.StatusCode/100 == 2 && errors.Is(err, context.DeadlineExceeded):
		// Zoom answered and then dribbled: asking again would hold the
		// caller for another Timeout. The next poll asks again.
		e.Status = 0
		e.Message = "reading the body"
		e.Err = fmt.Errorf("%w (Timeout %v): %w", errSlowBody, c.cfg.Timeout, err)
		return e
	case err != nil:
		e.Message, e.Err = "reading the body", err
		if resp.StatusCode/100 == 2 {
			e.Status = 0 // a cut answer is a network failure: retryable
		}
		return e
	case int64(len(body)) > c.maxBody:
		e.Message = fmt.Sprintf("body larger than %d bytes", c.maxBody)
		e.Err = errDecode
		return e
	}
	if resp.StatusCode/100 != 2 {
		var ae APIError
		if json.Unmarshal(body, &ae) == nil {
			e.Code, e.Message = ae.Code, ae.Message
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			c.rateLimited(e, resp.Header)
		}
		return e
	}
	if err := json.Unmarshal(body, out); err != nil {
		e.Message = "decoding the body"
		e.Err = fmt.Errorf("%w: %v", errDecode, err)
		return e
	}
	return nil
}

// rateLimited reads a 429's headers into e and, for the daily limit,
// pauses Heavy calls and says so once.
func (c *Client) rateLimited(e *Error, h http.Header) {
	now := c.cfg.Clock.Now()
	e.RateLimit = RateLimitType(h.Get("X-RateLimit-Type"))
	if e.RateLimit == "" {
		e.RateLimit = RateLimitQPS
	}
	e.RetryAfter, _ = parseRetryAfter(h.Get("Retry-After"), now)
	if !strings.EqualFold(string(e.RateLimit), string(RateLimitDaily)) {
		c.stats.qps429.Add(1)
		return
	}
	e.RateLimit = RateLimitDaily
	c.stats.daily429.Add(1)
	if !e.RetryAfter.After(now) {
		e.RetryAfter = DayStart(now).AddDate(0, 0, 1)
	}
	if c.quota.pause(e.RetryAfter) {
		c.log.Error("zoom daily API limit reached: Heavy and Resource-intensive calls paused",
			"until", e.RetryAfter.UTC().Format(time.RFC3339), "endpoint", e.Endpoint, "tracking_id", e.TrackingID)
	}
}

func (c *Client) dailyError(ep string, until time.Time) *Error {
	return &Error{Endpoint: ep, RateLimit: RateLimitDaily, RetryAfter: until,
		Message: "daily limit of Heavy and Resource-intensive calls reached (Zoom's, or qoswatch's share of it); not calling"}
}

// unwrapURLError drops net/http's "Get URL:" prefix: the endpoint already
// names the call. Neither carries a header, so no token.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
