package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// The deliverer makes planned messages so: it sends each through the
// Sender, keeps to Slack's pace (a slot per channel, Retry-After), backs
// off after failures, pauses all delivery while Slack refuses the
// credentials or the store cannot record what was sent, and acks in the
// store. It never sleeps: what cannot go now is left for a later pass.

// flight is a planned message on its way: the calls it made so far. It
// lives until its entries are acked, so a message half sent (an update
// made, some continuations posted, a post unanswered, an ack the store
// refused) is finished where it stopped, never started again.
type flight struct {
	p       *planned
	parts   []Message // the message, then its continuations
	updated bool      // p.update was made (or failed for good)
	sent    int       // parts posted
	ref     engine.MessageRef
	doubt   *doubt // parts[sent]'s last post went unanswered
	onFaith bool   // a part was taken as posted without Slack's word
	acked   bool   // the entries left the outbox; what remains is p.over
	dead    bool   // Slack refused the message for good: ack untold
}

// doubt is a post that went unanswered: Slack may have it.
type doubt struct {
	at    time.Time // when the first unanswered attempt began
	tries int       // unanswered attempts so far
	blind bool      // the sender cannot look for it
}

func (f *flight) keys() []engine.AlertKey {
	ks := make([]engine.AlertKey, len(f.p.entries))
	for i, e := range f.p.entries {
		ks[i] = e.n.Key
	}
	return ks
}

// progressed reports whether the flight made a call whose effect must not
// be repeated, so it must be finished rather than planned again.
func (f *flight) progressed() bool { return f.updated || f.sent > 0 || f.doubt != nil || f.dead }

// key is the part's idempotency key: the first entry's outbox id and the
// part. Outbox ids never repeat in one store.
func (f *flight) key(part int) string {
	return "qoswatch-" + strconv.FormatUint(f.p.entries[0].n.ID, 10) + "-" + strconv.Itoa(part)
}

// pause stops all delivery until a time: Slack refused the credentials, or
// the store cannot write.
type pause struct {
	since, until time.Time
	backoff      time.Duration
	err          error
}

func (p *pause) active() bool { return !p.since.IsZero() }

type retryState struct {
	next    time.Time
	backoff time.Duration
}

// refusal is a channel and a Slack error code refused for good, logged once.
type refusal struct{ channel, code string }

type deliverer struct {
	o      *Options
	clock  engine.Clock
	log    *slog.Logger
	m      *metrics
	groups GroupRefs // nil when the outbox does not remember storm messages

	// slots is, per channel (by id once Slack told it), the earliest time
	// of its next call: the pace, or a 429's Retry-After.
	slots  map[string]time.Time
	chanID map[string]string // route's channel name → Slack's channel id
	// retry is, per alert, when it may go again after a transient failure.
	retry   map[engine.AlertKey]retryState
	flights []*flight
	auth    pause
	store   pause
	refused map[refusal]bool
	blind   map[string]bool // channels where a lookup was refused (logged once)

	healthMu sync.Mutex
	health   error
}

func newDeliverer(o *Options, m *metrics) *deliverer {
	d := &deliverer{
		o: o, clock: o.Clock, log: o.Logger, m: m,
		slots: map[string]time.Time{}, chanID: map[string]string{}, retry: map[engine.AlertKey]retryState{},
		refused: map[refusal]bool{}, blind: map[string]bool{},
	}
	d.groups, _ = o.Outbox.(GroupRefs)
	return d
}

// start makes a flight of a planned message.
func (d *deliverer) start(p *planned) *flight {
	f := &flight{p: p, parts: append([]Message{p.msg}, p.msg.More...)}
	for i := range f.parts {
		f.parts[i].More = nil
	}
	return f
}

// paused returns when delivery may go on, while a pause holds; zero when
// it may go now.
func (d *deliverer) paused(now time.Time) time.Time {
	for _, p := range []*pause{&d.auth, &d.store} {
		if p.active() && p.until.After(now) {
			return p.until
		}
	}
	return time.Time{}
}

// held are the alerts that may not be planned now: backing off after a
// failure, or with a message in flight.
func (d *deliverer) held(now time.Time) map[engine.AlertKey]bool {
	h := map[engine.AlertKey]bool{}
	for k, r := range d.retry {
		if r.next.After(now) {
			h[k] = true
		}
	}
	for _, f := range d.flights {
		for _, k := range f.keys() {
			h[k] = true
		}
	}
	return h
}

