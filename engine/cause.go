package engine

import (
	"fmt"
	"math"
	"strings"
	"unique"
)

// When a value of an attribute is "clearly" what the affected participants
// share. All three must hold, so a hint is rare and worth reading:
//   - it covers most of the affected (80%): a cause that explains only half
//     of a storm is not "the" cause, and two causes split 50/50 say nothing;
//   - it is at least 3 times as common among the affected as among the
//     other participants of the source: a value everybody has (everyone on
//     Zoom 6.2, everyone in one data centre) is no explanation;
//   - at least 5 participants are affected: 2 of 2 on Wi-Fi is chance.
const (
	CauseMinAffected = 5
	CauseMinCoverage = 0.8
	CauseMinRatio    = 3.0
)

// causeValueLen bounds what the engine keeps of one attribute value per
// participant (Zoom's values are short; a longer one is cut, not kept).
const causeValueLen = 64

// Cause is an attribute value the affected participants of a source share
// far more than the others: a likely shared cause of a storm.
type Cause struct {
	Attribute string `json:"attribute"` // "data_center", "location", "network_type", "client_version", "device"
	Value     string `json:"value"`     // as Zoom gave it
	Affected  int    `json:"affected"`  // affected participants with the value
	Of        int    `json:"of"`        // affected participants in all
	Others    int    `json:"others"`    // other participants with the value
	OthersOf  int    `json:"others_of"` // other participants in all
}

// causeAttrs are the attributes compared, in the order a tie is broken.
var causeAttrs = [...]struct {
	name, words string
}{
	{"data_center", "data centre"},
	{"location", "location"},
	{"network_type", "network"},
	{"client_version", "client version"},
	{"device", "device"},
}

// attrs are a participant's attribute values, in causeAttrs order.
type attrs [len(causeAttrs)]string

// keptAttrs is what the engine keeps of a participant for attribution:
// interned values (unique), so a webinar of 10,000 people in a dozen
// places, networks and versions holds each value once, and a participant
// costs a pointer to 5 handles.
type keptAttrs [len(causeAttrs)]unique.Handle[string]

func keep(a attrs) *keptAttrs {
	var k keptAttrs
	for i, v := range a {
		k[i] = unique.Make(v)
	}
	return &k
}

// same reports whether a participant's kept values are still a.
func (k *keptAttrs) same(a attrs) bool {
	for i, v := range a {
		if k[i].Value() != v {
			return false
		}
	}
	return true
}

func (k *keptAttrs) values() attrs {
	var a attrs
	for i, h := range k {
		a[i] = h.Value()
	}
	return a
}

func attrsOf(p *Participant) attrs {
	return attrs{
		clipValue(p.DataCenter),
		clipValue(p.Location),
		clipValue(p.NetworkType),
		clipValue(strings.TrimSpace(p.Client + " " + p.Version)),
		clipValue(p.Device),
	}
}

func clipValue(s string) string {
	if len(s) > causeValueLen {
		s = strings.ToValidUTF8(s[:causeValueLen], "")
	}
	return s
}

// unknownValue is a value that says nothing about a participant: never a
// cause, whatever its counts.
func unknownValue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "unknown", "-", "n/a", "na", "none", "null", "other", "others":
		return true
	}
	return false
}

// Words is the attribute in plain words: "data centre".
func (c Cause) Words() string {
	for _, a := range causeAttrs {
		if a.name == c.Attribute {
			return a.words
		}
	}
	return c.Attribute
}

// String is the hint in plain words: "Likely shared cause: data centre
// São Paulo — 58 of 60 affected, 3% of the other 940."
func (c Cause) String() string {
	return "Likely shared cause: " + c.Words() + " " + c.Value + " — " + c.Counts() + "."
}

// Counts is how the value splits the source: "58 of 60 affected, 3% of
// the other 940".
func (c Cause) Counts() string {
	return fmt.Sprintf("%d of %d affected, %s of the other %d", c.Affected, c.Of, percent(c.Others, c.OthersOf), c.OthersOf)
}

// percent rounds, but never says 0% of something nor 100% of less than all.
func percent(n, of int) string {
	if of == 0 {
		return "0%"
	}
	p := math.Round(100 * float64(n) / float64(of))
	switch {
	case p == 0 && n > 0:
		return "<1%"
	case p == 100 && n < of:
		return ">99%"
	}
	return fmt.Sprintf("%.0f%%", p)
}

// SharedCause compares the affected participants of a source with the
// other participants of the same source on each attribute Zoom gives, and
// returns the value the affected share far more than the others (see
// CauseMinCoverage, CauseMinRatio, CauseMinAffected), when one does. Blank
// and "unknown" values are never a cause. Among several, the strongest:
// the one covering most of the affected, then the rarest among the others.
func SharedCause(affected, others []Participant) (Cause, bool) {
	a := make([]attrs, len(affected))
	for i := range affected {
		a[i] = attrsOf(&affected[i])
	}
	o := make([]attrs, len(others))
	for i := range others {
		o[i] = attrsOf(&others[i])
	}
	return sharedCause(a, o)
}

func sharedCause(affected, others []attrs) (Cause, bool) {
	return pickCause(affected, func() int { return len(others) }, func(attr int, v string) int {
		n := 0
		for _, p := range others {
			if p[attr] == v {
				n++
			}
		}
		return n
	})
}

