package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
)

// lossAbove is a hand-written Condition (the rules package compiles the
// real ones): avg_loss > x.
type lossAbove float64

func (c lossAbove) Eval(s *engine.Sample) (bool, error) { return s.AvgLoss > float64(c), nil }
func (c lossAbove) Explain(s *engine.Sample) []engine.Term {
	return []engine.Term{{Field: "avg_loss", Value: fmt.Sprint(s.AvgLoss), Op: ">", Threshold: fmt.Sprint(float64(c)), Holds: s.AvgLoss > float64(c)}}
}

var restartRules = []engine.Rule{{
	// Fires on the third bad minute, resolves on the second good one.
	Name: "lossy-audio", When: lossAbove(2), For: 3 * time.Minute, KeepFiringFor: 2 * time.Minute,
	RepeatInterval: time.Hour, Severity: engine.SeverityWarning,
}, {
	// Fires and resolves on one sample: evaluating a sample twice shows.
	Name: "loss-spike", When: lossAbove(8), RepeatInterval: time.Hour, Severity: engine.SeverityCritical,
}}

var restartSource = engine.Source{Kind: engine.Webinar, ID: "900", Topic: "All hands", Live: true}

// page is what one poll returns: minutes [from, to] for each participant,
// with avg_loss from loss(participant, minute).
func page(from, to int, loss func(p string, m int) float64) []engine.Sample {
	var out []engine.Sample
	for _, p := range []string{"u1", "u2", "u3"} {
		for m := from; m <= to; m++ {
			s := engine.NewSample()
			s.Source = restartSource
			s.Participant = engine.Participant{UserID: p, UserName: "name-" + p}
			s.Time = t0.Add(time.Duration(m) * time.Minute)
			s.AudioInput.AvgLoss = loss(p, m)
			s.Aggregate()
			out = append(out, s)
		}
	}
	return out
}

// restartLoss: u1 is bad from minute 0 to 6 (fires before the restart,
// resolves after it); u2 is bad from minute 3 (pending at the restart,
// must fire at minute 5, not later); u3 spikes at minute 2 only (told
// and over before the restart, inside the overlap).
func restartLoss(p string, m int) float64 {
	switch {
	case p == "u1" && m <= 6, p == "u2" && m >= 3:
		return 5
	case p == "u3" && m == 2:
		return 9
	}
	return 0.1
}

type told struct {
	Kind engine.NotificationKind
	Rule string
	Who  string
	At   time.Time
	ID   uint64
}

func drain(t *testing.T, o engine.Outbox) []told {
	t.Helper()
	ns, err := o.Pending(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []told
	for _, n := range ns {
		out = append(out, told{n.Kind, n.Key.Rule, n.Key.Participant, n.At, n.ID})
		var ref engine.MessageRef // like the notifier: only a first message has its own ref
		if n.Kind == engine.KindFiring {
			ref = engine.MessageRef{Channel: "C1", TS: fmt.Sprint(n.ID)}
		}
		if err := o.Ack(context.Background(), n.ID, n.Key, ref); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func newEngine(t *testing.T, s engine.Store) *engine.Engine {
	t.Helper()
	e, err := engine.New(s, engine.Options{Clock: fakeclock.NewManual(t0.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetRules(context.Background(), restartRules); err != nil {
		t.Fatal(err)
	}
	return e
}

// A restart between two overlapping polls changes nothing: the real
// engine on the bbolt store, closed and reopened after the first page,
// tells exactly what an engine that never stopped tells. No duplicate
// (the overlap is skipped by the stored cursors), no lost transition (u2's
// pending state, and so its `for`, survives).
func TestRestartBetweenOverlappingPolls(t *testing.T) {
	ctx := context.Background()
	first, second := page(0, 4, restartLoss), page(2, 9, restartLoss) // minutes 2 to 4 overlap

	// Reference: one engine, no restart, in memory.
	mem := engine.NewMemoryStore()
	ref := newEngine(t, mem)
	for _, p := range [][]engine.Sample{first, second} {
		if err := ref.Ingest(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	want := drain(t, mem)

	path := tempPath(t)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, db)
	if err := e.Ingest(ctx, first); err != nil {
		t.Fatal(err)
	}
	got := drain(t, db) // delivered before the restart
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e = newEngine(t, db)
	if len(e.Alerts()) == 0 {
		t.Fatal("the reopened engine has no alerts: state was not restored")
	}
	if err := e.Ingest(ctx, second); err != nil {
		t.Fatal(err)
	}
	got = append(got, drain(t, db)...)

	// The scenario implies: u1 fires at 2 and resolves at 8 (clean at 7,
	// keep_firing_for 1m); u3 spikes at 2, over at 3; u2 fires at 5. Check
	// that, and the reference.
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	// (The engine evaluates a page participant by participant.)
	const lossy, spike = "lossy-audio", "loss-spike"
	implied := []told{{engine.KindFiring, lossy, "u1", at(2), 0}, {engine.KindFiring, spike, "u3", at(2), 0}, {engine.KindResolved, spike, "u3", at(3), 0},
		{engine.KindResolved, lossy, "u1", at(8), 0}, {engine.KindFiring, lossy, "u2", at(5), 0}}
	strip := func(ts []told) []told {
		var out []told
		for _, x := range ts {
			x.ID = 0
			out = append(out, x)
		}
		return out
	}
	if !reflect.DeepEqual(strip(want), implied) {
		t.Fatalf("the reference engine told %+v, want %+v (did the engine's semantics change?)", want, implied)
	}
	if !reflect.DeepEqual(strip(got), implied) {
		t.Errorf("with a restart the engine told\n%+v\nwant\n%+v", got, implied)
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID <= got[i-1].ID {
			t.Errorf("outbox IDs do not increase across the restart: %+v", got)
		}
	}
	// The resolve of u1 threads under the message recorded before the restart.
	if r, ok, err := db.Ref(ctx, engine.AlertKey{Rule: "lossy-audio", Source: restartSource.Key(), Participant: "u1"}); err != nil || !ok || r.TS != fmt.Sprint(got[0].ID) {
		t.Errorf("u1's message ref after the restart = %+v %v %v, want ts %d", r, ok, err, got[0].ID)
	}
}
