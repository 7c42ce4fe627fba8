package poll_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/poll"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// LeaveParticipant makes the recorder an events sink too.
func (r *recorder) LeaveParticipant(context.Context, engine.Source, string, time.Time) error {
	return nil
}

// pushRig is the rig with the real event handler (a bbolt inbox) beside
// the poller, fed the events the fake Zoom's scenarios push.
type pushRig struct {
	*rig
	events *zoom.Events
	opts   zoomtest.PushOptions
	fed    time.Time              // events up to here are in
	lost   func(body []byte) bool // events that never arrive
}

func newPushRig(t *testing.T, opts zoomtest.PushOptions, scs ...*zoomtest.Scenario) *pushRig {
	t.Helper()
	r := &pushRig{rig: newRig(t, zoomtest.Business, start, scs...), opts: opts, fed: start}
	db, err := store.Open(filepath.Join(t.TempDir(), "q.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.events, err = zoom.NewEvents(zoom.EventsConfig{Queue: db, Sink: r.sink, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// feed delivers the events due by now and applies them.
func (r *pushRig) feed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	now := r.clock.Now()
	var bodies [][]byte
	for _, ev := range r.srv.PushEvents(r.fed, now, r.opts) {
		if r.lost == nil || !r.lost(ev.Body) {
			bodies = append(bodies, ev.Body)
		}
	}
	if len(bodies) > 0 {
		for _, err := range errorsOf(r.events.AcceptAll(ctx, "test", bodies)) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	r.fed = now
	if err := r.events.Apply(ctx); err != nil {
		t.Fatal(err)
	}
}

// run polls once a minute for d, feeding the events before each poll.
func (r *pushRig) run(t *testing.T, p *poll.Poller, d time.Duration) {
	t.Helper()
	end := r.clock.Now().Add(d)
	for r.clock.Now().Before(end) {
		begin := r.clock.Now()
		r.feed(t)
		if err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if next := begin.Add(time.Minute); r.clock.Now().Before(next) {
			r.clock.Set(next)
		}
	}
}

func qosCalls(st poll.Stats) int64 {
	return st.Calls["full_sweep"] + st.Calls["watch"] + st.Calls["detail"] + st.Calls["sweep"]
}

// TestQSSFedSourceGetsNoQoSCalls: once QSS brings a webinar's QoS, the
// poller spends no QoS call on it, and every participant is still seen
// each minute (by the events).
func TestQSSFedSourceGetsNoQoSCalls(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{ID: 777, Start: start, Duration: time.Hour, Participants: 200, Seed: 1})
	r := newPushRig(t, zoomtest.PushOptions{QSS: true}, sc)
	p := r.poller(t, poll.Config{Push: r.events})
	r.run(t, p, 3*time.Minute) // the first QSS minute arrives at 1m05s
	before := qosCalls(p.Stats())
	r.run(t, p, 20*time.Minute)
	if got := qosCalls(p.Stats()) - before; got != 0 {
		t.Errorf("%d QoS calls on a QSS-fed webinar", got)
	}

	if !r.events.QSSFed(engine.Source{Kind: engine.Webinar, ID: "777"}.Key()) {
		t.Error("the webinar is not QSS-fed")
	}
	r.sink.mu.Lock()
	seen := len(r.sink.seen["webinar:777"])
	r.sink.mu.Unlock()
	if seen < 180 {
		t.Errorf("%d participants seen, want nearly all 200", seen)
	}
	if p.Mode() != "qss" {
		t.Errorf("mode %q, want qss", p.Mode())
	}
	r.run(t, p, 40*time.Minute) // it ends at 60 minutes
	if got := p.Stats().Calls["past"]; got != 0 {
		t.Errorf("%d past QoS calls for a QSS-fed webinar that ended: its minutes were pushed", got)
	}
}

// TestStartedEndedReplaceTheListing: while started/ended events flow the
// live list is asked every SafetyListing, not every minute; a started
// webinar is polled (no QSS here) and an ended one ended.
func TestStartedEndedReplaceTheListing(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{ID: 888, Start: start.Add(10 * time.Minute), Duration: 40 * time.Minute, Participants: 50, Seed: 2})
	r := newPushRig(t, zoomtest.PushOptions{}, sc)
	p := r.poller(t, poll.Config{Push: r.events})
	r.run(t, p, 11*time.Minute) // before the started event, listings every minute
	before := p.Stats().Calls["discovery"]
	r.run(t, p, 110*time.Minute)
	st := p.Stats()
	// Once the started event came, one listing per 30 minutes, two kinds
	// each.
	if d := st.Calls["discovery"] - before; d > 2*(1+110/30) {
		t.Errorf("%d listing calls in 110 minutes of flowing events, want at most %d", d, 2*(1+110/30))
	}
	if qosCalls(st) == 0 {
		t.Error("the webinar started events announced was not polled")
	}
	r.sink.mu.Lock()
	defer r.sink.mu.Unlock()
	if len(r.sink.ended) == 0 || r.sink.ended[0].Key() != "webinar:888" {
		t.Errorf("ended %v, want webinar:888", r.sink.ended)
	}
}

// TestUnannouncedSourceBringsTheListingBack: a live webinar the safety
// listing finds with no started event means they do not all arrive: the
// listing goes back to every interval.
func TestUnannouncedSourceBringsTheListingBack(t *testing.T) {
	announced := zoomtest.Generate(zoomtest.Gen{ID: 901, Start: start, Duration: 3 * time.Hour, Participants: 20, Seed: 3})
	r := newPushRig(t, zoomtest.PushOptions{}, announced)
	p := r.poller(t, poll.Config{Push: r.events})
	r.run(t, p, 5*time.Minute)
	silent := zoomtest.Generate(zoomtest.Gen{ID: 902, Start: start.Add(5 * time.Minute), Duration: 3 * time.Hour, Participants: 20, Seed: 4})
	r.srv.Add(silent)
	r.lost = func(body []byte) bool { return bytes.Contains(body, []byte(silent.UUID)) } // its events never come
	r.run(t, p, 40*time.Minute)                                                          // the safety listing finds it
	before := p.Stats().Calls["discovery"]
	r.run(t, p, 10*time.Minute)
	if got := p.Stats().Calls["discovery"] - before; got < 8 {
		t.Errorf("%d listing calls in 10 minutes after an unannounced source, want about one a minute", got)
	}
	if !strings.Contains(r.logs.String(), "no started event announced") {
		t.Error("the log does not say why the listing came back")
	}
}

// TestFocusTriagesNow: Zoom's alert on a source makes the next interval
// list its participants, even when triage is not due; not when the lists
// carry no quality ratings (nothing to point at the bad ones).
func TestFocusTriagesNow(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{ID: 555, Start: start, Duration: time.Hour, Participants: 30, Seed: 5})
	r := newRig(t, zoomtest.Business, start)
	for _, ratings := range []bool{true, false} {
		r.srv = zoomtest.NewServer(zoomtest.Options{Now: r.clock.Now, Plan: zoomtest.Business, Scenarios: []*zoomtest.Scenario{sc}, NoQualityScores: !ratings})
		r.client(t, 0, zoom.QuotaConfig{})
		p := r.poller(t, poll.Config{})
		r.runFor(t, p, 3*time.Minute, nil) // 30 people: a full sweep a minute, triage every 10
		before := p.Stats().Calls["triage"]
		p.Focus(engine.Source{Kind: engine.Webinar, ID: "555"})
		r.runFor(t, p, time.Minute, nil)
		got := p.Stats().Calls["triage"] - before
		if ratings && got == 0 {
			t.Error("with ratings, Focus did not make the next interval triage the source")
		}
		if !ratings && got != 0 {
			t.Errorf("without ratings, Focus made %d triage calls (a list without ratings points at nobody)", got)
		}
	}
}

