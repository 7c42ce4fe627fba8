package notifier

import (
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// The planner decides WHAT to tell Slack; the deliverer (deliver.go)
// decides WHEN and makes it so. The planner is a pure function of the
// outbox, the alerts' recorded messages and the open storms: no I/O, no
// clock, no goroutines, so every grouping rule is a table test.

// pending is one outbox entry with the route it goes by.
type pending struct {
	n     engine.Notification
	route engine.Route
}

// msgKind says what a planned message is, for the deliverer's stats and
// for what the dispatcher learns when it went out.
type msgKind int

const (
	msgSingle   msgKind = iota // one notification, its own message (or standalone in webhook mode)
	msgFollowUp                // a repeat or resolve in its alert's thread (a resolve updates the first message first)
	msgGroup                   // a new storm: one message for many firings
	msgJoin                    // later firings of an open storm, one reply in its thread
	msgBatch                   // repeats or resolves told together: in a storm's thread, or standalone without one
)

// planned is one message to send and the outbox entries it acks once sent.
type planned struct {
	kind msgKind
	// channel is where it goes: the route's channel, or, for a reply, the
	// channel id Slack answered the thread's first message with.
	channel  string
	threadTS string // a reply in this thread when set
	// update, when set, is made before the post: a resolve turns its
	// alert's first message into "resolved". It is idempotent, so a retry
	// after the reply failed repeats the update, never the reply.
	update *edit
	msg    Message
	// entries are what the message tells; they are acked together once
	// the message (and every continuation in msg.More) is sent.
	entries []*pending
	// ackPosted records the posted message as the entries' alerts' message
	// (a new alert or a storm: their follow-ups thread under it);
	// otherwise ackRef is recorded (a joiner threads under its storm).
	ackPosted bool
	ackRef    engine.MessageRef
	outcome   string // OutcomeDelivered or OutcomeGrouped
	// storm is the storm the message joins or tells members of; gk is
	// the storm a msgGroup opens.
	storm *storm
	gk    stormKey
	// over, when set, is made after the post, best effort: the storm's
	// message says it is over once all its members resolved.
	over *edit
}

type edit struct {
	ref engine.MessageRef
	msg Message
}

type stormKey struct{ rule, source, channel string }

// storm is a grouped message and what is known of its members.
type storm struct {
	key      stormKey
	ref      engine.MessageRef
	first    engine.Notification
	since    time.Time // the earliest Since of its members
	last     time.Time // the latest Created of its members: the window slides
	members  int       // 0 for a storm known only from the store (after a restart): never marked over
	resolved int
}

// storms are the active storms: those a firing may still join, by key,
// and every storm message by its ref (the thread members reply in).
type storms struct {
	open  map[stormKey]*storm
	byRef map[engine.MessageRef]*storm
	// recent are the Created times of firings posted one by one lately,
	// by storm key: they count towards the threshold, so a storm that
	// trickles in is still caught.
	recent map[stormKey][]time.Time
}

func newStorms() *storms {
	return &storms{open: map[stormKey]*storm{}, byRef: map[engine.MessageRef]*storm{}, recent: map[stormKey][]time.Time{}}
}

// prune forgets what no firing can join any more, measured on the
// engine's decision times (ref is the oldest pending one), so a daemon
// that runs for months keeps its memory flat. Storm messages stay known by
// ref until their members resolved.
func (s *storms) prune(ref time.Time, window time.Duration) {
	gone := ref.Add(-2 * window)
	for k, st := range s.open {
		if st.last.Before(gone) {
			delete(s.open, k)
		}
	}
	for k, ts := range s.recent {
		keep := ts[:0]
		for _, t := range ts {
			if !t.Before(gone) {
				keep = append(keep, t)
			}
		}
		if len(keep) == 0 {
			delete(s.recent, k)
		} else {
			s.recent[k] = keep
		}
	}
}

// sent records what a message that went out means for the storms. ref is
// the posted message's.
func (s *storms) sent(p *planned, ref engine.MessageRef, window time.Duration) {
	switch p.kind {
	case msgSingle:
		if n := &p.entries[0].n; n.Kind == engine.KindFiring {
			gk := keyOf(p.entries[0])
			s.recent[gk] = append(s.recent[gk], n.Created)
		}
	case msgGroup:
		first := &p.entries[0].n
		st := &storm{key: p.gk, ref: ref, first: *first, since: first.Since, members: len(p.entries)}
		for _, e := range p.entries {
			st.since = minTime(st.since, e.n.Since)
			st.last = maxTime(st.last, e.n.Created)
		}
		s.open[p.gk] = st
		if ref.TS != "" {
			s.byRef[ref] = st
		}
	case msgJoin:
		p.storm.members += len(p.entries)
		for _, e := range p.entries {
			p.storm.last = maxTime(p.storm.last, e.n.Created)
		}
	case msgBatch:
		if st := p.storm; st != nil && p.entries[0].n.Kind == engine.KindResolved {
			st.resolved += len(p.entries)
			if p.over != nil { // every member resolved: the storm is over
				delete(s.byRef, st.ref)
				if s.open[st.key] == st {
					delete(s.open, st.key)
				}
			}
		}
	}
}

// planner holds the grouping settings and the renderer.
type planner struct {
	r         *Renderer
	threshold int           // firings that make a storm; <= 0: no grouping
	window    time.Duration // a storm's window on the engine's decision times
}

// plan returns the messages to send for entries (oldest first), given the
// alerts' recorded messages (refs) and the active storms. Only each
// alert's oldest entry is planned, so an alert's messages never change
// order and a follow-up always knows its thread; the rest go in later
// passes. Alerts in held (backing off, or a message of theirs half sent)
// are left out with all their entries.
func (pl *planner) plan(entries []pending, refs map[engine.AlertKey]engine.MessageRef, st *storms, held map[engine.AlertKey]bool) []*planned {
	var heads []*pending
	seen := map[engine.AlertKey]bool{}
	for i := range entries {
		e := &entries[i]
		if seen[e.n.Key] {
			continue
		}
		seen[e.n.Key] = true
		if !held[e.n.Key] {
			heads = append(heads, e)
		}
	}
	taken := map[*pending]bool{}
	// rest returns e and the later heads that match and are not taken.
	rest := func(i int, match func(c *pending) bool) []*pending {
		out := []*pending{heads[i]}
		for _, c := range heads[i+1:] {
			if !taken[c] && match(c) {
				out = append(out, c)
			}
		}
		return out
	}
	var out []*planned
	for i, e := range heads {
		if taken[e] {
			continue
		}
		var p *planned
		if e.n.Kind == engine.KindFiring {
			p = pl.firing(i, heads, rest, st)
		} else {
			p = pl.followUp(i, heads, rest, refs, st)
		}
		for _, m := range p.entries {
			taken[m] = true
		}
		out = append(out, p)
	}
	return out
}

func keyOf(e *pending) stormKey {
	return stormKey{e.n.Key.Rule, e.n.Key.Source, e.route.Channel}
}

func (pl *planner) firing(i int, heads []*pending, rest func(int, func(*pending) bool) []*pending, st *storms) *planned {
	e := heads[i]
	gk := keyOf(e)
	sameStorm := func(c *pending) bool { return c.n.Kind == engine.KindFiring && keyOf(c) == gk }
	if s := st.open[gk]; s != nil && e.n.Created.Before(s.last.Add(pl.window)) {
		until := s.last.Add(pl.window)
		members := rest(i, func(c *pending) bool { return sameStorm(c) && c.n.Created.Before(until) })
		p := &planned{kind: msgJoin, channel: gk.channel, entries: members, outcome: OutcomeGrouped, storm: s,
			msg: pl.r.RenderThreadBatch(engine.KindFiring, notifications(members), e.route)}
		if s.ref.TS != "" {
			p.channel, p.threadTS, p.ackRef = s.ref.Channel, s.ref.TS, s.ref
		}
		return p
	}
	if pl.threshold > 0 {
		end := e.n.Created.Add(pl.window)
		cands := rest(i, func(c *pending) bool {
			return sameStorm(c) && !c.n.Created.Before(e.n.Created) && c.n.Created.Before(end)
		})
		// Firings posted one by one just before count too: a storm that
		// trickles in gets at most threshold-1 messages of its own.
		earlier := 0
		for _, t := range st.recent[gk] {
			if t.After(e.n.Created.Add(-pl.window)) {
				earlier++
			}
		}
		if len(cands)+earlier >= pl.threshold {
			return &planned{kind: msgGroup, channel: gk.channel, entries: cands, ackPosted: true, outcome: OutcomeGrouped, gk: gk,
				msg: pl.r.RenderGroup(notifications(cands), earlier, e.route)}
		}
	}
	return pl.single(e)
}

// single is one notification as its own message: a new alert, or a
// follow-up with no thread to go to. A firing or repeat posted on its own
// becomes the thread its alert's later messages go in.
func (pl *planner) single(e *pending) *planned {
	return &planned{kind: msgSingle, channel: e.route.Channel, entries: []*pending{e}, outcome: OutcomeDelivered,
		ackPosted: e.n.Kind != engine.KindResolved, msg: pl.r.Render(&e.n, e.route)}
}

func (pl *planner) followUp(i int, heads []*pending, rest func(int, func(*pending) bool) []*pending, refs map[engine.AlertKey]engine.MessageRef, st *storms) *planned {
	e := heads[i]
	kind := e.n.Kind
	if kind == engine.KindAction {
		return pl.action(e, refs)
	}
	ref, ok := refs[e.n.Key]
	if ok && ref.TS != "" {
		if s := st.byRef[ref]; s != nil {
			// The alert is a storm's member: its repeats or resolves that
			// are pending now go in one reply in the storm's thread.
			// (Repeats whose ack expired are told apart from plain ones.)
			members := rest(i, func(c *pending) bool {
				return c.n.Kind == kind && refs[c.n.Key] == ref && (c.n.Action != nil) == (e.n.Action != nil)
			})
			ns := notifications(members)
			p := &planned{kind: msgBatch, channel: ref.Channel, threadTS: ref.TS, entries: members, outcome: OutcomeGrouped, storm: s,
				msg: pl.r.RenderThreadBatch(kind, ns, e.route)}
			if kind == engine.KindRepeat && e.n.Action != nil {
				// Their ack expired: the storm's message drops its "acknowledged".
				p.update = &edit{ref: ref, msg: pl.r.RenderActionUpdate(stormOf(&e.n, len(members)), e.route)}
			}
			if kind == engine.KindResolved && s.members > 0 && s.resolved+len(members) >= s.members {
				at := ns[0].At
				for _, n := range ns {
					at = maxTime(at, n.At)
				}
				p.over = &edit{ref: s.ref, msg: pl.r.RenderGroupOver(&s.first, s.members, s.since, at, engine.Route{})}
			}
			return p
		}
		p := &planned{kind: msgFollowUp, channel: ref.Channel, threadTS: ref.TS, entries: []*pending{e}, outcome: OutcomeDelivered,
			msg: pl.r.RenderReply(&e.n, e.route)}
		switch {
		case kind == engine.KindResolved:
			p.update = &edit{ref: ref, msg: pl.r.RenderResolvedUpdate(&e.n, e.route)}
		case kind == engine.KindRepeat && e.n.Action != nil:
			// The ack expired: the first message drops its "acknowledged".
			p.update = &edit{ref: ref, msg: pl.r.RenderActionUpdate(&e.n, e.route)}
		}
		return p
	}
	// Nothing to thread under (webhook mode, or the firing was
	// dead-lettered): a message of its own, one for many when a burst of
	// the same rule, source and channel comes at once.
	if pl.threshold > 0 {
		members := rest(i, func(c *pending) bool {
			r, ok := refs[c.n.Key]
			return c.n.Kind == kind && c.n.Key.Rule == e.n.Key.Rule && c.n.Key.Source == e.n.Key.Source &&
				c.route.Channel == e.route.Channel && (!ok || r.TS == "")
		})
		if len(members) >= pl.threshold {
			return &planned{kind: msgBatch, channel: e.route.Channel, entries: members, outcome: OutcomeGrouped,
				msg: pl.r.RenderThreadBatch(kind, notifications(members), e.route)}
		}
	}
	return pl.single(e)
}

// action plans a responder's action: the update of the message acted on
// and a reply in its thread. The message is the alert's first one (its
// ref), or for a storm the message the button was on; with neither
// (webhook mode, or the alert's message dead-lettered) the action is a
// message of its own.
func (pl *planner) action(e *pending, refs map[engine.AlertKey]engine.MessageRef) *planned {
	ref, ok := refs[e.n.Key]
	if !ok || ref.TS == "" {
		ref = e.n.Action.Message
	}
	if ref.TS == "" {
		return &planned{kind: msgSingle, channel: e.route.Channel, entries: []*pending{e}, outcome: OutcomeDelivered,
			msg: pl.r.Render(&e.n, e.route)}
	}
	return &planned{kind: msgFollowUp, channel: ref.Channel, threadTS: ref.TS, entries: []*pending{e}, outcome: OutcomeDelivered,
		update: &edit{ref: ref, msg: pl.r.RenderActionUpdate(&e.n, e.route)}, msg: pl.r.RenderActionReply(&e.n, e.route)}
}

// stormOf is a member's notification standing for its storm of count.
func stormOf(n *engine.Notification, count int) *engine.Notification {
	c := *n
	c.Key.Participant, c.Participant = "", engine.Participant{}
	a := *n.Action
	a.Count = count
	c.Action = &a
	return &c
}

func notifications(ps []*pending) []*engine.Notification {
	ns := make([]*engine.Notification, len(ps))
	for i, p := range ps {
		ns[i] = &p.n
	}
	return ns
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
