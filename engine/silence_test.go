package engine

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAddSilenceValidates(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	now := f.clock.t
	m := []Matcher{{Name: "rule", Value: "loss"}}
	tests := []struct {
		name string
		s    Silence
		want string
	}{
		{"no matcher", Silence{EndsAt: now.Add(time.Hour)}, "at least one matcher"},
		{"ends before starts", Silence{Matchers: m, StartsAt: now.Add(time.Hour), EndsAt: now.Add(time.Minute)}, "is not after starts_at"},
		{"ends in the past", Silence{Matchers: m, StartsAt: now.Add(-2 * time.Hour), EndsAt: now.Add(-time.Hour)}, "in the past"},
		{"bad regex", Silence{Matchers: []Matcher{{Name: "participant", Value: "(", IsRegex: true}}, EndsAt: now.Add(time.Hour)}, `matcher participant=~"("`},
		{"matcher without name", Silence{Matchers: []Matcher{{Value: "x"}}, EndsAt: now.Add(time.Hour)}, "matcher 1 has no name"},
		{"unknown id", Silence{ID: "nope", Matchers: m, EndsAt: now.Add(time.Hour)}, `silence "nope": silence not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.e.AddSilence(ctxT(t), tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			// The silence is wrong, or it names none: the caller's
			// mistake either way, which an API answers with a 4xx.
			if tc.name == "unknown id" {
				if !errors.Is(err, ErrSilenceNotFound) || errors.Is(err, ErrInvalidSilence) {
					t.Errorf("unknown id: %v is not just ErrSilenceNotFound", err)
				}
			} else if !errors.Is(err, ErrInvalidSilence) {
				t.Errorf("%v is not an ErrInvalidSilence", err)
			}
		})
	}
	if got := len(f.e.Silences()); got != 0 {
		t.Fatalf("%d invalid silences kept", got)
	}
	snap, _ := f.store.Load(ctxT(t))
	if len(snap.Silences) != 0 {
		t.Fatalf("%d invalid silences stored", len(snap.Silences))
	}
}

func TestSilenceMatchers(t *testing.T) {
	a := &Alert{
		Key:         AlertKey{Rule: "choppy-audio", Source: "webinar:900", Participant: "16778240"},
		Labels:      map[string]string{"team": "support"},
		Source:      Source{Kind: Webinar, ID: "900"},
		Participant: Participant{UserID: "16778240", UserName: "Ada Lovelace", Email: "ada@example.com"},
	}
	tests := []struct {
		m    Matcher
		want bool
	}{
		{Matcher{Name: "rule", Value: "choppy-audio"}, true},
		{Matcher{Name: "rule", Value: "choppy"}, false},
		{Matcher{Name: "rule", Value: "choppy", IsRegex: true}, false}, // anchored
		{Matcher{Name: "rule", Value: "choppy-.*", IsRegex: true}, true},
		{Matcher{Name: "rule", Value: "audio|video", IsRegex: true}, false}, // anchored around the alternation
		{Matcher{Name: "source", Value: "webinar:900"}, true},
		{Matcher{Name: "source", Value: "900"}, true},
		{Matcher{Name: "source", Value: "901"}, false},
		{Matcher{Name: "participant", Value: "16778240"}, true},
		{Matcher{Name: "participant", Value: "Ada Lovelace"}, true},
		{Matcher{Name: "participant", Value: ".*@example\\.com", IsRegex: true}, true},
		{Matcher{Name: "participant", Value: ""}, false}, // blank name/email never match ""
		{Matcher{Name: "team", Value: "support"}, true},
		{Matcher{Name: "team", Value: "av"}, false},
		{Matcher{Name: "missing", Value: ".*", IsRegex: true}, false},
	}
	for _, tc := range tests {
		s, err := compileSilence(Silence{ID: "x", Matchers: []Matcher{tc.m}, StartsAt: t0, EndsAt: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.matches(a); got != tc.want {
			t.Errorf("%+v: matches = %v, want %v", tc.m, got, tc.want)
		}
	}
	// All matchers must match.
	s, _ := compileSilence(Silence{ID: "x", StartsAt: t0, EndsAt: t0.Add(time.Hour),
		Matchers: []Matcher{{Name: "rule", Value: "choppy-audio"}, {Name: "team", Value: "av"}}})
	if s.matches(a) {
		t.Error("a silence matched with one of two matchers failing")
	}
}

func TestSilenceLifecycle(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	s, err := f.e.AddSilence(ctxT(t), Silence{Matchers: []Matcher{{Name: "rule", Value: "loss"}},
		EndsAt: f.clock.t.Add(time.Hour), CreatedBy: "ops@example.com", Comment: "maintenance"})
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == "" || !s.StartsAt.Equal(f.clock.t) {
		t.Fatalf("AddSilence did not assign id and start: %+v", s)
	}
	// Updating by id replaces it.
	s.Comment = "longer maintenance"
	s.EndsAt = f.clock.t.Add(2 * time.Hour)
	if _, err := f.e.AddSilence(ctxT(t), s); err != nil {
		t.Fatal(err)
	}
	got := f.e.Silences()
	if len(got) != 1 || got[0].Comment != "longer maintenance" || got[0].CreatedBy != "ops@example.com" {
		t.Fatalf("silences after update %+v", got)
	}
	if st := f.e.Stats(); st.ActiveSilences != 1 {
		t.Fatalf("active silences %d", st.ActiveSilences)
	}
	if err := f.e.ExpireSilence(ctxT(t), "nope"); !errors.Is(err, ErrSilenceNotFound) {
		t.Fatalf("expire unknown: %v", err)
	}
	if err := f.e.ExpireSilence(ctxT(t), s.ID); err != nil {
		t.Fatal(err)
	}
	snap, _ := f.store.Load(ctxT(t))
	if len(snap.Silences) != 1 || !snap.Silences[0].EndsAt.Equal(f.clock.t) {
		t.Fatalf("stored after expire %+v", snap.Silences)
	}
	// Kept for the retention (1h), then collected by Tick.
	f.clock.add(59 * time.Minute)
	if err := f.e.Tick(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if len(f.e.Silences()) != 1 {
		t.Fatal("expired silence collected before its retention")
	}
	f.clock.add(2 * time.Minute)
	if err := f.e.Tick(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	snap, _ = f.store.Load(ctxT(t))
	if len(f.e.Silences()) != 0 || len(snap.Silences) != 0 {
		t.Fatalf("expired silence kept past its retention: %d in engine, %d stored", len(f.e.Silences()), len(snap.Silences))
	}
}

func TestFutureSilenceStartsLater(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	if _, err := f.e.AddSilence(ctxT(t), Silence{Matchers: []Matcher{{Name: "rule", Value: "loss"}},
		StartsAt: f.clock.t.Add(time.Hour), EndsAt: f.clock.t.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	firingAt(t, f, "a", 0) // told: the silence has not started
}

func TestExpireAtOnceSurvivesRestart(t *testing.T) {
	// Expired the moment it was made: it ends when it starts, and a
	// restart must still load it.
	f := newFixture(t, loss("loss", 2))
	s, err := f.e.AddSilence(ctxT(t), Silence{Matchers: []Matcher{{Name: "rule", Value: "loss"}}, EndsAt: f.clock.t.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.ExpireSilence(ctxT(t), s.ID); err != nil {
		t.Fatal(err)
	}
	e, err := New(f.store, Options{Now: f.clock.now})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	if got := e.Silences(); len(got) != 1 || !got[0].EndsAt.Equal(got[0].StartsAt) {
		t.Fatalf("after restart %+v", got)
	}
}
