package engine

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// The per-minute aggregates count what the engine saw and decided: the
// participants seen and new, the degraded ones per rule, the firing
// alerts, the alerts that started and ended, the presenters' quality and
// the source's end, added up over several pages of one minute, and never
// twice for a page seen again.
func TestMinuteStats(t *testing.T) {
	f := newFixture(t, Rule{Name: "loss", When: lossAbove(2), For: 2 * time.Minute, Severity: SeverityWarning})
	host := func(m int, loss float64) Sample {
		s := smp("c", m, loss)
		s.Participant.Role = RoleHost
		s.VideoInput.FrameRate = 25 - float64(m)
		return s
	}
	loss := map[int][2]float64{0: {0, 0}, 1: {5, 0}, 2: {6, 7}, 3: {6, 0}, 4: {0, 0}}
	for m := 0; m <= 4; m++ {
		f.ingest(smp("a", m, loss[m][0]), host(m, 0.5*float64(m))) // one page
		f.ingest(smp("b", m, loss[m][1]))                          // another page of the same minute
		f.ingest(smp("a", m, loss[m][0]))                          // a page seen again: skipped
	}
	if err := f.e.EndSource(ctxT(t), web, t0.Add(4*time.Minute+30*time.Second)); err != nil {
		t.Fatal(err)
	}
	f.ingest(smp("a", 7, 9)) // the next occurrence of the recurring webinar

	got, err := f.store.Minutes(ctxT(t), web.Key())
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ seen, joined, degraded, ruleDegraded, firing, ended int }
	want := map[int]row{
		0: {3, 3, 0, 0, 0, 0},
		1: {3, 0, 1, 1, 0, 0}, // a pending
		2: {3, 0, 2, 2, 1, 0}, // a fires; b pending
		3: {3, 0, 1, 1, 1, 0},
		4: {3, 0, 0, 0, 0, 1}, // a recovered (keep_firing_for 0)
		7: {1, 1, 1, 1, 0, 0}, // new in the next occurrence
	}
	if len(got) != len(want) {
		t.Fatalf("%d minutes kept, want %d: %+v", len(got), len(want), got)
	}
	for _, m := range got {
		i := int(m.Minute.Sub(t0) / time.Minute)
		r := m.Rules["loss"]
		if r == nil {
			r = &RuleMinute{}
		}
		g := row{m.Seen, m.Joined, m.Degraded, r.Degraded, r.Firing, r.Ended}
		if g != want[i] {
			t.Errorf("minute %d: got %+v, want %+v", i, g, want[i])
		}
		if m.Topic != "All hands" || m.Source != web.Key() {
			t.Errorf("minute %d: topic %q source %q", i, m.Topic, m.Source)
		}
		if i == 2 && (len(r.Started) != 1 || r.Started[0] != (Who{Key: "a", Name: "name-a"})) {
			t.Errorf("minute 2: started %+v, want a", r.Started)
		}
		if i != 2 && len(r.Started) > 0 {
			t.Errorf("minute %d: started %+v", i, r.Started)
		}
		if ended := !m.EndedAt.IsZero(); ended != (i == 4) {
			t.Errorf("minute %d: ended at %v", i, m.EndedAt)
		}
		if i <= 4 {
			p := m.Presenters
			if p.Seen != 1 || p.Degraded != 0 || p.AudioLoss != 0.5*float64(i) || p.FrameRate != 25-float64(i) {
				t.Errorf("minute %d: presenters %+v", i, p)
			}
		} else if m.Presenters.Seen != 0 {
			t.Errorf("minute %d: presenters %+v", i, m.Presenters)
		}
	}
}

// A minute's record survives the store's JSON with its missing presenter
// values missing, and merging keeps the worst values and the strongest
// cause.
func TestMinuteStatsMergeAndJSON(t *testing.T) {
	a := MinuteStats{Source: "webinar:1", Minute: t0, Seen: 2,
		Rules:      map[string]*RuleMinute{"r": {Degraded: 1, Started: []Who{{Key: "x"}}, Cause: &Cause{Attribute: "location", Value: "A", Affected: 5, Of: 5}}},
		Presenters: PresenterMinute{Seen: 1, AudioLoss: 1, Latency: NaN, Jitter: NaN, FrameRate: 20}}
	b := MinuteStats{Source: "webinar:1", Minute: t0, Seen: 3, Topic: "T",
		Rules:      map[string]*RuleMinute{"r": {Degraded: 2, Firing: 1, Started: []Who{{Key: "y"}}, Cause: &Cause{Attribute: "location", Value: "B", Affected: 9, Of: 9}}},
		Presenters: PresenterMinute{Seen: 1, AudioLoss: 4, Latency: 300, Jitter: NaN, FrameRate: 12}}
	m := a.Clone()
	m.Merge(&b)
	if m.Seen != 5 || m.Topic != "T" || m.Rules["r"].Degraded != 3 || m.Rules["r"].Firing != 1 || len(m.Rules["r"].Started) != 2 || m.Rules["r"].Cause.Value != "B" {
		t.Errorf("merged %+v %+v", m, m.Rules["r"])
	}
	if a.Rules["r"].Degraded != 1 || len(a.Rules["r"].Started) != 1 {
		t.Errorf("Clone shares its rules with the original: %+v", a.Rules["r"])
	}
	if p := m.Presenters; p.Seen != 2 || p.AudioLoss != 4 || p.Latency != 300 || !math.IsNaN(p.Jitter) || p.FrameRate != 12 {
		t.Errorf("presenters merged %+v", p)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back MinuteStats
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.Presenters.Jitter) || back.Presenters.Latency != 300 || back.Rules["r"].Cause.Affected != 9 {
		t.Errorf("JSON round trip: %s → %+v", raw, back.Presenters)
	}
}

// Zoom may say twice that a webinar ended (its event, then a poll): the
// second end, with no sample since, does not mark another occurrence.
func TestEndedTwiceMarksOneOccurrence(t *testing.T) {
	f := newFixture(t, Rule{Name: "loss", When: lossAbove(2), For: 2 * time.Minute})
	f.ingest(smp("a", 0, 0), smp("a", 1, 0))
	for _, at := range []time.Duration{90 * time.Second, 3 * time.Minute} {
		if err := f.e.EndSource(ctxT(t), web, t0.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	ms, _ := f.store.Minutes(ctxT(t), web.Key())
	ends := 0
	for _, m := range ms {
		if !m.EndedAt.IsZero() {
			ends++
		}
	}
	if ends != 1 {
		t.Errorf("%d minutes mark an end, want 1: %+v", ends, ms)
	}
}
