package poll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/zoom"
)

// Sink takes the samples of every QoS page and the end of every source.
// *engine.Engine satisfies it.
type Sink interface {
	Ingest(ctx context.Context, batch []engine.Sample) error
	EndSource(ctx context.Context, src engine.Source, at time.Time) error
}

// WatchList names the participants (Participant.Key()) of a source that
// have an alert (pending, firing or resolving): the poller looks at them
// every interval. *engine.Engine satisfies it.
type WatchList interface {
	Hot(sourceKey string) []string
}

var _ WatchList = (*engine.Engine)(nil)

// Config configures a Poller. Zero values take the defaults.
type Config struct {
	Interval time.Duration       // QOSWATCH_POLL_INTERVAL; default 1m
	Watch    []engine.SourceKind // QOSWATCH_WATCH: kinds to discover; default webinars and meetings
	// Sources are watched besides the discovered ones (QOSWATCH_SOURCES):
	// "webinar:ID", "meeting:ID", or a bare ID for a webinar.
	Sources []string
	Hot     WatchList // who has alerts; nil: nobody

	Workers        int           // calls in flight at once; default the plan's Heavy calls a second
	CoverageWindow time.Duration // Stats: "seen in the last"; default 5m
	RecentFor      time.Duration // a participant rated fair or worse stays watched this long; default 10m

	// Push is what Zoom's events say (zoom.Events): sources fed by QSS
	// get no QoS calls, started/ended events replace the live listing
	// (push.go). Nil: polling alone.
	Push Push
	// LiveHistory keeps, per UTC day, the live participant-seconds the
	// poller polled: with started/ended events flowing, the day's share is
	// planned over the live time the busiest recent day had (learn.go).
	// Nil: the fixed horizon.
	LiveHistory LiveHistory

	Clock  engine.Clock // default engine.SystemClock; simulate and tests pass internal/fakeclock's
	Logger *slog.Logger
	// Registerer gets the poller's metrics and the quota's (the daily
	// count, the share and its pace); nil registers none.
	Registerer prometheus.Registerer
}

// ratingsRecheck is how often a source whose participants list carries no
// quality ratings is listed again (roles, joins, and in case they appear).
const ratingsRecheck = 10 * time.Minute

// Poller discovers live webinars and meetings and spends the API budget
// (the client's Quota) on their participants' QoS, feeding every page to
// the sink.
type Poller struct {
	c     *zoom.Client
	cfg   Config
	sink  Sink
	quota *zoom.Quota
	log   *slog.Logger

	mu            sync.Mutex
	sources       map[string]*pollSource
	lastDiscovery time.Time
	mode          string
	degraded      bool

	history       *liveHistory  // nil without Config.LiveHistory
	wake          chan struct{} // Focus, FillGap: an interval now
	distrustUntil time.Time     // a listing found a source no started event announced

	calls     [numPurposes]atomic.Int64
	errs      atomic.Int64
	intervals atomic.Int64
}

// New checks cfg. The budget the poller spends is the client's Quota.
func New(c *zoom.Client, cfg Config, sink Sink) (*Poller, error) {
	if c == nil || sink == nil {
		return nil, errors.New("poller: client and sink are required")
	}
	lim := c.Limits()
	if cfg.Interval == 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Interval < time.Second {
		return nil, fmt.Errorf("poller: QOSWATCH_POLL_INTERVAL %v: want at least 1s", cfg.Interval)
	}
	if cfg.Watch == nil {
		cfg.Watch = []engine.SourceKind{engine.Webinar, engine.Meeting}
	}
	for _, k := range cfg.Watch {
		if k != engine.Webinar && k != engine.Meeting {
			return nil, fmt.Errorf("poller: QOSWATCH_WATCH %q: want webinars or meetings", k)
		}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = max(1, int(lim.Heavy))
	}
	if cfg.CoverageWindow <= 0 {
		cfg.CoverageWindow = 5 * time.Minute
	}
	if cfg.RecentFor <= 0 {
		cfg.RecentFor = 10 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = engine.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Poller{c: c, cfg: cfg, sink: sink, quota: c.Quota(), log: cfg.Logger.With("component", "poller"),
		sources: map[string]*pollSource{}, mode: "starting", wake: make(chan struct{}, 1)}
	if cfg.LiveHistory != nil {
		p.history = &liveHistory{store: cfg.LiveHistory}
	}
	for _, s := range cfg.Sources {
		src, err := parseSourceRef(s)
		if err != nil {
			return nil, err
		}
		p.sources[src.Key()] = &pollSource{src: src, explicit: true, people: map[string]*person{}}
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(pollerCollector{p}); err != nil {
			return nil, fmt.Errorf("poller: metrics: %w", err)
		}
	}
	return p, nil
}

// parseSourceRef reads "webinar:ID", "meeting:ID" or a bare webinar ID.
func parseSourceRef(s string) (engine.Source, error) {
	s = strings.TrimSpace(s)
	kind, id, found := strings.Cut(s, ":")
	if !found {
		kind, id = string(engine.Webinar), s
	}
	kind = strings.TrimSuffix(strings.ToLower(kind), "s")
	if (kind != string(engine.Webinar) && kind != string(engine.Meeting)) || strings.TrimSpace(id) == "" {
		return engine.Source{}, fmt.Errorf("poller: QOSWATCH_SOURCES %q: want webinar:ID, meeting:ID or ID", s)
	}
	return engine.Source{Kind: engine.SourceKind(kind), ID: strings.TrimSpace(id), Live: true}, nil
}

// Run polls once an interval until ctx is done, then saves the spend and
// returns nil. An interval that fails (the store could not save the
// spend) is logged and the next one tries again: the budget keeps
// counting in memory meanwhile.
func (p *Poller) Run(ctx context.Context) error {
	defer func() {
		if err := p.quota.Flush(context.WithoutCancel(ctx)); err != nil {
			p.log.Error("saving the API spend", "error", err)
		}
	}()
	for {
		start := p.cfg.Clock.Now()
		if err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			p.errs.Add(1)
			p.log.Error("poll interval failed", "error", err)
		}
		if err := p.wait(ctx, start, start.Add(p.cfg.Interval)); err != nil {
			return nil
		}
	}
}

