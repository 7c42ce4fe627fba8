package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qoswatch/qoswatch/engine"
)

func entry(key string, at time.Time) engine.InboxEntry {
	return engine.InboxEntry{Key: key, Received: at, Body: []byte(`{"event":"webinar.started","n":"` + key + `"}`)}
}

// TestInboxKeepsEventsUntilDone: stored in order, on disk across a
// reopen, gone once done.
func TestInboxKeepsEventsUntilDone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db := openT(t, path)
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		if dup, err := db.EnqueueEvents(ctx, []engine.InboxEntry{entry(fmt.Sprint("k", i), at)}); err != nil || dup[0] {
			t.Fatalf("enqueue %d: %v %v", i, dup, err)
		}
	}
	db.Close()
	db = openT(t, path)
	got, err := db.PendingEvents(ctx, 10)
	if err != nil || len(got) != 3 {
		t.Fatalf("after reopen: %d, %v", len(got), err)
	}
	for i, e := range got {
		if want := entry(fmt.Sprint("k", i), at).Body; string(e.Body) != string(want) {
			t.Errorf("entry %d = %s, want %s", i, e.Body, want)
		}
	}
	if err := db.DoneEvents(ctx, []uint64{got[0].ID, got[2].ID}, nil); err != nil {
		t.Fatal(err)
	}
	left, _ := db.PendingEvents(ctx, 10)
	if n, _ := db.InboxDepth(ctx); len(left) != 1 || left[0].ID != got[1].ID || n != 1 {
		t.Errorf("left %+v, depth %d", left, n)
	}
}

// TestInboxDedup: a key is a duplicate for DedupRetention, then new
// again; the hour buckets older than the retention are deleted.
func TestInboxDedup(t *testing.T) {
	ctx := context.Background()
	db := openT(t, filepath.Join(t.TempDir(), "q.db"))
	at := time.Date(2026, 11, 28, 10, 59, 0, 0, time.UTC)
	for _, c := range []struct {
		after time.Duration
		dup   bool
	}{{0, false}, {5 * time.Minute, true}, {85 * time.Minute, true}, {DedupRetention, true}, {DedupRetention + time.Hour + time.Minute, false}} {
		dups, err := db.EnqueueEvents(ctx, []engine.InboxEntry{entry("same", at.Add(c.after))})
		if err != nil || dups[0] != c.dup {
			t.Errorf("after %v: dup %v (%v), want %v", c.after, dups, err, c.dup)
		}
	}
	hours := 0
	db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketInboxSeen).ForEachBucket(func([]byte) error { hours++; return nil })
	})
	if max := int(DedupRetention/time.Hour) + 2; hours > max {
		t.Errorf("%d hour buckets kept, want at most %d", hours, max)
	}
	if _, err := db.EnqueueEvents(ctx, []engine.InboxEntry{{Received: at, Body: []byte(`{}`)}}); err == nil {
		t.Error("an event without a key was stored")
	}
	if _, err := db.EnqueueEvents(ctx, []engine.InboxEntry{{Key: "k", Received: at, Body: []byte(`{not json`)}}); err == nil {
		t.Error("a body that is not JSON was stored")
	}
}

// TestInboxGroupCommit: concurrent enqueues all land, each once.
func TestInboxGroupCommit(t *testing.T) {
	ctx := context.Background()
	db := openT(t, filepath.Join(t.TempDir(), "q.db"))
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if _, err := db.EnqueueEvents(ctx, []engine.InboxEntry{entry(fmt.Sprint("k", i%100), at)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, err := db.InboxDepth(ctx); n != 100 || err != nil {
		t.Errorf("%d stored (%v), want 100: each key once", n, err)
	}
}

// TestInboxOneCallManyEvents: a batch is stored in order in one call, its
// own duplicates recognised.
func TestInboxOneCallManyEvents(t *testing.T) {
	ctx := context.Background()
	db := openT(t, filepath.Join(t.TempDir(), "q.db"))
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	es := []engine.InboxEntry{entry("a", at), entry("b", at), entry("a", at), entry("c", at)}
	dup, err := db.EnqueueEvents(ctx, es)
	if err != nil || fmt.Sprint(dup) != "[false false true false]" {
		t.Fatalf("dup %v, %v", dup, err)
	}
	got, _ := db.PendingEvents(ctx, 10)
	var names []string
	var ids []uint64
	for _, e := range got {
		names = append(names, string(e.Body[len(e.Body)-3:len(e.Body)-2]))
		ids = append(ids, e.ID)
	}
	if fmt.Sprint(names) != "[a b c]" {
		t.Errorf("stored %v, want a b c in order", names)
	}
	// The caller learns each stored event's ID (0: not stored).
	if want := fmt.Sprint([]uint64{ids[0], ids[1], 0, ids[2]}); fmt.Sprint([]uint64{es[0].ID, es[1].ID, es[2].ID, es[3].ID}) != want {
		t.Errorf("IDs set %v, want %s", []uint64{es[0].ID, es[1].ID, es[2].ID, es[3].ID}, want)
	}
}

// TestBatchCommitsTheWaitingTogether: writes that arrive while a commit
// runs go together in the next one (group commit), and one whose function
// fails fails alone: the others are committed.
func TestBatchCommitsTheWaitingTogether(t *testing.T) {
	ctx := context.Background()
	db := openT(t, filepath.Join(t.TempDir(), "q.db"))
	if err := db.update(ctx, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("t")); return err }); err != nil {
		t.Fatal(err)
	}
	// Hold the writer lock, as a long engine commit would, while 50
	// writers arrive: the first leads and waits for the lock, and all
	// queue.
	hold, err := db.bolt.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	txs0 := db.Stats().WriteTxs
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = db.batch(ctx, func(tx *bolt.Tx) error {
				if i == 7 {
					return fmt.Errorf("writer %d refuses", i)
				}
				return tx.Bucket([]byte("t")).Put([]byte(fmt.Sprint(i)), []byte{1})
			})
		})
	}
	for queued := 0; queued < n; time.Sleep(time.Millisecond) {
		db.group.mu.Lock()
		queued = len(db.group.waiting)
		db.group.mu.Unlock()
	}
	hold.Rollback()
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 7) {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	stored := 0
	db.bolt.View(func(tx *bolt.Tx) error { stored = tx.Bucket([]byte("t")).Stats().KeyN; return nil })
	if stored != n-1 {
		t.Errorf("%d writes stored, want %d (all but the one that failed)", stored, n-1)
	}
	// One commit for all (the first attempt, with the one that failed,
	// was rolled back).
	if txs := db.Stats().WriteTxs - txs0; txs != 1 {
		t.Errorf("%d write transactions for %d writers, want 1", txs, n)
	}
}

// TestPushSeenSurvivesAReopen: when events last came is on disk; a zero
// time leaves the saved one.
func TestPushSeenSurvivesAReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db := openT(t, path)
	if l, q, err := db.PushSeen(ctx); err != nil || !l.IsZero() || !q.IsZero() {
		t.Fatalf("a new store: %v %v %v", l, q, err)
	}
	at := time.Date(2026, 11, 28, 10, 0, 0, 123, time.UTC)
	if err := db.SetPushSeen(ctx, at, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPushSeen(ctx, at.Add(time.Hour), time.Time{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openT(t, path)
	l, q, err := db.PushSeen(ctx)
	if err != nil || !l.Equal(at.Add(time.Hour)) || !q.Equal(at.Add(time.Minute)) {
		t.Errorf("after reopen: lifecycle %v, qss %v (%v)", l, q, err)
	}
}
