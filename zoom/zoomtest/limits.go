package zoomtest

import (
	"time"

	"github.com/qoswatch/qoswatch/zoom"
)

// CategoryName is how Zoom names a rate-limit category in its docs and
// the X-RateLimit-Category header ("Heavy", "Resource-intensive"). Which
// category each endpoint is, and the limits below, are the fake's own
// reading of Zoom's docs, never zoom's table: a fake that copied
// qoswatch's limits could not catch them wrong.
func CategoryName(c zoom.Category) string { return categoryNames[c] }

var categoryNames = map[zoom.Category]string{
	zoom.Light: "Light", zoom.Medium: "Medium", zoom.Heavy: "Heavy", zoom.ResourceIntensive: "Resource-intensive",
}

// Plan is the Zoom account plan whose limits the fake enforces.
type Plan string

const (
	Pro      Plan = "pro"
	Business Plan = "business" // also Business+, Education, Enterprise
)

// Limits are Zoom's per-account rate limits.
type Limits struct {
	Light, Medium, Heavy int // requests per second
	ResourceIntensive    int // requests per minute
	Daily                int // Heavy + Resource-intensive requests per UTC day
}

// PlanLimits returns Zoom's published limits for a plan (Business for
// anything but Pro).
func PlanLimits(p Plan) Limits {
	if p == Pro {
		return Limits{Light: 30, Medium: 20, Heavy: 10, ResourceIntensive: 10, Daily: 30000}
	}
	return Limits{Light: 80, Medium: 60, Heavy: 40, ResourceIntensive: 20, Daily: 60000}
}

// limiter enforces Limits on fixed windows of the fake's clock: one second
// (one minute for Resource-intensive), and the UTC day. Callers hold the
// server's lock.
type limiter struct {
	limits   Limits
	off      bool
	window   map[zoom.Category]int64 // the current window's number
	count    map[zoom.Category]int
	peak     map[zoom.Category]int // the most calls seen in one window
	day      int64                 // days since the epoch, UTC
	dailyUse int
}

func newLimiter(limits Limits, off bool) limiter {
	return limiter{limits: limits, off: off, window: map[zoom.Category]int64{}, count: map[zoom.Category]int{}, peak: map[zoom.Category]int{}}
}

// rejection is why a call was refused: a 429 and its headers.
type rejection struct {
	kind       string // "QPS" or "Daily-limit"
	retryAfter string // RFC 3339, or ""
	message    string
}

func (l *limiter) perWindow(c zoom.Category) (limit int, window time.Duration) {
	switch c {
	case zoom.Light:
		return l.limits.Light, time.Second
	case zoom.Medium:
		return l.limits.Medium, time.Second
	case zoom.Heavy:
		return l.limits.Heavy, time.Second
	default:
		return l.limits.ResourceIntensive, time.Minute
	}
}

func daily(c zoom.Category) bool { return c == zoom.Heavy || c == zoom.ResourceIntensive }

// roll resets the daily count at 00:00 UTC.
func (l *limiter) roll(now time.Time) {
	if d := now.UTC().Unix() / 86400; d != l.day {
		l.day, l.dailyUse = d, 0
	}
}

// admit counts a call of category c at now, or says why it is refused.
func (l *limiter) admit(c zoom.Category, now time.Time) *rejection {
	l.roll(now)
	if l.off {
		l.take(c, now)
		return nil
	}
	if daily(c) && l.limits.Daily > 0 && l.dailyUse >= l.limits.Daily {
		midnight := time.Unix((l.day+1)*86400, 0).UTC()
		return &rejection{kind: "Daily-limit", retryAfter: midnight.Format(time.RFC3339),
			message: "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."}
	}
	limit, win := l.perWindow(c)
	w := now.UnixNano() / int64(win)
	if w == l.window[c] && limit > 0 && l.count[c] >= limit {
		return &rejection{kind: "QPS", message: "You have reached the maximum per-second rate limit for this API. Try again later."}
	}
	l.take(c, now)
	return nil
}

func (l *limiter) take(c zoom.Category, now time.Time) {
	_, win := l.perWindow(c)
	w := now.UnixNano() / int64(win)
	if w != l.window[c] {
		l.window[c], l.count[c] = w, 0
	}
	l.count[c]++
	l.peak[c] = max(l.peak[c], l.count[c])
	if daily(c) {
		l.dailyUse++
	}
}

// remaining returns the daily calls left (for X-RateLimit-Remaining).
func (l *limiter) remaining() int { return max(l.limits.Daily-l.dailyUse, 0) }
