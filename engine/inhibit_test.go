package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// The presenter's uplink: the host's audio input breaks up, and the
// attendees' audio output with it.
func presenterRules(attendeeFor time.Duration) []Rule {
	hostSends := cond{name: "host audio_input.avg_loss>2", eval: func(s *Sample) (bool, error) {
		return s.Participant.Role == RoleHost && s.AudioInput.AvgLoss > 2, nil
	}}
	hears := cond{name: "audio_output.avg_loss>2", eval: func(s *Sample) (bool, error) {
		return s.Participant.Role == RoleAttendee && s.AudioOutput.AvgLoss > 2, nil
	}}
	return []Rule{
		{Name: "presenter-audio", When: hostSends, For: time.Minute, RepeatInterval: time.Hour,
			Inhibits: []Inhibition{{Targets: []string{"hears-breakup"}}}},
		{Name: "hears-breakup", When: hears, For: attendeeFor, RepeatInterval: time.Hour},
	}
}

// sampleOf is participant p (role) at minute m: sends with loss in, hears
// with loss out, in source src.
func sampleOf(src Source, p, role string, m int, in, out float64) Sample {
	s := smp(p, m, in)
	s.Source = src
	s.Participant.Role = role
	s.AudioOutput.AvgLoss = out
	s.Aggregate()
	return s
}

// presenterMinute is one minute of a webinar: the host sends with loss
// hostIn, each attendee hears loss out[i].
func presenterMinute(m int, hostIn float64, out ...float64) []Sample {
	batch := []Sample{sampleOf(web, "host", RoleHost, m, hostIn, 0)}
	for i, o := range out {
		batch = append(batch, sampleOf(web, fmt.Sprintf("a%d", i+1), RoleAttendee, m, 0, o))
	}
	return batch
}

func rep(v float64, n int) []float64 { return slices.Repeat([]float64{v}, n) }

func TestInhibitFoldsAttendeesIntoThePresentersAlert(t *testing.T) {
	for _, attendeeFor := range []time.Duration{time.Minute, 2 * time.Minute} {
		// With for: 1m the attendees fire in the same batch as the host,
		// and sort before it: the decision must not depend on that order.
		t.Run(fmt.Sprint("attendee for ", attendeeFor), func(t *testing.T) {
			f := newFixture(t, presenterRules(attendeeFor)...)
			f.ingest(presenterMinute(0, 0, rep(0, 5)...)...)
			var all []Notification
			for m := 1; m <= 5; m++ {
				f.ingest(presenterMinute(m, 8, rep(6, 5)...)...)
				all = append(all, f.store.Drain()...)
			}
			if len(all) != 1 || all[0].Key.Rule != "presenter-audio" || all[0].Kind != KindFiring {
				t.Fatalf("told %v, want only the presenter's firing", keysOf(all))
			}
			if all[0].Folded != 5 {
				t.Errorf("presenter's firing folds %d attendees, want 5", all[0].Folded)
			}
			host := AlertKey{Rule: "presenter-audio", Source: web.Key(), Participant: "host"}
			n := 0
			for _, a := range f.e.Alerts() {
				if a.Key.Rule != "hears-breakup" {
					continue
				}
				n++
				if a.State != StateFiring || a.Notified || a.InhibitedBy == nil || *a.InhibitedBy != host {
					t.Errorf("%s: state %s notified %v inhibited by %v; want firing, not told, inhibited by %s", a.Key, a.State, a.Notified, a.InhibitedBy, host)
				}
			}
			if n != 5 {
				t.Errorf("%d attendee alerts, want 5 recorded", n)
			}
			if got := f.e.Stats().Inhibited; got != 5 {
				t.Errorf("Stats.Inhibited = %d, want 5", got)
			}

			// Host and attendees recover together: only the host's resolve
			// is told, still counting the five it folded.
			for m := 6; m <= 9; m++ {
				f.ingest(presenterMinute(m, 0, rep(0, 5)...)...)
				all = append(all, f.store.Drain()...)
			}
			got := keysOf(all[1:])
			if len(got) != 1 || all[1].Kind != KindResolved || all[1].Key != host {
				t.Fatalf("after recovery told %v, want only the presenter's resolve", got)
			}
			if all[1].Folded != 5 {
				t.Errorf("presenter's resolve folds %d, want 5", all[1].Folded)
			}
		})
	}
}

