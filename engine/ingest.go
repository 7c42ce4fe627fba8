package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Ingest evaluates a batch (one API page, one webhook) against the current
// rules and commits what it decided in one Store.Commit. Samples at or
// before their participant's cursor are skipped. When Commit fails, memory
// is left as it was and the same batch can be ingested again.
func (e *Engine) Ingest(ctx context.Context, batch []Sample) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.rulesSet {
		return ErrNoRules
	}
	t := e.begin(len(batch))
	order := e.sortBatch(batch, t.now)
	for start := 0; start < len(order); {
		end := start + 1
		first := &batch[order[start]]
		for end < len(order) && samePart(first, &batch[order[end]]) {
			end++
		}
		e.ingestParticipant(t, batch, order[start:end])
		start = end
	}
	e.evaluateSources(t)
	e.disableFailed(t)
	e.checkStale(t)
	e.gc(t)
	return e.commit(ctx, t)
}

// sortBatch returns the indexes of the valid samples of batch, grouped by
// (source, participant) and in time order within a participant.
func (e *Engine) sortBatch(batch []Sample, now time.Time) []int32 {
	order := e.scratch[:0]
	invalid := 0
	var future time.Time
	for i := range batch {
		s := &batch[i]
		if s.Source.ID == "" || s.Participant.Key() == "" || s.Time.IsZero() ||
			(e.skew > 0 && s.Time.Sub(now) > e.skew) {
			invalid++
			future = laterOf(future, s.Time)
			continue
		}
		order = append(order, int32(i))
	}
	if invalid > 0 {
		e.stats.invalid.Add(uint64(invalid))
		if now.Sub(e.invalidLogAt) >= time.Minute {
			e.invalidLogAt = now
			e.log.Warn("samples without source id, participant or time, or timed in the future, skipped",
				"count", invalid, "latest_time", future, "max_future_skew", e.skew)
		}
	}
	less := func(i, j int32) int {
		a, b := &batch[i], &batch[j]
		return cmp.Or(
			cmp.Compare(a.Source.Kind, b.Source.Kind),
			cmp.Compare(a.Source.ID, b.Source.ID),
			cmp.Compare(a.Participant.Key(), b.Participant.Key()),
			a.Time.Compare(b.Time),
		)
	}
	if !slices.IsSortedFunc(order, less) { // a page usually comes sorted
		slices.SortStableFunc(order, less)
	}
	e.scratch = order
	return order
}

func samePart(a, b *Sample) bool {
	return a.Source.Kind == b.Source.Kind && a.Source.ID == b.Source.ID &&
		a.Participant.Key() == b.Participant.Key()
}

// ingestParticipant runs one participant's samples of a batch, in time
// order, through every rule.
func (e *Engine) ingestParticipant(t *tx, batch []Sample, group []int32) {
	first := &batch[group[0]]
	st := e.sourceOf(&first.Source)
	if e.sourceRules && st.src != first.Source {
		st.src = first.Source // descriptive only: the source rules' alerts show it
	}
	pk := first.Participant.Key()
	ps, known := t.part(st, pk)
	// A sample older than the retention (on its source's clock) may be one
	// whose cursor GC collected: too old to matter, never evaluated twice.
	horizon := st.newest.Add(-e.keep)
	advanced := false
	// New in this occurrence: never seen, or last seen before it ended
	// (EndSource moved the cursor to the end).
	joined := !known || (!st.ended.IsZero() && !ps.last.After(st.ended))
	for _, i := range group {
		s := &batch[i]
		if (known && !s.Time.After(ps.last)) || !s.Time.After(st.ended) || (!known && s.Time.Before(horizon)) {
			t.skipped++ // seen already, of an occurrence that ended, or too old
			continue
		}
		known, advanced = true, true
		ps.last = s.Time
		t.samples++
		t.sawSource(st, s.Time)
		e.evaluate(t, st, pk, &ps, s, joined)
		joined = false
	}
	if advanced {
		if a := attrsOf(&batch[group[len(group)-1]].Participant); ps.attrs == nil || !ps.attrs.same(a) {
			ps.attrs = keep(a) // interned copies: the batch's memory is not kept alive
		}
		t.parts[partKey{st, pk}] = ps
		t.changes.Cursors = append(t.changes.Cursors, Cursor{Source: st.key, Participant: pk, Last: ps.last})
	}
	// The participant left: its newest sample carries leave_time. Checked
	// even when every sample was seen before, since Zoom adds leave_time to
	// minutes it already reported. A leave_time older than the newest
	// sample by more than a minute is a past session of a rejoin.
	newest := &batch[group[len(group)-1]]
	if lt := newest.Participant.LeaveTime; known && !lt.IsZero() && !lt.Before(ps.last.Add(-time.Minute)) {
		e.resolveParticipant(t, st, pk, ReasonLeft, laterOf(lt, ps.last))
	}
}