// Poll runs one interval: discovery when due, then the plan. It returns
// an error when ctx is done or the spend store fails; Zoom's errors are
// logged and counted, and the next interval tries again.
func (p *Poller) Poll(ctx context.Context) error {
	p.intervals.Add(1)
	err := p.discover(ctx)
	if err == nil {
		err = p.interval(ctx)
	}
	if err != nil {
		return err
	}
	return p.quota.Flush(ctx)
}

// purpose is what a call was for, for Stats.
type purpose uint8

const (
	purposeDiscovery purpose = iota
	purposeFull
	purposeWatch
	purposeTriage
	purposeDetail
	purposeSweep
	purposePast
	numPurposes
)

var purposeNames = [numPurposes]string{"discovery", "full_sweep", "watch", "triage", "detail", "sweep", "past"}

// call counts one call for why. It reports false when ctx is done or the
// quota holds every call (Zoom's Daily-limit, or the share spent): the
// calls an interval planned before that are not made. The plan decides
// how many calls the credit allows; the client paces and counts them.
func (p *Poller) call(ctx context.Context, why purpose) bool {
	if _, blocked := p.quota.Blocked(); blocked || ctx.Err() != nil {
		return false
	}
	p.calls[why].Add(1)
	return true
}

// failed handles a Zoom error of a call: a Daily-limit stops spending
// until Zoom's reset. It reports whether the source has ended (3001).
func (p *Poller) failed(err error, src engine.Source, what string) (ended bool) {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	p.errs.Add(1)
	if zoom.IsDailyLimit(err) {
		return false // the quota holds the calls until Zoom's reset
	}
	if zoom.IsNotFound(err) {
		return true
	}
	p.log.Warn("zoom call failed", "source", src.Key(), "call", what, "error", err)
	return false
}

