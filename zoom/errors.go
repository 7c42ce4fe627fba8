package zoom

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimitType is Zoom's X-RateLimit-Type of a 429.
type RateLimitType string

const (
	RateLimitQPS   RateLimitType = "QPS"         // per-second limit: back off and retry
	RateLimitDaily RateLimitType = "Daily-limit" // daily cap: no Heavy calls until RetryAfter
)

// Zoom's error codes the client acts on.
const (
	CodeInvalidToken     = 124  // access token expired or revoked: fetch a new one
	CodePageTokenExpired = 300  // next_page_token expired (or invalid): restart the sweep
	CodeNotFound         = 3001 // the webinar or meeting does not exist (or has ended)
)

// Error is a failed Zoom call. It never contains a secret.
type Error struct {
	Endpoint   string // "GET /metrics/webinars/123/participants/qos", "POST /oauth/token"
	Status     int    // HTTP status; 0 when there was no answer or the client refused the call
	Code       int    // Zoom's error code, when the body had one
	Message    string // Zoom's message, or what went wrong
	TrackingID string // Zoom's x-zm-trackingid, for Zoom support

	RateLimit  RateLimitType // on a 429, or when the client holds Heavy calls for the daily cap
	RetryAfter time.Time     // when the call may be made again, when known

	Err error // the cause: network, timeout, body decoding

	token   bool         // the token endpoint failed
	failure tokenFailure // why, when token
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("zoom: ")
	b.WriteString(e.Endpoint)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, ": code %d", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RateLimit != "" {
		fmt.Fprintf(&b, " (rate limit %s", e.RateLimit)
		if !e.RetryAfter.IsZero() {
			fmt.Fprintf(&b, ", retry after %s", e.RetryAfter.UTC().Format(time.RFC3339))
		}
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.TrackingID != "" {
		fmt.Fprintf(&b, " [x-zm-trackingid %s]", e.TrackingID)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsNotFound reports whether Zoom said the webinar, meeting or participant
// does not exist (code 3001, or a 404 with a Zoom error body): a source
// that ended or never was.
func IsNotFound(err error) bool {
	e, ok := asError(err)
	return ok && (e.Code == CodeNotFound || (e.Status == http.StatusNotFound && e.Code != 0))
}

// IsAuth reports whether the call failed on credentials or scopes: the
// token endpoint refused, or the API answered 401/403 (also after a fresh
// token). Retrying does not help; an operator must fix the app.
func IsAuth(err error) bool {
	e, ok := asError(err)
	if !ok {
		return false
	}
	if e.token {
		return e.failure == tokenRefused
	}
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden ||
		e.Code == CodeInvalidToken || e.Code == 4700 || e.Code == 4711
}

// IsRateLimited reports whether Zoom answered 429 (after the client's
// retries) or the client held the call for the daily cap.
func IsRateLimited(err error) bool {
	e, ok := asError(err)
	return ok && (e.Status == http.StatusTooManyRequests || e.RateLimit != "")
}

// IsDailyLimit reports whether the daily cap stopped the call; RetryAfter
// says when calls may resume.
func IsDailyLimit(err error) bool {
	e, ok := asError(err)
	return ok && e.RateLimit == RateLimitDaily
}

// IsServerError reports whether Zoom failed (5xx) or did not answer in
// time, after the client's retries.
func IsServerError(err error) bool {
	e, ok := asError(err)
	return ok && (e.Status >= 500 || (e.Status == 0 && e.RateLimit == "" && e.Err != nil && !errors.Is(e.Err, errDecode)))
}

var errDecode = errors.New("response is not the JSON expected")

// errSlowBody: Zoom sent the headers of a 2xx but not the whole body
// within the attempt's deadline.
var errSlowBody = errors.New("the body did not arrive in time")

// parseRetryAfter reads Retry-After as an RFC 3339 time (Zoom), seconds,
// or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return now.Add(time.Duration(n) * time.Second), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t, true
	}
	return time.Time{}, false
}
