package simulate

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/poll"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// simulate --push: the same webinar, and the events Zoom would push for
// it delivered to qoswatch's event handler at their times (the baselines
// poll as before).
//
//	qss:    the QSS add-on: every participant's QoS each minute, and the
//	        started/ended, join/leave and alert events;
//	events: without QSS: started/ended, join/leave and Zoom's alerts; the
//	        QoS is polled.
//
// The run goes on IdleTail after the webinar ends, with nothing live, to
// count what an idle day costs in Resource-intensive listing calls.
//
// qoswatch has watched the account before (pushHistory): its store
// remembers that started/ended events, and with qss QSS samples, came the
// day before, as a deployment's would; and the same webinar's live time
// that day (liveHistory), which the learned plan spends the share over. A first start on an account, with
// nothing remembered, lists and sweeps its first webinar until the first
// QSS minute arrives (219 Heavy calls for 10,000 attendees).

// IdleTail is how long a push run goes on after the webinar.
const IdleTail = 24 * time.Hour

// pushOptions are the scenario's events of a --push mode.
func pushOptions(mode string) (zoomtest.PushOptions, error) {
	switch mode {
	case "qss":
		return zoomtest.PushOptions{QSS: true}, nil
	case "events":
		return zoomtest.PushOptions{}, nil
	}
	return zoomtest.PushOptions{}, fmt.Errorf("--push %q: want qss or events", mode)
}

// pushFeed wraps qoswatch's poller: after each interval it delivers the
// events due before the next one, each at its time on the simulated
// clock, and applies them (the engine sees them then).
type pushFeed struct {
	poller *poll.Poller
	events *zoom.Events
	srv    *zoomtest.Server
	clock  *simClock
	opts   zoomtest.PushOptions
	fed    time.Time // events before this are delivered
	err    error
}

func (f *pushFeed) Poll(ctx context.Context) error {
	begin := f.clock.Now()
	// What Zoom sent up to now (a webinar's started event, at its first
	// second) has arrived before the poll, as it would in a deployment
	// that runs all day; then the events of the minute, each at its time.
	if err := f.deliver(ctx, begin.Add(time.Nanosecond)); err != nil {
		return err
	}
	if err := f.poller.Poll(ctx); err != nil {
		return err
	}
	return f.deliver(ctx, begin.Add(time.Minute))
}

// deliver delivers the events before until, each at its time.
func (f *pushFeed) deliver(ctx context.Context, until time.Time) error {
	evs := f.srv.PushEvents(f.fed, until, f.opts)
	f.fed = until
	for i := 0; i < len(evs); {
		j := i + 1
		for j < len(evs) && evs[j].At.Equal(evs[i].At) {
			j++
		}
		at := evs[i].At
		if !at.Before(f.clock.end) {
			return nil
		}
		if at.After(f.clock.Now()) {
			f.clock.Set(at)
		}
		bodies := make([][]byte, 0, j-i)
		for _, ev := range evs[i:j] {
			bodies = append(bodies, ev.Body)
		}
		_, _, errs := f.events.AcceptAll(ctx, "simulate", bodies)
		if err := errorsJoin(errs); err != nil {
			return err
		}
		if err := f.events.Apply(ctx); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// pushHistory is the memory of a qoswatch that has watched the account
// before: started/ended events, and with QSS its samples, came the day
// before start.
func pushHistory(mode string, start time.Time) zoom.PushMemory {
	m := &memHistory{lifecycle: start.Add(-24 * time.Hour)}
	if mode == "qss" {
		m.qss = m.lifecycle
	}
	return m
}

// liveHistory is the learned plan's memory of that day before: the same
// webinar, its participants present for the time they were (the
// scenario's joins and leaves), as the poller would have recorded it.
func liveHistory(sc *zoomtest.Scenario) *poll.MemoryHistory {
	var seconds int64
	for _, p := range sc.Participants {
		leave := p.Leave
		if leave <= 0 || leave > sc.Duration {
			leave = sc.Duration
		}
		seconds += int64(max(0, leave-p.Join) / time.Second)
	}
	h := &poll.MemoryHistory{}
	_ = h.AddLiveSeconds(context.Background(), sc.Start.AddDate(0, 0, -1), seconds) // in memory: no error
	return h
}

// memHistory is a PushMemory in memory.
type memHistory struct{ lifecycle, qss time.Time }

func (m *memHistory) PushSeen(context.Context) (time.Time, time.Time, error) {
	return m.lifecycle, m.qss, nil
}

func (m *memHistory) SetPushSeen(_ context.Context, lifecycle, qss time.Time) error {
	if !lifecycle.IsZero() {
		m.lifecycle = lifecycle
	}
	if !qss.IsZero() {
		m.qss = qss
	}
	return nil
}

func errorsJoin(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// memQueue is the inbox in memory: a simulation has no disk to wait for.
// Keys are kept DedupRetention of simulated time, like the store's.
type memQueue struct {
	mu     sync.Mutex
	now    func() time.Time
	next   uint64
	queue  []engine.InboxEntry
	seen   map[string]time.Time
	pruned time.Time
}

var _ zoom.EventQueue = (*memQueue)(nil)

// dedupRetention mirrors store.DedupRetention (simulate does not import
// the store).
const dedupRetention = 2 * time.Hour

func (q *memQueue) EnqueueEvents(_ context.Context, es []engine.InboxEntry) ([]bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.seen == nil {
		q.seen = map[string]time.Time{}
	}
	if now := q.now(); now.Sub(q.pruned) > time.Hour {
		for k, t := range q.seen {
			if now.Sub(t) > dedupRetention {
				delete(q.seen, k)
			}
		}
		q.pruned = now
	}
	dup := make([]bool, len(es))
	for i := range es {
		e := &es[i]
		if t, ok := q.seen[e.Key]; ok && e.Received.Sub(t) <= dedupRetention {
			dup[i], e.ID = true, 0
			continue
		}
		q.seen[e.Key] = e.Received
		q.next++
		e.ID = q.next
		q.queue = append(q.queue, *e)
	}
	return dup, nil
}

func (q *memQueue) PendingEvents(_ context.Context, limit int) ([]engine.InboxEntry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.queue[:min(limit, len(q.queue))]), nil
}

// Roster: a simulation does not restart, the handler's memory suffices.
func (q *memQueue) Roster(context.Context) ([]engine.RosterEntry, error) { return nil, nil }

func (q *memQueue) DoneEvents(_ context.Context, ids []uint64, _ []engine.RosterEntry) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	done := map[uint64]bool{}
	for _, id := range ids {
		done[id] = true
	}
	q.queue = slices.DeleteFunc(q.queue, func(e engine.InboxEntry) bool { return done[e.ID] })
	return nil
}

// LeaveParticipant makes the detector an events sink.
func (d *detector) LeaveParticipant(ctx context.Context, src engine.Source, participant string, at time.Time) error {
	err := d.eng.LeaveParticipant(ctx, src, participant, at)
	d.collect()
	return err
}
