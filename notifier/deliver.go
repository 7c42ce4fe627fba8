package notifier

import (
	"context"
	"errors"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// deliver sends entry i (and, for storms and thread batches, the later
// entries that go with it) and acks what was sent. It returns an error
// only when the store failed; delivery failures are handled here.
func (d *Dispatcher) deliver(ctx context.Context, p *pass, i int) error {
	e := &p.es[i]
	if e.Kind == engine.KindRepeat || e.Kind == engine.KindResolved {
		ref, ok, err := d.ref(ctx, p, e.Key)
		if err != nil {
			return err
		}
		if ok && ref.TS != "" {
			// The thread's channel may be rate limited under its id.
			if !d.ready(p, i, ref.Channel) {
				return nil
			}
			s, isStorm, err := d.stormOf(ctx, ref)
			if err != nil {
				return err
			}
			if isStorm {
				return d.threadBatch(ctx, p, i, s)
			}
			return d.followUp(ctx, p, i, ref)
		}
		// Nothing to thread under (webhook mode, or the firing was
		// dead-lettered): a new message, batched when many come at once.
		members, err := d.noRefBatch(ctx, p, i)
		if err != nil {
			return err
		}
		if len(members) > 1 {
			return d.postBatch(ctx, p, members, engine.MessageRef{Channel: p.routes[i].Channel}, nil)
		}
		return d.single(ctx, p, i)
	}

	gk := stormKey{e.Key.Rule, e.Key.Source, p.routes[i].Channel}
	if s := d.storms[gk]; s != nil && e.Created.Before(s.last.Add(d.o.StormWindow)) {
		if !d.ready(p, i, s.ref.Channel) {
			return nil
		}
		return d.join(ctx, p, i, s)
	}
	if d.o.StormThreshold > 0 {
		cands := d.collect(p, i, func(j int) bool {
			c := &p.es[j]
			return c.Kind == engine.KindFiring && p.routes[j].Channel == gk.channel &&
				c.Key.Rule == gk.rule && c.Key.Source == gk.source &&
				!c.Created.Before(e.Created) && c.Created.Before(e.Created.Add(d.o.StormWindow))
		})
		// Firings posted one by one just before count too: a storm that
		// trickles in still gets at most StormThreshold-1 messages of its
		// own before the storm message.
		if earlier := d.recentCount(gk, e.Created); len(cands)+earlier >= d.o.StormThreshold {
			return d.group(ctx, p, gk, cands, earlier)
		}
	}
	return d.single(ctx, p, i)
}

// collect returns i and the later entries that match and may go now.
func (d *Dispatcher) collect(p *pass, i int, match func(j int) bool) []int {
	now := d.o.Now()
	out := []int{i}
	for j := i + 1; j < len(p.es); j++ {
		if !p.eligible(j) || !match(j) {
			continue
		}
		if r, ok := d.retry[p.es[j].Key]; ok && r.next.After(now) {
			continue
		}
		out = append(out, j)
	}
	return out
}

// recentCount is how many firings of the storm key were posted one by one
// within the window before t: they count towards the threshold, so a storm
// that trickles in is still caught.
func (d *Dispatcher) recentCount(gk stormKey, t time.Time) int {
	ts := d.recent[gk]
	keep := ts[:0]
	for _, c := range ts {
		if c.After(t.Add(-d.o.StormWindow)) {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		delete(d.recent, gk)
	} else {
		d.recent[gk] = keep
	}
	return len(keep)
}

// single posts one notification as its own message, or as a reply when
// it has no thread of its own.
func (d *Dispatcher) single(ctx context.Context, p *pass, i int) error {
	e, route := &p.es[i], p.routes[i]
	ref, err := d.post(ctx, route.Channel, "", d.r.Render(e, route))
	var ack engine.MessageRef
	if ref.TS != "" && e.Kind != engine.KindResolved {
		ack = ref // later messages of the alert thread under this one
	}
	if err == nil && e.Kind == engine.KindFiring {
		gk := stormKey{e.Key.Rule, e.Key.Source, route.Channel}
		d.recent[gk] = append(d.recent[gk], e.Created)
	}
	return d.finish(ctx, p, []int{i}, route.Channel, err, ack, OutcomeDelivered)
}

// followUp tells a repeat or a resolve in the alert's thread; a resolve
// first updates the alert's first message, so the channel shows it is over.
func (d *Dispatcher) followUp(ctx context.Context, p *pass, i int, ref engine.MessageRef) error {
	e, route := &p.es[i], p.routes[i]
	if e.Kind == engine.KindResolved {
		// Update first: it is idempotent, so a retry after the reply
		// failed repeats the update, never the reply.
		err := d.o.Sender.Update(ctx, ref, d.r.RenderResolvedUpdate(e, route))
		d.took(ref.Channel)
		switch de := classify(err); {
		case err == nil:
			d.stats.add(func(s *Stats) { s.Updates++ })
		case de.Class == Permanent || errors.Is(err, errors.ErrUnsupported):
			// The first message is gone or cannot be edited: the reply
			// still tells the story.
			d.stats.add(func(s *Stats) { s.UpdateFailures++ })
			d.log.Warn("notifier: cannot update the alert's first message", "alert", e.Key.String(), "channel", ref.Channel, "code", de.Code)
		default:
			return d.finish(ctx, p, []int{i}, ref.Channel, err, engine.MessageRef{}, OutcomeDelivered)
		}
		if err := d.waitSlot(ctx, ref.Channel); err != nil {
			return err
		}
	}
	_, err := d.post(ctx, ref.Channel, ref.TS, d.r.RenderReply(e, route))
	return d.finish(ctx, p, []int{i}, ref.Channel, err, engine.MessageRef{}, OutcomeDelivered)
}

// group posts one storm message for the firings in members and acks each
// with its ref, so their follow-ups thread under it.
func (d *Dispatcher) group(ctx context.Context, p *pass, gk stormKey, members []int, earlier int) error {
	ns := make([]*engine.Notification, len(members))
	for k, j := range members {
		ns[k] = &p.es[j]
	}
	ref, err := d.post(ctx, gk.channel, "", d.r.RenderGroup(ns, earlier, p.routes[members[0]]))
	if err == nil {
		d.stats.add(func(s *Stats) { s.GroupMessages++ })
		s := &storm{key: gk, ref: ref, first: *ns[0], since: ns[0].Since, members: len(ns)}
		for _, n := range ns {
			if n.Since.Before(s.since) {
				s.since = n.Since
			}
			if n.Created.After(s.last) {
				s.last = n.Created
			}
		}
		d.storms[gk] = s
		if ref.TS != "" {
			d.stormRef[ref] = s
			if d.groups != nil {
				if gerr := d.groups.PutGroupRef(ctx, groupRefKey(ref), ref); gerr != nil {
					d.log.Warn("notifier: cannot record storm message; after a restart its members' resolves may update it", "err", gerr)
				}
			}
		}
		d.log.Info("notifier: storm grouped", "rule", gk.rule, "source", gk.source, "channel", gk.channel, "alerts", len(ns))
	}
	var ack engine.MessageRef
	if ref.TS != "" {
		ack = ref
	}
	return d.finish(ctx, p, members, gk.channel, err, ack, OutcomeGrouped)
}

// join adds later firings of an open storm to its thread in one reply.
func (d *Dispatcher) join(ctx context.Context, p *pass, i int, s *storm) error {
	until := s.last.Add(d.o.StormWindow)
	members := d.collect(p, i, func(j int) bool {
		c := &p.es[j]
		return c.Kind == engine.KindFiring && p.routes[j].Channel == s.key.channel &&
			c.Key.Rule == s.key.rule && c.Key.Source == s.key.source && c.Created.Before(until)
	})
	ch := s.key.channel
	if s.ref.TS != "" {
		ch = s.ref.Channel
	}
	return d.postBatch(ctx, p, members, engine.MessageRef{Channel: ch, TS: s.ref.TS}, s)
}

// threadBatch tells the repeats or resolves of a storm's members that are
// pending now in one reply in the storm's thread.
func (d *Dispatcher) threadBatch(ctx context.Context, p *pass, i int, s *storm) error {
	kind := p.es[i].Kind
	var members []int
	for _, j := range d.collect(p, i, func(j int) bool { return p.es[j].Kind == kind }) {
		ref, ok, err := d.ref(ctx, p, p.es[j].Key)
		if err != nil {
			return err
		}
		if ok && ref == s.ref {
			members = append(members, j)
		}
	}
	return d.postBatch(ctx, p, members, s.ref, s)
}

// noRefBatch returns i and the later follow-ups of the same kind, rule,
// source and channel that have no message to thread under, when there are
// at least StormThreshold of them; otherwise just i.
func (d *Dispatcher) noRefBatch(ctx context.Context, p *pass, i int) ([]int, error) {
	if d.o.StormThreshold <= 0 {
		return []int{i}, nil
	}
	e := &p.es[i]
	var members []int
	for _, j := range d.collect(p, i, func(j int) bool {
		c := &p.es[j]
		return c.Kind == e.Kind && c.Key.Rule == e.Key.Rule && c.Key.Source == e.Key.Source && p.routes[j].Channel == p.routes[i].Channel
	}) {
		ref, ok, err := d.ref(ctx, p, p.es[j].Key)
		if err != nil {
			return nil, err
		}
		if !ok || ref.TS == "" {
			members = append(members, j)
		}
	}
	if len(members) < d.o.StormThreshold {
		return []int{i}, nil
	}
	return members, nil
}

// postBatch posts one message telling members (all of one kind) at where:
// a reply when where.TS is set. s is the storm they belong to, if any.
func (d *Dispatcher) postBatch(ctx context.Context, p *pass, members []int, where engine.MessageRef, s *storm) error {
	first := members[0]
	kind := p.es[first].Kind
	ns := make([]*engine.Notification, len(members))
	for k, j := range members {
		ns[k] = &p.es[j]
	}
	_, err := d.post(ctx, where.Channel, where.TS, d.r.RenderThreadBatch(kind, ns, p.routes[first]))
	var ack engine.MessageRef
	if err == nil {
		d.stats.add(func(st *Stats) { st.ThreadBatches++ })
		if s != nil && kind == engine.KindFiring {
			s.members += len(ns)
			for _, n := range ns {
				if n.Created.After(s.last) {
					s.last = n.Created
				}
			}
			ack = s.ref
		}
	}
	if ack.TS == "" {
		ack = engine.MessageRef{}
	}
	if ferr := d.finish(ctx, p, members, where.Channel, err, ack, OutcomeGrouped); ferr != nil || err != nil {
		return ferr
	}
	if s != nil && kind == engine.KindResolved {
		d.stormResolved(ctx, s, ns)
	}
	return nil
}

// stormResolved marks a storm's message over once all its members resolved.
// Best effort: a failure is logged and counted, never retried.
func (d *Dispatcher) stormResolved(ctx context.Context, s *storm, ns []*engine.Notification) {
	s.resolved += len(ns)
	if s.members == 0 || s.resolved < s.members {
		return
	}
	at := ns[len(ns)-1].At
	for _, n := range ns {
		if n.At.After(at) {
			at = n.At
		}
	}
	if err := d.waitSlot(ctx, s.ref.Channel); err != nil {
		return
	}
	err := d.o.Sender.Update(ctx, s.ref, d.r.RenderGroupOver(&s.first, s.members, s.since, at, engine.Route{}))
	d.took(s.ref.Channel)
	if err != nil {
		d.stats.add(func(st *Stats) { st.UpdateFailures++ })
		d.log.Warn("notifier: cannot mark storm message over", "channel", s.ref.Channel, "code", classify(err).Code)
	} else {
		d.stats.add(func(st *Stats) { st.Updates++ })
	}
	delete(d.stormRef, s.ref)
	if d.storms[s.key] == s {
		delete(d.storms, s.key)
	}
}

// post sends one message and takes the channel's slot; then its
// continuations (m.More), each in its own slot, in the message's thread
// (or as plain messages when the sender cannot thread). A continuation
// that fails fails the whole entry, so it is retried and nothing is lost.
func (d *Dispatcher) post(ctx context.Context, channel, threadTS string, m Message) (engine.MessageRef, error) {
	more := m.More
	m.More = nil
	ref, err := d.o.Sender.Post(ctx, channel, threadTS, m)
	if err == nil && ref.Channel != "" && ref.Channel != channel {
		d.chanID[channel] = ref.Channel
	}
	d.took(channel)
	if err != nil || len(more) == 0 {
		return ref, err
	}
	thread := threadTS
	if thread == "" {
		thread = ref.TS // empty for a webhook: plain messages
	}
	for _, c := range more {
		if err := d.waitSlot(ctx, channel); err != nil {
			return ref, err
		}
		_, err := d.o.Sender.Post(ctx, channel, thread, c)
		d.took(channel)
		if err != nil {
			return ref, err
		}
	}
	return ref, nil
}

// took records a call to channel, for the per-channel limiter.
func (d *Dispatcher) took(channel string) {
	next := d.o.Now().Add(d.o.ChannelInterval)
	if k := d.limKey(channel); next.After(d.chanNext[k]) {
		d.chanNext[k] = next
	}
}

// waitSlot waits until channel may take another call.
func (d *Dispatcher) waitSlot(ctx context.Context, channel string) error {
	if w := d.chanNext[d.limKey(channel)].Sub(d.o.Now()); w > 0 {
		return d.o.Sleep(ctx, w)
	}
	return nil
}

// limKey is the limiter's key for a channel: its id once Slack told it,
// so "#av-oncall" and "C0AV" share one limit.
func (d *Dispatcher) limKey(channel string) string {
	if id, ok := d.chanID[channel]; ok {
		return id
	}
	return channel
}

func classify(err error) *DeliveryError {
	if err == nil {
		return &DeliveryError{}
	}
	return Classify(err)
}

// batchAcker is an Outbox that acks several entries in one transaction
// (store.DB, engine.MemoryStore), so a kill during a storm's acks repeats
// nothing: the storm message and all its members are acked together.
type batchAcker interface {
	AckAll(ctx context.Context, ids []uint64, keys []engine.AlertKey, ref engine.MessageRef) error
}

// ack acks the members, all at once where the outbox can.
func (d *Dispatcher) ack(ctx context.Context, p *pass, members []int, ref engine.MessageRef) error {
	if b, ok := d.o.Outbox.(batchAcker); ok && len(members) > 1 {
		ids := make([]uint64, len(members))
		keys := make([]engine.AlertKey, len(members))
		for i, j := range members {
			ids[i], keys[i] = p.es[j].ID, p.es[j].Key
		}
		return b.AckAll(ctx, ids, keys, ref)
	}
	for _, j := range members {
		if err := d.o.Outbox.Ack(ctx, p.es[j].ID, p.es[j].Key, ref); err != nil {
			return err
		}
	}
	return nil
}

// finish acks members after a success, or decides what a failure means:
// wait (429), retry later (transient) or dead-letter (permanent).
func (d *Dispatcher) finish(ctx context.Context, p *pass, members []int, channel string, err error, ack engine.MessageRef, outcome string) error {
	if err == nil {
		if aerr := d.ack(ctx, p, members, ack); aerr != nil {
			return aerr
		}
		if !d.authPaused.IsZero() {
			d.authPaused = time.Time{}
			delete(d.logged, "\x00auth") // a later outage is told again
			d.log.Info("notifier: Slack accepts the credentials again; delivering what was kept")
		}
		for _, j := range members {
			e := &p.es[j]
			p.done[j] = true
			if ack != (engine.MessageRef{}) {
				p.refs[e.Key] = refResult{ack, true}
			}
			delete(d.retry, e.Key)
			d.stats.notified(string(e.Kind), outcome, 1)
		}
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	de := Classify(err)
	now := d.o.Now()
	first := &p.es[members[0]]
	log := d.log.With("alert", first.Key.String(), "kind", string(first.Kind), "channel", channel, "code", de.Code)
	switch de.Class {
	case RateLimited:
		wait := de.RetryAfter
		if wait <= 0 {
			wait = d.o.DefaultRetryAfter
		}
		d.chanNext[d.limKey(channel)] = now.Add(wait)
		p.later(now.Add(wait))
		d.stats.add(func(s *Stats) { s.RateLimited++ })
		log.Warn("notifier: Slack rate limit; channel waits", "retry_after", wait)
	case Unauthorized:
		// Every later call would fail the same way: pause all delivery,
		// keep every entry, and say so once per outage.
		d.authPaused = now.Add(d.o.AuthRetry)
		p.later(d.authPaused)
		d.stats.add(func(s *Stats) { s.AuthFailures++ })
		if d.logged["\x00auth"] {
			log.Debug("notifier: Slack still refuses the credentials", "err", de)
			break
		}
		d.logged["\x00auth"] = true
		log.Error("notifier: Slack refused the credentials; nothing is sent until they work, nothing is dropped", "err", de, "retry_every", d.o.AuthRetry)
	case Permanent:
		// Dead-letter: retrying cannot help, and a stuck entry must not
		// hold the alert's later messages back for ever.
		if aerr := d.ack(ctx, p, members, engine.MessageRef{}); aerr != nil {
			return aerr
		}
		for _, j := range members {
			e := &p.es[j]
			p.done[j] = true
			delete(d.retry, e.Key)
			d.stats.notified(string(e.Kind), OutcomeDeadLettered, 1)
		}
		d.stats.add(func(s *Stats) { s.PermanentByChannel[channel] += uint64(len(members)) })
		if k := channel + "\x00" + de.Code; !d.logged[k] {
			d.logged[k] = true
			log.Error("notifier: Slack refused the channel; notifications to it are dropped until fixed", "err", de, "dropped", len(members))
		} else {
			log.Debug("notifier: dropped notification (permanent error)", "err", de)
		}
		return nil
	default:
		d.stats.add(func(s *Stats) { s.Retries++ })
		for _, j := range members {
			k := p.es[j].Key
			r := d.retry[k]
			r.backoff = min(max(r.backoff*2, d.o.BackoffMin), d.o.BackoffMax)
			r.next = now.Add(r.backoff)
			d.retry[k] = r
			p.later(r.next)
		}
		log.Warn("notifier: delivery failed; will retry", "err", de, "in", d.retry[first.Key].backoff)
	}
	for _, j := range members {
		p.blocked[p.es[j].Key] = true
	}
	return nil
}
