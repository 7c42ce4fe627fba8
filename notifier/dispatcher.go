// Package notifier tells people: it drains the engine's outbox, routes each
// notification to its channel, folds alert storms into one message,
// renders Block Kit, and delivers through a Sender (Slack, or the console)
// with a per-channel rate limit, 429 handling and retries. An entry leaves
// the outbox only once it was delivered (or failed for good), so a Slack
// outage of any length loses nothing.
//
// The Dispatcher runs passes over the outbox. Each pass hands the pending
// entries to the planner (plan.go: a pure function that decides what
// messages to send, grouping storms and batching follow-ups) and each
// planned message to the deliverer (deliver.go: pace, retries, pauses,
// acks).
package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
)

// GroupRefs is what the dispatcher needs from the store to remember storm
// messages across restarts (store.DB implements it). When the Outbox does
// not implement it, storms are remembered in memory only.
type GroupRefs interface {
	PutGroupRef(ctx context.Context, key string, ref engine.MessageRef) error
	GroupRef(ctx context.Context, key string) (engine.MessageRef, bool, error)
}

// Options configure a Dispatcher. Outbox, Router and Sender are required.
type Options struct {
	Outbox engine.Outbox
	Router engine.Router
	Sender Sender
	Render RenderOptions
	Logger *slog.Logger
	// DefaultChannel is where a notification goes when its route names no
	// channel (webhooks ignore the channel).
	DefaultChannel string

	// Clock is the wall clock of pacing, back-off and pauses; nil is the
	// system clock. Tests inject one so a long outage runs instantly.
	Clock engine.Clock
	// Registerer gets the notifier's metrics; nil registers none.
	Registerer prometheus.Registerer

	// ChannelInterval is the least time between two calls to one channel
	// (Slack allows about one message a second per channel). Default 1s;
	// negative means no limit (the console).
	ChannelInterval time.Duration
	// DefaultRetryAfter is how long a channel waits after a 429 that
	// carries no Retry-After. Default 30s.
	DefaultRetryAfter time.Duration
	// MaxRetryAfter is the longest Retry-After honoured; a longer one is
	// logged and the channel waits this long. Default 1h.
	MaxRetryAfter time.Duration
	// MaxUnanswered is how many posts of one message may go unanswered
	// (a timeout) before it is taken as posted, where the sender cannot
	// look for it in Slack (a webhook, or no history scope). Default 2:
	// a slow Slack shows a message at most twice.
	MaxUnanswered int
	// AuthRetry is how long all delivery pauses after Slack refused the
	// token or webhook (Unauthorized), before one entry tries again.
	// Default 5m.
	AuthRetry time.Duration
	// BackoffMin and BackoffMax bound the per-alert retry back-off after a
	// transient failure (it doubles from min to max). Default 1s and 5m.
	BackoffMin, BackoffMax time.Duration
	// PollInterval is how often an idle dispatcher looks at the outbox
	// (Wake makes it look at once). Default 2s.
	PollInterval time.Duration
	// BatchSize is how many outbox entries one pass reads. Default 500.
	BatchSize int

	// StormThreshold is how many firing alerts of one rule in one source
	// (going to one channel) within StormWindow make a storm: one grouped
	// message instead of one each. Default 5; negative disables grouping.
	StormThreshold int
	// StormWindow is the window of a storm, on the engine's decision
	// times (Notification.Created). Default 2m.
	StormWindow time.Duration
}

