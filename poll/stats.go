package poll

import (
	"slices"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/zoom"
)

// SourceCoverage is how well the poller sees one source: what the bot
// cannot see, an operator must know.
type SourceCoverage struct {
	Source       string // Source.Key()
	Topic        string
	Participants int     // in the source now
	Seen         int     // of them, seen (QoS) within the coverage window
	Share        float64 // Seen / Participants
	// OldestView is the age of the oldest view of a participant in the
	// source now; one never seen counts from when the poller first knew
	// of them (or of the source).
	OldestView time.Duration
	Ratings    bool // the participants list carries Zoom's quality ratings
}

// Stats is the poller's state for metrics.
type Stats struct {
	Mode           string // "full", "triage", "degraded", "idle", "starting" (see Poller.Mode)
	Degraded       bool
	Quota          zoom.QuotaStats // the daily count, the share and its pace
	CoverageWindow time.Duration
	Sources        []SourceCoverage
	Calls          map[string]int64 // calls by purpose: discovery, full_sweep, watch, triage, detail, sweep, past
	Errors         int64            // Zoom calls and ingests that failed
	Intervals      int64
}

// Stats returns the poller's coverage, budget and counters.
func (p *Poller) Stats() Stats {
	now := p.cfg.Clock.Now()
	st := Stats{Quota: p.quota.Stats(), CoverageWindow: p.cfg.CoverageWindow,
		Calls: map[string]int64{}, Errors: p.errs.Load(), Intervals: p.intervals.Load()}
	for i := range numPurposes {
		st.Calls[purposeNames[i]] = p.calls[i].Load()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st.Mode, st.Degraded = p.mode, p.degraded
	for key, s := range p.sources {
		if s.gone {
			continue
		}
		c := SourceCoverage{Source: key, Topic: s.src.Topic, Ratings: s.ratings > 0}
		since := s.since
		if since.IsZero() {
			since = now
		}
		known := 0
		for _, pp := range s.people {
			// Who left is not there to see; who joined a moment ago has
			// no QoS minute yet.
			if pp.left || (pp.seen.IsZero() && now.Sub(pp.known) < 2*p.cfg.Interval) {
				continue
			}
			known++
			view := pp.seen
			if view.IsZero() {
				view = pp.known
			}
			if !pp.seen.IsZero() && now.Sub(pp.seen) <= p.cfg.CoverageWindow {
				c.Seen++
			}
			c.OldestView = max(c.OldestView, now.Sub(view))
		}
		// Some the live list counts we have not met yet: new joiners
		// for a while, then blind spots.
		unmet := s.unmet()
		if unmet > 0 && now.Sub(s.grewAt) < 2*p.cfg.Interval {
			unmet = 0
		}
		c.Participants = known + unmet
		if unmet > 0 {
			from := since
			if s.grewAt.After(from) {
				from = s.grewAt
			}
			c.OldestView = max(c.OldestView, now.Sub(from))
		}
		if c.Participants > 0 {
			c.Share = float64(c.Seen) / float64(c.Participants)
		}
		st.Sources = append(st.Sources, c)
	}
	slices.SortFunc(st.Sources, func(a, b SourceCoverage) int { return strings.Compare(a.Source, b.Source) })
	return st
}
