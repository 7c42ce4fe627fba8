package engine

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// tx is what one call decided, kept apart from memory until the store has
// committed it. Alerts are copied on first write; nil marks a deletion.
// An alert that only saw a newer sample (its state unchanged) is not
// copied nor committed: its sample is noted in touched and set in memory
// after the commit. In a storm this saves two copies of a large Alert per
// sample; the stored record keeps the sample of its last state change.
type tx struct {
	now     time.Time
	alerts  map[AlertKey]*Alert
	touched map[AlertKey]*Sample // a newer sample of an alert whose state did not change
	parts   map[partKey]partState
	newest  []srcTime // per source touched: the newest sample time
	changes Changes

	samples, skipped, evals, evalErrs, renderErrs, quiet uint64
	inhibited                                            uint64

	ended       []srcTime              // EndSource
	dropSources []*sourceState         // emptied by GC
	gcAt        time.Time              // sample clock of this call's GC, if it ran
	disable     map[string]ruleFailure // rules whose evaluation failed in this call
	silences    []silence              // set by this call (an action), compiled
	minutes     map[minuteKey]*tally   // what this call counted per source and minute (Changes.Minutes)
	lastNumber  uint64                 // the last Alert.Number given, as this call sees it
}

type partKey struct {
	st   *sourceState
	part string
}

type srcTime struct {
	st *sourceState
	t  time.Time
}

// begin starts a call's tx. The tx and its maps are reused (calls are
// serialized), so a page costs no map allocations; the Changes slices are
// fresh, since the store receives them.
func (e *Engine) begin(batchLen int) *tx {
	t := e.tx
	if t == nil {
		t = &tx{alerts: map[AlertKey]*Alert{}, touched: map[AlertKey]*Sample{}, parts: map[partKey]partState{},
			disable: map[string]ruleFailure{}}
		e.tx = t
	}
	if len(t.parts) > 4096 || len(t.alerts) > 4096 { // a huge call: do not keep its maps' size
		t.alerts, t.touched, t.parts = map[AlertKey]*Alert{}, map[AlertKey]*Sample{}, map[partKey]partState{}
	}
	clear(t.alerts)
	clear(t.touched)
	clear(t.parts)
	clear(t.disable)
	clear(t.minutes)
	*t = tx{now: e.now(), lastNumber: e.lastNumber, alerts: t.alerts, touched: t.touched, parts: t.parts, newest: t.newest[:0], disable: t.disable, minutes: t.minutes}
	if batchLen > 0 {
		t.changes.Cursors = make([]Cursor, 0, batchLen)
	}
	return t
}

// part returns a participant's state as this call sees it.
func (t *tx) part(st *sourceState, pk string) (partState, bool) {
	if ps, ok := t.parts[partKey{st, pk}]; ok {
		return ps, true
	}
	ps, ok := st.parts[pk]
	return ps, ok
}

// addAlerts changes a participant's count of alert records.
func (t *tx) addAlerts(st *sourceState, pk string, n int32) {
	ps, _ := t.part(st, pk)
	ps.nAlerts += n
	t.parts[partKey{st, pk}] = ps
}

func (t *tx) sawSource(st *sourceState, at time.Time) {
	for i := range t.newest {
		if t.newest[i].st == st {
			if at.After(t.newest[i].t) {
				t.newest[i].t = at
			}
			return
		}
	}
	t.newest = append(t.newest, srcTime{st, laterOf(st.newest, at)})
}

// get returns the alert as this call sees it (nil: none).
func (t *tx) get(e *Engine, k AlertKey) *Alert {
	if a, ok := t.alerts[k]; ok {
		return a
	}
	return e.alerts[k]
}

// eachAlert calls f with every alert record as this call sees it, in no
// particular order.
func (t *tx) eachAlert(e *Engine, f func(*Alert)) {
	for k, a := range e.alerts {
		if b, ok := t.alerts[k]; ok {
			a = b
		}
		if a != nil {
			f(a)
		}
	}
	for k, a := range t.alerts {
		if _, old := e.alerts[k]; a != nil && !old {
			f(a)
		}
	}
}

// mutable returns this call's copy of an existing alert.
func (t *tx) mutable(e *Engine, k AlertKey) *Alert {
	if a, ok := t.alerts[k]; ok && a != nil {
		return a
	}
	c := *e.alerts[k]
	if s := t.touched[k]; s != nil {
		observe(&c, s)
		delete(t.touched, k)
	}
	t.alerts[k] = &c
	return &c
}

