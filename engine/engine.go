package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultStaleAfter        = 5 * time.Minute
	DefaultResolvedRetention = 24 * time.Hour
	DefaultMaxFutureSkew     = 24 * time.Hour
)

// gcEvery is how far the sample clock advances between two garbage
// collections, so GC is not paid for on every page.
const gcEvery = time.Minute

// ErrNoRules is returned by Ingest before the first SetRules: evaluating
// against nothing would advance the cursors and lose those samples.
var ErrNoRules = errors.New("engine: no rules set yet")

// Options configures an Engine. Zero values take the defaults.
type Options struct {
	// Clock is the wall clock, used only for repeat_interval, silences,
	// Notification.Created and rate-limiting log lines. Default
	// SystemClock.
	Clock Clock
	// StaleAfter resolves a participant's alerts (ReasonStale) when its
	// source has a sample this much newer than the participant's last.
	StaleAfter time.Duration
	// ResolvedRetention is how long (in sample time) resolved alerts and
	// the cursors of quiet participants are kept, and how long (in wall
	// time) expired silences are kept, before they are collected.
	ResolvedRetention time.Duration
	Logger            *slog.Logger
	// MaxFutureSkew rejects samples timed further than this ahead of Now
	// (counted as invalid): one garbage far-future time would otherwise
	// make every participant of its webinar stale and let GC collect
	// everything. Default 24h; negative turns the check off.
	MaxFutureSkew time.Duration
	// Silences bounds what AddSilence accepts (zero fields: defaults).
	Silences SilenceLimits
}

// Engine evaluates samples against rules and runs the alert lifecycle.
// Every decision of a call is committed to the Store in one Commit before
// it is applied to memory. Safe for concurrent use; calls are serialized.
type Engine struct {
	mu    sync.Mutex
	store Store
	now   func() time.Time
	stale time.Duration
	keep  time.Duration
	skew  time.Duration // MaxFutureSkew; < 0: off
	limit SilenceLimits
	log   *slog.Logger

	rules    []Rule
	ruleIdx  map[string]int
	rulesSet bool
	// disabled are the rules whose evaluation failed: they are not
	// evaluated until the next SetRules.
	disabled       map[string]bool
	inhibitTargets map[string][]inhibitor // the rules' inhibitions by target rule; nil: none
	win            *windows               // the layout of the participants' rings; nil: no rule has a window
	sourceRules    bool                   // some rule has PerSource
	past           Past                   // the view Sample.Past points at while a windowed rule runs

	alerts   map[AlertKey]*Alert     // every record: pending, firing, resolving, resolved
	sources  map[string]*sourceState // by Source.Key()
	silences []silence
	lastGC   time.Time // sample clock of the last GC
	// lastNumber is the last Alert.Number given (Snapshot.LastNumber at
	// the start).
	lastNumber uint64
	wm         time.Time // the sample clock: the newest sample time seen

	lastSrc struct { // cache, so the hot path does not build Source.Key()
		kind SourceKind
		id   string
		st   *sourceState
	}
	scratch []int32 // sort order of a batch, reused
	tx      *tx     // reused by every call
	// invalidLogAt is when invalid samples were last logged, so a stream
	// of them is one line a minute.
	invalidLogAt time.Time

	stats counters
}

// sourceState is what the engine knows of one webinar or meeting.
type sourceState struct {
	key    string
	newest time.Time            // the newest sample time of any participant
	ended  time.Time            // EndSource's time: samples up to it are not evaluated
	seenAt time.Time            // the engine's sample clock when it last had a sample (or ended)
	src    Source               // as its newest sample described it, for source rules' alerts
	parts  map[string]partState // by Participant.Key(): the cursors
}

