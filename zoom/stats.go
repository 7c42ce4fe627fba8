package zoom

import (
	"context"
	"errors"
	"sync/atomic"
)

// outcome is how a call ended, after retries.
type outcome uint8

const (
	outcomeOK outcome = iota
	outcomeNotFound
	outcomeAuth
	outcomeRateLimited
	outcomeDailyLimit
	outcomeServerError
	outcomeClientError
	outcomeNetwork
	outcomeDecode
	outcomeCanceled
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "not_found", "auth", "rate_limited", "daily_limit", "server_error", "client_error", "network", "decode", "canceled"}

func outcomeOf(e *Error) outcome {
	switch {
	case errors.Is(e.Err, context.Canceled):
		return outcomeCanceled
	case e.token && (e.failure == tokenHTML || e.failure == tokenBadAnswer):
		return outcomeDecode
	case IsDailyLimit(e):
		return outcomeDailyLimit
	case IsRateLimited(e):
		return outcomeRateLimited
	case IsNotFound(e):
		return outcomeNotFound
	case IsAuth(e):
		return outcomeAuth
	case errors.Is(e.Err, errDecode):
		return outcomeDecode
	case e.Status >= 500:
		return outcomeServerError
	case e.Status >= 400:
		return outcomeClientError
	default:
		return outcomeNetwork
	}
}

type stats struct {
	calls         [numCategories][numOutcomes]atomic.Int64
	retries       atomic.Int64
	qps429        atomic.Int64
	daily429      atomic.Int64
	tokenFetches  atomic.Int64 // grants made
	tokenFailures [numTokenFailures]atomic.Int64
}

func (s *stats) call(c Category, o outcome) { s.calls[c][o].Add(1) }

// CallCount is the number of calls of one category that ended one way.
type CallCount struct {
	Category string // "light", "medium", "heavy", "resource_intensive"
	Outcome  string // "ok", "not_found", "auth", "rate_limited", "daily_limit", "server_error", "client_error", "network", "decode", "canceled"
	N        int64
}

// Stats is a snapshot of the client's counters, for metrics.
type Stats struct {
	Calls        []CallCount // non-zero counts only; a call counts once, after its retries
	Retries      int64       // attempts beyond the first (429 QPS, 5xx, timeouts)
	QPS429       int64       // 429s with X-RateLimit-Type QPS (or none)
	Daily429     int64       // 429s with X-RateLimit-Type Daily-limit
	TokenFetches int64       // OAuth grants made (successful)
	// TokenFailures are the grants that failed, by reason: unreachable,
	// timeout, html, refused, rate_limited, server_error, bad_answer.
	TokenFailures map[string]int64
	// The daily count and pause: Quota().Stats().

	Values ValueStats // missing and unparseable QoS values (process-wide)
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	s := Stats{
		Retries:       c.stats.retries.Load(),
		QPS429:        c.stats.qps429.Load(),
		Daily429:      c.stats.daily429.Load(),
		TokenFetches:  c.stats.tokenFetches.Load(),
		Values:        ParseStats(),
		TokenFailures: map[string]int64{},
	}
	for r := range numTokenFailures {
		s.TokenFailures[tokenFailureNames[r]] = c.stats.tokenFailures[r].Load()
	}
	for cat := range numCategories {
		for o := range numOutcomes {
			if n := c.stats.calls[cat][o].Load(); n > 0 {
				s.Calls = append(s.Calls, CallCount{Category: cat.String(), Outcome: outcomeNames[o], N: n})
			}
		}
	}
	return s
}