// pickCause is sharedCause's decision, asking about the others only when
// a value covers enough of the affected: how many they are (othersOf, at
// most once) and how many of them have that value.
func pickCause(affected []attrs, othersOf func() int, othersWith func(attr int, v string) int) (Cause, bool) {
	if len(affected) < CauseMinAffected {
		return Cause{}, false // too few to tell chance from a cause
	}
	nOthers := -1
	var best Cause
	found := false
	for i, at := range causeAttrs {
		counts := map[string]int{}
		for _, p := range affected {
			if !unknownValue(p[i]) {
				counts[p[i]]++
			}
		}
		for v, n := range counts {
			if n < CauseMinAffected || float64(n) < CauseMinCoverage*float64(len(affected)) {
				continue
			}
			if nOthers < 0 {
				nOthers = othersOf()
			}
			if nOthers == 0 {
				return Cause{}, false // nobody to compare with
			}
			c := Cause{Attribute: at.name, Value: v, Affected: n, Of: len(affected), OthersOf: nOthers, Others: othersWith(i, v)}
			// share among affected >= ratio × share among others, in integers
			if float64(n)*float64(c.OthersOf) < CauseMinRatio*float64(c.Others)*float64(c.Of) {
				continue
			}
			if !found || stronger(c, best) {
				best, found = c, true
			}
		}
	}
	return best, found
}

// stronger: covers more of the affected, then rarer among the others; an
// exact tie keeps the earlier attribute (the loop's order).
func stronger(c, than Cause) bool {
	if c.Affected != than.Affected {
		return c.Affected > than.Affected
	}
	if c.Others != than.Others {
		return c.Others < than.Others
	}
	return c.Attribute == than.Attribute && c.Value < than.Value
}

// attribute sets the Cause of this call's firing notifications. For each
// (rule, source) among them it is computed once: the participants firing
// (or resolving) that rule in the source, against the source's other
// current participants (a sample within StaleAfter of the source's newest,
// so those who left long ago do not count). Participants whose alert of
// the rule is pending are in neither group: a storm still arriving would
// otherwise count its own next members as unaffected.
func (e *Engine) attribute(t *tx) {
	type ruleSource struct{ rule, source string }
	var done map[ruleSource]*Cause
	for i := range t.changes.Notifications {
		n := &t.changes.Notifications[i]
		if n.Kind != KindFiring {
			continue
		}
		k := ruleSource{n.Key.Rule, n.Key.Source}
		c, ok := done[k]
		if !ok {
			if done == nil {
				done = map[ruleSource]*Cause{}
			}
			c = e.causeOf(t, k.rule, k.source)
			done[k] = c
		}
		if c != nil {
			cc := *c
			n.Cause = &cc
		}
	}
}

// causeOf is SharedCause for a rule in a source, as this call sees it.
// The affected and the pending come from the rule's alerts (a few); the
// source's participants (thousands) are walked only when a value covers
// most of the affected, to count who else has it.
func (e *Engine) causeOf(t *tx, rule, source string) *Cause {
	st := e.sources[source]
	if st == nil {
		return nil
	}
	newest := st.newest
	for _, nt := range t.newest {
		if nt.st == st {
			newest = laterOf(newest, nt.t)
		}
	}
	cutoff := newest.Add(-e.stale)
	// counted is a participant's kept values when it is one of the source's
	// current participants (a sample within StaleAfter of the newest).
	counted := func(ps partState) *keptAttrs {
		if ps.attrs == nil || ps.last.Before(cutoff) {
			return nil
		}
		return ps.attrs
	}
	var affected []attrs
	var left []*keptAttrs // the affected and the pending: not among the others
	t.eachAlert(e, func(a *Alert) {
		if a.Key.Rule != rule || a.Key.Source != source {
			return
		}
		ps, _ := t.part(st, a.Key.Participant)
		k := counted(ps)
		if k == nil {
			return
		}
		switch a.State {
		case StateFiring, StateResolving:
			affected = append(affected, k.values())
		case StatePending: // about to fire, or a blip: not "unaffected"
		default:
			return
		}
		left = append(left, k)
	})
	// each calls f with the kept values of every current participant of
	// the source as this call sees them: memory's, then, for what this call
	// changed, memory's taken back (-1) and the call's (+1).
	each := func(f func(k *keptAttrs, w int)) {
		for _, ps := range st.parts {
			if k := counted(ps); k != nil {
				f(k, 1)
			}
		}
		for pk, ps := range t.parts {
			if pk.st != st {
				continue
			}
			if mem, ok := st.parts[pk.part]; ok {
				if k := counted(mem); k != nil {
					f(k, -1)
				}
			}
			if k := counted(ps); k != nil {
				f(k, 1)
			}
		}
	}
	// The others are the current participants but the affected and the
	// pending.
	othersOf := func() int {
		n := -len(left)
		each(func(_ *keptAttrs, w int) { n += w })
		return n
	}
	othersWith := func(attr int, v string) int {
		h := unique.Make(v)
		n := 0
		each(func(k *keptAttrs, w int) {
			if k[attr] == h {
				n += w
			}
		})
		for _, k := range left {
			if k[attr] == h {
				n--
			}
		}
		return n
	}
	if c, ok := pickCause(affected, othersOf, othersWith); ok {
		return &c
	}
	return nil
}