// partState is the live state of one tracked participant: its cursor and
// how many alert records it has (0 for most), so a participant without
// alerts costs no alert lookups.
type partState struct {
	last    time.Time
	nAlerts int32
	// attrs are the participant's attributes as its newest sample gave
	// them, for SharedCause; nil until a sample since the start. Shared
	// while unchanged, so most samples cost no allocation.
	attrs *keptAttrs
	// past is the participant's recent samples, for the rules with a
	// Window; nil without such rules, and after a restart until its
	// next sample (windows are memory, not stored).
	past *ring
}

type counters struct {
	samples, skipped, invalid       atomic.Uint64
	evals, evalErrs, renderErrs     atomic.Uint64
	commits, commitErrs             atomic.Uint64
	firing, repeat, resolved, quiet atomic.Uint64
	actions                         atomic.Uint64 // KindAction notifications decided
	inhibited                       atomic.Uint64
	disables                        map[string]uint64 // by rule; under Engine.mu
	dismissals                      map[string]uint64 // false positives by rule, as stored; under Engine.mu
}

// New returns an engine that starts from the store's snapshot. Call
// SetRules before the first Ingest.
func New(store Store, opts Options) (*Engine, error) {
	if store == nil {
		return nil, errors.New("engine: nil store")
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	e := &Engine{
		store:    store,
		now:      opts.Clock.Now,
		stale:    opts.StaleAfter,
		keep:     opts.ResolvedRetention,
		skew:     opts.MaxFutureSkew,
		limit:    opts.Silences.withDefaults(),
		log:      opts.Logger,
		ruleIdx:  map[string]int{},
		disabled: map[string]bool{},
		alerts:   map[AlertKey]*Alert{},
		sources:  map[string]*sourceState{},
	}
	e.stats.disables = map[string]uint64{}
	e.stats.dismissals = map[string]uint64{}
	if e.stale <= 0 {
		e.stale = DefaultStaleAfter
	}
	if e.keep <= 0 {
		e.keep = DefaultResolvedRetention
	}
	if e.skew == 0 {
		e.skew = DefaultMaxFutureSkew
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	snap, err := store.Load(context.Background())
	if err != nil {
		return nil, fmt.Errorf("engine: load state: %w", err)
	}
	for _, c := range snap.Cursors {
		st := e.source(c.Source)
		if c.Participant == "" { // the end mark EndSource leaves
			st.ended = laterOf(st.ended, c.Last)
			continue
		}
		st.parts[c.Participant] = partState{last: c.Last}
		if c.Last.After(st.newest) {
			st.newest = c.Last
		}
		if c.Last.After(e.wm) {
			e.wm = c.Last
		}
	}
	for i := range snap.Alerts {
		a := cloneAlert(&snap.Alerts[i])
		e.alerts[a.Key] = a
		e.lastNumber = max(e.lastNumber, a.Number)
		st := e.source(a.Key.Source)
		if a.Key.Participant == SourceParticipant {
			st.src = a.Source
			continue // a source rule's alert: no participant's
		}
		ps := st.parts[a.Key.Participant]
		ps.nAlerts++
		st.parts[a.Key.Participant] = ps
	}
	e.lastNumber = snap.LastNumber
	for rule, n := range snap.Dismissals {
		e.stats.dismissals[rule] = n
	}
	for _, s := range snap.Silences {
		c, err := compileSilence(s)
		if err != nil {
			return nil, fmt.Errorf("engine: stored %w", err)
		}
		e.silences = append(e.silences, c)
	}
	for _, st := range e.sources {
		st.seenAt = e.wm // as if just seen: GC waits a retention before calling it quiet
	}
	e.lastGC = e.wm
	return e, nil
}

// source returns the state of a source, creating it empty.
func (e *Engine) source(key string) *sourceState {
	st := e.sources[key]
	if st == nil {
		st = &sourceState{key: key, parts: map[string]partState{}}
		e.sources[key] = st
	}
	return st
}

// sourceOf is source() for a sample, without building the key string when
// the source is the same as the previous sample's.
func (e *Engine) sourceOf(s *Source) *sourceState {
	c := &e.lastSrc
	if c.st != nil && c.kind == s.Kind && c.id == s.ID {
		return c.st
	}
	st := e.source(s.Key())
	c.kind, c.id, c.st = s.Kind, s.ID, st
	return st
}

// SetRules swaps the rule set atomically. Alerts of rules that still exist
// keep their state (their severity and labels follow the new rule); alerts
// of removed rules resolve with ReasonRuleRemoved, notified if their
// firing was. Every rule runs again, those disabled for a failed
// evaluation too (fixed, or disabled again at their next failure).
func (e *Engine) SetRules(ctx context.Context, rules []Rule) error {
	idx := make(map[string]int, len(rules))
	for i, r := range rules {
		if err := validateRule(r); err != nil {
			return err
		}
		if _, dup := idx[r.Name]; dup {
			return fmt.Errorf("engine: rule %q: defined twice", r.Name)
		}
		idx[r.Name] = i
	}
	targets, err := inhibitors(rules, idx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.begin(0)
	old := e.ruleIdx
	oldRules := e.rules
	for _, k := range e.sortedKeys(func(a *Alert) bool { return true }) {
		a := e.alerts[k]
		ni, kept := idx[k.Rule]
		if kept {
			r := &rules[ni]
			if a.Severity != r.Severity || !maps.Equal(a.Labels, r.Labels) {
				m := t.mutable(e, k)
				m.Severity, m.Labels = r.Severity, r.Labels
			}
			continue
		}
		// The rule is gone. Use it for the message if we still have it.
		r := &Rule{Name: k.Rule, Severity: a.Severity, Labels: a.Labels}
		if oi, ok := old[k.Rule]; ok {
			r = &oldRules[oi]
		}
		if a.State == StateResolved {
			continue // collected by GC as usual
		}
		e.resolve(t, r, k, ReasonRuleRemoved, a.LastSample)
	}
	if err := e.commit(ctx, t); err != nil {
		return err
	}
	e.rules = slices.Clone(rules)
	e.ruleIdx = idx
	e.inhibitTargets = targets
	e.sourceRules = slices.ContainsFunc(rules, func(r Rule) bool { return r.Scope == PerSource })
	if w := windowsOf(rules); w == nil || e.win == nil || w.key != e.win.key {
		e.dropRings() // what the rings hold is not what the new rules read
		e.win = w
	}
	e.rulesSet = true
	for name := range e.disabled {
		e.log.Info("rule enabled again by the new rule set", "rule", name)
	}
	clear(e.disabled)
	return nil
}

// dropRings forgets every participant's recent samples.
func (e *Engine) dropRings() {
	for _, st := range e.sources {
		for pk, ps := range st.parts {
			if ps.past != nil {
				ps.past = nil
				st.parts[pk] = ps
			}
		}
	}
}

func validateRule(r Rule) error {
	switch {
	case r.Name == "":
		return errors.New("engine: a rule has no name")
	case r.When == nil:
		return fmt.Errorf("engine: rule %q: no when condition", r.Name)
	case r.For < 0, r.KeepFiringFor < 0, r.RepeatInterval < 0:
		return fmt.Errorf("engine: rule %q: negative duration", r.Name)
	case r.Scope == PerSource && r.Window == nil:
		return fmt.Errorf("engine: rule %q: a source rule needs a Window (what it reads of each participant)", r.Name)
	case r.Window != nil && (r.Window.Record == nil || r.Window.Span <= 0 || r.Window.Span > MaxWindowSpan):
		return fmt.Errorf("engine: rule %q: a window needs Record and a span from 1ns to %s", r.Name, MaxWindowSpan)
	}
	return nil
}

// EndSource resolves every alert of a source that ended (ReasonEnded, at
// the given time). Samples of the source at or before `at` are not
// evaluated any more (its cursors move to `at`), so a late page of the
// ended occurrence cannot open alerts that nothing would resolve; a later
// occurrence of a recurring webinar (same id, later samples) is evaluated
// as usual. The cursors are collected later by GC.
func (e *Engine) EndSource(ctx context.Context, src Source, at time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.begin(0)
	key := src.Key()
	for _, k := range e.sortedKeys(func(a *Alert) bool { return a.Key.Source == key && a.State != StateResolved }) {
		e.resolve(t, e.ruleFor(k), k, ReasonEnded, laterOf(at, e.alerts[k].LastSample))
	}
	st := e.source(key)
	for pk := range st.parts {
		ps, _ := t.part(st, pk)
		if ps.last.Before(at) {
			ps.last = at
			t.parts[partKey{st, pk}] = ps
			t.changes.Cursors = append(t.changes.Cursors, Cursor{Source: key, Participant: pk, Last: at})
		}
	}
	// The end mark: a cursor without a participant, so that after a
	// restart, late samples of participants never seen are skipped too.
	t.changes.Cursors = append(t.changes.Cursors, Cursor{Source: key, Last: laterOf(at, st.ended)})
	slices.SortFunc(t.changes.Cursors, func(a, b Cursor) int { return cmp.Compare(a.Participant, b.Participant) })
	// The occurrence's last minute, for the report: not again when Zoom
	// says twice that it ended (a webhook and a poll) with no sample since.
	if again := !st.ended.IsZero() && !st.newest.After(st.ended); !again {
		t.minute(key, at).m.EndedAt = at
	}
	t.ended = append(t.ended, srcTime{st, at})
	return e.commit(ctx, t)
}

// Tick does the wall-clock work for alerts that get no new sample: it
// tells firing alerts whose silence ended, sends repeats that are due, and
// collects expired silences. The daemon calls it once per poll.
func (e *Engine) Tick(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.collectSilences(ctx); err != nil {
		return err
	}
	if !e.rulesSet {
		return nil // no messages without the rules that shape them
	}
	t := e.begin(0)
	for _, k := range e.sortedKeys(func(a *Alert) bool { return a.State == StateFiring }) {
		r := e.ruleFor(k)
		e.remind(t, r, k, e.alerts[k].LastSample)
	}
	return e.commit(ctx, t)
}

// ruleFor returns the current rule of an alert key, or a stand-in built
// from the alert when its rule is not loaded (before the first SetRules).
func (e *Engine) ruleFor(k AlertKey) *Rule {
	if i, ok := e.ruleIdx[k.Rule]; ok {
		return &e.rules[i]
	}
	a := e.alerts[k]
	return &Rule{Name: k.Rule, Severity: a.Severity, Labels: a.Labels}
}

// sortedKeys returns the keys of the alerts in memory that match, sorted,
// so that what a call decides does not depend on map order.
func (e *Engine) sortedKeys(match func(*Alert) bool) []AlertKey {
	var keys []AlertKey
	for k, a := range e.alerts {
		if match(a) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

func compareKeys(a, b AlertKey) int {
	return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Participant, b.Participant))
}

// Hot returns the participants of a source (by Source.Key()) that have an
// open alert (pending, firing or resolving), sorted, each once: for a
// poller that watches them more closely. Cheaper than Alerts: nothing is
// copied but the keys.
func (e *Engine) Hot(sourceKey string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for k, a := range e.alerts {
		if k.Source == sourceKey && k.Participant != SourceParticipant && a.State != StateResolved && a.State != StateInactive {
			out = append(out, k.Participant)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Alerts returns a copy of every alert record, sorted by key. Sample is
// the latest sample of an active alert; Explain is what the last message
// showed (nil until one was sent), so Alerts stays cheap to call often.
func (e *Engine) Alerts() []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Alert, 0, len(e.alerts))
	for _, a := range e.alerts {
		out = append(out, *cloneAlert(a))
	}
	slices.SortFunc(out, func(a, b Alert) int { return compareKeys(a.Key, b.Key) })
	return out
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