// set puts a new record (or a deletion, nil) in the tx.
func (t *tx) set(k AlertKey, a *Alert) {
	t.alerts[k] = a
	delete(t.touched, k)
}

// touch records a newer sample of an alert whose state does not change.
func (t *tx) touch(k AlertKey, s *Sample) {
	if a := t.alerts[k]; a != nil {
		observe(a, s) // this call's copy: update it
		return
	}
	t.touched[k] = s
}

// SampleSpan is the time one sample describes. Zoom's QoS, polled or
// pushed by QSS, is per minute: the sample stamped t (its date_time) is the
// minute from t to t+1m, and Zoom can only send it once that minute is
// over. So the lifecycle counts the time the samples cover: `for: 2m`
// fires on the second bad minute (samples t and t+1 cover t to t+2m),
// `keep_firing_for: 2m` resolves on the second good one, and `for` or
// `keep_firing_for` of at most a minute acts on the first sample.
const SampleSpan = time.Minute

// covered is how long samples from since up to the one stamped at describe.
func covered(since, at time.Time) time.Duration { return at.Add(SampleSpan).Sub(since) }

// step moves one alert through the lifecycle for one sample on which
// `when` holds or not. Time is the sample's.
func (e *Engine) step(t *tx, r *Rule, k AlertKey, ps *partState, s *Sample, holds bool) {
	cur := t.get(e, k)
	at := s.Time
	if cur != nil && cur.State == StateResolved && cur.Reason == ReasonDismissed && cur.ClearSince.IsZero() {
		// Dismissed as not an issue: quiet while the condition keeps
		// holding; once it stops, the next time it holds is a new alert.
		if !holds {
			m := t.mutable(e, k)
			observe(m, s)
			m.ClearSince = at
		} else {
			t.touch(k, s)
		}
		return
	}
	if cur == nil || cur.State == StateResolved || cur.State == StateInactive {
		if !holds {
			return
		}
		t.lastNumber++
		a := &Alert{
			Key: k, Number: t.lastNumber, State: StatePending, Severity: r.Severity, Labels: r.Labels,
			ActiveSince: at, Source: s.Source, Participant: s.Participant,
		}
		if cur == nil {
			ps.nAlerts++
		}
		observe(a, s)
		t.set(k, a)
		if covered(at, at) >= r.For {
			e.fire(t, r, a, at)
		}
		return
	}
	switch cur.State {
	case StatePending:
		switch {
		case !holds:
			t.drop(e, k, ps)
		case covered(cur.ActiveSince, at) >= r.For:
			a := t.mutable(e, k)
			observe(a, s)
			e.fire(t, r, a, at)
		default:
			t.touch(k, s)
		}
	case StateFiring, StateResolving:
		if holds || !e.clears(t, r, s) {
			// Still (or again) firing; in the band between clear and
			// when too. Back from resolving is not told again.
			if cur.State == StateResolving {
				a := t.mutable(e, k)
				observe(a, s)
				a.State, a.ClearSince = StateFiring, time.Time{}
			} else {
				t.touch(k, s)
			}
			e.remind(t, r, k, at)
			return
		}
		if cur.State == StateFiring {
			a := t.mutable(e, k)
			observe(a, s)
			a.State, a.ClearSince = StateResolving, at
			cur = a
		} else {
			t.touch(k, s)
		}
		if covered(cur.ClearSince, at) >= r.KeepFiringFor {
			e.resolve(t, r, k, ReasonRecovered, at)
		}
	}
}

// clears reports whether a firing alert's condition is over on s: `clear`
// holds, or, without `clear`, `when` does not.
func (e *Engine) clears(t *tx, r *Rule, s *Sample) bool {
	if r.Clear == nil {
		return true
	}
	ok, err := eval(r.Clear, s)
	t.evals++
	if err != nil {
		t.fail(r, s, fmt.Errorf("clear: %w", err))
		return false // not a recovery; the rule's alerts resolve as disabled
	}
	return ok
}

// observe records the latest sample of an active alert.
func observe(a *Alert, s *Sample) {
	a.LastSample = s.Time
	a.Sample = *s
	a.Sample.Past, a.Sample.Population = nil, nil // the views are the engine's, valid while the rule runs
	a.Source, a.Participant = s.Source, s.Participant
	// Explain allocates: it is computed only when a message is sent.
}

