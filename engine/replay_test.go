package engine

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// scenario is a webinar of n participants over some minutes: bad audio in
// random episodes, a few leavers.
type scenario struct {
	minutes [][]Sample // by minute: every participant still there
}

func newScenario(seed uint64, n, minutes int) scenario {
	rng := rand.New(rand.NewPCG(seed, 1))
	var sc scenario
	bad := make([]bool, n)
	leaves := map[int]int{} // participant -> minute it leaves
	for p := 0; p < n; p += 7 {
		leaves[p] = 5 + rng.IntN(minutes-5)
	}
	for m := range minutes {
		var ms []Sample
		for p := range n {
			if lm, ok := leaves[p]; ok && m > lm {
				continue
			}
			if rng.IntN(6) == 0 {
				bad[p] = !bad[p]
			}
			l := 0.2
			if bad[p] {
				l = 3 + rng.Float64()*5
			} else if rng.IntN(4) == 0 {
				l = 1.5 // the hysteresis band
			}
			s := smp(fmt.Sprintf("p%03d", p), m, l)
			if lm, ok := leaves[p]; ok {
				s.Participant.LeaveTime = t0.Add(time.Duration(lm)*time.Minute + 30*time.Second)
				if m < lm-2 {
					s.Participant.LeaveTime = time.Time{} // Zoom shows it near the end
				}
			}
			ms = append(ms, s)
		}
		sc.minutes = append(sc.minutes, ms)
	}
	return sc
}

func replayRules() []Rule {
	a := loss("loss", 2)
	a.Clear = lossBelow(1)
	b := loss("quick", 4)
	b.For, b.KeepFiringFor = 0, 0
	return []Rule{a, b}
}

// signature is what was told, in an order that does not depend on how
// samples were paged: alert by alert, each alert's messages in order.
func signature(ns []Notification) []string {
	byKey := map[string][]string{}
	for _, n := range ns {
		k := n.Key.String()
		byKey[k] = append(byKey[k], fmt.Sprintf("%s %s @%s %s", k, n.Kind, n.At.Format("15:04:05"), n.Reason))
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		out = append(out, byKey[k]...)
	}
	return out
}

// TestPagingRestartsAndFailuresChangeNothing replays one scenario minute
// by minute, then again in overlapping pages with commits that fail
// (retried) and restarts at random points: the same messages, none twice,
// none lost.
func TestPagingRestartsAndFailuresChangeNothing(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			sc := newScenario(seed, 40, 40)

			ref := newFixture(t, replayRules()...)
			for _, ms := range sc.minutes {
				ref.ingest(ms...)
			}
			want := ref.store.Drain()
			if len(want) < 20 {
				t.Fatalf("scenario too quiet: %d messages", len(want))
			}

			rng := rand.New(rand.NewPCG(seed, 2))
			mem := NewMemoryStore()
			fs := &flakyStore{MemoryStore: mem}
			f := &fixture{t: t, store: mem, clock: newClock()}
			start := func() {
				f.e = f.engine(fs)
				if err := f.e.SetRules(ctxT(t), replayRules()); err != nil {
					t.Fatal(err)
				}
			}
			start()
			var prev []Sample
			restarts, failures := 0, 0
			for _, ms := range sc.minutes {
				// Pages of 6 participants, each page repeating the
				// previous minute of its participants (the poll overlap).
				for i := 0; i < len(ms); i += 6 {
					page := slices.Clone(ms[i:min(i+6, len(ms))])
					for _, s := range page {
						if j := slices.IndexFunc(prev, func(p Sample) bool { return p.Participant.UserID == s.Participant.UserID }); j >= 0 {
							page = append(page, prev[j])
						}
					}
					rng.Shuffle(len(page), func(a, b int) { page[a], page[b] = page[b], page[a] })
					if rng.IntN(10) == 0 {
						fs.fail = true
						if err := f.e.Ingest(ctxT(t), page); err == nil {
							t.Fatal("a failing commit was not reported")
						}
						fs.fail = false
						failures++
					}
					if rng.IntN(15) == 0 {
						start() // crash and restart between pages
						restarts++
					}
					f.ingest(page...)
				}
				prev = ms
			}
			got := mem.Drain()
			if restarts == 0 || failures == 0 {
				t.Fatalf("scenario did not exercise restarts (%d) and failures (%d)", restarts, failures)
			}
			if g, w := signature(got), signature(want); !slices.Equal(g, w) {
				t.Fatalf("paged, with %d restarts and %d failed commits, told %d messages; minute by minute told %d\ngot  %q\nwant %q",
					restarts, failures, len(g), len(w), g, w)
			}
		})
	}
}
