package notifier

import (
	"maps"
	"sync"
)

// Outcomes of a notification, for Stats.
const (
	OutcomeDelivered    = "delivered"     // its own message or thread reply
	OutcomeGrouped      = "grouped"       // told inside a storm message or a thread batch
	OutcomeDeadLettered = "dead_lettered" // a permanent error: removed from the outbox untold
)

// Stats are the dispatcher's counters since start, for /metrics.
type Stats struct {
	// Notifications by kind (firing, repeat, resolved), then outcome.
	Notifications map[string]map[string]uint64
	RateLimited   uint64 // 429 answers
	AuthFailures  uint64 // calls Slack refused for the credentials (delivery paused, nothing dropped)
	Retries       uint64 // transient failures (5xx, timeouts, network) retried later
	// PermanentByChannel counts permanent failures (channel_not_found...)
	// by channel; the entries were dead-lettered.
	PermanentByChannel map[string]uint64
	GroupMessages      uint64 // storm messages posted
	ThreadBatches      uint64 // replies that told several notifications at once
	Updates            uint64 // first messages updated on resolve
	UpdateFailures     uint64 // updates that failed for good (message deleted...)
	Pending            int    // outbox entries seen at the last pass
}

type stats struct {
	mu sync.Mutex
	s  Stats
}

func (st *stats) add(f func(s *Stats)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.s.Notifications == nil {
		st.s.Notifications = map[string]map[string]uint64{}
		st.s.PermanentByChannel = map[string]uint64{}
	}
	f(&st.s)
}

func (st *stats) notified(kind, outcome string, n int) {
	st.add(func(s *Stats) {
		m := s.Notifications[kind]
		if m == nil {
			m = map[string]uint64{}
			s.Notifications[kind] = m
		}
		m[outcome] += uint64(n)
	})
}

func (st *stats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.s
	out.Notifications = map[string]map[string]uint64{}
	for k, m := range st.s.Notifications {
		out.Notifications[k] = maps.Clone(m)
	}
	out.PermanentByChannel = maps.Clone(st.s.PermanentByChannel)
	if out.PermanentByChannel == nil {
		out.PermanentByChannel = map[string]uint64{}
	}
	return out
}