// evaluate runs one sample through every rule that is not disabled. The
// hot path: a participant without alert records whose conditions do not
// hold costs one Eval per rule and nothing else.
func (e *Engine) evaluate(t *tx, st *sourceState, pk string, ps *partState, s *Sample, joined bool) {
	m := t.minute(st.key, s.Time)
	degraded := false
	if e.win != nil {
		e.win.record(e.rules, ps, s)
	}
	for i := range e.rules {
		r := &e.rules[i]
		s.Past = nil
		if r.Scope == PerSource || e.isDisabled(t, r.Name) {
			continue
		}
		if r.Window != nil { // its conditions read the participant's recent samples
			e.past = Past{r: ps.past, off: e.win.offsets[r.Name]}
			s.Past = &e.past
		}
		holds, err := eval(r.When, s)
		t.evals++
		if err != nil {
			t.fail(r, s, fmt.Errorf("when: %w", err))
			continue
		}
		if holds {
			degraded = true
			e.ruleAt(m, r.Name).Degraded++
		}
		if !holds && ps.nAlerts == 0 {
			continue
		}
		k := AlertKey{Rule: r.Name, Source: st.key, Participant: pk}
		e.step(t, r, k, ps, s, holds)
		if a := t.get(e, k); a != nil && (a.State == StateFiring || a.State == StateResolving) {
			e.ruleAt(m, r.Name).Firing++
		}
		s.Past = nil
	}
	s.Past = nil
	m.countSample(s, joined, degraded)
}

// isDisabled reports whether a rule is off: disabled before, or by a
// failure earlier in this call.
func (e *Engine) isDisabled(t *tx, rule string) bool {
	if e.disabled[rule] {
		return true
	}
	_, off := t.disable[rule]
	return off
}

// fail records that evaluating a rule failed on a sample: the rule is
// disabled from here on (the rest of this call skips it; memory learns it
// with the commit), so one rule that errors or exceeds its budget costs
// nothing more and the others keep running.
func (t *tx) fail(r *Rule, s *Sample, err error) {
	t.evalErrs++
	if _, seen := t.disable[r.Name]; !seen {
		t.disable[r.Name] = ruleFailure{err: err, source: s.Source.Key(), participant: s.Participant.Key(), at: s.Time}
	}
}

// ruleFailure is why a rule was disabled: the error and the sample it
// failed on.
type ruleFailure struct {
	err                 error
	source, participant string
	at                  time.Time
}

// disableFailed resolves the open alerts of the rules this call disabled,
// with ReasonRuleDisabled (notified if their firing was): nothing
// evaluates them any more, so nothing could say when they are over.
func (e *Engine) disableFailed(t *tx) {
	if len(t.disable) == 0 {
		return
	}
	for _, k := range e.sortedKeys(func(a *Alert) bool { _, off := t.disable[a.Key.Rule]; return off }) {
		if a := t.get(e, k); a != nil {
			at := a.LastSample
			if s := t.touched[k]; s != nil { // a newer sample this call saw
				at = s.Time
			}
			e.resolve(t, e.ruleFor(k), k, ReasonRuleDisabled, at)
		}
	}
	// Alerts this call created before the rule failed.
	var fresh []AlertKey
	for k, a := range t.alerts {
		if _, off := t.disable[k.Rule]; off && a != nil && e.alerts[k] == nil {
			fresh = append(fresh, k)
		}
	}
	slices.SortFunc(fresh, compareKeys)
	for _, k := range fresh {
		e.resolve(t, e.ruleFor(k), k, ReasonRuleDisabled, t.alerts[k].LastSample)
	}
}

// eval runs a condition, turning a panic inside it (a bug in a rule
// function, say) into an error: one bad rule must not stop the engine.
func eval(c Condition, s *Sample) (ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			ok, err = false, fmt.Errorf("panic: %v", p)
		}
	}()
	return c.Eval(s)
}
