package poll

import (
	"context"
	"slices"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/zoom"
)

// What Zoom pushes changes what the poller spends:
//
//   - A source whose QoS arrives by QSS gets no Heavy call at all: its
//     samples come without asking, once a minute for everyone.
//   - While started/ended events flow, they say what is live: the live
//     lists (Resource-intensive) are asked only every SafetyListing, to
//     catch a started event that never came.
//   - Zoom's alert on a source asks for a focused poll of it now (Focus),
//     and a WebSocket that reconnected asks for an interval now (FillGap):
//     the events sent while it was down are lost.

// Push is what the poller reads of the events Zoom pushes. *zoom.Events
// implements it.
type Push interface {
	// QSSFed reports whether a source's QoS arrives by QSS now.
	QSSFed(sourceKey string) bool
	// Lifecycle returns the sources started (or joined) and not ended,
	// and whether started/ended events flow.
	Lifecycle() (live []engine.Source, flowing bool)
	// Joined is how many participants a live source has now by its
	// joined/left events.
	Joined(sourceKey string) int
}

var (
	_ Push            = (*zoom.Events)(nil)
	_ zoom.PushPoller = (*Poller)(nil)
)

// SafetyListing is how often the live sources are listed while
// started/ended events say what is live: 48 listings a day, 96
// Resource-intensive calls with webinars and meetings both watched.
const SafetyListing = 30 * time.Minute

// distrustFor is how long a listing that found a live source no started
// event announced makes the poller list every interval again.
const distrustFor = 24 * time.Hour

// earliestWake is the least time between two intervals a wake-up
// (Focus, FillGap) may cause, so a burst of Zoom alerts is one early
// interval.
const earliestWake = 10 * time.Second

// Focus polls a source now, outside the schedule but within the budget:
// its participants are listed (Zoom's quality ratings, where the account
// has them), then the worst rated get detail calls. A source the poller
// did not know is watched from now on. (simulate steps its poller itself:
// there the focus takes effect at the next interval.)
func (p *Poller) Focus(src engine.Source) {
	if !p.wanted(src) {
		return
	}
	p.mu.Lock()
	s := p.sources[src.Key()]
	if s == nil {
		s = &pollSource{src: src, people: map[string]*person{}}
		p.sources[src.Key()] = s
		p.log.Info("watching a source Zoom flagged", "source", src.Key(), "topic", src.Topic)
	}
	// Triage now, unless the account's lists carry no quality ratings:
	// Zoom's alert names no participant, and a list without ratings
	// cannot point at one (its calls would go to waste).
	if s.ratings >= 0 {
		s.triagedAt = time.Time{}
	}
	p.mu.Unlock()
	p.wakeUp()
}

// FillGap runs an interval now: events may have been lost.
func (p *Poller) FillGap() { p.wakeUp() }

func (p *Poller) wakeUp() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// wait sleeps until next, or until a wake-up (not before earliestWake
// after the interval's start).
func (p *Poller) wait(ctx context.Context, start, next time.Time) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.cfg.Clock.After(next.Sub(p.cfg.Clock.Now())):
			return nil
		case <-p.wake:
			if early := start.Add(earliestWake); p.cfg.Clock.Now().Before(early) {
				next = early
				continue
			}
			return nil
		}
	}
}

// wanted says whether the poller watches a source: its kind is
// discovered, or it is named in QOSWATCH_SOURCES.
func (p *Poller) wanted(src engine.Source) bool {
	if slices.Contains(p.cfg.Watch, src.Kind) {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sources[src.Key()]
	return s != nil && s.explicit
}

// notQSS drops the sources whose QoS arrives by QSS from the plan.
func (p *Poller) notQSS(srcs []*pollSource) []*pollSource {
	if p.cfg.Push == nil {
		return srcs
	}
	return slices.DeleteFunc(srcs, func(s *pollSource) bool {
		p.mu.Lock()
		key := s.src.Key()
		p.mu.Unlock()
		fed := p.cfg.Push.QSSFed(key)
		p.mu.Lock()
		s.qss = fed
		p.mu.Unlock()
		return fed
	})
}

// adopt takes what is live from started/ended events when they flow: it
// watches the sources they started and ends those they ended. It reports
// whether the events say what is live (the listing may wait then).
func (p *Poller) adopt(ctx context.Context, now time.Time) (bool, error) {
	if p.cfg.Push == nil || now.Before(p.distrustUntil) {
		return false, nil
	}
	live, flowing := p.cfg.Push.Lifecycle()
	if !flowing {
		return false, nil
	}
	// Who joined since the last listing: the plan's head count (the
	// listing, every SafetyListing, would leave the joiners of a
	// webinar's first minutes uncounted, and the sweep short). Asked
	// before p.mu: the events call the poller (Focus) under their lock.
	joined := make([]int, len(live))
	for i, src := range live {
		joined[i] = p.cfg.Push.Joined(src.Key())
	}
	in := map[string]bool{}
	var ended []*pollSource
	p.mu.Lock()
	for i, src := range live {
		if !slices.Contains(p.cfg.Watch, src.Kind) && p.sources[src.Key()] == nil {
			continue
		}
		in[src.Key()] = true
		s := p.sources[src.Key()]
		if s == nil {
			s = &pollSource{src: src, people: map[string]*person{}}
			p.sources[src.Key()] = s
			p.log.Info("watching a live source a started event announced", "source", src.Key(), "topic", src.Topic)
		}
		s.announced, s.gone = true, false
		if joined[i] > s.count {
			s.count, s.grewAt = joined[i], now
		}
	}
	for key, s := range p.sources {
		if s.announced && !in[key] && !s.gone {
			ended = append(ended, s)
		}
	}
	p.mu.Unlock()
	for _, s := range ended {
		if err := p.end(ctx, s); err != nil {
			return true, err
		}
	}
	return true, nil
}

// unannounced is called for the live sources a listing found: one that
// no started event announced while they flow means they do not all
// arrive, and the listing goes back to every interval for distrustFor.
func (p *Poller) unannounced(keys []string) {
	if p.cfg.Push == nil {
		return
	}
	live, flowing := p.cfg.Push.Lifecycle()
	if !flowing {
		return
	}
	announced := map[string]bool{}
	for _, s := range live {
		announced[s.Key()] = true
	}
	for _, k := range keys {
		if !announced[k] {
			p.log.Warn("a live source no started event announced: listing live sources every interval again", "source", k, "for", distrustFor)
			p.distrustUntil = p.cfg.Clock.Now().Add(distrustFor)
			return
		}
	}
}