func (o *Options) defaults() error {
	switch {
	case o.Outbox == nil:
		return errors.New("notifier: Options.Outbox is required")
	case o.Router == nil:
		return errors.New("notifier: Options.Router is required")
	case o.Sender == nil:
		return errors.New("notifier: Options.Sender is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = engine.SystemClock{}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	switch {
	case o.ChannelInterval == 0:
		o.ChannelInterval = time.Second
	case o.ChannelInterval < 0:
		o.ChannelInterval = 0 // no limit: the console
	}
	def(&o.DefaultRetryAfter, 30*time.Second)
	def(&o.MaxRetryAfter, time.Hour)
	if o.MaxUnanswered <= 0 {
		o.MaxUnanswered = 2
	}
	def(&o.AuthRetry, 5*time.Minute)
	def(&o.BackoffMin, time.Second)
	def(&o.BackoffMax, 5*time.Minute)
	def(&o.PollInterval, 2*time.Second)
	def(&o.StormWindow, 2*time.Minute)
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.StormThreshold == 0 {
		o.StormThreshold = 5
	}
	if o.BackoffMax < o.BackoffMin {
		return fmt.Errorf("notifier: BackoffMax %s is below BackoffMin %s", o.BackoffMax, o.BackoffMin)
	}
	return nil
}

// callFinish is how long Run lets a call in flight finish after its
// context is done: longer than a Slack call's own timeout (10s).
const callFinish = 15 * time.Second

// Dispatcher drains an outbox into a Sender. Run it in one goroutine.
type Dispatcher struct {
	o      Options
	clock  engine.Clock
	log    *slog.Logger
	wake   chan struct{}
	m      *metrics
	plan   planner
	groups GroupRefs // nil when the outbox does not remember storm messages

	mu     sync.Mutex // one pass at a time; guards what follows
	del    *deliverer
	storms *storms
	newest time.Time       // the newest Notification.Created seen: the storm windows' clock
	acked  int             // entries acked in this pass
	gone   map[uint64]bool // their ids
	// progress counts entries acked since start, so Flush can go on at
	// once after a pass that moved, and never spins after one that did not.
	progress atomic.Int64
}

// New returns a dispatcher; it checks the options and applies defaults.
func New(o Options) (*Dispatcher, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	d := &Dispatcher{
		o: o, clock: o.Clock, log: o.Logger, wake: make(chan struct{}, 1), m: newMetrics(o.Registerer),
		plan:   planner{r: NewRenderer(o.Render), threshold: o.StormThreshold, window: o.StormWindow},
		storms: newStorms(),
	}
	d.del = newDeliverer(&d.o, d.m)
	d.groups, _ = o.Outbox.(GroupRefs)
	return d, nil
}

// Health is nil while delivery works, else why it is paused (the store
// cannot record what was sent; Slack refuses the credentials): what
// /readyz shows.
func (d *Dispatcher) Health() error {
	d.del.healthMu.Lock()
	defer d.del.healthMu.Unlock()
	return d.del.health
}

// Wake makes a waiting Run look at the outbox now (the engine calls it
// after a commit that added notifications). It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run drains the outbox until ctx is done. Store errors are logged and
// retried; they never stop it. When ctx is done, a call in flight is
// finished (each has its own timeout) and acked, never cut off: cutting it
// off after Slack got it would post it again at the next start. Only a
// pass still busy callFinish later is cut.
func (d *Dispatcher) Run(ctx context.Context) error {
	calls, cut := context.WithCancel(context.WithoutCancel(ctx))
	defer cut()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(callFinish, cut) })()
	for {
		next, err := d.drain(ctx, calls)
		if ctx.Err() != nil {
			return nil
		}
		// Look again when something held back may go, and at least every
		// PollInterval for new entries (Wake is faster, but optional).
		wait := d.o.PollInterval
		if err != nil {
			d.log.Error("notifier: outbox pass failed; retrying", "err", err, "in", wait)
		} else if !next.IsZero() {
			wait = min(max(next.Sub(d.clock.Now()), 10*time.Millisecond), wait)
		}
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-d.clock.After(wait):
		}
	}
}

// Flush drains until the outbox is empty, waiting out rate limits and
// back-offs on the clock; for dry runs, demo, shutdown and tests. It
// returns when the outbox is empty or ctx is done.
func (d *Dispatcher) Flush(ctx context.Context) error {
	for {
		before := d.progress.Load()
		next, err := d.Drain(ctx)
		if err != nil {
			return err
		}
		if next.IsZero() {
			return nil
		}
		wait := next.Sub(d.clock.Now())
		if wait <= 0 && d.progress.Load() == before {
			wait = time.Millisecond // nothing moved: never spin
		}
		if err := engine.Sleep(ctx, d.clock, wait); err != nil {
			return err
		}
	}
}

// Drain makes one pass over the outbox: it sends what may go now and
// returns the earliest time something left behind may go (zero when the
// outbox is empty and nothing is in flight).
func (d *Dispatcher) Drain(ctx context.Context) (time.Time, error) { return d.drain(ctx, ctx) }