// due returns when a flight may make its next call; zero when now.
func (d *deliverer) due(f *flight, now time.Time) time.Time {
	if f.acked {
		return time.Time{}
	}
	var at time.Time
	for _, k := range f.keys() {
		if r := d.retry[k]; r.next.After(now) && r.next.After(at) {
			at = r.next
		}
	}
	return at
}

// step makes the flight's next calls, as many as may go now. It returns
// whether the flight's entries were acked in this step, and when it may go
// on (zero when it is finished). err is only ctx's: stop.
func (d *deliverer) step(ctx context.Context, f *flight) (acked bool, next time.Time, err error) {
	if f.acked {
		return false, d.over(ctx, f), nil
	}
	if u := f.p.update; u != nil && !f.updated && !f.dead {
		if t := d.slot(u.ref.Channel); !t.IsZero() {
			return false, t, nil
		}
		uerr := d.o.Sender.Update(ctx, u.ref, u.msg)
		d.took(u.ref.Channel)
		switch de := classify(uerr); {
		case uerr == nil:
			d.m.updates.Inc()
			d.worked()
		case ctx.Err() != nil:
			return false, time.Time{}, ctx.Err()
		case de.Class == Permanent || errors.Is(uerr, errors.ErrUnsupported):
			// The first message is gone or cannot be edited: the reply
			// still tells the story.
			d.m.updateFailures.Inc()
			d.log.Warn("notifier: cannot update the alert's first message", "alert", f.p.entries[0].n.Key.String(), "channel", u.ref.Channel, "code", de.Code)
		default:
			return false, d.failed(f, u.ref.Channel, uerr, time.Time{}), nil
		}
		f.updated = true
	}
	for !f.dead && f.sent < len(f.parts) {
		ch, thread := f.p.channel, f.p.threadTS
		if f.sent > 0 && thread == "" {
			thread = f.ref.TS // continuations go in the first part's thread (none for a webhook)
		}
		if t := d.slot(ch); !t.IsZero() {
			return false, t, nil
		}
		if f.doubt != nil {
			t, err := d.lookup(ctx, f, ch, thread)
			if err != nil || !t.IsZero() {
				return false, t, err
			}
			if f.doubt == nil {
				continue // found (or taken as posted): the next part
			}
		}
		m := f.parts[f.sent]
		m.Key = f.key(f.sent)
		began := d.clock.Now()
		ref, perr := d.o.Sender.Post(ctx, ch, thread, m)
		if perr == nil {
			d.posted(ctx, f, ch, ref) // first: it learns the channel's id, the slot's key
			d.took(ch)
			continue
		}
		d.took(ch)
		if ctx.Err() != nil {
			return false, time.Time{}, ctx.Err()
		}
		if t := d.failed(f, ch, perr, began); !t.IsZero() {
			return false, t, nil
		}
	}
	return d.ack(ctx, f)
}

// posted records a part Slack took.
func (d *deliverer) posted(ctx context.Context, f *flight, ch string, ref engine.MessageRef) {
	if f.sent == 0 {
		f.ref = ref
		if ref.Channel != "" && ref.Channel != ch {
			d.chanID[ch] = ref.Channel
		}
		if f.p.kind == msgGroup && ref.TS != "" && d.groups != nil {
			// Recorded before the ack: after a restart, the members'
			// resolves must know this is a storm's message, not theirs.
			if err := d.groups.PutGroupRef(ctx, groupRefKey(ref), ref); err != nil {
				d.log.Warn("notifier: cannot record storm message; after a restart its members' resolves may update it", "err", err)
			}
		}
	}
	f.sent++
	f.doubt = nil
	d.worked()
}

// worked ends a pause for refused credentials: Slack took a call.
func (d *deliverer) worked() {
	if d.auth.active() {
		d.auth = pause{}
		d.setHealth()
		d.log.Info("notifier: Slack accepts the credentials again; delivering what was kept")
	}
}

func groupRefKey(ref engine.MessageRef) string { return "storm/" + ref.Channel + "/" + ref.TS }

