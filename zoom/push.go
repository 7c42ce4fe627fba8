package zoom

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
)

// What Zoom pushes reaches qoswatch through one handler, whatever the
// transport (webhook.go, ws.go): Accept checks an event and stores it on
// disk (the 200 a webhook waits for), Run applies the stored events to the
// engine with the same calls the poller makes. An event is applied at
// least once; every effect is idempotent (a sample at or before its
// participant's cursor is skipped, a second end or leave changes
// nothing), so a crash between the engine's commit and the inbox's
// delete costs nothing.

// EventQueue keeps accepted events on disk until they are applied, and
// the roster: who the applied joins said each participant is, which QSS
// samples (only ids) need after a restart. EnqueueEvents sets the ID of
// each entry it stores (0 for a duplicate); DoneEvents deletes applied
// events and writes, in the same transaction, what they did to the
// roster. *store.DB implements it.
type EventQueue interface {
	EnqueueEvents(ctx context.Context, es []engine.InboxEntry) (dup []bool, err error)
	PendingEvents(ctx context.Context, limit int) ([]engine.InboxEntry, error)
	DoneEvents(ctx context.Context, ids []uint64, roster []engine.RosterEntry) error
	Roster(ctx context.Context) ([]engine.RosterEntry, error)
}

// EventSink is what events do to the engine. *engine.Engine implements it.
type EventSink interface {
	Ingest(ctx context.Context, batch []engine.Sample) error
	EndSource(ctx context.Context, src engine.Source, at time.Time) error
	LeaveParticipant(ctx context.Context, src engine.Source, participant string, at time.Time) error
}

// PushPoller is what events ask of the poller.
type PushPoller interface {
	// Focus polls one source's participants now, outside the schedule but
	// within the budget: Zoom flagged an issue there (an alert event).
	Focus(src engine.Source)
	// FillGap polls the live sources now: events may have been lost (a
	// WebSocket reconnected; Zoom does not replay what it sent meanwhile).
	FillGap()
}

// PushMemory keeps, across restarts, when started/ended events and QSS
// samples last came: what the account is known to push, so that a restart
// (or a webinar that starts before the day's first QSS minute) does not
// send the poller to sweep what QSS will bring. *store.DB implements it.
type PushMemory interface {
	PushSeen(ctx context.Context) (lifecycle, qss time.Time, err error)
	SetPushSeen(ctx context.Context, lifecycle, qss time.Time) error
}

// SourceResolver finds the webinar or meeting a uuid names: QSS events
// carry only the uuid. *Client implements it (one Heavy call).
type SourceResolver interface {
	SourceByUUID(ctx context.Context, kind engine.SourceKind, uuid string) (engine.Source, error)
}

// EventsConfig configures Events. Queue and Sink are required.
type EventsConfig struct {
	Queue    EventQueue
	Sink     EventSink
	Poller   PushPoller     // nil: alerts and reconnects poll nothing
	Resolver SourceResolver // nil: QSS of a source no event announced is dropped (counted)
	Memory   PushMemory     // nil: what the account pushes is learnt anew at each start
	// Wanted says which sources qoswatch watches (QOSWATCH_WATCH,
	// QOSWATCH_SOURCES); nil watches every one. Events of others are
	// counted as unused.
	Wanted func(engine.Source) bool
	// BatchSize is how many stored events one engine call takes at most;
	// default 1000.
	BatchSize  int
	Clock      engine.Clock // nil: the system clock
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not registered
}

// QSSFresh is how long after its last QSS sample a source still counts as
// push-fed: Zoom sends one a minute per participant.
const QSSFresh = 3 * time.Minute

// lifecycleTrust is how long after a started or ended event the
// lifecycle events count as flowing.
const lifecycleTrust = 72 * time.Hour

// issueWindow is how far (in sample time) around a Zoom alert its issues
// are shown on samples of its source.
const issueWindow = 10 * time.Minute

// memoryEvery is how often, at most, Events saves when events last came:
// it counts in hours (lifecycleTrust), a write a day per kind would do.
const memoryEvery = 10 * time.Minute

