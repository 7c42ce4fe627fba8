package engine

import (
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// firingAt brings participant p's "loss" alert (for 2m) to firing at
// minute m+2 and drains the firing notification.
func firingAt(t *testing.T, f *fixture, p string, m int) {
	t.Helper()
	f.ingest(smp(p, m, 5))
	f.ingest(smp(p, m+1, 5))
	f.ingest(smp(p, m+2, 5))
	if got := f.told(); len(got) != 1 || got[0] != "firing loss "+p+" @"+strconv.Itoa(m+2) {
		t.Fatalf("setup: told %q", got)
	}
}

func TestLeaveResolves(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	firingAt(t, f, "a", 0)
	s := smp("a", 3, 5)
	s.Participant.LeaveTime = t0.Add(3*time.Minute + 30*time.Second)
	f.ingest(s)
	want := []string{"resolved loss a @3 left"}
	if got := f.told(); !slices.Equal(got, want) {
		t.Fatalf("told %q, want %q", got, want)
	}
	a := f.e.Alerts()[0]
	if a.State != StateResolved || a.Reason != ReasonLeft || !a.ResolvedAt.Equal(s.Participant.LeaveTime) {
		t.Fatalf("alert after leave: %v %v %v", a.State, a.Reason, a.ResolvedAt)
	}
}

func TestLeaveAddedToMinutesSeenBefore(t *testing.T) {
	// Zoom adds leave_time to the minutes it reported already: the next
	// poll's page is all overlap, and the leave still counts.
	f := newFixture(t, loss("loss", 2))
	firingAt(t, f, "a", 0)
	page := []Sample{smp("a", 1, 5), smp("a", 2, 5)}
	for i := range page {
		page[i].Participant.LeaveTime = t0.Add(2*time.Minute + 40*time.Second)
	}
	f.ingest(page...)
	if got := f.told(); !slices.Equal(got, []string{"resolved loss a @2 left"}) {
		t.Fatalf("told %q", got)
	}
	f.ingest(page...)
	if got := f.told(); got != nil {
		t.Fatalf("the same page again told %q", got)
	}
}

func TestRejoinIsNotALeave(t *testing.T) {
	// A participant who left at minute 1 and came back with the same key:
	// its newest sample (minute 5) carries the old session's leave_time.
	f := newFixture(t, loss("loss", 2))
	firingAt(t, f, "a", 3)
	s := smp("a", 6, 5)
	s.Participant.LeaveTime = t0.Add(time.Minute)
	f.ingest(s)
	if got, st := f.told(), f.state(); got != nil || st != "loss/a=firing" {
		t.Fatalf("told %q, state %q", got, st)
	}
}

func TestLeaveDropsPendingSilently(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	s := smp("a", 0, 5)
	s.Participant.LeaveTime = t0.Add(30 * time.Second)
	f.ingest(s)
	if got, st := f.told(), f.state(); got != nil || st != "" {
		t.Fatalf("a pending alert of a leaver: told %q, state %q", got, st)
	}
}

func TestStaleAgainstNewestSampleOfSource(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	firingAt(t, f, "a", 0) // a's last sample: minute 2
	f.ingest(smp("b", 7, 0))
	if got := f.told(); got != nil {
		t.Fatalf("5m without a sample is not yet stale (after 5m): told %q", got)
	}
	// Wall clock does not matter: only the source's samples do.
	f.clock.add(24 * time.Hour)
	f.ingest(smp("b", 8, 0))
	want := []string{"resolved loss a @7 stale"} // last sample + stale_after
	if got := f.told(); !slices.Equal(got, want) {
		t.Fatalf("told %q, want %q", got, want)
	}
	// Another source's samples never make a participant stale.
	g := newFixture(t, loss("loss", 2))
	firingAt(t, g, "a", 0)
	other := smp("x", 60, 0)
	other.Source.ID = "901"
	g.ingest(other)
	if got := g.told(); got != nil {
		t.Fatalf("a sample of another webinar made a stale: %q", got)
	}
}

func TestEndSource(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	firingAt(t, f, "a", 0)
	f.ingest(smp("b", 3, 5)) // b pending: ends silently
	end := t0.Add(10 * time.Minute)
	if err := f.e.EndSource(ctxT(t), web, end); err != nil {
		t.Fatal(err)
	}
	want := []string{"resolved loss a @10 ended"}
	if got := f.told(); !slices.Equal(got, want) {
		t.Fatalf("told %q, want %q", got, want)
	}
	if got := f.state(); got != "loss/a=resolved" {
		t.Fatalf("state %q", got)
	}
}

func TestEndedSourceIgnoresLatePagesButNotTheNextOccurrence(t *testing.T) {
	r := loss("loss", 2)
	r.For = 0
	f := newFixture(t, r)
	f.ingest(smp("a", 0, 0))
	if err := f.e.EndSource(ctxT(t), web, t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A late page of the ended occurrence: a known and a new participant.
	f.ingest(smp("a", 10, 5), smp("b", 29, 5))
	if got, st := f.told(), f.state(); got != nil || st != "" {
		t.Fatalf("late page of an ended webinar: told %q, state %q", got, st)
	}
	// Next week's occurrence of the recurring webinar (same id).
	f.clock.add(7 * 24 * time.Hour)
	f.ingest(smp("a", 7*24*60, 5))
	if got := f.told(); !slices.Equal(got, []string{"firing loss a @10080"}) {
		t.Fatalf("next occurrence told %q", got)
	}
	// The ended occurrence's cursors survive a restart.
	g := newFixture(t, r)
	g.ingest(smp("a", 0, 0))
	if err := g.e.EndSource(ctxT(t), web, t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	g.e = g.engine(g.store)
	if err := g.e.SetRules(ctxT(t), []Rule{r}); err != nil {
		t.Fatal(err)
	}
	g.ingest(smp("a", 10, 5), smp("z", 11, 5)) // z: never seen before the end
	if got, st := g.told(), g.state(); got != nil || st != "" {
		t.Fatalf("after restart, a late page of an ended webinar: told %q, state %q", got, st)
	}
}

func TestRepeatOnWallClock(t *testing.T) {
	r := loss("loss", 2)
	r.RepeatInterval = time.Hour
	f := newFixture(t, r)
	firingAt(t, f, "a", 0)
	f.clock.add(59 * time.Minute)
	f.ingest(smp("a", 3, 5))
	if got := f.told(); got != nil {
		t.Fatalf("repeat before repeat_interval: %q", got)
	}
	f.clock.add(time.Minute)
	f.ingest(smp("a", 4, 5))
	if got := f.told(); !slices.Equal(got, []string{"repeat loss a @4"}) {
		t.Fatalf("told %q, want one repeat", got)
	}
	f.ingest(smp("a", 5, 5))
	if got := f.told(); got != nil {
		t.Fatalf("repeat twice: %q", got)
	}
	// Tick repeats an alert that gets no new sample.
	f.clock.add(time.Hour)
	if err := f.e.Tick(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := f.told(); !slices.Equal(got, []string{"repeat loss a @5"}) {
		t.Fatalf("tick told %q, want one repeat", got)
	}
	if err := f.e.Tick(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := f.told(); got != nil {
		t.Fatalf("tick repeated twice: %q", got)
	}
	// A silence holds a due repeat back; once it ends, the repeat comes.
	sil, err := f.e.AddSilence(ctxT(t), Silence{Matchers: []Matcher{{Name: "rule", Value: "loss"}}, EndsAt: f.clock.t.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.add(2 * time.Hour)
	f.ingest(smp("a", 6, 5))
	if err := f.e.Tick(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := f.told(); got != nil {
		t.Fatalf("repeat under a silence: %q", got)
	}
	if err := f.e.ExpireSilence(ctxT(t), sil.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.e.Tick(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := f.told(); !slices.Equal(got, []string{"repeat loss a @6"}) {
		t.Fatalf("after the silence told %q, want the due repeat", got)
	}
}

func TestSilenceHoldsBackAndTellsWhenItEnds(t *testing.T) {
	for _, via := range []string{"ingest", "tick"} {
		t.Run(via, func(t *testing.T) {
			f := newFixture(t, loss("loss", 2))
			sil, err := f.e.AddSilence(ctxT(t), Silence{
				Matchers: []Matcher{{Name: "participant", Value: "name-a"}},
				EndsAt:   f.clock.t.Add(time.Hour), CreatedBy: "ops", Comment: "known bad uplink",
			})
			if err != nil {
				t.Fatal(err)
			}
			for m := 0; m <= 3; m++ {
				f.ingest(smp("a", m, 5), smp("b", m, 5))
			}
			if got := f.told(); !slices.Equal(got, []string{"firing loss b @2"}) {
				t.Fatalf("under silence told %q, want only b", got)
			}
			if got := f.state(); got != "loss/a=firing loss/b=firing" {
				t.Fatalf("a silenced alert must keep its state: %q", got)
			}
			if err := f.e.ExpireSilence(ctxT(t), sil.ID); err != nil {
				t.Fatal(err)
			}
			if via == "ingest" {
				f.ingest(smp("a", 4, 5))
			} else if err := f.e.Tick(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"ingest": "firing loss a @4", "tick": "firing loss a @3"}[via]
			if got := f.told(); !slices.Equal(got, []string{want}) {
				t.Fatalf("after the silence ended told %q, want %q", got, want)
			}
			if err := f.e.Tick(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if got := f.told(); got != nil {
				t.Fatalf("told twice: %q", got)
			}
		})
	}
}

func TestSilencedAlertThatRecoversIsNeverTold(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	if _, err := f.e.AddSilence(ctxT(t), Silence{Matchers: []Matcher{{Name: "rule", Value: "lo.*", IsRegex: true}},
		EndsAt: f.clock.t.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for m, l := range []float64{5, 5, 5, 0, 0} {
		f.ingest(smp("a", m, l))
	}
	if got := f.told(); got != nil {
		t.Fatalf("told %q", got)
	}
	if st := f.e.Stats(); st.Silenced != 1 {
		t.Fatalf("Stats.Silenced = %d, want 1", st.Silenced)
	}
}

func TestResolvedIsToldEvenUnderSilenceWhenFiringWasTold(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	firingAt(t, f, "a", 0)
	if _, err := f.e.AddSilence(ctxT(t), Silence{Matchers: []Matcher{{Name: "rule", Value: "loss"}},
		EndsAt: f.clock.t.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	f.ingest(smp("a", 3, 0))
	f.ingest(smp("a", 4, 0))
	if got := f.told(); !slices.Equal(got, []string{"resolved loss a @4 recovered"}) {
		t.Fatalf("told %q", got)
	}
}

func TestReload(t *testing.T) {
	keep, gone := loss("loss", 2), loss("gone", 2)
	f := newFixture(t, keep, gone)
	f.ingest(smp("a", 0, 5))
	f.ingest(smp("a", 1, 5))
	f.ingest(smp("a", 2, 5)) // both firing at 2
	if got := f.told(); len(got) != 2 {
		t.Fatalf("setup told %q", got)
	}
	f.ingest(smp("b", 2, 5)) // b pending on both
	changed := keep
	changed.Severity = SeverityCritical
	if err := f.e.SetRules(ctxT(t), []Rule{changed}); err != nil {
		t.Fatal(err)
	}
	if got := f.told(); !slices.Equal(got, []string{"resolved gone a @2 rule_removed"}) {
		t.Fatalf("reload told %q, want only the told alert of the removed rule", got)
	}
	if got := f.state(); got != "gone/a=resolved loss/a=firing loss/b=pending" {
		t.Fatalf("state after reload %q", got)
	}
	for _, a := range f.e.Alerts() {
		if a.Key.Rule == "loss" && a.Severity != SeverityCritical {
			t.Fatalf("%s kept severity %s after the rule changed", a.Key, a.Severity)
		}
	}
	// The kept alert neither re-fires nor forgets its for: b fires at 4.
	f.ingest(smp("a", 3, 5), smp("b", 3, 5))
	f.ingest(smp("a", 4, 5), smp("b", 4, 5))
	if got := f.told(); !slices.Equal(got, []string{"firing loss b @4"}) {
		t.Fatalf("after reload told %q", got)
	}
}

func TestSetRulesRejectsBadRulesAndKeepsTheOld(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	for name, rules := range map[string][]Rule{
		"duplicate": {loss("x", 1), loss("x", 2)},
		"no when":   {{Name: "x"}},
		"no name":   {{When: lossAbove(1)}},
		"negative":  {{Name: "x", When: lossAbove(1), For: -time.Minute}},
	} {
		if err := f.e.SetRules(ctxT(t), rules); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if st := f.e.Stats(); st.Rules != 1 {
		t.Fatalf("a rejected reload changed the rules: %d", st.Rules)
	}
}

func TestIngestBeforeRules(t *testing.T) {
	e, err := New(NewMemoryStore(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Ingest(ctxT(t), []Sample{smp("a", 0, 5)}); !errors.Is(err, ErrNoRules) {
		t.Fatalf("got %v, want ErrNoRules", err)
	}
}

func TestOverlappingBatchesAreEvaluatedOnce(t *testing.T) {
	r := loss("loss", 2)
	r.For = 0
	f := newFixture(t, r)
	// Out of order within a batch, and overlapping pages.
	f.ingest(smp("a", 2, 0), smp("a", 0, 0), smp("a", 1, 5))
	f.ingest(smp("a", 1, 5), smp("a", 2, 0), smp("a", 3, 0))
	f.ingest(smp("a", 3, 5), smp("a", 3, 5))
	// 1 fires (for 0), 2 starts resolving, 3 resolves (keep 1m); the
	// repeated minutes 1, 2 and 3 change nothing.
	want := []string{"firing loss a @1", "resolved loss a @3 recovered"}
	if got := f.told(); !slices.Equal(got, want) {
		t.Fatalf("told %q, want %q", got, want)
	}
	st := f.e.Stats()
	if st.SamplesIngested != 4 || st.SamplesSkipped != 4 {
		t.Fatalf("ingested %d, skipped %d; want 4 and 4", st.SamplesIngested, st.SamplesSkipped)
	}
}

func TestInvalidSamplesAreSkippedAndCounted(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	noSrc, noPart, noTime := smp("a", 0, 5), smp("a", 0, 5), smp("a", 0, 5)
	noSrc.Source.ID = ""
	noPart.Participant = Participant{}
	noTime.Time = time.Time{}
	future := smp("c", 25*60, 5) // 25h ahead of the clock
	f.ingest(noSrc, noPart, noTime, future, smp("b", 0, 5))
	if st := f.e.Stats(); st.SamplesInvalid != 4 || st.SamplesIngested != 1 || st.Pending != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// MaxFutureSkew is a setting: a tighter one rejects what the default
// accepts, and a negative one turns the check off.
func TestMaxFutureSkewIsHonoured(t *testing.T) {
	for _, tc := range []struct {
		skew              time.Duration
		aheadMin          int
		invalid, ingested uint64
	}{
		{0, 2 * 60, 0, 1},               // default 24h: 2h ahead is fine
		{0, 25 * 60, 1, 0},              // default 24h: 25h ahead is not
		{time.Hour, 2 * 60, 1, 0},       // tighter: 2h ahead is too far
		{48 * time.Hour, 25 * 60, 0, 1}, // looser
		{-1, 25 * 60, 0, 1},             // off
	} {
		f := &fixture{t: t, store: NewMemoryStore(), clock: newClock()}
		e, err := New(f.store, Options{Clock: f.clock, MaxFutureSkew: tc.skew})
		if err != nil {
			t.Fatal(err)
		}
		f.e = e
		if err := e.SetRules(ctxT(t), []Rule{loss("loss", 2)}); err != nil {
			t.Fatal(err)
		}
		f.ingest(smp("a", tc.aheadMin, 5))
		if st := e.Stats(); st.SamplesInvalid != tc.invalid || st.SamplesIngested != tc.ingested {
			t.Errorf("MaxFutureSkew %s, sample %dm ahead: invalid %d, ingested %d; want %d and %d",
				tc.skew, tc.aheadMin, st.SamplesInvalid, st.SamplesIngested, tc.invalid, tc.ingested)
		}
	}
}

// A rule whose evaluation fails (an expression error, its evaluation
// budget exceeded) is disabled: logged once with the sample it failed on,
// counted by rule, its notified alerts resolved as rule_disabled, not
// evaluated any more; the other rules run on. A reload enables it again.
func TestFailingRuleIsDisabledUntilReload(t *testing.T) {
	var logs strings.Builder
	budget := errors.New("evaluation budget exceeded")
	broken := true
	bad := Rule{Name: "bad", Severity: SeverityWarning, When: cond{name: "bad", eval: func(s *Sample) (bool, error) {
		if broken && s.Participant.UserID == "b" && s.Time.After(t0) {
			return false, budget
		}
		return s.AvgLoss > 2, nil
	}}}
	good := loss("loss", 2)
	good.For = 0
	f := &fixture{t: t, store: NewMemoryStore(), clock: newClock()}
	fs := &flakyStore{MemoryStore: f.store}
	e, err := New(fs, Options{Clock: f.clock, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	f.e = e
	if err := e.SetRules(ctxT(t), []Rule{bad, good}); err != nil {
		t.Fatal(err)
	}
	f.ingest(smp("a", 0, 5), smp("b", 0, 5), smp("c", 0, 5))
	if got := f.told(); len(got) != 6 {
		t.Fatalf("minute 0 told %q, want both rules firing for a, b, c", got)
	}

	// The commit of the failing page fails: nothing is disabled yet, and
	// the same page again decides the same.
	fs.fail = true
	if err := e.Ingest(ctxT(t), []Sample{smp("a", 1, 5), smp("b", 1, 5), smp("c", 1, 5)}); !errors.Is(err, errDiskFull) {
		t.Fatalf("Ingest: %v", err)
	}
	if st := e.Stats(); st.RuleDisabled["bad"] || strings.Contains(logs.String(), "rule disabled") {
		t.Fatalf("a failed commit disabled %v", st.RuleDisabled)
	}
	fs.fail = false
	f.ingest(smp("a", 1, 5), smp("b", 1, 5), smp("c", 1, 5))
	// At the time of each one's last evaluated sample: b failed at minute
	// 1 and c, after b, was not evaluated again.
	want := []string{"resolved bad a @1 rule_disabled", "resolved bad b @0 rule_disabled", "resolved bad c @0 rule_disabled"}
	if got := f.told(); !slices.Equal(got, want) {
		t.Fatalf("the failing page told %q, want %q", got, want)
	}
	st := e.Stats()
	if !maps.Equal(st.RuleDisabled, map[string]bool{"bad": true, "loss": false}) || st.RuleDisables["bad"] != 1 || st.EvalErrors != 1 {
		t.Fatalf("stats %+v: want bad disabled once, one eval error", st)
	}
	if n := strings.Count(logs.String(), "rule disabled"); n != 1 || !strings.Contains(logs.String(), "rule=bad") ||
		!strings.Contains(logs.String(), "participant=b") || !strings.Contains(logs.String(), "evaluation budget exceeded") {
		t.Fatalf("want one log line naming the rule, the participant and the error, got:\n%s", logs.String())
	}
	if got := f.state(); got != "bad/a=resolved bad/b=resolved bad/c=resolved loss/a=firing loss/b=firing loss/c=firing" {
		t.Fatalf("state %q: want bad resolved, loss still firing", got)
	}

	// Disabled: not evaluated, no new alert, no new log line; the other
	// rule runs.
	evals := st.Evaluations
	f.ingest(smp("a", 2, 0), smp("d", 2, 5))
	if got := f.told(); !slices.Equal(got, []string{"firing loss d @2"}) {
		t.Fatalf("with bad disabled, told %q", got)
	}
	if st := e.Stats(); st.Evaluations != evals+2 || strings.Count(logs.String(), "rule disabled") != 1 {
		t.Fatalf("%d evaluations for 2 samples, want 2 (loss only)", st.Evaluations-evals)
	}

	// The fixed rule, reloaded, runs again.
	broken = false
	if err := e.SetRules(ctxT(t), []Rule{bad, good}); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.RuleDisabled["bad"] || st.RuleDisables["bad"] != 1 {
		t.Fatalf("after the reload: %+v", st)
	}
	f.ingest(smp("b", 3, 5))
	if got := f.told(); !slices.Equal(got, []string{"firing bad b @3"}) {
		t.Fatalf("after the reload, told %q", got)
	}
}

// A clear condition that fails disables its rule too: the firing alert
// resolves as rule_disabled instead of firing forever.
func TestFailingClearDisablesTheRule(t *testing.T) {
	r := loss("loss", 2)
	r.For = 0
	r.Clear = cond{name: "clear", eval: func(*Sample) (bool, error) { return false, errors.New("boom") }}
	f := newFixture(t, r)
	f.ingest(smp("a", 0, 5))
	f.ingest(smp("a", 1, 0)) // when stops holding: clear is asked, and fails
	if got := f.told(); !slices.Equal(got, []string{"firing loss a @0", "resolved loss a @1 rule_disabled"}) {
		t.Fatalf("told %q", got)
	}
	if st := f.e.Stats(); !st.RuleDisabled["loss"] {
		t.Fatalf("disabled %v", st.RuleDisabled)
	}
}

func TestAlertsShowTheLatestSampleAndRepeatsCarryIt(t *testing.T) {
	r := loss("loss", 2)
	r.RepeatInterval = time.Hour
	f := newFixture(t, r)
	firingAt(t, f, "a", 0)
	f.ingest(smp("a", 3, 6))
	f.ingest(smp("a", 4, 7))
	a := f.e.Alerts()[0]
	if a.Sample.AudioInput.AvgLoss != 7 || !a.LastSample.Equal(t0.Add(4*time.Minute)) || !a.FiredAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("alert shows loss %g at %s (fired %s), want the latest sample (7 at minute 4)", a.Sample.AudioInput.AvgLoss, a.LastSample, a.FiredAt)
	}
	f.clock.add(time.Hour)
	f.ingest(smp("a", 5, 8))
	ns := f.store.Drain()
	if len(ns) != 1 || ns[0].Kind != KindRepeat || ns[0].Sample.AudioInput.AvgLoss != 8 || ns[0].Explain[0].Value != "8" {
		t.Fatalf("repeat %+v, want the latest sample and its explain", ns)
	}
	// The same after a restart: the store holds what memory held at the
	// last state change, and the next sample brings it up to date.
	f.e = f.engine(f.store)
	if err := f.e.SetRules(ctxT(t), []Rule{r}); err != nil {
		t.Fatal(err)
	}
	f.ingest(smp("a", 6, 9))
	if a := f.e.Alerts()[0]; a.State != StateFiring || a.Sample.AudioInput.AvgLoss != 9 {
		t.Fatalf("after restart: %s with loss %g", a.State, a.Sample.AudioInput.AvgLoss)
	}
}

func TestHotListsParticipantsWithOpenAlerts(t *testing.T) {
	r2 := loss("high", 4)
	f := newFixture(t, loss("loss", 2), r2)
	for m := 0; m <= 2; m++ {
		f.ingest(smp("a", m, 5)) // a fires on both rules
	}
	f.ingest(smp("b", 2, 3), smp("c", 2, 0)) // b pending on "loss"
	other := smp("x", 2, 9)
	other.Source.ID = "901"
	f.ingest(other)
	if got := f.e.Hot(web.Key()); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Hot = %q, want [a b] once each", got)
	}
	if got := f.e.Hot("webinar:901"); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("Hot of the other webinar = %q", got)
	}
	f.ingest(smp("a", 3, 0), smp("b", 3, 0))
	f.ingest(smp("a", 4, 0))
	if got := f.e.Hot(web.Key()); len(got) != 0 {
		t.Fatalf("Hot after recovery = %q, want none", got)
	}
}

// A condition that panics (a bug in a rule function) disables its rule
// like an error; the other rules run on.
func TestPanickingConditionDisablesItsRule(t *testing.T) {
	boom := cond{name: "x", eval: func(s *Sample) (bool, error) {
		if s.Participant.UserID == "a" {
			panic("index out of range")
		}
		return s.AvgLoss > 2, nil
	}}
	good := loss("loss", 2)
	good.For = 0
	f := newFixture(t, Rule{Name: "boom", When: boom}, good)
	f.ingest(smp("a", 0, 5), smp("b", 0, 5))
	if got, st := f.told(), f.e.Stats(); !slices.Equal(got, []string{"firing loss a @0", "firing loss b @0"}) ||
		st.EvalErrors != 1 || !st.RuleDisabled["boom"] || st.RuleDisabled["loss"] {
		t.Fatalf("told %q, stats %+v", got, st)
	}
}