// lookup decides what to do with a part whose last post went unanswered:
// look for it in Slack (found: it counts as posted), or post it again. It
// returns a time to wait for when it cannot decide now.
func (d *deliverer) lookup(ctx context.Context, f *flight, ch, thread string) (time.Time, error) {
	dbt := f.doubt
	finder, ok := d.o.Sender.(Finder)
	id := ch // a thread's channel is the id Slack answered with
	if thread == "" && !isChannelID(ch) {
		id = d.chanID[ch] // conversations.history wants the channel's id
	}
	if !ok || dbt.blind || id == "" {
		return d.blindRetry(f, ch), nil
	}
	ref, found, err := finder.Find(ctx, id, thread, f.key(f.sent), dbt.at)
	switch {
	case err == nil && found:
		d.m.lookups.WithLabelValues("found").Inc()
		d.log.Info("notifier: Slack had posted the message it did not answer for; not posting it again",
			"alert", f.p.entries[0].n.Key.String(), "channel", ch, "ts", ref.TS)
		d.posted(ctx, f, ch, ref)
		return time.Time{}, nil
	case err == nil:
		d.m.lookups.WithLabelValues("absent").Inc()
		return time.Time{}, nil // not there: post it again
	case ctx.Err() != nil:
		return time.Time{}, ctx.Err()
	}
	d.m.lookups.WithLabelValues("error").Inc()
	de := Classify(err)
	now := d.clock.Now()
	switch de.Class {
	case RateLimited, Transient:
		// Slack allows few lookups (conversations.history is Tier 1 for
		// apps outside the Marketplace): wait, then look again.
		wait := d.backoff(f, now)
		if de.Class == RateLimited && de.RetryAfter > wait {
			wait = min(de.RetryAfter, d.o.MaxRetryAfter)
			d.holdUntil(f, now.Add(wait))
		}
		d.log.Warn("notifier: cannot look for an unanswered message yet; will look again", "channel", ch, "code", de.Code, "in", wait)
		return now.Add(wait), nil
	}
	// Refused (missing_scope, not_in_channel, …): this channel cannot be
	// looked in; fall back to the bounded policy.
	if !d.blind[ch] {
		d.blind[ch] = true
		d.log.Warn("notifier: cannot look for messages Slack did not answer for; such a message is posted again at most once more "+
			"(grant the app channels:history and groups:history to make that exact)", "channel", ch, "code", de.Code)
	}
	dbt.blind = true
	return d.blindRetry(f, ch), nil
}

// blindRetry is the policy for an unanswered post that cannot be looked
// for: post it again while fewer than MaxUnanswered posts went
// unanswered; after that, take it as posted (it most likely was: Slack
// took the request and was slow to answer), say so, and go on. So a slow
// Slack posts a message at most MaxUnanswered times, never without bound.
func (d *deliverer) blindRetry(f *flight, ch string) time.Time {
	if f.doubt.tries < d.o.MaxUnanswered {
		return time.Time{}
	}
	d.log.Warn("notifier: Slack did not answer for a message, repeatedly, and it cannot be looked for; taking it as posted",
		"alert", f.p.entries[0].n.Key.String(), "channel", ch, "unanswered", f.doubt.tries)
	f.onFaith = true
	d.posted(context.Background(), f, ch, engine.MessageRef{Channel: ch})
	return time.Time{}
}

// ack removes the flight's entries from the outbox, all in one transaction
// where the outbox can. A store that cannot write pauses all delivery:
// posting on would post every later message without being able to record
// it, and post it again and again.
func (d *deliverer) ack(ctx context.Context, f *flight) (bool, time.Time, error) {
	var ref engine.MessageRef
	switch p := f.p; {
	case f.dead:
	case p.ackPosted && f.ref.TS != "":
		ref = f.ref
	case p.ackRef.TS != "":
		ref = p.ackRef
	}
	err := d.ackAll(ctx, f.p.entries, ref)
	now := d.clock.Now()
	if err != nil {
		if ctx.Err() != nil {
			return false, time.Time{}, ctx.Err()
		}
		d.m.storeFailures.Inc()
		s := &d.store
		if !s.active() {
			s.since = now
			d.log.Error("notifier: the store cannot record what was sent; delivery is paused so nothing is posted twice. Free space or fix the file; delivery resumes by itself",
				"err", err, "alert", f.p.entries[0].n.Key.String())
		}
		s.err = err
		s.backoff = min(max(s.backoff*2, d.o.BackoffMin), d.o.BackoffMax)
		s.until = now.Add(s.backoff)
		d.setHealth()
		return false, s.until, nil
	}
	if d.store.active() {
		d.log.Info("notifier: the store records again; delivery resumes", "paused_for", now.Sub(d.store.since).Round(time.Second))
		d.store = pause{}
		d.setHealth()
	}
	outcome := f.p.outcome
	switch {
	case f.dead:
		outcome = OutcomeDeadLettered
	case f.onFaith:
		outcome = OutcomeMaybeSent
	case f.p.kind == msgGroup:
		d.m.groupMessages.Inc()
	case f.p.kind == msgJoin || f.p.kind == msgBatch:
		d.m.threadBatches.Inc()
	}
	for _, e := range f.p.entries {
		delete(d.retry, e.n.Key)
		d.m.notified(string(e.n.Kind), outcome, 1)
	}
	f.acked = true
	if f.dead || f.p.over == nil {
		return true, time.Time{}, nil
	}
	return true, d.over(ctx, f), nil
}

