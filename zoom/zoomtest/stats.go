package zoomtest

import (
	"maps"

	"github.com/qoswatch/qoswatch/zoom"
)

// Stats is what the fake has seen, for tests and the simulator to read.
type Stats struct {
	Calls         map[zoom.Category]int // API calls admitted by the rate limiter, by category
	Throttled     map[zoom.Category]int // 429 X-RateLimit-Type: QPS, by category
	DailyLimited  int                   // 429 X-RateLimit-Type: Daily-limit
	PeakPerWindow map[zoom.Category]int // the most calls admitted in one second (one minute for Resource-intensive)
	DailyUsed     int                   // Heavy + Resource-intensive calls counted today (UTC), SpendDaily included
	DailyLimit    int                   // the cap in force
	Unauthorized  int                   // 401 answers (missing, unknown, expired or revoked token)
	TokensIssued  int                   // access tokens issued
	Faults        int                   // requests an injected fault hit
	UnderEncoded  int                   // UUIDs that needed double encoding but came encoded once
	ByEndpoint    map[string]int        // admitted calls by route, e.g. "GET /metrics/webinars/{id}/participants/qos"
	ByStatus      map[int]int           // answers by HTTP status (API only)
}

func newStats() Stats {
	return Stats{
		Calls: map[zoom.Category]int{}, Throttled: map[zoom.Category]int{}, PeakPerWindow: map[zoom.Category]int{},
		ByEndpoint: map[string]int{}, ByStatus: map[int]int{},
	}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lim.roll(s.now())
	st := s.stats
	st.Calls = maps.Clone(s.stats.Calls)
	st.Throttled = maps.Clone(s.stats.Throttled)
	st.ByEndpoint = maps.Clone(s.stats.ByEndpoint)
	st.ByStatus = maps.Clone(s.stats.ByStatus)
	st.PeakPerWindow = maps.Clone(s.lim.peak)
	st.DailyUsed = s.lim.dailyUse
	st.DailyLimit = s.lim.limits.Daily
	return st
}

// ResetStats zeroes the counters (not the rate limiter's state).
func (s *Server) ResetStats() {
	s.mu.Lock()
	s.stats = newStats()
	clear(s.lim.peak)
	s.mu.Unlock()
}