// discover lists the live sources, at most once an interval and never
// faster than the Resource-intensive limit allows.
func (p *Poller) discover(ctx context.Context) error {
	now := p.cfg.Clock.Now()
	every := max(p.cfg.Interval, time.Duration(len(p.cfg.Watch))*p.quota.Spacing(zoom.ListSourcesCategory))
	if told, err := p.adopt(ctx, now); err != nil {
		return err
	} else if told {
		every = max(every, SafetyListing) // the events say what is live
	}
	if !p.lastDiscovery.IsZero() && now.Sub(p.lastDiscovery) < every {
		return nil
	}
	first := p.lastDiscovery.IsZero()
	p.lastDiscovery = now
	if p.quota.Credit(p.cfg.Interval) < len(p.cfg.Watch) {
		return nil // nothing left today: keep polling what we know
	}
	type entry struct {
		kind engine.SourceKind
		m    zoom.SourceMetrics
	}
	live := map[string]entry{}
	for _, kind := range p.cfg.Watch {
		if !p.call(ctx, purposeDiscovery) {
			return ctx.Err()
		}
		// from yesterday: a webinar that started before 00:00 UTC is still live.
		list, err := p.c.ListSources(ctx, kind, zoom.Live, now.AddDate(0, 0, -1), now)
		if extra := pages(len(list), zoom.SourcesPageSize) - 1; extra > 0 {
			p.calls[purposeDiscovery].Add(int64(extra))
		}
		if err != nil {
			p.failed(err, engine.Source{Kind: kind}, "list live")
			return ctx.Err() // without a full list, ending sources would be a guess
		}
		for i := range list {
			src := zoom.SourceOf(kind, true, &list[i])
			live[src.Key()] = entry{kind, list[i]}
		}
	}
	// A source this listing finds for the first time, and no started
	// event announced, says started events are lost; not one found by the
	// first listing since qoswatch started: it may have started before,
	// when nobody was listening.
	var found []string
	p.mu.Lock()
	for key := range live {
		if s := p.sources[key]; s == nil || !s.listed {
			found = append(found, key)
		}
	}
	p.mu.Unlock()
	if !first {
		p.unannounced(found)
	}
	var ended []*pollSource
	p.mu.Lock()
	for key, e := range live {
		s := p.sources[key]
		if s == nil {
			s = &pollSource{people: map[string]*person{}}
			p.sources[key] = s
			p.log.Info("watching a live source", "source", key, "topic", e.m.Topic, "participants", e.m.Participants)
		}
		s.src = zoom.SourceOf(e.kind, true, &e.m)
		if e.m.Participants > s.count {
			s.grewAt = now
		}
		s.count, s.listed, s.gone = e.m.Participants, true, false
	}
	for key, s := range p.sources {
		if _, ok := live[key]; !ok && s.listed && !s.gone {
			ended = append(ended, s)
		}
	}
	p.mu.Unlock()
	for _, s := range ended {
		if err := p.end(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// end closes a source that left the live list or answered 3001: a past
// sweep first when the budget has room for it, then EndSource.
func (p *Poller) end(ctx context.Context, s *pollSource) error {
	p.mu.Lock()
	if s.gone {
		p.mu.Unlock()
		return nil
	}
	s.gone, s.goneAt = true, p.cfg.Clock.Now()
	src, told, qss := s.src, s.told, s.qss
	s.told = true
	n := s.present()
	if !s.explicit {
		delete(p.sources, src.Key())
	}
	p.mu.Unlock()
	if told {
		return nil // an explicit source probed again: still gone
	}
	p.log.Info("source ended", "source", src.Key(), "topic", src.Topic)
	// Past QoS closes alerts on their last minutes and fills the final
	// report; only when it costs at most a tenth of what is left today.
	// A QSS-fed source has had its minutes pushed: nothing to fetch.
	if cost := pages(n, zoom.QoSPageSize); !qss && cost > 0 && int64(cost) <= p.quota.Stats().Left/10 {
		past := src
		past.Live = false
		p.sweepPages(ctx, s, past, zoom.Past, &zoom.Pager{MaxPages: int64(pageLimit(n, zoom.QoSPageSize))}, math.MaxInt, purposePast)
	}
	src.Live = false
	if err := p.sink.EndSource(ctx, src, p.cfg.Clock.Now()); err != nil && ctx.Err() == nil {
		p.log.Error("ending a source", "source", src.Key(), "error", err)
	}
	// The past sweep's samples marked the source seen (ingest clears
	// told); the sink has heard the end after them, so a probe of an
	// explicit source that is still gone must not tell it again.
	p.mu.Lock()
	s.told = true
	p.mu.Unlock()
	return ctx.Err()
}

// Health is nil while the poller may call Zoom, or says why it cannot and
// when it resumes (Zoom's Daily-limit, or qoswatch's share spent): for
// /readyz.
func (p *Poller) Health() error { return p.quota.Health() }

// Mode names the poller's coverage now: "full" (every participant every
// interval), "triage" (watch list, triage and details paid, the rest by
// rotation), "degraded" (the budget cut the watch list or details),
// "qss" (every live source's QoS arrives by QSS: nothing to poll), or
// "idle" (nothing live); "starting" before the first interval.
func (p *Poller) Mode() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

func (p *Poller) setMode(all, cut bool) {
	mode := "triage"
	switch {
	case cut:
		mode = "degraded"
	case all:
		mode = "full"
	}
	p.mu.Lock()
	was := p.degraded
	p.mode, p.degraded = mode, cut
	p.mu.Unlock()
	if cut && !was {
		q := p.quota.Stats()
		p.log.Warn("API budget near its cap: coverage degraded (watch list or detail calls cut)",
			"spent", q.DailyUsed, "budget", q.Total, "allowed_per_minute", int(q.AllowedPerMin))
	} else if !cut && was {
		p.log.Info("API budget recovered: coverage no longer degraded")
	}
}

// parallel runs tasks on up to Workers goroutines (inline when Workers is
// 1, as simulate does, so a simulated clock needs no locking).
func (p *Poller) parallel(ctx context.Context, tasks []func(context.Context)) {
	if p.cfg.Workers <= 1 || len(tasks) <= 1 {
		for _, t := range tasks {
			if ctx.Err() != nil {
				return
			}
			t(ctx)
		}
		return
	}
	ch := make(chan func(context.Context))
	var wg sync.WaitGroup
	for range min(p.cfg.Workers, len(tasks)) {
		wg.Go(func() {
			for t := range ch {
				t(ctx)
			}
		})
	}
	for _, t := range tasks {
		select {
		case ch <- t:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(ch)
	wg.Wait()
}

// liveSources returns the sources to poll, in key order.
func (p *Poller) liveSources() []*pollSource {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*pollSource
	now := p.cfg.Clock.Now()
	for _, s := range p.sources {
		if s.gone && s.explicit && now.Sub(s.goneAt) >= ratingsRecheck {
			s.gone = false // an explicit source may start again: probe it
		}
		if !s.gone {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *pollSource) int { return strings.Compare(a.src.Key(), b.src.Key()) })
	return out
}