// applyGather is how long Run lets stored events gather before applying:
// each engine commit holds the store's only writer lock, which the
// webhooks' group commits wait for, and costs about as much for 50 events
// as for 1,000 (a batch's cursors are spread over the file). Half a second
// on a minute-scale alert needs under a third of the commits.
const applyGather = 500 * time.Millisecond

// Events applies what Zoom pushes. Safe for concurrent use.
type Events struct {
	cfg  EventsConfig
	log  *slog.Logger
	m    *eventMetrics
	wake chan struct{}
	wsUp atomic.Bool // the Zoom WebSocket is open

	mu        sync.Mutex
	byUUID    map[string]*pushSource // QSS events carry only the uuid
	byKey     map[string]*pushSource // Source.Key()
	unknown   map[string]time.Time   // uuids the resolver did not find, and when
	lifecycle time.Time              // the last started or ended event
	qssAt     time.Time              // the last QSS sample of any source
	saved     [2]time.Time           // lifecycle and qssAt as Memory has them
	// restored is the roster the queue held at the start, by source key,
	// until the source is next spoken of (note).
	restored map[string][]engine.RosterEntry

	// Events Accept decoded, by inbox ID, so that Run applies them without
	// decoding them again; one not here (after a restart, or when Run lags
	// by more than decodedMax) is decoded from its stored body.
	decoded     map[uint64]*Event
	appliedUpTo uint64 // the highest inbox ID applied: no use keeping those
}

// decodedMax bounds Events.decoded: what Run will apply soon.
const decodedMax = 4096

// pushSource is what events said of one webinar or meeting.
type pushSource struct {
	src       engine.Source
	live      bool
	ended     time.Time                     // event time of *.ended
	startedAt time.Time                     // clock time it was seen to start (or be live)
	lastQSS   time.Time                     // clock time of its last QSS sample
	lastEvent time.Time                     // clock time of its last event
	people    map[string]engine.Participant // joined and not left, by Participant.Key()
	alerts    []issueMark                   // Zoom's alerts, recent first
}

// sawLive notes an event that only a live source sends (a join, QSS, an
// alert): qoswatch may have started after the started event. One older
// than the source's end is a straggler of the ended occurrence.
func (ps *pushSource) sawLive(at, now time.Time) {
	if ps.ended.IsZero() || at.After(ps.ended) {
		if !ps.live {
			ps.startedAt = now
		}
		ps.live, ps.ended = true, time.Time{}
	}
}

type issueMark struct {
	at     time.Time
	issues []string
}

