package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// flakyStore is a MemoryStore whose Commit fails while fail is set: a
// hand-written fake at the store boundary.
type flakyStore struct {
	*MemoryStore
	fail bool
}

var errDiskFull = errors.New("disk full")

func (s *flakyStore) Commit(ctx context.Context, c Changes) error {
	if s.fail {
		return errDiskFull
	}
	return s.MemoryStore.Commit(ctx, c)
}

func TestFailedCommitLeavesMemoryAsItWas(t *testing.T) {
	f := &fixture{t: t, store: NewMemoryStore(), clock: newClock()}
	fs := &flakyStore{MemoryStore: f.store}
	f.e = f.engine(fs)
	if err := f.e.SetRules(ctxT(t), []Rule{loss("loss", 2)}); err != nil {
		t.Fatal(err)
	}
	f.ingest(smp("a", 0, 5), smp("b", 0, 5))
	f.ingest(smp("a", 1, 5), smp("b", 1, 5))
	beforeAlerts, beforeStats := f.e.Alerts(), f.e.Stats()

	other := smp("x", 2, 5)
	other.Source.ID = "901" // a webinar the engine has not seen
	page := []Sample{smp("a", 2, 5), smp("b", 2, 0), smp("c", 2, 5), other}
	fs.fail = true
	if err := f.e.Ingest(ctxT(t), page); !errors.Is(err, errDiskFull) {
		t.Fatalf("Ingest: %v, want the store's error", err)
	}
	if got := f.e.Alerts(); !sameAlerts(got, beforeAlerts) {
		t.Fatalf("a failed commit changed the alerts:\n%+v\nwant\n%+v", got, beforeAlerts)
	}
	st := f.e.Stats()
	if st.CommitErrors != beforeStats.CommitErrors+1 {
		t.Fatalf("CommitErrors = %d, want %d", st.CommitErrors, beforeStats.CommitErrors+1)
	}
	st.CommitErrors = beforeStats.CommitErrors
	if !reflect.DeepEqual(st, beforeStats) { // everything else, to the count
		t.Fatalf("a failed commit changed the stats: %+v", st)
	}
	if got := f.told(); got != nil {
		t.Fatalf("a failed commit queued %q", got)
	}
	// The same page again, once the store is back: decided exactly once.
	fs.fail = false
	f.ingest(page...)
	if got := f.told(); !slices.Equal(got, []string{"firing loss a @2"}) {
		t.Fatalf("re-ingest told %q", got)
	}
	if got := f.state(); got != "loss/a=firing loss/c=pending loss/x=pending" {
		t.Fatalf("re-ingest state %q", got)
	}
	// A failed SetRules keeps the old rules; a failed EndSource keeps the alerts.
	fs.fail = true
	if err := f.e.SetRules(ctxT(t), nil); err == nil {
		t.Fatal("SetRules with a failing store succeeded")
	}
	if err := f.e.EndSource(ctxT(t), web, t0.Add(time.Hour)); err == nil {
		t.Fatal("EndSource with a failing store succeeded")
	}
	if got := f.state(); got != "loss/a=firing loss/c=pending loss/x=pending" || f.e.Stats().Rules != 1 {
		t.Fatalf("after failed SetRules/EndSource: state %q", got)
	}
}

