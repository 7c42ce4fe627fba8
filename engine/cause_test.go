package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// crowd is n participants built by f(i).
func crowd(n int, f func(i int) Participant) []Participant {
	out := make([]Participant, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// mixed is an ordinary participant: its attributes spread over a few
// values each, none above a third of the crowd.
func mixed(i int) Participant {
	return Participant{
		UserID:      fmt.Sprint("u", i),
		DataCenter:  []string{"US (SC Crc)", "US (NY Crc)", "EU (AMS Crc)", "AP (SYD Crc)"}[i%4],
		Location:    []string{"San Jose (US)", "London (GB)", "Tokyo (JP)", "Frankfurt (DE)", "Sydney (AU)"}[i%5],
		NetworkType: []string{"Wired", "Wifi", "Cellular"}[i%3],
		Client:      "Zoom", Version: []string{"6.2.5", "6.3.0", "6.1.11", "5.17.11"}[(i/3)%4],
		Device: []string{"Windows", "Mac", "iOS", "Android"}[(i/2)%4],
	}
}

func TestSharedCause(t *testing.T) {
	saoPaulo := func(i int) Participant { p := mixed(i); p.DataCenter = "BR (São Paulo)"; return p }
	tests := []struct {
		name     string
		affected []Participant
		others   []Participant
		want     string // the hint, "" for none
	}{
		{
			name:     "one cause: 58 of 60 in one data centre, 3% of the others",
			affected: append(crowd(58, saoPaulo), crowd(2, mixed)...),
			others:   append(crowd(28, saoPaulo), crowd(912, mixed)...),
			want:     "Likely shared cause: data centre BR (São Paulo) — 58 of 60 affected, 3% of the other 940.",
		},
		{
			name:     "no cause: the affected look like everyone",
			affected: crowd(60, mixed),
			others:   crowd(940, mixed),
		},
		{
			name: "two causes split 50/50: neither covers 80%",
			affected: append(crowd(30, saoPaulo), crowd(30, func(i int) Participant {
				p := mixed(i)
				p.NetworkType = "Satellite"
				return p
			})...),
			others: crowd(940, mixed),
		},
		{
			name:     "a tiny storm: 4 of 4 in one place is chance",
			affected: crowd(4, saoPaulo),
			others:   crowd(940, mixed),
		},
		{
			name:     "the smallest storm that may have a cause",
			affected: crowd(5, saoPaulo),
			others:   crowd(940, mixed),
			want:     "Likely shared cause: data centre BR (São Paulo) — 5 of 5 affected, 0% of the other 940.",
		},
		{
			name: "a value common to everybody is no cause",
			affected: crowd(60, func(i int) Participant {
				p := mixed(i)
				p.Client, p.Version = "Zoom", "6.2.5"
				return p
			}),
			others: crowd(940, func(i int) Participant {
				p := mixed(i)
				if i%10 != 0 {
					p.Client, p.Version = "Zoom", "6.2.5"
				}
				return p
			}),
		},
		{
			name:     "everybody affected: nobody to compare with",
			affected: crowd(60, saoPaulo),
		},
		{
			name: "blank and unknown values are never the cause",
			affected: crowd(60, func(i int) Participant {
				p := mixed(i)
				p.Location = []string{"", "Unknown", " unknown ", "-"}[i%4]
				p.DataCenter = ""
				return p
			}),
			others: crowd(940, mixed),
		},
		{
			name: "unknown values count against coverage: 40 of 60 known is not 80%",
			affected: append(crowd(40, saoPaulo), crowd(20, func(i int) Participant {
				p := mixed(i)
				p.DataCenter = ""
				return p
			})...),
			others: crowd(940, mixed),
		},
		{
			name: "just 3× as common as among the others is enough",
			// all 10 affected on Satellite; 1 in 3 of the others too
			affected: crowd(10, func(i int) Participant { p := mixed(i); p.NetworkType = "Satellite"; return p }),
			others: crowd(30, func(i int) Participant {
				p := mixed(i)
				p.NetworkType = []string{"Satellite", "Wired", "Wifi"}[i%3]
				return p
			}),
			want: "Likely shared cause: network Satellite — 10 of 10 affected, 33% of the other 30.",
		},
		{
			name:     "less than 3× is not",
			affected: crowd(10, func(i int) Participant { p := mixed(i); p.NetworkType = "Satellite"; return p }),
			others: crowd(30, func(i int) Participant {
				p := mixed(i)
				p.NetworkType = []string{"Satellite", "Satellite", "Wifi"}[i%3]
				return p
			}),
		},
		{
			name: "two attributes stand out: the one that covers more wins",
			affected: crowd(50, func(i int) Participant {
				p := saoPaulo(i)
				if i < 45 {
					p.Location = "Lagos (NG)"
				}
				return p
			}),
			others: crowd(500, mixed),
			want:   "Likely shared cause: data centre BR (São Paulo) — 50 of 50 affected, 0% of the other 500.",
		},
		{
			name: "equal coverage: the one rarer among the others wins",
			affected: crowd(20, func(i int) Participant {
				p := saoPaulo(i)
				p.Location = "Lagos (NG)"
				return p
			}),
			others: append(crowd(10, saoPaulo), crowd(190, mixed)...),
			want:   "Likely shared cause: location Lagos (NG) — 20 of 20 affected, 0% of the other 200.",
		},
		{
			name: "client version is client and version together",
			affected: crowd(20, func(i int) Participant {
				p := mixed(i)
				p.Client, p.Version = "Zoom", "5.9.0"
				return p
			}),
			others: crowd(200, mixed),
			want:   "Likely shared cause: client version Zoom 5.9.0 — 20 of 20 affected, 0% of the other 200.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := SharedCause(tc.affected, tc.others)
			got := ""
			if ok {
				got = c.String()
			}
			if got != tc.want {
				t.Errorf("hint:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestCausePercent(t *testing.T) {
	for _, tc := range []struct {
		n, of int
		want  string
	}{{0, 940, "0%"}, {28, 940, "3%"}, {1, 1000, "<1%"}, {999, 1000, ">99%"}, {10, 10, "100%"}, {0, 0, "0%"}} {
		if got := percent(tc.n, tc.of); got != tc.want {
			t.Errorf("percent(%d, %d) = %q, want %q", tc.n, tc.of, got, tc.want)
		}
	}
}

// The engine gives a storm's firings the cause the source's participants
// show: those firing the rule against the others still in the source.
func TestFiringCarriesSharedCause(t *testing.T) {
	f := newFixture(t, Rule{Name: "loss", When: lossAbove(5), Severity: SeverityWarning})
	sample := func(i, m int, loss float64) Sample {
		s := smp(fmt.Sprint("p", i), m, loss)
		s.Participant = mixed(i)
		s.Participant.UserName = fmt.Sprint("name-", i)
		if i < 12 {
			s.Participant.Location = "Lagos (NG)"
		}
		return s
	}
	var batch []Sample
	for i := range 100 {
		batch = append(batch, sample(i, 0, 0))
	}
	f.ingest(batch...)
	// Minute 1: the 12 in Lagos and 1 elsewhere lose audio.
	batch = batch[:0]
	for i := range 100 {
		loss := 0.0
		if i < 12 || i == 50 {
			loss = 9
		}
		batch = append(batch, sample(i, 1, loss))
	}
	f.ingest(batch...)
	ns := f.store.Drain()
	if len(ns) != 13 {
		t.Fatalf("%d notifications, want 13", len(ns))
	}
	want := "Likely shared cause: location Lagos (NG) — 12 of 13 affected, 0% of the other 87."
	for _, n := range ns {
		if n.Cause == nil || n.Cause.String() != want {
			t.Fatalf("%s: cause %v, want %q", n.Key, n.Cause, want)
		}
	}

	// Minute 2: 4 more fire, spread everywhere: 12 of 17 (71%) is no
	// longer a shared cause, and the new firings say nothing.
	batch = batch[:0]
	for i := range 100 {
		loss := 0.0
		if i < 12 || i == 50 || (i >= 60 && i < 64) {
			loss = 9
		}
		batch = append(batch, sample(i, 2, loss))
	}
	f.ingest(batch...)
	ns = f.store.Drain()
	if len(ns) != 4 {
		t.Fatalf("%d notifications, want 4", len(ns))
	}
	for _, n := range ns {
		if n.Cause != nil {
			t.Errorf("%s: cause %q, want none (12 of 17 is under 80%%)", n.Key, n.Cause)
		}
	}
}

// Participants gone quiet for longer than StaleAfter (they left) are not
// counted among the others.
func TestSharedCauseCountsCurrentParticipants(t *testing.T) {
	f := newFixture(t, Rule{Name: "loss", When: lossAbove(5)})
	var batch []Sample
	for i := range 50 { // 50 who leave after minute 0
		s := smp(fmt.Sprint("gone", i), 0, 0)
		s.Participant.DataCenter = "EU (AMS Crc)"
		batch = append(batch, s)
	}
	f.ingest(batch...)
	batch = batch[:0]
	for i := range 30 {
		s := smp(fmt.Sprint("p", i), 10, 0)
		if i < 6 {
			s = smp(fmt.Sprint("p", i), 10, 9)
			s.Participant.DataCenter = "EU (AMS Crc)"
		} else {
			s.Participant.DataCenter = "US (SC Crc)"
		}
		batch = append(batch, s)
	}
	f.ingest(batch...)
	ns := f.store.Drain()
	if len(ns) != 6 || ns[0].Cause == nil {
		t.Fatalf("%d notifications, first cause %v; want 6 with a cause", len(ns), ns[0].Cause)
	}
	if got, want := ns[0].Cause.String(), "Likely shared cause: data centre EU (AMS Crc) — 6 of 6 affected, 0% of the other 24."; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// Participants whose alert of the rule is still pending are not counted
// as unaffected: they are the storm's next members.
func TestSharedCauseLeavesPendingOut(t *testing.T) {
	f := newFixture(t, Rule{Name: "loss", When: lossAbove(5), For: 2 * time.Minute}) // fires on the second bad minute
	minute := func(m int, bad func(i int) bool) {
		var batch []Sample
		for i := range 30 {
			s := smp(fmt.Sprint("p", i), m, 0)
			if bad(i) {
				s = smp(fmt.Sprint("p", i), m, 9)
			}
			s.Participant.DataCenter = "US (SC Crc)"
			if i < 10 {
				s.Participant.DataCenter = "EU (AMS Crc)"
			}
			batch = append(batch, s)
		}
		f.ingest(batch...)
	}
	minute(0, func(int) bool { return false })
	minute(1, func(i int) bool { return i < 6 })  // 6 pending
	minute(2, func(i int) bool { return i < 10 }) // 6 fire, 4 more pending
	ns := f.store.Drain()
	if len(ns) != 6 || ns[0].Cause == nil {
		t.Fatalf("%d notifications, first cause %v; want 6 with a cause", len(ns), ns[0].Cause)
	}
	if got, want := ns[0].Cause.String(), "Likely shared cause: data centre EU (AMS Crc) — 6 of 6 affected, 0% of the other 20."; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// The engine's cause of every firing is SharedCause over the source's
// participants as a reader of the alerts would count them: the rule's
// firing and resolving participants against the other current ones
// (newest sample within StaleAfter of the source's), pending ones in
// neither group. Random storms in two sources, over pages that split each
// minute, with participants that leave, come back and change values.
func TestEngineCauseMatchesSharedCause(t *testing.T) {
	rules := []Rule{
		{Name: "loss", When: lossAbove(5)},
		{Name: "loss-1m", When: lossAbove(5), For: time.Minute},
	}
	f := newFixture(t, rules...)
	rng := rand.New(rand.NewPCG(1, 2))
	sources := []Source{web, {Kind: Meeting, ID: "77"}}
	type seen struct {
		src  Source
		p    Participant
		last time.Time
	}
	parts := map[string]*seen{}
	newest := map[Source]time.Time{}
	dcs := []string{"EU (AMS Crc)", "US (SC Crc)", "US (NY Crc)", "unknown"}
	away := map[string]int{} // minutes a participant sends nothing more
	withCause, without := 0, 0
	for m := range 60 {
		stormDC := dcs[(m/8)%3]
		var batch []Sample
		for i := range 80 {
			pk := fmt.Sprint("p", i)
			if away[pk] > 0 {
				away[pk]--
				continue
			}
			if rng.IntN(40) == 0 {
				away[pk] = 2 + rng.IntN(8) // leaves, perhaps past StaleAfter
				continue
			}
			loss := 0.0
			s := smp(pk, m, 0)
			s.Source = sources[i%7/6] // 1 in 7 in the meeting
			s.Participant = mixed(i)
			s.Participant.UserID = pk
			s.Participant.DataCenter = dcs[(i+m/20)%len(dcs)]
			if (s.Participant.DataCenter == stormDC && rng.IntN(5) > 0) || rng.IntN(25) == 0 {
				loss = 9
			}
			s.AudioInput.AvgLoss = loss
			s.Aggregate()
			batch = append(batch, s)
		}
		rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		for len(batch) > 0 {
			n := min(len(batch), 1+rng.IntN(30))
			f.ingest(batch[:n]...)
			for _, s := range batch[:n] {
				parts[s.Participant.Key()] = &seen{s.Source, s.Participant, s.Time}
				newest[s.Source] = laterOf(newest[s.Source], s.Time)
			}
			batch = batch[n:]

			state := map[AlertKey]State{}
			for _, a := range f.e.Alerts() {
				state[a.Key] = a.State
			}
			for _, n := range f.store.Drain() {
				if n.Kind != KindFiring {
					continue
				}
				var affected, others []Participant
				for pk, p := range parts {
					if p.src != n.Source || newest[p.src].Sub(p.last) > 5*time.Minute {
						continue
					}
					switch state[AlertKey{Rule: n.Key.Rule, Source: n.Key.Source, Participant: pk}] {
					case StateFiring, StateResolving:
						affected = append(affected, p.p)
					case StatePending:
					default:
						others = append(others, p.p)
					}
				}
				want, ok := SharedCause(affected, others)
				switch {
				case !ok && n.Cause != nil:
					t.Fatalf("minute %d, %s: cause %q, want none", m, n.Key, n.Cause)
				case ok && (n.Cause == nil || *n.Cause != want):
					t.Fatalf("minute %d, %s: cause %v, want %q", m, n.Key, n.Cause, want)
				case ok:
					withCause++
				default:
					without++
				}
			}
		}
	}
	if withCause < 10 || without < 10 {
		t.Errorf("%d firings with a cause, %d without: want both, 10 or more", withCause, without)
	}
	t.Logf("%d firings with a cause, %d without", withCause, without)
}
