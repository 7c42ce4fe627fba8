package engine

// Stats is a snapshot of the engine's counters, for metrics.
type Stats struct {
	SamplesIngested uint64 // evaluated (committed)
	SamplesSkipped  uint64 // at or before the participant's cursor
	SamplesInvalid  uint64 // without source id, participant or time
	Evaluations     uint64 // rule conditions evaluated
	EvalErrors      uint64 // evaluations that failed (counted as not holding)
	RenderErrors    uint64 // summaries that failed to render
	Commits         uint64
	CommitErrors    uint64

	NotifiedFiring   uint64
	NotifiedRepeat   uint64
	NotifiedResolved uint64
	NotifiedAction   uint64 // responders' actions told (Act)
	Silenced         uint64 // notifications held back by a silence
	Inhibited        uint64 // firings held back by an inhibition (Rule.Inhibits)

	Pending, Firing, Resolving, Resolved int // alerts by state, now
	Participants                         int // tracked cursors
	Sources                              int
	Rules                                int
	Silences, ActiveSilences             int

	// For every loaded rule: the times a failed evaluation disabled it,
	// and whether it is disabled now (until a reload).
	RuleDisables map[string]uint64
	RuleDisabled map[string]bool
	// RuleDismissals are, for every loaded rule, the alerts responders
	// dismissed as not an issue (Act), as stored: they survive restarts.
	RuleDismissals map[string]uint64
}

// Stats returns the counters and the current alert counts.
func (e *Engine) Stats() Stats {
	c := &e.stats
	s := Stats{
		SamplesIngested: c.samples.Load(), SamplesSkipped: c.skipped.Load(), SamplesInvalid: c.invalid.Load(),
		Evaluations: c.evals.Load(), EvalErrors: c.evalErrs.Load(), RenderErrors: c.renderErrs.Load(),
		Commits: c.commits.Load(), CommitErrors: c.commitErrs.Load(),
		NotifiedFiring: c.firing.Load(), NotifiedRepeat: c.repeat.Load(), NotifiedResolved: c.resolved.Load(), NotifiedAction: c.actions.Load(),
		Silenced: c.quiet.Load(), Inhibited: c.inhibited.Load(),
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.alerts {
		switch a.State {
		case StatePending:
			s.Pending++
		case StateFiring:
			s.Firing++
		case StateResolving:
			s.Resolving++
		case StateResolved:
			s.Resolved++
		}
	}
	for _, st := range e.sources {
		s.Participants += len(st.parts)
		if len(st.parts) > 0 { // an empty one may be left by a failed call
			s.Sources++
		}
	}
	s.Rules = len(e.rules)
	s.RuleDisables = make(map[string]uint64, len(e.rules))
	s.RuleDisabled = make(map[string]bool, len(e.rules))
	s.RuleDismissals = make(map[string]uint64, len(e.rules))
	for i := range e.rules {
		name := e.rules[i].Name
		s.RuleDisables[name] = c.disables[name]
		s.RuleDisabled[name] = e.disabled[name]
		s.RuleDismissals[name] = c.dismissals[name]
	}
	s.Silences = len(e.silences)
	now := e.now()
	for i := range e.silences {
		if e.silences[i].activeAt(now) {
			s.ActiveSilences++
		}
	}
	return s
}