// drop deletes a pending alert whose condition stopped holding: an
// inactive pair keeps no record.
func (t *tx) drop(e *Engine, k AlertKey, ps *partState) {
	if _, inMemory := e.alerts[k]; inMemory {
		t.set(k, nil)
	} else {
		delete(t.alerts, k)
		delete(t.touched, k)
	}
	if ps != nil {
		ps.nAlerts--
	} else if k.Participant != SourceParticipant {
		st := e.sources[k.Source]
		t.addAlerts(st, k.Participant, -1)
	}
}

// fire makes an alert firing and tells it unless a silence holds it back.
func (e *Engine) fire(t *tx, r *Rule, a *Alert, at time.Time) {
	a.State, a.FiredAt, a.ClearSince, a.Notified, a.LastNotified = StateFiring, at, time.Time{}, false, time.Time{}
	a.ResolvedAt, a.Reason, a.InhibitedBy = time.Time{}, "", nil
	a.AckedBy, a.AckedByName, a.AckedAt = "", "", time.Time{}
	rm := e.ruleAt(t.minute(a.Key.Source, at), r.Name)
	rm.Started = append(rm.Started, Who{Key: a.Key.Participant, Name: a.Participant.UserName})
	e.remind(t, r, a.Key, at)
	if !a.Notified {
		t.quiet++ // held back by a silence; told when the silence ends
	}
}

// remind tells a firing alert that was not told yet (a silence held it
// back), or repeats it when repeat_interval has passed on the wall clock.
func (e *Engine) remind(t *tx, r *Rule, k AlertKey, at time.Time) {
	a := t.get(e, k)
	if a.State != StateFiring {
		return
	}
	kind := KindFiring
	if a.Notified {
		if e.ackExpired(t, r, k, at) {
			return // acknowledged: no repeats (an expired ack was just told)
		}
		if r.RepeatInterval <= 0 || t.now.Before(a.LastNotified.Add(r.RepeatInterval)) {
			return
		}
		kind = KindRepeat
	}
	if e.silenced(a, t.now) || (!a.Notified && e.stillInhibited(t, a)) {
		return
	}
	a = t.mutable(e, k)
	a.Notified, a.LastNotified, a.InhibitedBy = true, t.now, nil
	e.notify(t, kind, r, a, at, "")
}

// resolve ends an alert with a reason. A pending alert just goes away; a
// firing or resolving one becomes resolved and, if its firing was told,
// the resolution is told too (even under a silence, so the first message
// never stays "firing").
func (e *Engine) resolve(t *tx, r *Rule, k AlertKey, why Reason, at time.Time) {
	a := t.get(e, k)
	if a == nil || a.State == StateResolved {
		return
	}
	if a.State == StatePending {
		t.drop(e, k, nil)
		return
	}
	a = t.mutable(e, k)
	a.State, a.ResolvedAt, a.Reason = StateResolved, at, why
	e.ruleAt(t.minute(k.Source, at), r.Name).Ended++
	if a.Notified {
		e.notify(t, KindResolved, r, a, at, why)
	}
}

// resolveParticipant resolves every open alert of one participant.
func (e *Engine) resolveParticipant(t *tx, st *sourceState, pk string, why Reason, at time.Time) {
	ps, _ := t.part(st, pk)
	if ps.nAlerts == 0 {
		return
	}
	for i := range e.rules {
		r := &e.rules[i]
		e.resolve(t, r, AlertKey{Rule: r.Name, Source: st.key, Participant: pk}, why, at)
	}
}

// notify queues a notification carrying everything the message needs.
func (e *Engine) notify(t *tx, kind NotificationKind, r *Rule, a *Alert, at time.Time, why Reason) {
	var fired []Term
	var worst []Standing
	if kind == KindResolved {
		fired = a.Explain // as the last firing or repeat told it
	}
	if r.When != nil { // nil for a rule removed before a restart
		s := a.Sample
		s.Past = e.pastOf(t, r, a.Key)
		e.sourceView(t, r, a, &s)
		a.Explain = explain(r.When, &s)
		if rk, ok := r.When.(Ranker); ok && r.Scope == PerSource {
			worst = rk.Worst(&s, WorstShown)
		}
	}
	n := Notification{
		Kind: kind, Key: a.Key, Number: a.Number,
		Rule:   RuleInfo{Name: r.Name, Description: r.Description, Severity: r.Severity, Labels: r.Labels, For: r.For},
		Source: a.Source, Participant: a.Participant, Sample: a.Sample, Explain: a.Explain,
		Since: a.FiredAt, At: at, Reason: why, Created: t.now, Fired: fired, Worst: worst,
	}
	if n.Rule.Severity == "" {
		n.Rule.Severity = a.Severity
	}
	if r.Summary != nil {
		s, err := r.Summary.Render(&n)
		if err != nil {
			t.renderErrs++
			e.log.Warn("summary failed to render; sending without it", "rule", r.Name, "alert", a.Key.String(), "err", err)
		} else {
			n.Summary = s
		}
	}
	t.changes.Notifications = append(t.changes.Notifications, n)
	if e.log.Enabled(context.Background(), slog.LevelDebug) {
		e.log.Debug("notification decided", "kind", kind, "alert", a.Key.String(), "at", at, "reason", why)
	}
}

