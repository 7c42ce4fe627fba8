package engine

import (
	"slices"
	"testing"
	"time"
)

// loss is a rule on audio loss that fires on the third bad minute and
// resolves on the second good one (a sample covers its minute: SampleSpan).
func loss(name string, above float64) Rule {
	return Rule{Name: name, When: lossAbove(above), For: 3 * time.Minute, KeepFiringFor: 2 * time.Minute,
		Severity: SeverityWarning, Summary: tmpl{}}
}

// step is one ingest of a lifecycle table: the loss of participant "a" at
// a minute, and what must be told and what state "a" is in after it.
type step struct {
	min   int
	loss  float64
	told  []string
	state string
}

func runSteps(t *testing.T, f *fixture, steps []step) {
	t.Helper()
	for _, st := range steps {
		f.ingest(smp("a", st.min, st.loss))
		if got := f.told(); !slices.Equal(got, st.told) {
			t.Fatalf("minute %d loss %g: told %q, want %q", st.min, st.loss, got, st.told)
		}
		if got := f.state(); got != st.state {
			t.Fatalf("minute %d loss %g: state %q, want %q", st.min, st.loss, got, st.state)
		}
	}
}

func TestLifecycle(t *testing.T) {
	hyst := loss("loss", 2)
	hyst.Clear = lossBelow(1)
	overlap := loss("loss", 2)
	overlap.Clear = lossBelow(10) // holds together with when between 2 and 10
	zero := loss("loss", 2)
	zero.For, zero.KeepFiringFor = 0, 0

	tests := []struct {
		name  string
		rule  Rule
		steps []step
	}{
		{"for: pending until held 3m (three minutes), then firing once", loss("loss", 2), []step{
			{0, 0, nil, ""},
			{1, 5, nil, "loss/a=pending"},
			{2, 5, nil, "loss/a=pending"},
			{3, 5, []string{"firing loss a @3"}, "loss/a=firing"},
			{4, 5, nil, "loss/a=firing"},
		}},
		{"pending that stops holding leaves no record", loss("loss", 2), []step{
			{1, 5, nil, "loss/a=pending"},
			{2, 0, nil, ""},
			{3, 5, nil, "loss/a=pending"},
		}},
		{"for 0 fires at once, keep 0 resolves at once", zero, []step{
			{1, 5, []string{"firing loss a @1"}, "loss/a=firing"},
			{2, 0, []string{"resolved loss a @2 recovered"}, "loss/a=resolved"},
			{3, 0, nil, "loss/a=resolved"},
			{4, 5, []string{"firing loss a @4"}, "loss/a=firing"},
		}},
		{"keep_firing_for: resolving, back to firing without a message, then resolved", loss("loss", 2), []step{
			{1, 5, nil, "loss/a=pending"},
			{3, 5, []string{"firing loss a @3"}, "loss/a=firing"},
			{4, 0, nil, "loss/a=resolving"},
			{5, 5, nil, "loss/a=firing"},
			{6, 0, nil, "loss/a=resolving"},
			{7, 0, []string{"resolved loss a @7 recovered"}, "loss/a=resolved"},
		}},
		{"clear hysteresis: the band between clear and when keeps firing", hyst, []step{
			{1, 5, nil, "loss/a=pending"},
			{3, 5, []string{"firing loss a @3"}, "loss/a=firing"},
			{4, 1.5, nil, "loss/a=firing"}, // neither when nor clear
			{5, 0.5, nil, "loss/a=resolving"},
			{6, 1.5, nil, "loss/a=firing"}, // clear stopped holding
			{7, 0.5, nil, "loss/a=resolving"},
			{8, 0.2, []string{"resolved loss a @8 recovered"}, "loss/a=resolved"},
		}},
		{"when wins over clear when both hold", overlap, []step{
			{1, 5, nil, "loss/a=pending"},
			{3, 5, []string{"firing loss a @3"}, "loss/a=firing"},
			{4, 5, nil, "loss/a=firing"},
			{5, 1, nil, "loss/a=resolving"},
			{6, 1, []string{"resolved loss a @6 recovered"}, "loss/a=resolved"},
		}},
		{"missing value (NaN) never holds", loss("loss", 2), []step{
			{1, NaN, nil, ""},
			{2, NaN, nil, ""},
		}},
		{"without clear, a missing value counts as over", loss("loss", 2), []step{
			{1, 5, nil, "loss/a=pending"},
			{3, 5, []string{"firing loss a @3"}, "loss/a=firing"},
			{4, NaN, nil, "loss/a=resolving"},
			{5, NaN, []string{"resolved loss a @5 recovered"}, "loss/a=resolved"},
		}},
		{"with clear, a missing value is not a recovery", hyst, []step{
			{1, 5, nil, "loss/a=pending"},
			{3, 5, []string{"firing loss a @3"}, "loss/a=firing"},
			{4, NaN, nil, "loss/a=firing"},
			{9, NaN, nil, "loss/a=firing"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, newFixture(t, tc.rule), tc.steps)
		})
	}
}

