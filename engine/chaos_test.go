package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestChaosKeepsTheMessageProtocol throws random, partly garbage input at
// the engine (odd keys, zero and far-future times, NaN and Inf, duplicate
// and unordered samples, leaves, ends, reloads, silences, clock jumps,
// failed commits, restarts) and checks what a Slack channel would see:
// for every alert, messages follow `(firing repeat* resolved?)*` — never a
// second firing before a resolve, never a repeat or resolve of something
// not told — every told firing is told over once its webinar ends, and the
// engine never panics.
func TestChaosKeepsTheMessageProtocol(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { chaos(t, seed) })
	}
}

func chaos(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	mem := NewMemoryStore()
	fs := &flakyStore{MemoryStore: mem}
	clk := newClock()
	rulesets := [][]Rule{
		replayRules(),
		{loss("loss", 2)},
		append(replayRules(), Rule{Name: "repeat", When: lossAbove(3), RepeatInterval: 10 * time.Minute}),
	}
	var e *Engine
	start := func() {
		var err error
		e, err = New(fs, Options{Clock: clk, StaleAfter: 3 * time.Minute, ResolvedRetention: 20 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.SetRules(ctxT(t), rulesets[rng.IntN(len(rulesets))]); err != nil {
			t.Fatal(err)
		}
	}
	start()
	ids := []string{"a", "b", "c", "", "dup"}
	srcs := []string{"900", "901", ""}
	open := map[AlertKey]bool{} // told firing, not yet told resolved
	told := map[NotificationKind]int{}
	check := func() {
		for _, n := range mem.Drain() {
			told[n.Kind]++
			switch n.Kind {
			case KindFiring:
				if open[n.Key] {
					t.Fatalf("second firing of %s without a resolve", n.Key)
				}
				open[n.Key] = true
			case KindRepeat:
				if !open[n.Key] {
					t.Fatalf("repeat of %s, which is not told firing", n.Key)
				}
			case KindResolved:
				if !open[n.Key] {
					t.Fatalf("resolve of %s, which was never told firing", n.Key)
				}
				delete(open, n.Key)
			}
		}
	}
	minute := 0
	for step := 0; step < 400; step++ {
		switch x := rng.IntN(100); {
		case x < 70: // a page
			var page []Sample
			for range 1 + rng.IntN(8) {
				s := smp(ids[rng.IntN(len(ids))], minute-rng.IntN(3), []float64{0, 0.5, 1.5, 3, 6, NaN, math.Inf(1)}[rng.IntN(7)])
				s.Source.ID = srcs[rng.IntN(len(srcs))]
				switch rng.IntN(40) {
				case 0:
					s.Time = time.Time{}
				case 1:
					s.Time = s.Time.Add(100 * 365 * 24 * time.Hour)
				case 2:
					s.Participant.LeaveTime = s.Time.Add(30 * time.Second)
				}
				page = append(page, s)
			}
			if rng.IntN(8) == 0 {
				fs.fail = true
				_ = e.Ingest(ctxT(t), page)
				fs.fail = false
			}
			if err := e.Ingest(ctxT(t), page); err != nil {
				t.Fatal(err)
			}
			if rng.IntN(3) == 0 {
				minute++
			}
		case x < 75:
			_ = e.EndSource(ctxT(t), Source{Kind: Webinar, ID: srcs[rng.IntN(len(srcs))]}, t0.Add(time.Duration(minute)*time.Minute))
		case x < 80:
			if err := e.SetRules(ctxT(t), rulesets[rng.IntN(len(rulesets))]); err != nil {
				t.Fatal(err)
			}
		case x < 85:
			_, _ = e.AddSilence(ctxT(t), Silence{Matchers: []Matcher{{Name: "participant", Value: ids[rng.IntN(3)]}},
				EndsAt: clk.t.Add(time.Duration(1+rng.IntN(30)) * time.Minute)})
		case x < 88:
			if ss := e.Silences(); len(ss) > 0 {
				_ = e.ExpireSilence(ctxT(t), ss[rng.IntN(len(ss))].ID)
			}
		case x < 95:
			clk.add(time.Duration(rng.IntN(15)) * time.Minute)
			if err := e.Tick(ctxT(t)); err != nil {
				t.Fatal(err)
			}
		default:
			start() // restart on the same store
		}
		check()
		st := e.Stats()
		if got := len(e.Alerts()); got != st.Pending+st.Firing+st.Resolving+st.Resolved {
			t.Fatalf("Alerts() has %d records, Stats counts %+v", got, st)
		}
	}
	// Nothing lost: once every webinar ends, every told firing was told over.
	for _, id := range srcs[:2] {
		if err := e.EndSource(ctxT(t), Source{Kind: Webinar, ID: id}, t0.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	check()
	if len(open) != 0 {
		t.Fatalf("%d alerts told firing were never told resolved: %v", len(open), open)
	}
	if told[KindFiring] < 5 || told[KindResolved] < 5 {
		t.Fatalf("too quiet to prove anything: %v", told)
	}
	t.Logf("told %v", told)
}
