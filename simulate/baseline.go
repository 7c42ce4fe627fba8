package simulate

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/poll"
	"github.com/qoswatch/qoswatch/zoom"
)

// baseline is a poller of simulate's own that qoswatch's is measured
// against. Once a minute it lists the live webinars and meetings and reads
// their participants QoS lists: whole (naive and oracle: every page, no
// budget but the account's cap), or, for rotation, as many pages as the
// quota's credit allows, resuming where the last minute stopped (the same
// budget as qoswatch, without its triage and watch list).
type baseline struct {
	c      *zoom.Client
	sink   poll.Sink
	clock  engine.Clock
	rotate bool

	sources map[string]*rotation
	calls   map[string]int64 // by purpose, as poll.Stats().Calls
}

// rotation is where one source's sweep stands.
type rotation struct {
	src   engine.Source
	count int        // participants, per the live list
	pager zoom.Pager // where the sweep resumes
	at    time.Time  // when its token was issued (Zoom keeps it 15 minutes)
}

func newBaseline(c *zoom.Client, sink poll.Sink, clock engine.Clock, rotate bool) *baseline {
	return &baseline{c: c, sink: sink, clock: clock, rotate: rotate, sources: map[string]*rotation{},
		calls: map[string]int64{"discovery": 0, "full_sweep": 0, "sweep": 0}}
}

// Poll runs one minute.
func (b *baseline) Poll(ctx context.Context) error {
	credit := math.MaxInt
	if b.rotate {
		credit = b.c.Quota().Credit(time.Minute)
	}
	if err := b.discover(ctx); err != nil {
		return err
	}
	keys := make([]string, 0, len(b.sources))
	total := 0
	for k, r := range b.sources {
		keys = append(keys, k)
		total += r.count
	}
	slices.Sort(keys)
	for _, k := range keys {
		r := b.sources[k]
		n, why := math.MaxInt, "full_sweep"
		if b.rotate {
			n, why = max(1, credit*r.count/max(total, 1)), "sweep"
		}
		if err := b.sweep(ctx, r, n, why); err != nil {
			return err
		}
	}
	return nil
}

// discover lists the live sources and ends those no longer listed.
func (b *baseline) discover(ctx context.Context) error {
	now := b.clock.Now()
	live := map[string]bool{}
	for _, kind := range []engine.SourceKind{engine.Webinar, engine.Meeting} {
		if _, blocked := b.c.Quota().Blocked(); blocked {
			return nil
		}
		list, err := b.c.ListSources(ctx, kind, zoom.Live, now.AddDate(0, 0, -1), now)
		b.calls["discovery"] += int64(max(1, (len(list)+zoom.SourcesPageSize-1)/zoom.SourcesPageSize))
		if err != nil {
			return ctx.Err() // Zoom's error: the next minute tries again
		}
		for i := range list {
			src := zoom.SourceOf(kind, true, &list[i])
			live[src.Key()] = true
			r := b.sources[src.Key()]
			if r == nil {
				r = &rotation{}
				b.sources[src.Key()] = r
			}
			r.src, r.count = src, list[i].Participants
		}
	}
	for k, r := range b.sources {
		if !live[k] {
			delete(b.sources, k)
			src := r.src
			src.Live = false
			if err := b.sink.EndSource(ctx, src, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// sweep reads up to n pages of r's participants QoS list from where it
// stands, or to the end of the list.
func (b *baseline) sweep(ctx context.Context, r *rotation, n int, why string) error {
	if !b.rotate || r.pager.Done() || b.clock.Now().Sub(r.at) >= 14*time.Minute {
		r.pager = zoom.Pager{} // from the first page; Zoom keeps a page token 15 minutes
	}
	var d zoom.PageDecoder
	for ; n > 0 && !r.pager.Done(); n-- {
		if _, blocked := b.c.Quota().Blocked(); blocked {
			return nil
		}
		b.calls[why]++
		samples, err := b.c.QoSPage(ctx, &d, r.src, zoom.Live, &r.pager)
		if err != nil && r.pager.Done() {
			return ctx.Err() // Zoom's error: the next minute starts over
		}
		if err != nil {
			continue // an expired token: restarted from the first page
		}
		if err := b.sink.Ingest(ctx, samples); err != nil {
			return err
		}
		r.at = b.clock.Now()
	}
	return nil
}
