package zoom

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/qoswatch/qoswatch/engine"
)

// Category is Zoom's rate-limit label of an API.
type Category uint8

const (
	Light Category = iota
	Medium
	Heavy
	ResourceIntensive
	numCategories
)

var categoryNames = [numCategories]string{"light", "medium", "heavy", "resource_intensive"}

func (c Category) String() string {
	if c < numCategories {
		return categoryNames[c]
	}
	return "unknown"
}

// daily reports whether calls of c count against Zoom's daily cap.
func (c Category) daily() bool { return c == Heavy || c == ResourceIntensive }

// The rate category of each call of the client (Zoom's labels in
// dashboard-metrics.openapi.json), for the poller's budget.
const (
	ListSourcesCategory     = ResourceIntensive
	ParticipantsCategory    = Heavy
	ParticipantsQoSCategory = Heavy
	ParticipantQoSCategory  = Heavy
)

// Limits are an account plan's rate limits.
// https://developers.zoom.us/docs/api/rest/rate-limits/
type Limits struct {
	Plan              string  // "pro" or "business"
	Light             float64 // requests per second
	Medium            float64 // requests per second
	Heavy             float64 // requests per second
	ResourceIntensive float64 // requests per MINUTE
	Daily             int     // Heavy + Resource-intensive requests per UTC day
}

// The plans' limits. Business covers Business, Education and Enterprise.
var (
	ProLimits      = Limits{Plan: "pro", Light: 30, Medium: 20, Heavy: 10, ResourceIntensive: 10, Daily: 30000}
	BusinessLimits = Limits{Plan: "business", Light: 80, Medium: 60, Heavy: 40, ResourceIntensive: 20, Daily: 60000}
)

// PlanLimits returns the limits of a plan name, case-insensitive.
func PlanLimits(plan string) (Limits, bool) {
	switch strings.ToLower(strings.TrimSpace(plan)) {
	case "pro":
		return ProLimits, true
	case "business", "education", "enterprise", "business+":
		return BusinessLimits, true
	}
	return Limits{}, false
}

// Rate returns the request rate of a category.
func (l Limits) Rate(c Category) rate.Limit {
	switch c {
	case Light:
		return rate.Limit(l.Light)
	case Medium:
		return rate.Limit(l.Medium)
	case Heavy:
		return rate.Limit(l.Heavy)
	case ResourceIntensive:
		return rate.Limit(l.ResourceIntensive / 60)
	}
	return 0
}

// newLimiters returns one limiter per category. A burst of 1 spaces the
// calls evenly: Zoom counts per second, and a full bucket spent at once
// followed by the refill would send twice the limit within one second.
func newLimiters(l Limits) [numCategories]*rate.Limiter {
	var ls [numCategories]*rate.Limiter
	for c := range numCategories {
		ls[c] = rate.NewLimiter(l.Rate(c), 1)
	}
	return ls
}

// wait blocks until the limiter of c allows a call, on the client's clock.
func (c *Client) wait(ctx context.Context, cat Category) error {
	now := c.cfg.Clock.Now()
	r := c.limiters[cat].ReserveN(now, 1)
	if !r.OK() {
		return context.DeadlineExceeded // a zero rate: never allowed
	}
	if d := r.DelayFrom(now); d > 0 {
		if err := engine.Sleep(ctx, c.cfg.Clock, d); err != nil {
			r.CancelAt(c.cfg.Clock.Now())
			return err
		}
	}
	return nil
}

// dailyCap counts the Heavy and Resource-intensive calls of the current
// UTC day and holds the pause after Zoom's Daily-limit 429.
type dailyCap struct {
	mu        sync.Mutex
	limit     int
	day       time.Time // 00:00 UTC of the day counted
	used      int
	pausedTil time.Time // Zoom said Daily-limit: no calls before this
	capLogged time.Time // the day the client's own cap was last logged
}

func midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// roll starts a new count at 00:00 UTC. Callers hold mu.
func (d *dailyCap) roll(now time.Time) {
	if day := midnight(now); !day.Equal(d.day) {
		d.day, d.used = day, 0
	}
}

// paused returns the end of the pause, if one holds at now.
func (d *dailyCap) paused(now time.Time) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pausedTil, now.Before(d.pausedTil)
}

// take counts one call, or says until when none may be made; first
// reports the first refusal of the day by the client's own count.
func (d *dailyCap) take(now time.Time) (until time.Time, ok, first bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.roll(now)
	if now.Before(d.pausedTil) {
		return d.pausedTil, false, false
	}
	if d.used >= d.limit {
		first = !d.capLogged.Equal(d.day)
		d.capLogged = d.day
		return d.day.AddDate(0, 0, 1), false, first
	}
	d.used++
	return time.Time{}, true, false
}

// pause stops calls until `until`; it reports whether this started a new
// pause (so the log says it once, not once per call).
func (d *dailyCap) pause(now, until time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	started := !now.Before(d.pausedTil)
	if until.After(d.pausedTil) {
		d.pausedTil = until
	}
	return started
}

func (d *dailyCap) remaining(now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.roll(now)
	if now.Before(d.pausedTil) {
		return 0
	}
	return max(d.limit-d.used, 0)
}

func (d *dailyCap) snapshot(now time.Time) (used int, pausedTil time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.roll(now)
	return d.used, d.pausedTil
}

func (d *dailyCap) restore(now time.Time, used int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.roll(now)
	d.used = max(used, 0)
}