func keysOf(ns []Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, fmt.Sprintf("%s %s/%s", n.Kind, n.Key.Rule, n.Key.Participant))
	}
	return out
}

// An attendee whose output was bad well before the presenter's problem is
// not the presenter's doing: told. One in another webinar is not folded.
// One that still fires after the presenter recovered is told then.
func TestInhibitOnlyWhatStartedWithTheSource(t *testing.T) {
	f := newFixture(t, presenterRules(2*time.Minute)...)
	other := Source{Kind: Webinar, ID: "901"}
	// a1 hears loss from minute 0; the host breaks up from minute 5.
	var all []Notification
	for m := 0; m <= 8; m++ {
		hostIn, a2 := 0.0, 0.0
		if m >= 5 {
			hostIn, a2 = 8, 6
		}
		batch := []Sample{
			sampleOf(web, "host", RoleHost, m, hostIn, 0),
			sampleOf(web, "a1", RoleAttendee, m, 0, 6),
			sampleOf(web, "a2", RoleAttendee, m, 0, a2),
			sampleOf(other, "b1", RoleAttendee, m, 0, a2),
		}
		f.ingest(batch...)
		all = append(all, f.store.Drain()...)
	}
	want := []string{"firing hears-breakup/a1", "firing presenter-audio/host", "firing hears-breakup/b1"}
	if got := keysOf(all); !slices.Equal(got, want) {
		t.Fatalf("told %v, want %v", got, want)
	}
	if all[1].Folded != 1 { // a1's started before the window: not the presenter's doing
		t.Errorf("presenter folds %d, want 1 (a2)", all[1].Folded)
	}
	// The host recovers at minute 9 (resolves after keep_firing_for 0);
	// a2 still hears loss: told at its next sample, as a firing.
	f.ingest(sampleOf(web, "host", RoleHost, 9, 0, 0), sampleOf(web, "a2", RoleAttendee, 9, 0, 6))
	if got := keysOf(f.store.Drain()); !slices.Equal(got, []string{"resolved presenter-audio/host"}) {
		t.Fatalf("minute 9 told %v", got)
	}
	f.ingest(sampleOf(web, "host", RoleHost, 10, 0, 0), sampleOf(web, "a2", RoleAttendee, 10, 0, 6))
	if got := keysOf(f.store.Drain()); !slices.Equal(got, []string{"firing hears-breakup/a2"}) {
		t.Fatalf("minute 10 told %v, want a2's firing once the presenter recovered", got)
	}
	for _, a := range f.e.Alerts() {
		if a.Key.Participant == "a2" && (a.InhibitedBy != nil || !a.Notified) {
			t.Errorf("a2 after being told: inhibited by %v, notified %v", a.InhibitedBy, a.Notified)
		}
	}
}

func TestInhibitSurvivesARestart(t *testing.T) {
	f := newFixture(t, presenterRules(2*time.Minute)...)
	for m := 0; m <= 4; m++ {
		f.ingest(presenterMinute(m, 8, rep(6, 3)...)...)
	}
	f.store.Drain()
	// A new engine on the same store: the attendees' alerts stay quiet
	// while the host's fires.
	e := f.engine(f.store)
	if err := e.SetRules(ctxT(t), presenterRules(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	f.e = e
	f.ingest(presenterMinute(5, 8, rep(6, 3)...)...)
	if err := e.Tick(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := f.told(); len(got) != 0 {
		t.Fatalf("after a restart told %v", got)
	}
}

func TestInhibitRulesAreChecked(t *testing.T) {
	rs := presenterRules(time.Minute)
	for _, c := range []struct {
		name string
		in   Inhibition
	}{
		{"unknown target", Inhibition{Targets: []string{"nope"}}},
		{"itself", Inhibition{Targets: []string{"presenter-audio"}}},
		{"negative window", Inhibition{Targets: []string{"hears-breakup"}, Window: -time.Minute}},
	} {
		rs[0].Inhibits = []Inhibition{c.in}
		e, err := New(NewMemoryStore(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.SetRules(ctxT(t), rs); err == nil {
			t.Errorf("%s: SetRules accepted it", c.name)
		}
	}
}
