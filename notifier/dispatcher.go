// Package notifier tells people: it drains the engine's outbox, routes each
// notification to its channel, folds alert storms into one message,
// renders Block Kit, and delivers through a Sender (Slack, or the console)
// with a per-channel rate limit, 429 handling and retries. An entry leaves
// the outbox only once it was delivered (or failed for good), so a Slack
// outage of any length loses nothing.
package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

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

	// Now is the clock; Sleep waits d or until ctx is done. Both are
	// injected so tests run a long outage instantly.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	// ChannelInterval is the least time between two calls to one channel
	// (Slack allows about one message a second per channel). Default 1s;
	// negative means no limit (the console).
	ChannelInterval time.Duration
	// DefaultRetryAfter is how long a channel waits after a 429 that
	// carries no Retry-After. Default 30s.
	DefaultRetryAfter time.Duration
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
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
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

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// callFinish is how long Run lets a call in flight finish after its
// context is done: longer than a Slack call's own timeout (10s).
const callFinish = 15 * time.Second

// Dispatcher drains an outbox into a Sender. Run it in one goroutine.
type Dispatcher struct {
	o      Options
	r      *Renderer
	log    *slog.Logger
	groups GroupRefs // nil when the outbox does not remember groups
	wake   chan struct{}
	stats  stats

	mu sync.Mutex // one pass at a time
	// Per channel: the earliest time of the next call (limiter and 429),
	// keyed by channel id once known (chanID maps route names to ids).
	chanNext map[string]time.Time
	chanID   map[string]string
	// Per alert: when to retry after a transient failure, and the back-off.
	retry map[engine.AlertKey]retryState
	// Open storms by (rule, source, channel), and every storm message by ref.
	storms   map[stormKey]*storm
	stormRef map[engine.MessageRef]*storm
	// Firings posted one by one lately, by storm key: their Created times.
	recent map[stormKey][]time.Time
	// Permanent failures already logged, by channel and code.
	logged map[string]bool
	// authPaused is when delivery may try again after Slack refused the
	// credentials; zero while they work.
	authPaused time.Time
	// The newest Notification.Created seen: the storm windows' clock.
	newest time.Time
}

type retryState struct {
	next    time.Time
	backoff time.Duration
}

type stormKey struct{ rule, source, channel string }

// storm is a grouped message and what the dispatcher knows of its members.
type storm struct {
	key      stormKey
	ref      engine.MessageRef
	first    engine.Notification
	since    time.Time // the earliest Since of its members
	last     time.Time // the latest Created of its members: the window slides
	members  int
	resolved int
}

// New returns a dispatcher; it checks the options and applies defaults.
func New(o Options) (*Dispatcher, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	d := &Dispatcher{
		o: o, r: NewRenderer(o.Render), log: o.Logger,
		wake:     make(chan struct{}, 1),
		chanNext: map[string]time.Time{},
		chanID:   map[string]string{},
		retry:    map[engine.AlertKey]retryState{},
		storms:   map[stormKey]*storm{},
		stormRef: map[engine.MessageRef]*storm{},
		recent:   map[stormKey][]time.Time{},
		logged:   map[string]bool{},
	}
	d.groups, _ = o.Outbox.(GroupRefs)
	return d, nil
}

// Stats returns the counters since start.
func (d *Dispatcher) Stats() Stats { return d.stats.snapshot() }

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
			wait = min(max(next.Sub(d.o.Now()), 10*time.Millisecond), wait)
		}
		d.sleepOrWake(ctx, wait)
	}
}

func (d *Dispatcher) sleepOrWake(ctx context.Context, wait time.Duration) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-d.wake:
			cancel()
		case <-sctx.Done():
		}
	}()
	_ = d.o.Sleep(sctx, wait)
}

// Flush drains until the outbox is empty, waiting out rate limits and
// back-offs on the injected clock; for dry runs, demo and tests. It
// returns when the outbox is empty or ctx is done.
func (d *Dispatcher) Flush(ctx context.Context) error {
	for {
		next, err := d.Drain(ctx)
		if err != nil {
			return err
		}
		if next.IsZero() {
			return nil
		}
		if err := d.o.Sleep(ctx, max(next.Sub(d.o.Now()), time.Millisecond)); err != nil {
			return err
		}
	}
}

// pass is one look at the outbox: the entries, oldest first, and what this
// pass did with them.
type pass struct {
	es      []engine.Notification
	routes  []engine.Route
	prev    []int  // index of the previous entry of the same alert, or -1
	done    []bool // delivered or dead-lettered in this pass
	blocked map[engine.AlertKey]bool
	refs    map[engine.AlertKey]refResult
	next    time.Time // the earliest time something skipped can go
}

type refResult struct {
	ref engine.MessageRef
	ok  bool
}

func (p *pass) later(t time.Time) {
	if p.next.IsZero() || t.Before(p.next) {
		p.next = t
	}
}

// eligible reports whether entry j may go now: its alert is not held back
// in this pass and its own earlier entries are done, so an alert's
// messages never change order.
func (p *pass) eligible(j int) bool {
	return !p.done[j] && !p.blocked[p.es[j].Key] && (p.prev[j] < 0 || p.done[p.prev[j]])
}

// Drain makes one pass over the outbox: it sends what may go now and
// returns the earliest time something left behind may go (zero when the
// outbox is empty).
func (d *Dispatcher) Drain(ctx context.Context) (time.Time, error) { return d.drain(ctx, ctx) }