func TestRestartNeitherRepeatsNorLoses(t *testing.T) {
	r := loss("loss", 2)
	r.RepeatInterval = time.Hour
	f := newFixture(t, r)
	f.ingest(smp("a", 0, 5), smp("b", 0, 5))
	f.ingest(smp("a", 1, 5), smp("b", 1, 5))
	f.ingest(smp("a", 2, 5), smp("b", 2, 0)) // a fires; b gone back to inactive
	if got := f.told(); !slices.Equal(got, []string{"firing loss a @2"}) {
		t.Fatalf("before restart told %q", got)
	}
	// A silence, persisted, survives too.
	if _, err := f.e.AddSilence(ctxT(t), Silence{Matchers: []Matcher{{Name: "participant", Value: "c"}},
		EndsAt: f.clock.t.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	before := f.e.Alerts()

	// Restart: a new engine on the same store, 10 minutes later.
	f.clock.add(10 * time.Minute)
	f.e = f.engine(f.store)
	if got := f.e.Alerts(); !sameAlerts(got, before) {
		t.Fatalf("restart changed the alerts:\n%+v\nwant\n%+v", got, before)
	}
	if err := f.e.SetRules(ctxT(t), []Rule{r}); err != nil {
		t.Fatal(err)
	}
	// The overlapping next page: minutes 1 and 2 again, then 3.
	f.ingest(smp("a", 1, 5), smp("a", 2, 5), smp("a", 3, 5), smp("c", 3, 5))
	f.ingest(smp("c", 4, 5), smp("c", 5, 5))
	if got := f.told(); got != nil {
		t.Fatalf("after restart told %q, want nothing (a told already, c silenced)", got)
	}
	f.ingest(smp("a", 4, 0))
	f.ingest(smp("a", 5, 0))
	if got := f.told(); !slices.Equal(got, []string{"resolved loss a @5 recovered"}) {
		t.Fatalf("after restart, the resolve: told %q", got)
	}
	if got := len(f.e.Silences()); got != 1 {
		t.Fatalf("%d silences after restart, want 1", got)
	}
}

func TestRestartAfterCrashBetweenDecisionAndDelivery(t *testing.T) {
	// The firing was committed to the outbox but not delivered when the
	// process died: the new engine does not decide it again, and the
	// outbox still holds it.
	f := newFixture(t, loss("loss", 2))
	for m := 0; m <= 2; m++ {
		f.ingest(smp("a", m, 5))
	}
	f.e = f.engine(f.store)
	if err := f.e.SetRules(ctxT(t), []Rule{loss("loss", 2)}); err != nil {
		t.Fatal(err)
	}
	f.ingest(smp("a", 3, 5))
	if got := f.told(); !slices.Equal(got, []string{"firing loss a @2"}) {
		t.Fatalf("outbox after restart %q, want the one firing", got)
	}
}

func TestGarbageCollection(t *testing.T) {
	r := loss("loss", 2)
	r.For, r.KeepFiringFor = 0, 0
	f := newFixture(t, r) // retention 1h
	f.ingest(smp("a", 0, 5), smp("b", 0, 0))
	f.ingest(smp("a", 1, 0), smp("b", 1, 0)) // a resolved at 1
	f.told()
	f.ingest(smp("b", 60, 0))
	if got := f.state(); got != "loss/a=resolved" {
		t.Fatalf("resolved alert collected before its retention: %q", got)
	}
	f.ingest(smp("b", 62, 0))
	if got := f.state(); got != "" {
		t.Fatalf("resolved alert kept past its retention: %q", got)
	}
	snap, _ := f.store.Load(ctxT(t))
	if len(snap.Alerts) != 0 {
		t.Fatalf("store still holds %d alerts", len(snap.Alerts))
	}
	var cursors []string
	for _, c := range snap.Cursors {
		cursors = append(cursors, c.Participant)
	}
	if !slices.Equal(cursors, []string{"b"}) {
		t.Fatalf("cursors %q, want a's collected, b's kept", cursors)
	}
	if st := f.e.Stats(); st.Participants != 1 {
		t.Fatalf("engine tracks %d participants, want 1", st.Participants)
	}
	// a's minutes again (a poll that still lists them): its cursor is
	// gone, but they are older than the retention and not evaluated again.
	f.ingest(smp("a", 0, 5), smp("a", 1, 0))
	if got, st := f.told(), f.state(); got != nil || st != "" {
		t.Fatalf("samples older than the retention were evaluated again: told %q, state %q", got, st)
	}
}

func TestEndedSourceIsCollected(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	f.ingest(smp("a", 0, 0))
	if err := f.e.EndSource(ctxT(t), web, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	other := smp("x", 120, 0)
	other.Source.ID = "901"
	f.ingest(other)
	snap, _ := f.store.Load(ctxT(t))
	if len(snap.Cursors) != 1 || snap.Cursors[0].Source != "webinar:901" {
		t.Fatalf("cursors %+v, want only the live webinar's", snap.Cursors)
	}
	if st := f.e.Stats(); st.Sources != 1 {
		t.Fatalf("engine tracks %d sources, want 1", st.Sources)
	}
}

func TestNoRecordsForInactivePairs(t *testing.T) {
	rules := benchRules()
	e, err := New(NewMemoryStore(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetRules(ctxT(t), rules); err != nil {
		t.Fatal(err)
	}
	for _, p := range webinarMinute(10000, 0) {
		if err := e.Ingest(ctxT(t), p); err != nil {
			t.Fatal(err)
		}
	}
	st := e.Stats()
	// One participant in a hundred holds rule-00 (and nothing else).
	if len(e.Alerts()) != 100 || st.Pending != 100 || st.Participants != 10000 || st.Evaluations != 200000 {
		t.Fatalf("records %d, stats %+v", len(e.Alerts()), st)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for m := range 20 {
				s := smp("a", m, 5)
				s.Source.ID = fmt.Sprint(g) // one webinar each, so none goes stale while another runs ahead
				if err := f.e.Ingest(ctxT(t), []Sample{s}); err != nil {
					t.Error(err)
				}
				_ = f.e.Alerts()
				_ = f.e.Stats()
				_ = f.e.Tick(ctxT(t))
			}
		})
	}
	wg.Wait()
	if got := len(f.store.Drain()); got != 4 {
		t.Fatalf("%d notifications, want 4 firings", got)
	}
}

func TestMemoryStoreDeepCopies(t *testing.T) {
	ms := NewMemoryStore()
	a := Alert{Key: AlertKey{"r", "s", "p"}, Labels: map[string]string{"team": "x"}, Explain: []Term{{Field: "f"}}}
	n := Notification{Key: a.Key, Rule: RuleInfo{Labels: map[string]string{"team": "x"}}, Explain: []Term{{Field: "f"}}}
	if err := ms.Commit(ctxT(t), Changes{Alerts: []Alert{a}, Notifications: []Notification{n, n}}); err != nil {
		t.Fatal(err)
	}
	a.Labels["team"], a.Explain[0].Field = "changed", "changed"
	n.Rule.Labels["team"], n.Explain[0].Field = "changed", "changed"
	snap, _ := ms.Load(ctxT(t))
	snap.Alerts[0].Labels["team"] = "changed again"
	snap, _ = ms.Load(ctxT(t))
	if snap.Alerts[0].Labels["team"] != "x" || snap.Alerts[0].Explain[0].Field != "f" {
		t.Fatalf("stored alert aliased: %+v", snap.Alerts[0])
	}
	p, _ := ms.Pending(ctxT(t), 10)
	if len(p) != 2 || p[0].ID != 1 || p[1].ID != 2 || p[0].Rule.Labels["team"] != "x" || p[0].Explain[0].Field != "f" {
		t.Fatalf("outbox %+v", p)
	}
	// Ack in order with a message ref; the next Pending starts after it.
	if err := ms.Ack(ctxT(t), 1, a.Key, MessageRef{Channel: "C1", TS: "1.2"}); err != nil {
		t.Fatal(err)
	}
	if err := ms.Ack(ctxT(t), 1, a.Key, MessageRef{}); err != nil {
		t.Fatal("acking twice must not fail:", err)
	}
	p, _ = ms.Pending(ctxT(t), 10)
	ref, ok, _ := ms.Ref(ctxT(t), a.Key)
	if len(p) != 1 || p[0].ID != 2 || !ok || ref.TS != "1.2" {
		t.Fatalf("after ack: pending %+v, ref %+v %v", p, ref, ok)
	}
}

// sameAlerts compares alerts by their printed form: reflect.DeepEqual
// calls NaN (a missing value) unequal to itself.
func sameAlerts(a, b []Alert) bool { return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b) }

func TestLateReplayedWebinarKeepsItsCursors(t *testing.T) {
	// A webinar polled a day late (or replayed) while another runs live:
	// GC goes by each webinar's own clock, so the late one's pages, which
	// list every minute so far, are still evaluated once.
	r := loss("loss", 2)
	r.For, r.KeepFiringFor = 0, 0
	f := newFixture(t, r) // retention 1h
	f.clock.add(30 * time.Hour)
	live := 30 * 60
	var page []Sample
	for m := 0; m < 10; m++ {
		z := smp("z", m, 0)
		if m == 0 {
			z = smp("z", m, 5) // fires at 0, resolves at 1
		}
		z.Source.ID = "901"
		page = append(page, z)
		f.ingest(page...)
		f.ingest(smp("b", live+m, 0)) // the live webinar moves the engine's clock on
	}
	if got := f.told(); !slices.Equal(got, []string{"firing loss z @0", "resolved loss z @1 recovered"}) {
		t.Fatalf("told %q, want z fired and resolved once", got)
	}
	if st := f.e.Stats(); st.SamplesIngested != 20 {
		t.Fatalf("%d samples evaluated, want 20 (each once)", st.SamplesIngested)
	}
}