// checkStale resolves (ReasonStale) the open alerts of participants whose
// source has a sample more than StaleAfter newer than theirs. Only the
// source's newest time can make a participant stale, so it runs when that
// advanced in this call.
func (e *Engine) checkStale(t *tx) {
	for _, nt := range t.newest {
		if !nt.t.After(nt.st.newest) {
			continue
		}
		src := nt.st.key
		var keys []AlertKey
		t.eachAlert(e, func(a *Alert) {
			if a.Key.Source == src && a.Key.Participant != SourceParticipant && a.State != StateResolved { // a source alert is never stale
				keys = append(keys, a.Key)
			}
		})
		slices.SortFunc(keys, compareKeys)
		for _, k := range keys {
			ps, _ := t.part(nt.st, k.Participant)
			if nt.t.Sub(ps.last) > e.stale {
				e.resolve(t, e.ruleFor(k), k, ReasonStale, ps.last.Add(e.stale))
			}
		}
	}
}

// gc collects, once per gcEvery of sample time, resolved alerts and the
// cursors of participants without alerts older than the retention.
// Everything is measured on sample time, so a replay collects as the live
// run did.
func (e *Engine) gc(t *tx) {
	wm := e.wm
	for _, nt := range t.newest {
		wm = laterOf(wm, nt.t)
	}
	if wm.Sub(e.lastGC) < gcEvery {
		return
	}
	horizon := wm.Add(-e.keep)
	old := func(a *Alert) bool { return a.State == StateResolved && a.ResolvedAt.Before(horizon) }
	for _, k := range e.sortedKeys(old) {
		if a := t.get(e, k); a != nil && old(a) { // as this call sees it
			t.drop(e, k, nil)
		}
	}
	// Cursors: a participant quiet for the retention on its own source's
	// clock (a webinar replayed a day late keeps its cursors), or every
	// participant of a source that has sent nothing while the engine's
	// clock moved on by the retention (ended, or gone).
	for _, st := range e.sources {
		quiet := st.seenAt.Before(horizon)
		own := st.newest
		for _, nt := range t.newest {
			if nt.st == st {
				own, quiet = laterOf(own, nt.t), false
			}
		}
		ownHorizon := own.Add(-e.keep)
		kept := 0
		for pk, mem := range st.parts {
			ps, _ := t.part(st, pk)
			if !ps.last.Equal(mem.last) {
				kept++ // advanced by this call: never in Cursors and DeletedCursors at once
				continue
			}
			if ps.nAlerts == 0 && (quiet || ps.last.Before(ownHorizon)) {
				t.changes.DeletedCursors = append(t.changes.DeletedCursors, Cursor{Source: st.key, Participant: pk})
				continue
			}
			kept++
		}
		if kept == 0 && quiet {
			t.dropSources = append(t.dropSources, st)
			if !st.ended.IsZero() {
				t.changes.DeletedCursors = append(t.changes.DeletedCursors, Cursor{Source: st.key}) // its end mark
			}
		}
	}
	slices.SortFunc(t.changes.DeletedCursors, func(a, b Cursor) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Participant, b.Participant))
	})
	t.gcAt = wm
}