// drain is Drain that stops between entries when stop is done but makes
// its calls with ctx, so a message already on its way to Slack is
// finished and acked rather than cut off and posted again later.
func (d *Dispatcher) drain(stop, ctx context.Context) (time.Time, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	es, err := d.o.Outbox.Pending(ctx, d.o.BatchSize)
	if err != nil {
		return time.Time{}, fmt.Errorf("notifier: read outbox: %w", err)
	}
	d.stats.add(func(s *Stats) { s.Pending = len(es) })
	// Storm state can go once no entry can join it any more: measure from
	// the oldest pending decision (the newest seen when none is pending).
	ref := d.newest
	for i := range es {
		if es[i].Created.After(d.newest) {
			d.newest = es[i].Created
		}
		if i == 0 || es[i].Created.Before(ref) {
			ref = es[i].Created
		}
	}
	d.prune(d.o.Now(), ref)
	if len(es) == 0 {
		return time.Time{}, nil
	}
	if d.authPaused.After(d.o.Now()) {
		return d.authPaused, nil // the credentials were refused: wait, keep everything
	}
	p := &pass{
		es: es, routes: make([]engine.Route, len(es)), prev: make([]int, len(es)), done: make([]bool, len(es)),
		blocked: map[engine.AlertKey]bool{}, refs: map[engine.AlertKey]refResult{},
	}
	last := map[engine.AlertKey]int{}
	for i := range es {
		p.routes[i] = d.o.Router.Route(&es[i])
		if p.routes[i].Channel == "" {
			p.routes[i].Channel = d.o.DefaultChannel
		}
		p.prev[i] = -1
		if j, ok := last[es[i].Key]; ok {
			p.prev[i] = j
		}
		last[es[i].Key] = i
	}
	for i := range es {
		if stop.Err() != nil {
			return time.Time{}, stop.Err()
		}
		if p.done[i] {
			continue // went out with an earlier entry's storm or batch
		}
		if !p.eligible(i) {
			p.blocked[es[i].Key] = true
			continue
		}
		now := d.o.Now()
		if r, ok := d.retry[es[i].Key]; ok && r.next.After(now) {
			p.blocked[es[i].Key] = true
			p.later(r.next)
			continue
		}
		ch := p.routes[i].Channel
		if t := d.chanNext[d.limKey(ch)]; t.After(now) {
			p.blocked[es[i].Key] = true
			p.later(t)
			continue
		}
		if err := d.deliver(ctx, p, i); err != nil {
			return time.Time{}, err // the store failed; Run retries the pass
		}
	}
	for i := range es {
		if !p.done[i] {
			if p.next.IsZero() {
				p.next = d.o.Now() // something is left: look again soon
			}
			return p.next, nil
		}
	}
	return time.Time{}, nil
}

// ref returns the alert's recorded message, cached for the pass.
func (d *Dispatcher) ref(ctx context.Context, p *pass, k engine.AlertKey) (engine.MessageRef, bool, error) {
	if r, ok := p.refs[k]; ok {
		return r.ref, r.ok, nil
	}
	ref, ok, err := d.o.Outbox.Ref(ctx, k)
	if err != nil {
		return ref, false, fmt.Errorf("notifier: ref of %s: %w", k, err)
	}
	p.refs[k] = refResult{ref, ok}
	return ref, ok, nil
}

// stormOf returns the storm whose message ref is, if it is one.
func (d *Dispatcher) stormOf(ctx context.Context, ref engine.MessageRef) (*storm, bool, error) {
	if s, ok := d.stormRef[ref]; ok {
		return s, true, nil
	}
	if d.groups == nil || ref.TS == "" {
		return nil, false, nil
	}
	_, ok, err := d.groups.GroupRef(ctx, groupRefKey(ref))
	if err != nil || !ok {
		return nil, false, err
	}
	// A storm from before a restart: its tally is gone, so its message is
	// never marked over, but its members still thread under it.
	s := &storm{ref: ref}
	d.stormRef[ref] = s
	return s, true, nil
}

func groupRefKey(ref engine.MessageRef) string { return "storm/" + ref.Channel + "/" + ref.TS }

// prune forgets what can no longer matter, so a daemon that runs for
// months keeps its memory flat: storms no firing can join any more (their
// message refs stay until their members resolve), old single firings, and
// channel slots in the past. Storm windows are on the engine's decision
// times, so they are measured from one of those (ref), not from now.
func (d *Dispatcher) prune(now, ref time.Time) {
	gone := ref.Add(-2 * d.o.StormWindow)
	for k, s := range d.storms {
		if s.last.Before(gone) {
			delete(d.storms, k)
		}
	}
	for k, ts := range d.recent {
		if len(ts) == 0 || ts[len(ts)-1].Before(gone) {
			delete(d.recent, k)
		}
	}
	for k, t := range d.chanNext {
		if t.Before(now) {
			delete(d.chanNext, k)
		}
	}
}

// ready reports whether channel may take a call now; if not, entry i's
// alert waits for this pass and the pass looks again when it may.
func (d *Dispatcher) ready(p *pass, i int, channel string) bool {
	t := d.chanNext[d.limKey(channel)]
	if !t.After(d.o.Now()) {
		return true
	}
	p.blocked[p.es[i].Key] = true
	p.later(t)
	return false
}
