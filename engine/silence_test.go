package engine

import (
	"errors"
	"slices"
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
		// The limits, each named in the error (defaults).
		{"17,000 matchers", Silence{Matchers: slices.Repeat(m, 17000), EndsAt: now.Add(time.Hour)}, "17000 matchers, more than the maximum of 20"},
		{"an 880 KB regex", Silence{Matchers: []Matcher{{Name: "participant", Value: strings.Repeat("a|", 440_000), IsRegex: true}}, EndsAt: now.Add(time.Hour)},
			"matcher 1 has a name or value of 880000 bytes, longer than the maximum of 1024"},
		{"a long name", Silence{Matchers: []Matcher{{Name: strings.Repeat("n", 2000), Value: "x"}}, EndsAt: now.Add(time.Hour)}, "of 2000 bytes, longer than the maximum of 1024"},
		{"a long created_by", Silence{Matchers: m, EndsAt: now.Add(time.Hour), CreatedBy: strings.Repeat("x", 1025)}, "created_by of 1025 bytes"},
		{"a long comment", Silence{Matchers: m, EndsAt: now.Add(time.Hour), Comment: strings.Repeat("x", 5000)}, "comment of 5000 bytes, longer than the maximum of 4096"},
		{"rule=~.* until 9999", Silence{Matchers: []Matcher{{Name: "rule", Value: ".*", IsRegex: true}}, EndsAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
			"later than the maximum of 720h0m0s: end it sooner"},
		{"starts next year", Silence{Matchers: m, StartsAt: now.AddDate(1, 0, 0), EndsAt: now.AddDate(1, 0, 0).Add(time.Hour)}, "later than the maximum"},
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
	e, err := New(f.store, Options{Clock: f.clock})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	if got := e.Silences(); len(got) != 1 || !got[0].EndsAt.Equal(got[0].StartsAt) {
		t.Fatalf("after restart %+v", got)
	}
}

// The limits are configurable: an operator who means a year-long silence
// says so with MaxDuration; with MaxSilences at its limit, expired
// silences make room (oldest first), active ones never do.
func TestSilenceLimitsAreConfigurable(t *testing.T) {
	f := &fixture{t: t, store: NewMemoryStore(), clock: newClock()}
	e, err := New(f.store, Options{Clock: f.clock, Silences: SilenceLimits{MaxDuration: 400 * 24 * time.Hour, MaxSilences: 2}})
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.t
	m := []Matcher{{Name: "rule", Value: "loss"}}
	year, err := e.AddSilence(ctxT(t), Silence{Matchers: m, EndsAt: now.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatalf("a year with MaxDuration 400 days: %v", err)
	}
	short, err := e.AddSilence(ctxT(t), Silence{Matchers: m, EndsAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.AddSilence(ctxT(t), Silence{Matchers: m, EndsAt: now.Add(time.Hour)})
	if !errors.Is(err, ErrInvalidSilence) || !strings.Contains(err.Error(), "2 silences are active or pending, the maximum is 2") {
		t.Fatalf("a third silence: %v", err)
	}
	if err := e.ExpireSilence(ctxT(t), short.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Minute)
	third, err := e.AddSilence(ctxT(t), Silence{Matchers: m, EndsAt: f.clock.t.Add(time.Hour)})
	if err != nil {
		t.Fatalf("with one expired: %v", err)
	}
	var ids []string
	for _, s := range e.Silences() {
		ids = append(ids, s.ID)
	}
	snap, _ := f.store.Load(ctxT(t))
	if !slices.Contains(ids, year.ID) || !slices.Contains(ids, third.ID) || slices.Contains(ids, short.ID) || len(ids) != 2 || len(snap.Silences) != 2 {
		t.Fatalf("silences %q (%d stored): want the year-long and the new one, the expired one gone", ids, len(snap.Silences))
	}
	// Replacing an existing silence needs no room.
	year.Comment = "until the ISP fixes it"
	if _, err := e.AddSilence(ctxT(t), year); err != nil {
		t.Fatalf("replacing at the limit: %v", err)
	}
}
