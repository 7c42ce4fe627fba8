package engine

import (
	"math"
	"time"
)

// RuleScope says what one alert of a rule is about.
type RuleScope uint8

const (
	// PerParticipant: one alert per (rule, source, participant),
	// evaluated on each sample. The default.
	PerParticipant RuleScope = iota
	// PerSource: one alert per (rule, source), its participant key
	// empty, evaluated once each time the source's newest sample time
	// advances, on the source's current participants (Sample.Population).
	// Its Window says what is kept of each participant's newest sample.
	PerSource
)

// SourceParticipant is the participant key of a source rule's alert.
const SourceParticipant = ""

// Population is a source rule's view of its source's current participants
// (a sample within StaleAfter of the source's newest): the numbers its
// Window recorded from each one's newest sample. Set on the rule's
// sample (Sample.Population) while its conditions run.
type Population struct {
	e      *Engine
	t      *tx
	st     *sourceState
	off, n int
	cutoff time.Time
	fixed  []member // PopulationOf's: a list, not the engine's state
}

type member struct {
	key, name string
	vals      []float64
}

// PopulationOf is a source rule's view of participants given by their
// newest samples (one each), as the engine would keep them: for tools that
// evaluate a rule outside the engine (qoswatch explain).
func PopulationOf(w *Window, newest []Sample) *Population {
	p := &Population{fixed: []member{}}
	if w == nil || w.Record == nil {
		return p
	}
	for i := range newest {
		s := &newest[i]
		vals := make([]float64, w.Values)
		for j := range vals {
			vals[j] = math.NaN()
		}
		w.Record(s, vals)
		p.fixed = append(p.fixed, member{s.Participant.Key(), s.Participant.UserName, vals})
	}
	return p
}

// Each calls f with each current participant's key, name and the rule's
// numbers of its newest sample, in no particular order. f must not keep
// vals.
func (p *Population) Each(f func(key, name string, vals []float64)) {
	if p == nil {
		return
	}
	if p.fixed != nil {
		for _, m := range p.fixed {
			f(m.key, m.name, m.vals)
		}
		return
	}
	if p.st == nil {
		return
	}
	visit := func(pk string, ps partState) {
		if ps.past == nil || ps.past.n == 0 || ps.last.Before(p.cutoff) {
			return
		}
		e := ps.past.entry(ps.past.n - 1)
		f(pk, ps.past.name, e[1+p.off:1+p.off+p.n])
	}
	for pk := range p.st.parts {
		ps, _ := p.t.part(p.st, pk)
		visit(pk, ps)
	}
	for pk, ps := range p.t.parts {
		if _, old := p.st.parts[pk.part]; pk.st == p.st && !old {
			visit(pk.part, ps)
		}
	}
}

// Standing is one participant as a source rule ranks it: the worst first
// in its messages.
type Standing struct {
	Participant string  `json:"participant"` // the key (user_id)
	Name        string  `json:"name,omitempty"`
	Value       float64 `json:"value"`
	Field       string  `json:"field,omitempty"` // what Value is: "audio_output.avg_loss"
}

// Ranker is implemented by a source rule's condition that can say which
// participants weigh most in its verdict, worst first (at most n).
type Ranker interface {
	Worst(s *Sample, n int) []Standing
}

// WorstShown is how many participants a source rule's notification names.
const WorstShown = 5

// populationOf is a source rule's view of its source at sample time at.
func (e *Engine) populationOf(t *tx, r *Rule, st *sourceState, at time.Time) *Population {
	p := &Population{e: e, t: t, st: st, cutoff: at.Add(-e.stale)}
	if e.win != nil && r.Window != nil {
		p.off, p.n = e.win.offsets[r.Name], r.Window.Values
	}
	return p
}

// evaluateSources runs the source rules, once for each source whose
// newest sample time this call advanced, at that time.
func (e *Engine) evaluateSources(t *tx) {
	if !e.sourceRules {
		return
	}
	for _, nt := range t.newest {
		st := nt.st
		if !nt.t.After(st.newest) {
			continue
		}
		for i := range e.rules {
			r := &e.rules[i]
			if r.Scope != PerSource || e.isDisabled(t, r.Name) {
				continue
			}
			s := Sample{Source: st.src, Time: nt.t}
			s.Population = e.populationOf(t, r, st, nt.t)
			holds, err := eval(r.When, &s)
			t.evals++
			if err != nil {
				t.fail(r, &s, err)
				continue
			}
			k := AlertKey{Rule: r.Name, Source: st.key, Participant: SourceParticipant}
			if !holds && t.get(e, k) == nil {
				continue
			}
			var none partState // a source alert counts in no participant's alerts
			e.step(t, r, k, &none, &s, holds)
		}
	}
}

// sourceView sets what a source rule's Explain and Worst read on a copy of
// its alert's sample.
func (e *Engine) sourceView(t *tx, r *Rule, a *Alert, s *Sample) {
	if r.Scope != PerSource {
		return
	}
	if st := e.sources[a.Key.Source]; st != nil {
		s.Population = e.populationOf(t, r, st, s.Time)
	}
}