// batchAcker is an Outbox that acks several entries in one transaction
// (store.DB, engine.MemoryStore), so a kill during a storm's acks repeats
// nothing: the storm message and all its members are acked together.
type batchAcker interface {
	AckAll(ctx context.Context, ids []uint64, keys []engine.AlertKey, ref engine.MessageRef) error
}

func (d *deliverer) ackAll(ctx context.Context, es []*pending, ref engine.MessageRef) error {
	if b, ok := d.o.Outbox.(batchAcker); ok && len(es) > 1 {
		ids := make([]uint64, len(es))
		keys := make([]engine.AlertKey, len(es))
		for i, e := range es {
			ids[i], keys[i] = e.n.ID, e.n.Key
		}
		return b.AckAll(ctx, ids, keys, ref)
	}
	for _, e := range es {
		if err := d.o.Outbox.Ack(ctx, e.n.ID, e.n.Key, ref); err != nil {
			return err
		}
	}
	return nil
}

// over marks a storm's message over once all its members resolved. Best
// effort: a failure is logged and counted, never retried. It returns when
// to try when the channel's slot is not free yet; zero once done.
func (d *deliverer) over(ctx context.Context, f *flight) time.Time {
	u := f.p.over
	if t := d.slot(u.ref.Channel); !t.IsZero() {
		return t
	}
	err := d.o.Sender.Update(ctx, u.ref, u.msg)
	d.took(u.ref.Channel)
	if err != nil {
		d.m.updateFailures.Inc()
		d.log.Warn("notifier: cannot mark storm message over", "channel", u.ref.Channel, "code", classify(err).Code)
	} else {
		d.m.updates.Inc()
	}
	f.p.over = nil
	return time.Time{}
}

// failed decides what a failed call means: wait (429), pause (the
// credentials), give up (permanent) or retry later (transient). It
// returns when the flight may go on; zero when it goes on now (a refused
// message is dead-lettered, a refused continuation skipped). began is
// when a post began (zero for an update).
func (d *deliverer) failed(f *flight, ch string, err error, began time.Time) time.Time {
	post := !began.IsZero()
	de := Classify(err)
	now := d.clock.Now()
	first := &f.p.entries[0].n
	log := d.log.With("alert", first.Key.String(), "kind", string(first.Kind), "channel", ch, "code", de.Code)
	switch de.Class {
	case RateLimited:
		wait := de.RetryAfter
		if wait <= 0 {
			wait = d.o.DefaultRetryAfter
		}
		if wait > d.o.MaxRetryAfter {
			// A Retry-After of days would park the channel for good.
			d.m.retryAfterCapped.Inc()
			log.Warn("notifier: Slack asked to wait longer than qoswatch waits; waiting the cap", "retry_after", de.RetryAfter, "cap", d.o.MaxRetryAfter)
			wait = d.o.MaxRetryAfter
		}
		d.slots[d.limKey(ch)] = now.Add(wait)
		d.m.rateLimited.Inc()
		log.Warn("notifier: Slack rate limit; channel waits", "retry_after", wait)
		return now.Add(wait)
	case Unauthorized:
		// Every later call would fail the same way: pause all delivery,
		// keep every entry, and say so once per outage.
		d.m.authFailures.Inc()
		if !d.auth.active() {
			d.auth.since = now
			log.Error("notifier: Slack refused the credentials; nothing is sent until they work, nothing is dropped", "err", de, "retry_every", d.o.AuthRetry)
		} else {
			log.Debug("notifier: Slack still refuses the credentials", "err", de)
		}
		d.auth.err, d.auth.until = de, now.Add(d.o.AuthRetry)
		d.setHealth()
		return d.auth.until
	case Permanent:
		if post && f.sent > 0 {
			// A continuation refused (the first part is in Slack): go on
			// with the rest rather than post the first again.
			log.Error("notifier: Slack refused a continuation of a message; the rest is still posted", "err", de, "part", f.sent+1)
			f.sent++
			return time.Time{}
		}
		// Dead-letter: retrying cannot help, and a stuck entry must not
		// hold the alert's later messages back for ever.
		f.dead = true
		d.m.permanent.WithLabelValues(ch).Add(float64(len(f.p.entries)))
		if k := (refusal{ch, de.Code}); !d.refused[k] {
			d.refused[k] = true
			log.Error("notifier: Slack refused the channel; notifications to it are dropped until fixed", "err", de, "dropped", len(f.p.entries))
		} else {
			log.Debug("notifier: dropped notification (permanent error)", "err", de)
		}
		return time.Time{}
	}
	d.m.retries.Inc()
	if post && de.Unanswered {
		if f.doubt == nil {
			f.doubt = &doubt{at: began}
		}
		f.doubt.tries++
	}
	wait := d.backoff(f, now)
	log.Warn("notifier: delivery failed; will retry", "err", de, "in", wait, "unanswered", de.Unanswered)
	return now.Add(wait)
}