// commit hands what the call decided to the store in one Commit, and only
// when that succeeded applies it to memory.
func (e *Engine) commit(ctx context.Context, t *tx) error {
	c := &t.changes
	e.inhibit(t)
	e.attribute(t)
	e.endSilences(t)
	e.tallyChanges(t)
	for k, a := range t.alerts {
		if a != nil {
			c.Alerts = append(c.Alerts, *a)
		} else {
			c.Deleted = append(c.Deleted, k)
		}
	}
	slices.SortFunc(c.Alerts, func(a, b Alert) int { return compareKeys(a.Key, b.Key) })
	slices.SortFunc(c.Deleted, compareKeys)
	if len(c.Alerts)+len(c.Deleted)+len(c.Cursors)+len(c.Notifications)+len(c.DeletedCursors)+
		len(c.Silences)+len(c.Actions)+len(c.Dismissals)+len(c.Minutes) > 0 {
		if err := e.store.Commit(ctx, *c); err != nil {
			e.stats.commitErrs.Add(1)
			return fmt.Errorf("engine: commit: %w", err)
		}
		e.stats.commits.Add(1)
	}
	e.apply(t)
	return nil
}

// apply makes a committed call's decisions the engine's memory.
func (e *Engine) apply(t *tx) {
	for k, a := range t.alerts {
		if a == nil {
			delete(e.alerts, k)
		} else {
			e.alerts[k] = a
		}
	}
	for k, s := range t.touched {
		if a := e.alerts[k]; a != nil {
			observe(a, s) // memory's own record, committed already
		}
	}
	for pk, ps := range t.parts {
		if _, ok := pk.st.parts[pk.part]; !ok {
			pk.part = strings.Clone(pk.part) // do not keep the batch's memory alive
		}
		pk.st.parts[pk.part] = ps
	}
	for _, nt := range t.newest {
		nt.st.newest = laterOf(nt.st.newest, nt.t)
		e.wm = laterOf(e.wm, nt.t)
	}
	for _, nt := range t.newest {
		nt.st.seenAt = e.wm
	}
	for _, en := range t.ended {
		en.st.ended = laterOf(en.st.ended, en.t)
		en.st.seenAt = e.wm
	}
	for _, c := range t.changes.DeletedCursors {
		if st := e.sources[c.Source]; st != nil {
			delete(st.parts, c.Participant)
		}
	}
	for _, st := range t.dropSources {
		if len(st.parts) == 0 {
			delete(e.sources, st.key)
			if e.lastSrc.st == st {
				e.lastSrc.st = nil
			}
		}
	}
	if !t.gcAt.IsZero() {
		e.lastGC = t.gcAt
	}
	e.lastNumber = t.lastNumber
	for name, f := range t.disable {
		e.disabled[name] = true
		e.stats.disables[name]++
		e.log.Error("rule disabled: evaluating it failed; the other rules keep running, a rules reload enables it again",
			"rule", name, "source", f.source, "participant", f.participant, "sample_time", f.at, "err", f.err)
	}
	for _, sl := range t.changes.Silences { // ended ones: the new ones are in t.silences
		if i := slices.IndexFunc(e.silences, func(x silence) bool { return x.ID == sl.ID }); i >= 0 {
			e.silences[i].Silence = cloneSilence(sl)
		}
	}
	for _, sl := range t.silences {
		e.silences = append(e.silences, sl)
	}
	for _, rule := range t.changes.Dismissals {
		e.stats.dismissals[rule]++
	}
	for _, n := range t.changes.Notifications {
		switch n.Kind {
		case KindFiring:
			e.stats.firing.Add(1)
		case KindRepeat:
			e.stats.repeat.Add(1)
		case KindResolved:
			e.stats.resolved.Add(1)
		case KindAction:
			e.stats.actions.Add(1)
		}
	}
	c := &e.stats
	c.samples.Add(t.samples)
	c.skipped.Add(t.skipped)
	c.evals.Add(t.evals)
	c.evalErrs.Add(t.evalErrs)
	c.renderErrs.Add(t.renderErrs)
	c.quiet.Add(t.quiet)
	c.inhibited.Add(t.inhibited)
}

// cloneAlert deep-copies an alert, so callers and stores cannot alias the
// engine's memory.
func cloneAlert(a *Alert) *Alert {
	c := *a
	c.Labels = maps.Clone(a.Labels)
	c.Explain = slices.Clone(a.Explain)
	if a.InhibitedBy != nil {
		k := *a.InhibitedBy
		c.InhibitedBy = &k
	}
	return &c
}

// explain is Condition.Explain; a panic inside it leaves the message
// without its terms rather than stopping the engine.
func explain(c Condition, s *Sample) (terms []Term) {
	defer func() {
		if recover() != nil {
			terms = nil
		}
	}()
	return c.Explain(s)
}
