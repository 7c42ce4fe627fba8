package engine

import (
	"fmt"
	"slices"
	"time"
)

// DefaultInhibitWindow is Inhibition.Window when zero.
const DefaultInhibitWindow = 2 * time.Minute

// Inhibition folds the alerts of target rules into an alert of a source
// rule (the rule that carries it), in the spirit of Alertmanager's
// inhibit_rules. The presenter's uplink is the case it is for: when a
// host's audio input breaks up, every attendee's audio output breaks up
// with it, and one alert about the host says more than 200 about the
// attendees.
//
// A target alert is inhibited when it would be told as firing while an
// alert of the source rule is firing (or resolving) in the same source,
// with the same values of the Equal labels, and the target's condition
// started no earlier than Window before the source's did. An inhibited
// alert runs its lifecycle as usual and is recorded (Alert.InhibitedBy,
// visible in the API) but not told; its resolve is not told either. If it
// still fires once the source alert has resolved, it is told then, as a
// silenced alert is when its silence ends. A target alert told before the
// source's problem began stays told.
type Inhibition struct {
	Targets []string      // the rules whose alerts are folded
	Equal   []string      // labels whose values the source and the target alert share; the source is always shared
	Window  time.Duration // how much earlier than the source alert's condition a target's may have started; 0: DefaultInhibitWindow
}

func (in *Inhibition) window() time.Duration {
	if in.Window > 0 {
		return in.Window
	}
	return DefaultInhibitWindow
}

// inhibitor is one inhibition as its targets see it.
type inhibitor struct {
	source string // the rule that carries it
	in     *Inhibition
}

// inhibitors indexes the rules' inhibitions by target rule; nil when no
// rule has one, so a rule set without inhibitions costs nothing.
func inhibitors(rules []Rule, idx map[string]int) (map[string][]inhibitor, error) {
	var by map[string][]inhibitor
	for i := range rules {
		r := &rules[i]
		for j := range r.Inhibits {
			in := &r.Inhibits[j]
			if in.Window < 0 {
				return nil, fmt.Errorf("engine: rule %q: inhibit: negative window", r.Name)
			}
			for _, t := range in.Targets {
				if _, ok := idx[t]; !ok {
					return nil, fmt.Errorf("engine: rule %q: inhibit: no target rule %q", r.Name, t)
				}
				if t == r.Name {
					return nil, fmt.Errorf("engine: rule %q: inhibit: a rule cannot inhibit itself", r.Name)
				}
				if by == nil {
					by = map[string][]inhibitor{}
				}
				by[t] = append(by[t], inhibitor{source: r.Name, in: in})
			}
		}
	}
	return by, nil
}

// active reports whether an alert is firing or resolving: what holds an
// inhibition.
func active(a *Alert) bool {
	return a != nil && (a.State == StateFiring || a.State == StateResolving)
}

// stillInhibited reports whether the alert that inhibited a is still
// active, so remind keeps a quiet instead of telling it.
func (e *Engine) stillInhibited(t *tx, a *Alert) bool {
	return a.InhibitedBy != nil && active(t.get(e, *a.InhibitedBy))
}

// folds reports whether the source alert src folds the target alert a of
// an inhibition: same source, same Equal labels, and a started no earlier
// than the window before src.
func folds(in *Inhibition, src, a *Alert) bool {
	if src.Key.Source != a.Key.Source || a.ActiveSince.Before(src.ActiveSince.Add(-in.window())) {
		return false
	}
	for _, l := range in.Equal {
		if src.Labels[l] != a.Labels[l] {
			return false
		}
	}
	return true
}

// inhibit runs after a call's decisions and before its commit: the firing
// notifications of target alerts that an active source alert folds are
// taken out (the alert records why), and the notifications of source
// alerts count what they fold. Deciding here, on the whole call, makes
// the result independent of the order of the participants in a batch (a
// presenter and the attendees who hear them arrive in one page).
func (e *Engine) inhibit(t *tx) {
	if len(e.inhibitTargets) == 0 || len(t.changes.Notifications) == 0 {
		return
	}
	var alerts []*Alert // every alert as this call sees it; built once, when needed
	all := func() []*Alert {
		if alerts == nil {
			alerts = make([]*Alert, 0, len(e.alerts)+len(t.alerts))
			for k := range e.alerts {
				if a := t.get(e, k); a != nil {
					alerts = append(alerts, a)
				}
			}
			for k, a := range t.alerts {
				if _, old := e.alerts[k]; a != nil && !old {
					alerts = append(alerts, a)
				}
			}
			slices.SortFunc(alerts, func(a, b *Alert) int { return compareKeys(a.Key, b.Key) })
		}
		return alerts
	}
	ns := t.changes.Notifications
	kept := ns[:0]
	for i := range ns {
		n := &ns[i]
		if n.Kind == KindFiring {
			if src := e.inhibitorOf(t, n.Key, all); src != nil {
				a := t.mutable(e, n.Key)
				k := src.Key
				a.Notified, a.LastNotified, a.InhibitedBy, a.Explain = false, time.Time{}, &k, nil
				t.inhibited++
				continue
			}
		}
		kept = append(kept, *n)
	}
	clear(ns[len(kept):])
	t.changes.Notifications = kept
	for i := range kept {
		n := &kept[i]
		if r := e.ruleFor(n.Key); len(r.Inhibits) > 0 {
			if src := t.get(e, n.Key); src != nil {
				n.Folded = e.folded(r, src, all())
			}
		}
	}
}

// inhibitorOf returns the active source alert that folds the target
// alert k, or nil.
func (e *Engine) inhibitorOf(t *tx, k AlertKey, all func() []*Alert) *Alert {
	ins := e.inhibitTargets[k.Rule]
	if len(ins) == 0 {
		return nil
	}
	a := t.get(e, k)
	if a == nil {
		return nil
	}
	for _, src := range all() {
		if src.Key.Source != k.Source || !active(src) {
			continue
		}
		for _, in := range ins {
			if src.Key.Rule == in.source && folds(in.in, src, a) {
				return src
			}
		}
	}
	return nil
}

// folded counts the participants whose alerts of src's targets src folds:
// open now (they receive it degraded), or inhibited by it in this episode.
func (e *Engine) folded(r *Rule, src *Alert, all []*Alert) int {
	seen := map[string]bool{}
	for _, a := range all {
		if a.Key.Source != src.Key.Source || a.Key.Participant == src.Key.Participant || a.Key.Participant == SourceParticipant || seen[a.Key.Participant] {
			continue
		}
		open := a.State == StatePending || a.State == StateFiring || a.State == StateResolving
		mine := a.InhibitedBy != nil && *a.InhibitedBy == src.Key && !a.ResolvedAt.Before(src.ActiveSince)
		if !open && !mine {
			continue
		}
		for i := range r.Inhibits {
			in := &r.Inhibits[i]
			if slices.Contains(in.Targets, a.Key.Rule) && folds(in, src, a) {
				seen[a.Key.Participant] = true
				break
			}
		}
	}
	return len(seen)
}