// backoff doubles the flight's alerts' back-off and holds them for it.
func (d *deliverer) backoff(f *flight, now time.Time) time.Duration {
	var b time.Duration
	for _, k := range f.keys() {
		r := d.retry[k]
		r.backoff = min(max(r.backoff*2, d.o.BackoffMin), d.o.BackoffMax)
		r.next = now.Add(r.backoff)
		d.retry[k] = r
		b = max(b, r.backoff)
	}
	return b
}

// holdUntil holds the flight's alerts until t.
func (d *deliverer) holdUntil(f *flight, t time.Time) {
	for _, k := range f.keys() {
		r := d.retry[k]
		r.next = t
		d.retry[k] = r
	}
}

// slot returns when channel may take its next call; zero when now.
func (d *deliverer) slot(channel string) time.Time {
	if t := d.slots[d.limKey(channel)]; t.After(d.clock.Now()) {
		return t
	}
	return time.Time{}
}

// took records a call to channel, for the per-channel pace.
func (d *deliverer) took(channel string) {
	next := d.clock.Now().Add(d.o.ChannelInterval)
	if k := d.limKey(channel); next.After(d.slots[k]) {
		d.slots[k] = next
	}
}

// limKey is the pace's key for a channel: its id once Slack told it, so
// "#av-oncall" and "C0AV" share one slot.
func (d *deliverer) limKey(channel string) string {
	if id, ok := d.chanID[channel]; ok {
		return id
	}
	return channel
}

// prune forgets channel slots in the past and back-offs of alerts with
// nothing pending, so memory stays flat over months.
func (d *deliverer) prune(now time.Time, pendingKeys map[engine.AlertKey]bool) {
	for k, t := range d.slots {
		if t.Before(now) {
			delete(d.slots, k)
		}
	}
	for k, r := range d.retry {
		if !pendingKeys[k] && r.next.Before(now) {
			delete(d.retry, k)
		}
	}
}

// setHealth publishes the pause, if any, for Health.
func (d *deliverer) setHealth() {
	var err error
	switch {
	case d.store.active():
		err = fmt.Errorf("store unwritable since %s: %v; delivery paused, retrying every %s",
			d.store.since.UTC().Format("15:04:05 UTC"), d.store.err, d.store.backoff)
	case d.auth.active():
		err = fmt.Errorf("Slack refuses the credentials since %s (%s); delivery paused, nothing is dropped",
			d.auth.since.UTC().Format("15:04:05 UTC"), Classify(d.auth.err).Code)
	}
	d.healthMu.Lock()
	d.health = err
	d.healthMu.Unlock()
}

func classify(err error) *DeliveryError {
	if err == nil {
		return &DeliveryError{}
	}
	return Classify(err)
}

// isChannelID reports whether s looks like a Slack conversation id
// ("C0123ABCD", "G…", "D…") rather than a name.
func isChannelID(s string) bool {
	if len(s) < 9 || (s[0] != 'C' && s[0] != 'G' && s[0] != 'D') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
