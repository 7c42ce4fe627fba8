package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// cond is a hand-written Condition: a struct of func fields.
type cond struct {
	name string
	eval func(s *Sample) (bool, error)
}

func (c cond) Eval(s *Sample) (bool, error) { return c.eval(s) }
func (c cond) Explain(s *Sample) []Term {
	ok, _ := c.eval(s)
	return []Term{{Field: c.name, Value: fmt.Sprint(s.AvgLoss), Op: "?", Threshold: "-", Holds: ok}}
}

// lossAbove holds when avg_loss > x (NaN: never).
func lossAbove(x float64) Condition {
	return cond{name: fmt.Sprintf("avg_loss>%g", x), eval: func(s *Sample) (bool, error) { return s.AvgLoss > x, nil }}
}

// lossBelow holds when avg_loss < x.
func lossBelow(x float64) Condition {
	return cond{name: fmt.Sprintf("avg_loss<%g", x), eval: func(s *Sample) (bool, error) { return s.AvgLoss < x, nil }}
}

// tmpl renders "<participant> <kind>".
type tmpl struct{}

func (tmpl) Render(n *Notification) (string, error) {
	return n.Participant.UserName + " " + string(n.Kind), nil
}

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

var web = Source{Kind: Webinar, ID: "900", Topic: "All hands"}

// smp is a sample of participant p at minute m of t0 with avg_loss loss.
func smp(p string, m int, loss float64) Sample {
	s := NewSample()
	s.Source = web
	s.Participant = Participant{UserID: p, UserName: "name-" + p}
	s.Time = t0.Add(time.Duration(m) * time.Minute)
	s.AudioInput.AvgLoss = loss
	s.Aggregate()
	return s
}

// clock is an injected wall clock tests move by hand. (internal/fakeclock
// imports engine, so engine's own tests keep this one.)
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// After fires at once: the engine never waits.
func (c *clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.t.Add(d)
	return ch
}
func (c *clock) add(d time.Duration)    { c.t = c.t.Add(d) }
func newClock() *clock                  { return &clock{t: t0} }
func ctxT(t *testing.T) context.Context { return t.Context() }

// fixture is an engine on a MemoryStore with an injected clock.
type fixture struct {
	t     *testing.T
	store *MemoryStore
	clock *clock
	e     *Engine
}

func newFixture(t *testing.T, rules ...Rule) *fixture {
	t.Helper()
	f := &fixture{t: t, store: NewMemoryStore(), clock: newClock()}
	f.e = f.engine(f.store)
	if err := f.e.SetRules(ctxT(t), rules); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) engine(s Store) *Engine {
	f.t.Helper()
	e, err := New(s, Options{Clock: f.clock, StaleAfter: 5 * time.Minute, ResolvedRetention: time.Hour})
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *fixture) ingest(batch ...Sample) {
	f.t.Helper()
	if err := f.e.Ingest(ctxT(f.t), batch); err != nil {
		f.t.Fatal(err)
	}
}

// told drains the outbox and renders each notification as
// "kind rule participant at-minute [reason]".
func (f *fixture) told() []string {
	var out []string
	for _, n := range f.store.Drain() {
		s := fmt.Sprintf("%s %s %s @%d", n.Kind, n.Key.Rule, n.Key.Participant, int(n.At.Sub(t0)/time.Minute))
		if n.Reason != "" {
			s += " " + string(n.Reason)
		}
		out = append(out, s)
	}
	return out
}

// state returns "rule/participant=state" for every alert record.
func (f *fixture) state() string {
	var out []string
	for _, a := range f.e.Alerts() {
		out = append(out, a.Key.Rule+"/"+a.Key.Participant+"="+a.State.String())
	}
	return strings.Join(out, " ")
}