func errorsOf(_ []*zoom.Event, _ []zoom.Outcome, errs []error) []error { return errs }

// TestRestartDuringALiveWebinar: qoswatch restarts while a webinar is live
// on an account whose started/ended events flow (the database remembers
// them). The first listing finds the webinar, whose started event came
// before the restart: it is polled, and the listing stays at one per
// SafetyListing (a source found by the first listing is no sign that
// started events are lost).
func TestRestartDuringALiveWebinar(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{ID: 903, Start: start.Add(-10 * time.Minute), Duration: 2 * time.Hour, Participants: 20, Seed: 5})
	r := newPushRig(t, zoomtest.PushOptions{}, sc) // events are fed from start: the started event came before
	db, err := store.Open(filepath.Join(t.TempDir(), "restarted.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.SetPushSeen(context.Background(), start.Add(-10*time.Minute), time.Time{}); err != nil {
		t.Fatal(err)
	}
	r.events, err = zoom.NewEvents(zoom.EventsConfig{Queue: db, Sink: r.sink, Clock: r.clock, Memory: db})
	if err != nil {
		t.Fatal(err)
	}
	p := r.poller(t, poll.Config{Push: r.events})
	r.run(t, p, 60*time.Minute)
	st := p.Stats()
	if want := int64(2 * (1 + 60/30)); st.Calls["discovery"] > want {
		t.Errorf("%d listing calls in the hour after a restart, want at most %d", st.Calls["discovery"], want)
	}
	if qosCalls(st) == 0 {
		t.Error("the webinar live at the restart was not polled")
	}
	if strings.Contains(r.logs.String(), "no started event announced") {
		t.Error("the first listing after a restart was taken for lost started events")
	}
}