// drain is Drain that stops between messages when stop is done but makes
// its calls with ctx, so a message already on its way to Slack is
// finished and acked rather than cut off and posted again later.
func (d *Dispatcher) drain(stop, ctx context.Context) (time.Time, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	es, err := d.o.Outbox.Pending(ctx, d.o.BatchSize)
	if err != nil {
		return time.Time{}, fmt.Errorf("notifier: read outbox: %w", err)
	}
	d.m.pending.Set(float64(len(es)))
	d.acked, d.gone = 0, map[uint64]bool{}
	now := d.clock.Now()
	d.observe(es, now)
	if len(es) == 0 && len(d.del.flights) == 0 {
		return time.Time{}, nil
	}
	if t := d.del.paused(now); !t.IsZero() {
		return t, nil // credentials refused, or the store cannot write: wait, keep everything
	}
	var next time.Time
	later := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	// Messages half sent first: they are finished where they stopped.
	flights := d.del.flights
	d.del.flights = nil
	for i, f := range flights {
		if stop.Err() != nil || !d.del.paused(d.clock.Now()).IsZero() {
			d.del.flights = append(d.del.flights, flights[i:]...)
			break
		}
		if t := d.del.due(f, d.clock.Now()); !t.IsZero() {
			d.del.flights = append(d.del.flights, f)
			later(t)
			continue
		}
		t, err := d.step(ctx, f)
		if err != nil {
			return time.Time{}, err
		}
		later(t)
	}
	if stop.Err() != nil {
		return time.Time{}, stop.Err()
	}
	if t := d.del.paused(d.clock.Now()); !t.IsZero() {
		return t, nil
	}
	// What a flight acked above is gone from the outbox, not from es.
	total := len(es)
	es = slices.DeleteFunc(slices.Clone(es), func(n engine.Notification) bool { return d.gone[n.ID] })
	plans, err := d.planPass(ctx, es)
	if err != nil {
		return time.Time{}, err
	}
	for _, p := range plans {
		if stop.Err() != nil {
			return time.Time{}, stop.Err()
		}
		if t := d.del.paused(d.clock.Now()); !t.IsZero() {
			return t, nil
		}
		t, err := d.step(ctx, d.del.start(p))
		if err != nil {
			return time.Time{}, err
		}
		later(t)
	}
	// Alerts backing off go again when their back-off ends.
	now = d.clock.Now()
	for i := range es {
		if r, ok := d.del.retry[es[i].Key]; ok && r.next.After(now) {
			later(r.next)
		}
	}
	if next.IsZero() && (d.acked < total || total == d.o.BatchSize || len(d.del.flights) > 0) {
		next = now // the pass planned each alert's oldest entry; the rest may go now
	}
	return next, nil
}

// step runs one step of a flight, keeps it while it must be finished, and
// tells the storms what went out.
func (d *Dispatcher) step(ctx context.Context, f *flight) (time.Time, error) {
	acked, next, err := d.del.step(ctx, f)
	if acked {
		for _, e := range f.p.entries {
			d.gone[e.n.ID] = true
		}
		d.acked += len(f.p.entries)
		d.progress.Add(int64(len(f.p.entries)))
	}
	if acked && !f.dead {
		d.storms.sent(f.p, f.ref, d.o.StormWindow)
		if f.p.kind == msgGroup {
			d.log.Info("notifier: storm grouped", "rule", f.p.gk.rule, "source", f.p.gk.source, "channel", f.p.gk.channel, "alerts", len(f.p.entries))
		}
	}
	finished := f.acked && f.p.over == nil
	if !finished && (err != nil || !next.IsZero()) && (f.progressed() || f.acked) {
		d.del.flights = append(d.del.flights, f)
	}
	return next, err
}

// observe advances the storms' clock and forgets what can no longer
// matter. Storm state can go once no entry can join it any more: measured
// from the oldest pending decision (the newest seen when none is pending).
func (d *Dispatcher) observe(es []engine.Notification, now time.Time) {
	ref := d.newest
	keys := map[engine.AlertKey]bool{}
	for i := range es {
		d.newest = maxTime(d.newest, es[i].Created)
		if i == 0 || es[i].Created.Before(ref) {
			ref = es[i].Created
		}
		keys[es[i].Key] = true
	}
	d.storms.prune(ref, d.o.StormWindow)
	d.del.prune(now, keys)
}

// planPass routes the entries, reads what the planner needs from the
// store (the alerts' messages, which of them are storms) and plans.
func (d *Dispatcher) planPass(ctx context.Context, es []engine.Notification) ([]*planned, error) {
	ps := make([]pending, len(es))
	refs := map[engine.AlertKey]engine.MessageRef{}
	seen := map[engine.AlertKey]bool{}
	for i := range es {
		ps[i] = pending{n: es[i], route: d.o.Router.Route(&es[i])}
		if ps[i].route.Channel == "" {
			ps[i].route.Channel = d.o.DefaultChannel
		}
		k := es[i].Key
		if seen[k] {
			continue // only each alert's oldest entry is planned: only its ref matters
		}
		seen[k] = true
		if es[i].Kind == engine.KindFiring {
			continue
		}
		ref, ok, err := d.o.Outbox.Ref(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("notifier: ref of %s: %w", k, err)
		}
		if !ok {
			continue
		}
		refs[k] = ref
		if err := d.knowStorm(ctx, ref); err != nil {
			return nil, err
		}
	}
	return d.plan.plan(ps, refs, d.storms, d.del.held(d.clock.Now())), nil
}

// knowStorm learns from the store whether ref is a storm's message the
// dispatcher does not remember (one from before a restart). Its tally is
// gone, so its message is never marked over, but members still thread
// under it.
func (d *Dispatcher) knowStorm(ctx context.Context, ref engine.MessageRef) error {
	if ref.TS == "" || d.groups == nil || d.storms.byRef[ref] != nil {
		return nil
	}
	_, ok, err := d.groups.GroupRef(ctx, groupRefKey(ref))
	if err != nil {
		return fmt.Errorf("notifier: storm message %s: %w", ref.TS, err)
	}
	if ok {
		d.storms.byRef[ref] = &storm{ref: ref}
	}
	return nil
}
