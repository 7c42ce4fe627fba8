package zoom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// health is what Client.Health reports: the last access token obtained,
// the last call Zoom answered and the last failure of either, on the
// client's clock.
type health struct {
	mu       sync.Mutex
	granted  time.Time
	answered time.Time
	failed   time.Time
	err      *Error // the last failure
}

// Health is nil when an access token was obtained and Zoom answered the
// last call made, or a call within the last HealthWindow; otherwise it
// says, for an operator, what fails (and since when). A client that
// makes no call (quota spent, nothing to poll) keeps its last verdict:
// the quota's Health says why no call is made. For /readyz.
func (c *Client) Health() error {
	h := &c.health
	h.mu.Lock()
	defer h.mu.Unlock()
	now := c.cfg.Clock.Now()
	switch {
	case h.granted.IsZero() && h.err != nil:
		return fmt.Errorf("no Zoom access token yet: %w", h.err)
	case h.granted.IsZero():
		return errors.New("no Zoom access token yet: no call was made")
	case h.answered.IsZero() && h.err != nil:
		return fmt.Errorf("Zoom has not answered a call yet: %w", h.err)
	case h.answered.IsZero():
		return errors.New("Zoom has not answered a call yet: no call was made")
	case h.failed.After(h.answered) && now.Sub(h.answered) > c.cfg.HealthWindow:
		return fmt.Errorf("Zoom has not answered a call since %s (%s ago, over %v): %w",
			h.answered.UTC().Format(time.RFC3339), roughly(now.Sub(h.answered)), c.cfg.HealthWindow, h.err)
	}
	return nil
}

// grant records a token grant's outcome; it counts it, and logs the first
// token and the first after failures.
func (c *Client) grant(e *Error) {
	c.record(e, func(h *health, now time.Time) {
		if e != nil {
			c.stats.tokenFailures[e.failure].Add(1)
			h.failed, h.err = now, e
			return
		}
		c.stats.tokenFetches.Add(1)
		if h.granted.IsZero() || h.failed.After(h.granted) {
			c.log.Info("Zoom access token obtained", "oauth_url", c.cfg.OAuthURL)
		}
		h.granted = now
	})
}

// observe records how a request to the API ended: Zoom answered (any
// answer but a 5xx, a refusal of the credentials or a body that is not
// the JSON expected), or it failed. A cancel says nothing of Zoom.
func (c *Client) observe(e *Error) {
	c.record(e, func(h *health, now time.Time) {
		if e == nil || (e.Status != 0 && e.Status < http.StatusInternalServerError && !IsAuth(e) && !errors.Is(e.Err, errDecode)) {
			h.answered = now
			return
		}
		h.failed, h.err = now, e
	})
}

// record updates the health, under its lock, with how a call ended (e:
// nil when it went well) and when. A cancel says nothing of Zoom.
func (c *Client) record(e *Error, update func(h *health, now time.Time)) {
	if e != nil && errors.Is(e.Err, context.Canceled) {
		return
	}
	now := c.cfg.Clock.Now()
	c.health.mu.Lock()
	defer c.health.mu.Unlock()
	update(&c.health, now)
}
