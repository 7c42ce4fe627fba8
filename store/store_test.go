package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
)

var t0 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func openT(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tempPath(t *testing.T) string { return filepath.Join(t.TempDir(), "qoswatch.db") }

func key(rule, participant string) engine.AlertKey {
	return engine.AlertKey{Rule: rule, Source: "webinar:42", Participant: participant}
}

func alert(k engine.AlertKey, st engine.State, last time.Time) engine.Alert {
	s := engine.NewSample()
	s.Time = last
	s.AudioInput.AvgLoss = 4.5
	return engine.Alert{Key: k, State: st, Severity: engine.SeverityWarning, LastSample: last, Sample: s,
		Labels: map[string]string{"team": "av"}}
}

func note(kind engine.NotificationKind, k engine.AlertKey, at time.Time) engine.Notification {
	s := engine.NewSample()
	s.Time = at
	return engine.Notification{Kind: kind, Key: k, At: at, Sample: s, Rule: engine.RuleInfo{Name: k.Rule}}
}

func ids(ns []engine.Notification) []uint64 {
	var out []uint64
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

// normalize makes two values comparable with DeepEqual: NaN != NaN, so
// NaN floats are compared by a sentinel.
func sameAlert(t *testing.T, want, got engine.Alert) {
	t.Helper()
	nanless := func(a engine.Alert) engine.Alert {
		for _, st := range a.Sample.Streams() {
			for _, f := range []*float64{&st.Bitrate, &st.Latency, &st.Jitter, &st.AvgLoss, &st.MaxLoss, &st.FrameRate, &st.Width, &st.Height} {
				if math.IsNaN(*f) {
					*f = -12345
				}
			}
		}
		for _, f := range []*float64{&a.Sample.Latency, &a.Sample.Jitter, &a.Sample.AvgLoss, &a.Sample.MaxLoss,
			&a.Sample.CPUUsage.ZoomMinCPUUsage, &a.Sample.CPUUsage.ZoomAvgCPUUsage, &a.Sample.CPUUsage.ZoomMaxCPUUsage,
			&a.Sample.CPUUsage.SystemMaxCPUUsage, &a.Sample.WiFiRSSI.MaxRSSI, &a.Sample.WiFiRSSI.AvgRSSI, &a.Sample.WiFiRSSI.MinRSSI} {
			if math.IsNaN(*f) {
				*f = -12345
			}
		}
		return a
	}
	if !reflect.DeepEqual(nanless(want), nanless(got)) {
		t.Errorf("alert %s:\nwant %+v\n got %+v", want.Key, want, got)
	}
}

func TestRoundTripThroughFile(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db := openT(t, path)

	a1 := alert(key("choppy-audio", "u1"), engine.StateFiring, t0)
	a2 := filled[engine.Alert]() // every field set
	cur := engine.Cursor{Source: "webinar:42", Participant: "u1", Last: t0}
	sil := filled[engine.Silence]()
	n := note(engine.KindFiring, a1.Key, t0)
	if err := db.Commit(ctx, engine.Changes{Alerts: []engine.Alert{a1, a2}, Cursors: []engine.Cursor{cur},
		Notifications: []engine.Notification{n}}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSilence(ctx, sil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openT(t, path)
	snap, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Alerts) != 2 || len(snap.Cursors) != 1 || len(snap.Silences) != 1 {
		t.Fatalf("loaded %d alerts, %d cursors, %d silences; want 2, 1, 1", len(snap.Alerts), len(snap.Cursors), len(snap.Silences))
	}
	byKey := map[engine.AlertKey]engine.Alert{}
	for _, a := range snap.Alerts {
		byKey[a.Key] = a
	}
	sameAlert(t, a1, byKey[a1.Key])
	sameAlert(t, a2, byKey[a2.Key])
	if !math.IsNaN(byKey[a1.Key].Sample.VideoInput.FrameRate) {
		t.Errorf("a missing frame rate came back as %v", byKey[a1.Key].Sample.VideoInput.FrameRate)
	}
	if !reflect.DeepEqual(snap.Cursors[0], cur) || !reflect.DeepEqual(snap.Silences[0], sil) {
		t.Errorf("cursor %+v silence %+v", snap.Cursors[0], snap.Silences[0])
	}
	pend, err := db.Pending(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pend) != 1 || pend[0].ID != 1 || pend[0].Kind != engine.KindFiring || pend[0].Key != a1.Key || !pend[0].At.Equal(t0) {
		t.Errorf("pending = %+v", pend)
	}
	if got := db.Stats().OutboxDepth; got != 1 {
		t.Errorf("outbox depth after reopen = %d, want 1", got)
	}
}

// One Commit is all or nothing: a failure in the middle (bbolt refuses a
// key over 32 KiB) leaves no alert, cursor or outbox entry behind, and
// hands out no IDs.
func TestCommitIsAtomic(t *testing.T) {
	ctx := context.Background()
	db := openT(t, tempPath(t))
	good := alert(key("choppy-audio", "u1"), engine.StateFiring, t0)
	bad := engine.Cursor{Source: "webinar:42", Participant: strings.Repeat("x", bolt.MaxKeySize+1), Last: t0}
	c := engine.Changes{
		Alerts:        []engine.Alert{good},
		Cursors:       []engine.Cursor{{Source: "webinar:42", Participant: "u1", Last: t0}, bad},
		Notifications: []engine.Notification{note(engine.KindFiring, good.Key, t0)},
	}
	err := db.Commit(ctx, c)
	if err == nil || !errors.Is(err, bolt.ErrKeyTooLarge) || !strings.Contains(err.Error(), "cursor webinar:42/xxx") {
		t.Fatalf("err = %v, want a too-large key naming the cursor", err)
	}
	if c.Notifications[0].ID != 0 {
		t.Errorf("a failed commit handed out ID %d", c.Notifications[0].ID)
	}
	snap, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pend, _ := db.Pending(ctx, 0)
	if len(snap.Alerts)+len(snap.Cursors)+len(pend) != 0 || db.Stats().OutboxDepth != 0 {
		t.Errorf("a failed commit left %d alerts, %d cursors, %d outbox entries (depth %d)",
			len(snap.Alerts), len(snap.Cursors), len(pend), db.Stats().OutboxDepth)
	}

	// The next commit gets ID 1: the failed one's sequence was rolled back.
	c.Cursors = c.Cursors[:1]
	if err := db.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.Notifications[0].ID != 1 {
		t.Errorf("ID after a failed commit = %d, want 1", c.Notifications[0].ID)
	}

	// A closed store refuses, naming the file.
	db.Close()
	err = db.Commit(ctx, c)
	if err == nil || !strings.Contains(err.Error(), db.Path()) || !strings.Contains(err.Error(), "closed") {
		t.Errorf("commit on a closed store: %v", err)
	}
	if _, err := db.Pending(ctx, 1); err == nil {
		t.Error("pending on a closed store: no error")
	}
	// Stats after Close must not panic.
	_ = db.Stats()
}

func TestCommitRespectsContext(t *testing.T) {
	db := openT(t, tempPath(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Commit(ctx, engine.Changes{Alerts: []engine.Alert{alert(key("r", "u"), engine.StateFiring, t0)}}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// A store used after Close says which file is closed, on writes and reads.
func TestClosedStoreNamesTheFile(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, loadErr := db.Load(ctx)
	for _, err := range []error{db.Commit(ctx, engine.Changes{}), loadErr, db.PutSilence(ctx, engine.Silence{ID: "s1"})} {
		if err == nil || !strings.Contains(err.Error(), path+" is closed") {
			t.Errorf("err = %v, want it to say %s is closed", err, path)
		}
	}
}

func TestOutboxOrderAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db := openT(t, path)
	var want []uint64
	for batch := range 3 {
		c := engine.Changes{}
		for i := range 4 {
			c.Notifications = append(c.Notifications, note(engine.KindFiring, key("r", string(rune('a'+batch*4+i))), t0))
		}
		if err := db.Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
		want = append(want, ids(c.Notifications)...)
	}
	for i := 1; i < len(want); i++ {
		if want[i] <= want[i-1] {
			t.Fatalf("IDs do not increase: %v", want)
		}
	}
	// 256 crosses a byte boundary of the big-endian key.
	db.Close()
	db = openT(t, path)
	first, err := db.Pending(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids(first), want[:5]) {
		t.Errorf("first 5 after reopen = %v, want %v", ids(first), want[:5])
	}
	// Ack two, reopen, add more: new IDs continue after the old ones, and
	// order holds across the 255/256 boundary of the big-endian keys.
	for _, n := range first[:2] {
		if err := db.Ack(ctx, n.ID, n.Key, engine.MessageRef{}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db = openT(t, path)
	c := engine.Changes{}
	for i := range 300 {
		c.Notifications = append(c.Notifications, note(engine.KindRepeat, key("r", "x"), t0.Add(time.Duration(i)*time.Minute)))
	}
	if err := db.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	all, err := db.Pending(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := ids(all)
	wantAll := append(append([]uint64(nil), want[2:]...), ids(c.Notifications)...)
	if !reflect.DeepEqual(got, wantAll) {
		t.Errorf("pending after reopen = %v\nwant %v", got, wantAll)
	}
	if c.Notifications[0].ID != want[len(want)-1]+1 {
		t.Errorf("first new ID = %d, want %d (sequence survives reopen)", c.Notifications[0].ID, want[len(want)-1]+1)
	}
	if d := db.Stats().OutboxDepth; d != int64(len(wantAll)) {
		t.Errorf("outbox depth = %d, want %d", d, len(wantAll))
	}
}

func TestAckIsIdempotentAndRecordsRef(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db := openT(t, path)
	k := key("choppy-audio", "u1")
	c := engine.Changes{
		Alerts:        []engine.Alert{alert(k, engine.StateFiring, t0)},
		Notifications: []engine.Notification{note(engine.KindFiring, k, t0), note(engine.KindRepeat, k, t0.Add(time.Hour))},
	}
	if err := db.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.Ref(ctx, k); ok || err != nil {
		t.Fatalf("ref before any ack: ok=%v err=%v", ok, err)
	}
	ref := engine.MessageRef{Channel: "C123", TS: "1700000000.000100"}
	id := c.Notifications[0].ID
	for range 2 { // the second is the retry after a crash between Ack and the next Pending
		if err := db.Ack(ctx, id, k, ref); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Ack(ctx, 9999, k, engine.MessageRef{}); err != nil {
		t.Errorf("ack of an unknown id: %v", err)
	}
	pend, _ := db.Pending(ctx, 0)
	if len(pend) != 1 || pend[0].ID != c.Notifications[1].ID {
		t.Errorf("pending after ack = %v, want only the repeat %d", ids(pend), c.Notifications[1].ID)
	}
	if d := db.Stats().OutboxDepth; d != 1 {
		t.Errorf("outbox depth = %d, want 1", d)
	}
	// A zero ref (a thread reply) leaves the first message's ref alone.
	if err := db.Ack(ctx, c.Notifications[1].ID, k, engine.MessageRef{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openT(t, path)
	got, ok, err := db.Ref(ctx, k)
	if err != nil || !ok || got != ref {
		t.Errorf("ref after reopen = %+v %v %v, want %+v", got, ok, err, ref)
	}
	if d := db.Stats().OutboxDepth; d != 0 {
		t.Errorf("outbox depth after reopen = %d, want 0", d)
	}
}

func TestGroupRefs(t *testing.T) {
	ctx := context.Background()
	db := openT(t, tempPath(t))
	ref := engine.MessageRef{Channel: "C9", TS: "1.2"}
	if err := db.PutGroupRef(ctx, "choppy-audio/webinar:42/2026-11-28T09:00", ref); err != nil {
		t.Fatal(err)
	}
	got, ok, err := db.GroupRef(ctx, "choppy-audio/webinar:42/2026-11-28T09:00")
	if err != nil || !ok || got != ref {
		t.Errorf("group ref = %+v %v %v", got, ok, err)
	}
	if _, ok, _ := db.GroupRef(ctx, "other"); ok {
		t.Error("unknown group key found")
	}
	if err := db.PutGroupRef(ctx, "", ref); err == nil {
		t.Error("empty group key accepted")
	}
}

// The engine resolves an alert and deletes it in the same Ingest: the
// message ref must survive until the resolve is delivered, so it threads.
func TestDeletedAlertKeepsRefForPendingResolve(t *testing.T) {
	ctx := context.Background()
	db := openT(t, tempPath(t))
	k := key("choppy-audio", "u1")
	fire := engine.Changes{Alerts: []engine.Alert{alert(k, engine.StateFiring, t0)},
		Notifications: []engine.Notification{note(engine.KindFiring, k, t0)}}
	if err := db.Commit(ctx, fire); err != nil {
		t.Fatal(err)
	}
	ref := engine.MessageRef{Channel: "C1", TS: "1.1"}
	if err := db.Ack(ctx, fire.Notifications[0].ID, k, ref); err != nil {
		t.Fatal(err)
	}
	resolve := engine.Changes{Deleted: []engine.AlertKey{k},
		Notifications: []engine.Notification{note(engine.KindResolved, k, t0.Add(5*time.Minute))}}
	if err := db.Commit(ctx, resolve); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := db.Ref(ctx, k); !ok || got != ref {
		t.Fatalf("ref of a deleted alert with a pending resolve = %+v %v, want kept", got, ok)
	}
	if got, _ := db.Collect(ctx, t0.Add(24*time.Hour)); got.Refs != 0 {
		t.Errorf("collect dropped %d refs still needed by the outbox", got.Refs)
	}
	if err := db.Ack(ctx, resolve.Notifications[0].ID, k, engine.MessageRef{}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Collect(ctx, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Refs != 1 {
		t.Errorf("collect after the resolve was delivered dropped %d refs, want 1", got.Refs)
	}
	if _, ok, _ := db.Ref(ctx, k); ok {
		t.Error("ref of a gone alert survived collect")
	}
	// Without a pending entry, deleting the alert drops its ref at once.
	k2 := key("choppy-audio", "u2")
	if err := db.Commit(ctx, engine.Changes{Alerts: []engine.Alert{alert(k2, engine.StateResolved, t0)}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Ack(ctx, 12345, k2, ref); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, engine.Changes{Deleted: []engine.AlertKey{k2}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Ref(ctx, k2); ok {
		t.Error("ref of a deleted alert with nothing pending survived the commit")
	}
}

func TestSilences(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db := openT(t, path)
	s := engine.Silence{ID: "s1", Matchers: []engine.Matcher{{Name: "rule", Value: "choppy-.*", IsRegex: true}},
		StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "ana", Comment: "known ISP issue"}
	if err := db.PutSilence(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.EndsAt = t0.Add(30 * time.Minute) // expired early: replaced in place
	if err := db.PutSilence(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSilence(ctx, engine.Silence{ID: "s2", EndsAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSilence(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSilence(ctx, "never-was"); err != nil {
		t.Errorf("delete of an unknown silence: %v", err)
	}
	if err := db.PutSilence(ctx, engine.Silence{}); err == nil {
		t.Error("a silence without an id was accepted")
	}
	db.Close()
	db = openT(t, path)
	snap, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Silences) != 1 || !reflect.DeepEqual(snap.Silences[0], s) {
		t.Errorf("silences = %+v, want [%+v]", snap.Silences, s)
	}
}

func TestSpend(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db := openT(t, path)
	day := time.Date(2026, 11, 28, 23, 59, 0, 0, time.UTC)
	for _, n := range []int64{1000, 234} {
		if err := db.AddSpent(ctx, day, n); err != nil {
			t.Fatal(err)
		}
	}
	// 00:30 in Berlin on the 29th is still the 28th in UTC: the same day.
	if err := db.AddSpent(ctx, time.Date(2026, 11, 29, 0, 30, 0, 0, time.FixedZone("CET", 3600)), 6); err != nil {
		t.Fatal(err)
	}
	if err := db.AddSpent(ctx, day.Add(time.Minute), 7); err != nil { // 00:00 UTC: reset
		t.Fatal(err)
	}
	if err := db.AddSpent(ctx, day, -1); err == nil {
		t.Error("negative spend accepted")
	}
	db.Close()
	db = openT(t, path)
	for _, c := range []struct {
		day  time.Time
		want int64
	}{{day, 1240}, {day.Add(time.Minute), 7}, {day.Add(-48 * time.Hour), 0}} {
		got, err := db.Spent(ctx, c.day)
		if err != nil || got != c.want {
			t.Errorf("spent on %s = %d %v, want %d", c.day, got, err, c.want)
		}
	}
	got, err := db.Collect(ctx, day.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got.SpendDays != 1 {
		t.Errorf("collected %d spend days, want 1", got.SpendDays)
	}
	if n, _ := db.Spent(ctx, day.Add(time.Minute)); n != 7 {
		t.Errorf("today's spend after collect = %d, want 7", n)
	}
}

func TestCollect(t *testing.T) {
	ctx := context.Background()
	db := openT(t, tempPath(t))
	old, recent := t0.Add(-48*time.Hour), t0
	resolvedOld := alert(key("r", "resolved-old"), engine.StateResolved, old)
	resolvedOld.ResolvedAt = old
	resolvedNew := alert(key("r", "resolved-new"), engine.StateResolved, recent)
	resolvedNew.ResolvedAt = recent
	firingOld := alert(key("r", "firing-old"), engine.StateFiring, old) // owes a resolve: kept
	resolvingOld := alert(key("r", "resolving-old"), engine.StateResolving, old)
	pendingOld := alert(key("r", "pending-old"), engine.StatePending, old) // the engine's to decide
	c := engine.Changes{
		Alerts: []engine.Alert{resolvedOld, resolvedNew, firingOld, resolvingOld, pendingOld},
		Cursors: []engine.Cursor{{Source: "webinar:42", Participant: "old", Last: old},
			{Source: "webinar:42", Participant: "new", Last: recent},
			{Source: "webinar:42", Participant: "firing-old", Last: old}}, // has an alert: kept
	}
	if err := db.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []engine.Silence{{ID: "ended", EndsAt: old}, {ID: "running", EndsAt: recent.Add(time.Hour)}} {
		if err := db.PutSilence(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	ref := engine.MessageRef{Channel: "C1", TS: "1.1"}
	if err := db.Ack(ctx, 1, resolvedOld.Key, ref); err != nil {
		t.Fatal(err)
	}
	if err := db.Ack(ctx, 2, firingOld.Key, ref); err != nil {
		t.Fatal(err)
	}

	got, err := db.Collect(ctx, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := Collected{Alerts: 1, Cursors: 1, Silences: 1, Refs: 0}
	got.GroupRefs, got.SpendDays = 0, 0
	if got != want {
		t.Errorf("collected %+v, want %+v", got, want)
	}
	snap, _ := db.Load(ctx)
	var left []string
	for _, a := range snap.Alerts {
		left = append(left, a.Key.Participant)
	}
	if !reflect.DeepEqual(left, []string{"firing-old", "pending-old", "resolved-new", "resolving-old"}) {
		t.Errorf("alerts left = %v", left)
	}
	var curs []string
	for _, c := range snap.Cursors {
		curs = append(curs, c.Participant)
	}
	if !reflect.DeepEqual(curs, []string{"firing-old", "new"}) || len(snap.Silences) != 1 || snap.Silences[0].ID != "running" {
		t.Errorf("cursors %v silences %+v", curs, snap.Silences)
	}
	if _, ok, _ := db.Ref(ctx, resolvedOld.Key); ok {
		t.Error("ref of a collected alert survived")
	}
	if _, ok, _ := db.Ref(ctx, firingOld.Key); !ok {
		t.Error("ref of a firing alert was collected")
	}
}

// Group refs are collected by the wall-clock time they were recorded.
func TestCollectGroupRefs(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.NewManual(t0)
	db, err := Open(tempPath(t), Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.PutGroupRef(ctx, "old", engine.MessageRef{Channel: "C", TS: "1"})
	clock.Advance(2 * time.Hour)
	db.PutGroupRef(ctx, "new", engine.MessageRef{Channel: "C", TS: "2"})
	got, err := db.Collect(ctx, t0.Add(time.Hour))
	if err != nil || got.GroupRefs != 1 {
		t.Fatalf("collected %+v %v, want 1 group ref", got, err)
	}
	if _, ok, _ := db.GroupRef(ctx, "old"); ok {
		t.Error("old group ref survived")
	}
	if _, ok, _ := db.GroupRef(ctx, "new"); !ok {
		t.Error("new group ref collected")
	}
}

// A second process (here: a second open of the same file; flock locks
// per open file) gets a clear error naming the file, not a hang.
func TestLockedFile(t *testing.T) {
	path := tempPath(t)
	db := openT(t, path)
	_, err := Open(path, Options{LockTimeout: 200 * time.Millisecond})
	if err == nil {
		t.Fatal("second open of a locked file succeeded")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path+" is locked by another process") {
		t.Errorf("err = %q, want it to name %s and say it is locked", err, path)
	}
	db.Close()
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
	db2.Close()
}

func TestFileMode(t *testing.T) {
	path := tempPath(t)
	openT(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600 (the file holds participants' names and IPs)", fi.Mode().Perm())
	}
}

func TestCommitDeletesWhatTheEngineCollected(t *testing.T) {
	ctx := context.Background()
	db := openT(t, tempPath(t))
	k1, k2 := key("r", "u1"), key("r", "u2")
	c1 := engine.Cursor{Source: "webinar:42", Participant: "u1", Last: t0}
	c2 := engine.Cursor{Source: "webinar:42", Participant: "u2", Last: t0}
	if err := db.Commit(ctx, engine.Changes{Alerts: []engine.Alert{alert(k1, engine.StateResolved, t0), alert(k2, engine.StateFiring, t0)},
		Cursors: []engine.Cursor{c1, c2}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, engine.Changes{Deleted: []engine.AlertKey{k1},
		DeletedCursors: []engine.Cursor{{Source: c1.Source, Participant: c1.Participant}}}); err != nil {
		t.Fatal(err)
	}
	snap, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Alerts) != 1 || snap.Alerts[0].Key != k2 || len(snap.Cursors) != 1 || snap.Cursors[0] != c2 {
		t.Errorf("after the engine's deletions: alerts %v, cursors %+v; want only u2's", snap.Alerts, snap.Cursors)
	}
}

// A backup taken while the store is in use opens and holds the same state.
func TestBackupWhileOpen(t *testing.T) {
	ctx := context.Background()
	db := openT(t, tempPath(t))
	k := key("choppy-audio", "u1")
	c := engine.Changes{Alerts: []engine.Alert{alert(k, engine.StateFiring, t0)},
		Notifications: []engine.Notification{note(engine.KindFiring, k, t0)}}
	if err := db.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.OpenFile(backup, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The original is still open and locked; the copy is not.
	cp := openT(t, backup)
	snap, err := cp.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pend, _ := cp.Pending(ctx, 0)
	if len(snap.Alerts) != 1 || snap.Alerts[0].Key != k || len(pend) != 1 || pend[0].Key != k {
		t.Errorf("backup holds %d alerts, %d outbox entries", len(snap.Alerts), len(pend))
	}
}

// The engine commits while the notifier drains: the outbox depth stays
// true and every entry is delivered once, in order.
func TestCommitAndDrainConcurrently(t *testing.T) {
	ctx := context.Background()
	db := openT(t, tempPath(t))
	const batches = 50
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range batches {
			c := engine.Changes{Notifications: []engine.Notification{
				note(engine.KindFiring, key("r", fmt.Sprint(i)), t0), note(engine.KindResolved, key("r", fmt.Sprint(i)), t0)}}
			if err := db.Commit(ctx, c); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var seen []uint64
	for drained := false; !drained; {
		select {
		case <-done:
			drained = true
		default:
		}
		ns, err := db.Pending(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		if drained && len(ns) > 0 {
			drained = false // one more pass after the last commit
		}
		for _, n := range ns {
			seen = append(seen, n.ID)
			if err := db.Ack(ctx, n.ID, n.Key, engine.MessageRef{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(seen) != 2*batches {
		t.Errorf("drained %d entries, want %d", len(seen), 2*batches)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] != seen[i-1]+1 {
			t.Fatalf("drained out of order or twice: %v", seen)
		}
	}
	if d := db.Stats().OutboxDepth; d != 0 {
		t.Errorf("outbox depth = %d after draining everything", d)
	}
}

// The members of one grouped message are acked together or not at all.
func TestAckAll(t *testing.T) {
	ctx := context.Background()
	db := openT(t, tempPath(t))
	var c engine.Changes
	for i := range 5 {
		c.Notifications = append(c.Notifications, note(engine.KindFiring, key("r", fmt.Sprint(i)), t0))
	}
	if err := db.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	group := engine.MessageRef{Channel: "C1", TS: "9.9"}
	var acked []uint64
	var keys []engine.AlertKey
	for _, n := range c.Notifications[:4] {
		acked, keys = append(acked, n.ID), append(keys, n.Key)
	}
	// A key too large for bbolt fails the ref of the last member: none of
	// the four is acked.
	badKeys := append(append([]engine.AlertKey(nil), keys[:3]...), engine.AlertKey{Rule: strings.Repeat("x", bolt.MaxKeySize)})
	if err := db.AckAll(ctx, acked, badKeys, group); err == nil {
		t.Fatal("ack with a too-large key succeeded")
	}
	if pend, _ := db.Pending(ctx, 0); len(pend) != 5 || db.Stats().OutboxDepth != 5 {
		t.Fatalf("a failed AckAll removed entries: %d left, depth %d", len(pend), db.Stats().OutboxDepth)
	}
	if err := db.AckAll(ctx, acked, keys, group); err != nil {
		t.Fatal(err)
	}
	pend, _ := db.Pending(ctx, 0)
	if len(pend) != 1 || pend[0].ID != c.Notifications[4].ID || db.Stats().OutboxDepth != 1 {
		t.Errorf("after AckAll: pending %v, depth %d", ids(pend), db.Stats().OutboxDepth)
	}
	for _, k := range keys {
		if r, ok, _ := db.Ref(ctx, k); !ok || r != group {
			t.Errorf("ref of %s = %+v %v, want the group message", k, r, ok)
		}
	}
	if err := db.AckAll(ctx, acked, keys[:1], group); err == nil {
		t.Error("mismatched ids and keys accepted")
	}
}