// A sample is a minute (SampleSpan): `for` and `keep_firing_for` count the
// minutes the samples cover, so `for: 2m` fires on the second bad minute,
// a minute's `for` on the first, and `keep_firing_for: 2m` resolves on the
// second good minute.
func TestForCountsTheMinutesTheSamplesCover(t *testing.T) {
	rule := func(forDur, keep time.Duration) Rule {
		r := loss("loss", 2)
		r.For, r.KeepFiringFor = forDur, keep
		return r
	}
	tests := []struct {
		name  string
		rule  Rule
		steps []step
	}{
		{"for 2m: two bad minutes", rule(2*time.Minute, 2*time.Minute), []step{
			{1, 5, nil, "loss/a=pending"},
			{2, 5, []string{"firing loss a @2"}, "loss/a=firing"},
			{3, 0, nil, "loss/a=resolving"},
			{4, 0, []string{"resolved loss a @4 recovered"}, "loss/a=resolved"},
		}},
		{"for 1m: the first bad minute", rule(time.Minute, time.Minute), []step{
			{1, 5, []string{"firing loss a @1"}, "loss/a=firing"},
			{2, 0, []string{"resolved loss a @2 recovered"}, "loss/a=resolved"},
		}},
		{"for 90s: two bad minutes", rule(90*time.Second, 0), []step{
			{1, 5, nil, "loss/a=pending"},
			{2, 5, []string{"firing loss a @2"}, "loss/a=firing"},
		}},
		{"a minute not seen between two bad ones keeps it pending", rule(2*time.Minute, 0), []step{
			{1, 5, nil, "loss/a=pending"},
			{3, 5, []string{"firing loss a @3"}, "loss/a=firing"}, // 1 to 4: held since 1, though minute 2 was not seen
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, newFixture(t, tc.rule), tc.steps)
		})
	}
}

func TestNotificationCarriesContext(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	f.ingest(smp("a", 1, 5), smp("a", 2, 6), smp("a", 3, 7))
	ns := f.store.Drain()
	if len(ns) != 1 {
		t.Fatalf("got %d notifications, want 1", len(ns))
	}
	n := ns[0]
	if n.Kind != KindFiring || n.ID == 0 || n.Rule.Name != "loss" || n.Rule.Severity != SeverityWarning ||
		n.Rule.For != 3*time.Minute || n.Source != web || n.Participant.UserName != "name-a" ||
		n.Sample.AudioInput.AvgLoss != 7 || !n.Since.Equal(t0.Add(3*time.Minute)) ||
		!n.At.Equal(t0.Add(3*time.Minute)) || !n.Created.Equal(f.clock.t) || n.Summary != "name-a firing" ||
		len(n.Explain) != 1 || !n.Explain[0].Holds || n.Explain[0].Value != "7" {
		t.Fatalf("notification lacks context: %+v", n)
	}
	// The resolve: why, since when, for how long, on which sample.
	f.ingest(smp("a", 4, 0.5), smp("a", 5, 0.2))
	ns = f.store.Drain()
	if len(ns) != 1 {
		t.Fatalf("got %d notifications, want the resolve", len(ns))
	}
	r := ns[0]
	if r.Kind != KindResolved || r.Reason != ReasonRecovered || !r.Since.Equal(t0.Add(3*time.Minute)) ||
		!r.At.Equal(t0.Add(5*time.Minute)) || r.Duration() != 2*time.Minute || r.Sample.AudioInput.AvgLoss != 0.2 ||
		len(r.Explain) != 1 || r.Explain[0].Holds || r.Summary != "name-a resolved" || r.ID <= n.ID {
		t.Fatalf("resolve lacks context: %+v", r)
	}
	// And what was wrong, as the firing message told it.
	if len(r.Fired) != 1 || !r.Fired[0].Holds || r.Fired[0].Value != "7" || n.Fired != nil {
		t.Fatalf("resolve lacks the fired values: %+v (firing's: %+v)", r.Fired, n.Fired)
	}
}