// NewEvents returns the handler; call Run to apply what Accept stores.
func NewEvents(cfg EventsConfig) (*Events, error) {
	if cfg.Queue == nil || cfg.Sink == nil {
		return nil, errors.New("zoom events: a queue and a sink are required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.Clock == nil {
		cfg.Clock = engine.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Events{
		cfg: cfg, log: cfg.Logger.With("component", "zoom_events"),
		wake:   make(chan struct{}, 1),
		byUUID: map[string]*pushSource{}, byKey: map[string]*pushSource{}, unknown: map[string]time.Time{},
		decoded: map[uint64]*Event{}, restored: map[string][]engine.RosterEntry{},
	}
	h.m = newEventMetrics(cfg.Registerer, h)
	roster, err := cfg.Queue.Roster(context.Background())
	if err != nil {
		return nil, fmt.Errorf("zoom events: %w", err)
	}
	for _, r := range roster {
		h.restored[r.Source] = append(h.restored[r.Source], r)
	}
	if cfg.Memory != nil {
		l, q, err := cfg.Memory.PushSeen(context.Background())
		if err != nil {
			return nil, fmt.Errorf("zoom events: %w", err)
		}
		h.lifecycle, h.qssAt, h.saved = l, q, [2]time.Time{l, q}
	}
	return h, nil
}

// UsePoller sets the poller events ask for focused polls and gap fills,
// when it is made after the handler (it reads the handler too). Call it
// before Run and RunWebSocket.
func (h *Events) UsePoller(p PushPoller) { h.cfg.Poller = p }

// Outcome is what Accept did with an event.
type Outcome string

const (
	Stored     Outcome = "stored"     // on disk, to be applied
	Duplicate  Outcome = "duplicate"  // seen within the dedup retention: nothing stored
	Unused     Outcome = "unused"     // a type qoswatch does not consume: nothing stored
	Validation Outcome = "validation" // endpoint.url_validation: answered by the webhook, nothing stored
)

// Accept checks one event (a webhook body, a WebSocket message's content)
// and, if qoswatch consumes its type, stores it before returning. An
// error wrapping errNotEvent is the sender's fault (a 400); any other is
// ours (the store failed: a 503, so that Zoom retries).
func (h *Events) Accept(ctx context.Context, transport string, body []byte) (*Event, Outcome, error) {
	evs, outs, errs := h.AcceptAll(ctx, transport, [][]byte{body})
	return evs[0], outs[0], errs[0]
}

// AcceptAll is Accept for several events, checked and stored in order in
// one write (the WebSocket's backlog, simulate). The results are per
// event.
func (h *Events) AcceptAll(ctx context.Context, transport string, bodies [][]byte) ([]*Event, []Outcome, []error) {
	evs, outs, errs := make([]*Event, len(bodies)), make([]Outcome, len(bodies)), make([]error, len(bodies))
	var entries []engine.InboxEntry
	var at []int // entries[k] is bodies[at[k]]
	now := h.cfg.Clock.Now()
	for i, body := range bodies {
		ev, err := ParseEvent(body)
		if err != nil {
			h.m.rejected.WithLabelValues(transport, "not_an_event").Inc()
			errs[i] = err
			continue
		}
		evs[i] = ev
		if ev.Event == EventURLValidation {
			outs[i] = Validation
			continue
		}
		if _, what := classify(ev.Event); what == evUnused {
			h.m.unused.WithLabelValues(transport).Inc()
			outs[i] = Unused
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, body); err != nil { // valid: ParseEvent read it
			errs[i] = fmt.Errorf("%w: %w", errNotEvent, err)
			continue
		}
		entries = append(entries, engine.InboxEntry{Key: eventKey(ev, buf.Bytes()), Received: now, Body: buf.Bytes()})
		at = append(at, i)
	}
	if len(entries) == 0 {
		return evs, outs, errs
	}
	dup, err := h.cfg.Queue.EnqueueEvents(ctx, entries)
	if err == nil {
		h.mu.Lock()
		for k, i := range at {
			if id := entries[k].ID; !dup[k] && id > h.appliedUpTo && len(h.decoded) < decodedMax {
				h.decoded[id] = evs[i]
			}
		}
		h.mu.Unlock()
	}
	for k, i := range at {
		switch {
		case err != nil:
			h.m.rejected.WithLabelValues(transport, "store_error").Inc()
			errs[i] = fmt.Errorf("zoom events: %s: %w", evs[i].Event, err)
		case dup[k]:
			h.m.duplicates.WithLabelValues(transport).Inc()
			outs[i] = Duplicate
		default:
			h.m.received.WithLabelValues(transport, evs[i].Event).Inc()
			outs[i] = Stored
		}
	}
	if err == nil {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
	return evs, outs, errs
}

// eventKey identifies an event across deliveries: its time (event_ts),
// name and a hash of its (compacted) JSON. Zoom sends a retry with the
// same body, and a WebSocket message carries the same JSON as the webhook
// would. The time comes first so that keys sort as events come: the store
// then adds a burst's keys to one end of its seen-keys index, a few pages
// written per commit instead of one per event.
func eventKey(ev *Event, compact []byte) string {
	sum := sha256.Sum256(compact)
	return fmt.Sprintf("%013d:%s:%s", max(ev.EventTS, 0), ev.Event, hex.EncodeToString(sum[:16]))
}

// Run applies stored events until ctx ends. An engine or store failure is
// logged and retried (the events stay stored); it never stops Run.
func (h *Events) Run(ctx context.Context) error {
	wait := time.Second
	for {
		n, err := h.applyPending(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			h.m.applyErrors.Inc()
			if errors.Is(err, engine.ErrNoRules) {
				h.log.Debug("events wait for the rules", "error", err)
			} else {
				h.log.Error("applying Zoom events failed; they stay stored and are retried", "error", err, "retry_in", wait)
			}
			if engine.Sleep(ctx, h.cfg.Clock, wait) != nil {
				return nil
			}
			wait = min(2*wait, 30*time.Second)
			continue
		case n == h.cfg.BatchSize:
			continue // more are waiting
		}
		wait = time.Second
		select {
		case <-ctx.Done():
			return nil
		case <-h.wake:
			// Let a burst gather (Zoom sends a minute's QSS of a whole
			// webinar at once): one engine commit for many events, not one
			// each (applyGather).
			if engine.Sleep(ctx, h.cfg.Clock, applyGather) != nil {
				return nil
			}
		case <-h.cfg.Clock.After(5 * time.Second): // a safety net: Accept wakes Run
		}
	}
}

// Apply applies what is stored now, until nothing is left, and returns
// the first failure (the events stay stored). Run does this as events
// arrive; simulate and tests step it themselves.
func (h *Events) Apply(ctx context.Context) error {
	for {
		n, err := h.applyPending(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// applyPending applies one batch of stored events in arrival order and
// deletes them. Consecutive QSS samples go to the engine in one Ingest.
func (h *Events) applyPending(ctx context.Context) (int, error) {
	entries, err := h.cfg.Queue.PendingEvents(ctx, h.cfg.BatchSize)
	if err != nil || len(entries) == 0 {
		return 0, err
	}
	samples := make([]engine.Sample, 0, len(entries)) // most events are one QSS minute
	flush := func() error {
		if len(samples) == 0 {
			return nil
		}
		err := h.cfg.Sink.Ingest(ctx, samples)
		samples = samples[:0]
		return err
	}
	ids := make([]uint64, 0, len(entries))
	var roster []engine.RosterEntry // what the batch's joins, leaves and ends did
	for _, e := range entries {
		ids = append(ids, e.ID)
		ev, err := h.decodedEvent(e)
		if err != nil { // stored by an older release, or damaged: never applicable
			h.m.applied.WithLabelValues("undecodable").Inc()
			h.log.Warn("a stored Zoom event does not decode; dropped", "id", e.ID, "error", err)
			continue
		}
		kind, what := classify(ev.Event)
		if what == evQoS {
			if samples, err = h.appendQSS(ctx, samples, kind, ev); err != nil {
				return 0, err
			}
			h.m.applied.WithLabelValues(ev.Event).Inc()
			continue
		}
		if err := flush(); err != nil {
			return 0, err
		}
		if err := h.apply(ctx, kind, what, ev, &roster); err != nil {
			return 0, fmt.Errorf("%s (%s): %w", ev.Event, e.Key, err)
		}
		h.m.applied.WithLabelValues(ev.Event).Inc()
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if err := h.cfg.Queue.DoneEvents(ctx, ids, roster); err != nil {
		return 0, err
	}
	h.mu.Lock()
	for _, id := range ids {
		delete(h.decoded, id)
	}
	h.appliedUpTo = max(h.appliedUpTo, ids[len(ids)-1])
	h.mu.Unlock()
	h.gc()
	h.remember(ctx)
	return len(entries), nil
}

// remember saves when events last came, when that moved by memoryEvery
// since it was saved. A failure is logged: the events were applied, and
// the memory is only a head start after a restart.
func (h *Events) remember(ctx context.Context) {
	if h.cfg.Memory == nil {
		return
	}
	h.mu.Lock()
	now := [2]time.Time{h.lifecycle, h.qssAt}
	due := now[0].Sub(h.saved[0]) >= memoryEvery || now[1].Sub(h.saved[1]) >= memoryEvery
	h.mu.Unlock()
	if !due {
		return
	}
	if err := h.cfg.Memory.SetPushSeen(ctx, now[0], now[1]); err != nil {
		h.log.Warn("could not save when Zoom's events last came; a restart learns it anew", "error", err)
		return
	}
	h.mu.Lock()
	h.saved = now
	h.mu.Unlock()
}

// decodedEvent is the stored event e as Accept decoded it, or decoded
// from its body.
func (h *Events) decodedEvent(e engine.InboxEntry) (*Event, error) {
	h.mu.Lock()
	ev := h.decoded[e.ID]
	h.mu.Unlock()
	if ev != nil {
		return ev, nil
	}
	return ParseEvent(e.Body)
}

// apply applies one event other than QSS samples, and appends to roster
// what it did to the source's participants.
func (h *Events) apply(ctx context.Context, kind engine.SourceKind, what eventKind, ev *Event, roster *[]engine.RosterEntry) error {
	o := &ev.Payload.Object
	src := engine.Source{Kind: kind, ID: string(o.ID), UUID: o.UUID, Topic: o.Topic, Live: what != evEnded}
	if what == evQoSSummary { // carries the id as a string, and no topic
		ps, err := h.resolve(ctx, kind, o.UUID, string(o.ID))
		if err != nil || ps == nil {
			return err
		}
		src = ps.src
	}
	if h.cfg.Wanted != nil && !h.cfg.Wanted(src) {
		h.m.unwatched.Inc()
		return nil
	}
	now := h.cfg.Clock.Now()
	h.mu.Lock()
	ps := h.note(src, now)
	var leaver engine.Participant
	switch what {
	case evStarted:
		if !ps.live {
			ps.startedAt = now
		}
		ps.live, ps.ended = true, time.Time{}
		h.lifecycle = now
	case evEnded:
		ps.live, ps.ended = false, ev.At()
		clear(ps.people)
		ps.alerts = nil
		h.lifecycle = now
		*roster = append(*roster, engine.RosterEntry{Source: ps.src.Key(), Gone: true})
	case evJoined:
		p := o.Participant.participant()
		if p.JoinTime.IsZero() { // the store's Collect ages the roster by it
			p.JoinTime = ev.At()
		}
		ps.people[p.Key()] = p
		ps.sawLive(ev.At(), now)
		*roster = append(*roster, engine.RosterEntry{Source: ps.src.Key(), UUID: ps.src.UUID, Participant: identity(p)})
	case evLeft, evQoSSummary:
		leaver = o.Participant.participant()
		delete(ps.people, leaver.Key())
		*roster = append(*roster, engine.RosterEntry{Source: ps.src.Key(), Participant: identity(leaver), Gone: true})
	case evAlert:
		ps.alerts = slices.Insert(ps.alerts, 0, issueMark{at: ev.At(), issues: slices.Clone(o.Issues)})
		ps.sawLive(ev.At(), now)
	}
	src = ps.src
	h.mu.Unlock()

	switch what {
	case evEnded:
		at := optTime(o.EndTime)
		if at.IsZero() {
			at = ev.At()
		}
		return h.cfg.Sink.EndSource(ctx, src, at)
	case evLeft, evQoSSummary:
		at := leaver.LeaveTime
		if at.IsZero() {
			at = ev.At()
		}
		return h.cfg.Sink.LeaveParticipant(ctx, src, leaver.Key(), at)
	case evAlert:
		h.log.Info("Zoom flagged an issue; polling the source now", "source", src.Key(), "issues", o.Issues)
		if h.cfg.Poller != nil {
			h.cfg.Poller.Focus(src)
		}
	}
	return nil
}

// note returns the table entry of src, created or updated with what the
// event says. h.mu is held.
func (h *Events) note(src engine.Source, now time.Time) *pushSource {
	ps := h.byKey[src.Key()]
	if ps == nil {
		ps = &pushSource{src: src, people: map[string]engine.Participant{}}
		h.byKey[src.Key()] = ps
	}
	if src.UUID != "" && src.UUID != ps.src.UUID {
		delete(h.byUUID, ps.src.UUID) // a new occurrence of a recurring webinar
		ps.src.UUID = src.UUID
	}
	if ps.src.UUID != "" {
		h.byUUID[ps.src.UUID] = ps
	}
	if src.Topic != "" {
		ps.src.Topic = src.Topic
	}
	ps.src.Live = src.Live
	ps.lastEvent = now
	// What the joins said before a restart, of this occurrence; the
	// rest (another occurrence's) is stale, and Collect drops it.
	if r, ok := h.restored[src.Key()]; ok && ps.src.UUID != "" {
		for _, j := range r {
			if _, joined := ps.people[j.Participant.Key()]; !joined && j.UUID == ps.src.UUID {
				ps.people[j.Participant.Key()] = j.Participant
			}
		}
		delete(h.restored, src.Key())
	}
	return ps
}

// appendQSS appends to dst the samples of a participant_qos event, with
// what the joins said of the participant (name, email).
func (h *Events) appendQSS(ctx context.Context, dst []engine.Sample, kind engine.SourceKind, ev *Event) ([]engine.Sample, error) {
	o := &ev.Payload.Object
	ps, err := h.resolve(ctx, kind, o.UUID, "")
	if err != nil || ps == nil {
		return dst, err
	}
	now := h.cfg.Clock.Now()
	h.mu.Lock()
	if h.cfg.Wanted != nil && !h.cfg.Wanted(ps.src) {
		h.mu.Unlock()
		h.m.unwatched.Inc()
		return dst, nil
	}
	part := o.Participant.participant()
	if known, ok := ps.people[part.Key()]; ok {
		MergeKnown(&part, known)
	}
	src := ps.src
	src.Live = true
	ps.lastQSS, ps.lastEvent, h.qssAt = now, now, now
	ps.sawLive(ev.At(), now)
	h.mu.Unlock()
	return appendQSSSamples(dst, src, part, o.Participant.QoS), nil
}

// Annotate sets on each sample the issues Zoom's alert events named for
// its source around its time (zoom_alert.issues). The daemon runs every
// batch through it before the engine, polled and pushed alike.
func (h *Events) Annotate(batch []engine.Sample) {
	h.mu.Lock()
	flagged := false
	for _, ps := range h.byKey {
		flagged = flagged || len(ps.alerts) > 0
	}
	h.mu.Unlock()
	if !flagged { // the common case: no flag anywhere, nothing to look up per sample
		return
	}
	for i := range batch {
		s := &batch[i]
		s.ZoomAlert.Issues = h.Issues(s.Source.Key(), s.Time)
	}
}

// identity is what MergeKnown takes of p: what the roster keeps.
func identity(p engine.Participant) engine.Participant {
	return engine.Participant{UserID: p.UserID, ID: p.ID, UserName: p.UserName, Email: p.Email, Role: p.Role, JoinTime: p.JoinTime}
}

// MergeKnown fills dst's blank fields from what was known of the same
// participant before.
func MergeKnown(dst *engine.Participant, known engine.Participant) {
	set := func(f *string, v string) {
		if *f == "" {
			*f = v
		}
	}
	set(&dst.ID, known.ID)
	set(&dst.UserName, known.UserName)
	set(&dst.Email, known.Email)
	set(&dst.Role, known.Role)
	if dst.JoinTime.IsZero() {
		dst.JoinTime = known.JoinTime
	}
}

// unknownRetry is how long a uuid the resolver could not find is not
// asked about again (a big webinar sends hundreds of QSS events a minute).
const unknownRetry = 10 * time.Minute

// resolve finds the source a uuid (or, failing that, an id) names: from
// the table the events built, else from Zoom. nil (and no error) when
// nobody knows it: the event is counted and dropped.
func (h *Events) resolve(ctx context.Context, kind engine.SourceKind, uuid, id string) (*pushSource, error) {
	now := h.cfg.Clock.Now()
	h.mu.Lock()
	ps := h.byUUID[uuid]
	if ps == nil && id != "" {
		ps = h.byKey[engine.Source{Kind: kind, ID: id}.Key()]
	}
	tried, recently := h.unknown[uuid]
	h.mu.Unlock()
	switch {
	case ps != nil && ps.src.Kind == kind:
		return ps, nil
	case id != "":
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.note(engine.Source{Kind: kind, ID: id, UUID: uuid, Live: true}, now), nil
	case h.cfg.Resolver == nil || (recently && now.Sub(tried) < unknownRetry):
		h.m.unknownSource.Inc()
		return nil, nil
	}
	src, err := h.cfg.Resolver.SourceByUUID(ctx, kind, uuid)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		h.m.unknownSource.Inc()
		h.log.Warn("QSS for a webinar or meeting no event announced, and Zoom did not say which it is; dropped",
			"kind", kind, "uuid", uuid, "error", err)
		h.mu.Lock()
		h.unknown[uuid] = now
		h.mu.Unlock()
		return nil, nil
	}
	src.UUID, src.Live = uuid, true
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.note(src, now), nil
}

// gc forgets ended sources after an hour (late QSS of theirs still maps)
// and sources without an event for a day (their end was missed).
func (h *Events) gc() {
	now := h.cfg.Clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, ps := range h.byKey {
		if (!ps.live && now.Sub(ps.lastEvent) > time.Hour) || now.Sub(ps.lastEvent) > 24*time.Hour {
			delete(h.byKey, k)
			if h.byUUID[ps.src.UUID] == ps {
				delete(h.byUUID, ps.src.UUID)
			}
		}
	}
	for u, at := range h.unknown {
		if now.Sub(at) > unknownRetry {
			delete(h.unknown, u)
		}
	}
}

// Issues returns the issues Zoom flagged on a source (by Source.Key())
// within issueWindow of t, each once, in the order Zoom first named them.
func (h *Events) Issues(sourceKey string, t time.Time) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ps := h.byKey[sourceKey]
	if ps == nil {
		return nil
	}
	var out []string
	for i := len(ps.alerts) - 1; i >= 0; i-- {
		m := ps.alerts[i]
		if d := t.Sub(m.at); d < -issueWindow || d > issueWindow {
			continue
		}
		for _, is := range m.issues {
			if !slices.Contains(out, is) {
				out = append(out, is)
			}
		}
	}
	return out
}

// PushSource is what events say of one source, for status and metrics.
type PushSource struct {
	Source    engine.Source `json:"source"`
	Live      bool          `json:"live"`       // started (or joined) and not ended
	QSS       bool          `json:"qss"`        // QSS samples arrived within QSSFresh
	LastEvent time.Time     `json:"last_event"` // on qoswatch's clock
}

// Sources lists the sources events have spoken of, by key.
func (h *Events) Sources() []PushSource {
	now := h.cfg.Clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]PushSource, 0, len(h.byKey))
	for _, ps := range h.byKey {
		out = append(out, PushSource{Source: ps.src, Live: ps.live, QSS: h.qssFed(ps, now), LastEvent: ps.lastEvent})
	}
	slices.SortFunc(out, func(a, b PushSource) int { return cmp.Compare(a.Source.Key(), b.Source.Key()) })
	return out
}

// QSSFed reports whether a source (by Source.Key()) gets its QoS from QSS
// now: the poller need not spend Heavy QoS calls on it.
func (h *Events) QSSFed(sourceKey string) bool {
	now := h.cfg.Clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	ps := h.byKey[sourceKey]
	return ps != nil && h.qssFed(ps, now)
}

// qssFed: a live source's QSS arrived within QSSFresh; or it started
// within QSSFresh on an account whose QSS flows (another source's in the
// last 72 h): its first minute is on its way, no need to poll for it.
// h.mu is held.
func (h *Events) qssFed(ps *pushSource, now time.Time) bool {
	if !ps.live {
		return false
	}
	return now.Sub(ps.lastQSS) < QSSFresh ||
		(!h.qssAt.IsZero() && now.Sub(h.qssAt) < lifecycleTrust && now.Sub(ps.startedAt) < QSSFresh)
}

// Joined is how many participants a live source has now by its
// joined/left events (0 when none came): the poller sizes its plan by it
// while the live list, which counts them too, is asked only now and then.
func (h *Events) Joined(sourceKey string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ps := h.byKey[sourceKey]; ps != nil && ps.live {
		return len(ps.people)
	}
	return 0
}

// Lifecycle returns the sources started (or joined) and not ended, and
// whether started/ended events flow (one arrived within the last 72 h):
// then they, not a listing, say what is live.
func (h *Events) Lifecycle() (live []engine.Source, flowing bool) {
	now := h.cfg.Clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ps := range h.byKey {
		if ps.live {
			live = append(live, ps.src)
		}
	}
	slices.SortFunc(live, func(a, b engine.Source) int { return cmp.Compare(a.Key(), b.Key()) })
	return live, !h.lifecycle.IsZero() && now.Sub(h.lifecycle) < lifecycleTrust
}

// eventMetrics are the handler's and the transports' counters.
type eventMetrics struct {
	received      *prometheus.CounterVec // transport, event
	duplicates    *prometheus.CounterVec // transport
	unused        *prometheus.CounterVec // transport
	rejected      *prometheus.CounterVec // transport, reason
	applied       *prometheus.CounterVec // event
	applyErrors   prometheus.Counter
	unknownSource prometheus.Counter
	unwatched     prometheus.Counter
	ack           prometheus.Histogram
	ws            wsMetrics
}

func newEventMetrics(reg prometheus.Registerer, h *Events) *eventMetrics {
	m := &eventMetrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qoswatch_zoom_events_received_total",
			Help: "Zoom events stored for the engine, by transport (webhook, websocket) and event type."}, []string{"transport", "event"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qoswatch_zoom_events_duplicate_total",
			Help: "Zoom events received again (a retry, a duplicate delivery) and not stored twice."}, []string{"transport"}),
		unused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qoswatch_zoom_events_unused_total",
			Help: "Zoom events of a type qoswatch does not use, answered 200 and dropped."}, []string{"transport"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qoswatch_zoom_events_rejected_total",
			Help: "Requests and messages refused, by transport and reason (method, missing_header, read_error, too_large, bad_signature, bad_timestamp, stale_timestamp, not_an_event, store_error)."}, []string{"transport", "reason"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qoswatch_zoom_events_applied_total",
			Help: "Stored Zoom events applied to the engine, by event type."}, []string{"event"}),
		applyErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "qoswatch_zoom_events_apply_errors_total",
			Help: "Failed attempts to apply stored Zoom events (they stay stored and are retried)."}),
		unknownSource: prometheus.NewCounter(prometheus.CounterOpts{Name: "qoswatch_zoom_events_unknown_source_total",
			Help: "QSS events of a webinar or meeting that neither an event nor Zoom's API could name; dropped."}),
		unwatched: prometheus.NewCounter(prometheus.CounterOpts{Name: "qoswatch_zoom_events_unwatched_total",
			Help: "Zoom events of sources qoswatch does not watch (QOSWATCH_WATCH, QOSWATCH_SOURCES); dropped."}),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "qoswatch_zoom_webhook_ack_seconds",
			Help:    "Time from a webhook request's arrival to its answer (the event on disk).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}),
	}
	m.ws = newWSMetrics()
	// Every series exists from the start (at 0), so a rate() or an alert
	// on one works before its first event.
	for _, tr := range []string{"webhook", "websocket"} {
		m.duplicates.WithLabelValues(tr)
		m.unused.WithLabelValues(tr)
		for _, ev := range ConsumedEvents {
			m.received.WithLabelValues(tr, ev)
		}
		for _, r := range []string{"not_an_event", "store_error"} {
			m.rejected.WithLabelValues(tr, r)
		}
	}
	for _, r := range []string{"method", "missing_header", "read_error", "too_large", "bad_signature", "bad_timestamp", "stale_timestamp"} {
		m.rejected.WithLabelValues("webhook", r)
	}
	for _, ev := range append(slices.Clone(ConsumedEvents), "undecodable") {
		m.applied.WithLabelValues(ev)
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.received, m.duplicates, m.unused, m.rejected, m.applied, m.applyErrors, m.unknownSource, m.unwatched, m.ack,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "qoswatch_zoom_push_sources",
			Help: "Live webinars and meetings known from Zoom events."}, func() float64 {
			live, _ := h.Lifecycle()
			return float64(len(live))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "qoswatch_zoom_qss_sources",
			Help: "Webinars and meetings whose QoS arrives by QSS events (no Heavy QoS calls are spent on them)."}, func() float64 {
			n := 0
			for _, s := range h.Sources() {
				if s.QSS {
					n++
				}
			}
			return float64(n)
		}),
	)
	m.ws.register(reg)
	return m
}
