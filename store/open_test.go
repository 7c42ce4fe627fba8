package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qoswatch/qoswatch/engine"
)

// filledStore writes a store of a few hundred pages (alerts with their
// samples, cursors, an outbox), closes it, and returns its path and the
// bytes its pages use (bbolt grows the file ahead of them).
func filledStore(t *testing.T) (string, int) {
	t.Helper()
	path := tempPath(t)
	db := openT(t, path)
	for i := range 20 {
		var c engine.Changes
		for j := range 20 {
			a := benchAlert(i*20 + j)
			c.Alerts = append(c.Alerts, a)
			c.Cursors = append(c.Cursors, engine.Cursor{Source: a.Key.Source, Participant: a.Key.Participant, Last: a.LastSample})
		}
		c.Notifications = []engine.Notification{note(engine.KindFiring, c.Alerts[0].Key, t0)}
		if err := db.Commit(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var used int
	raw.View(func(tx *bolt.Tx) error { used = int(tx.Size()); return nil })
	return path, used
}

// wantRefused opens path and wants an error wrapping want that names the
// file and contains every hint; the file must be as it was.
func wantRefused(t *testing.T, path string, want error, hints ...string) {
	t.Helper()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if err == nil {
		db.Close()
		t.Fatalf("%s opened", filepath.Base(path))
	}
	if !errors.Is(err, want) || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v\nwant %v naming %s", err, want, path)
	}
	for _, h := range hints {
		if !strings.Contains(err.Error(), h) {
			t.Errorf("err = %v\nwant it to say %q", err, h)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Errorf("a refused file was modified")
	}
	// The refusal let go of the file: a second try is refused the same
	// way, not "locked".
	if _, err2 := Open(path, Options{LockTimeout: 100 * time.Millisecond}); errors.Is(err2, ErrLocked) {
		t.Errorf("after a refusal the file stays locked: %v", err2)
	}
}

// A database v0 wrote (testdata/v0.db, made with v0's binary codec) is
// refused with the steps that keep its state, and left untouched.
func TestRefusesV0File(t *testing.T) {
	v0, err := os.ReadFile("testdata/v0.db")
	if err != nil {
		t.Fatal(err)
	}
	path := tempPath(t)
	if err := os.WriteFile(path, v0, 0o600); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, path, ErrFormat, "qoswatch v0 wrote it in file format 1", "silence list", "mv "+path+" "+path+".v0")
}

func TestRefusesNewerFormat(t *testing.T) {
	path := tempPath(t)
	openT(t, path).Close()
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaFormat, binary.BigEndian.AppendUint32(nil, FormatVersion+1))
	})
	raw.Close()
	wantRefused(t, path, ErrFormat, fmt.Sprintf("format version %d, newer than this release reads (%d)", FormatVersion+1, FormatVersion))
}

// Another program's bbolt file is refused and left as it was, not
// adopted; an empty bbolt file (no bucket) is as good as a new one.
func TestRefusesForeignBoltFile(t *testing.T) {
	path := tempPath(t)
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("users"))
		return b.Put([]byte("ana"), []byte(`{"admin":true}`))
	})
	raw.Close()
	wantRefused(t, path, ErrNotQoswatch, "another program (buckets users)", "point QOSWATCH_DB at a new path")

	// A meta bucket of its own does not make it ours.
	raw, _ = bolt.Open(path, 0o600, nil)
	raw.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("meta"))
		return b.Put([]byte("format_version"), binary.BigEndian.AppendUint32(nil, FormatVersion))
	})
	raw.Close()
	wantRefused(t, path, ErrNotQoswatch, `application ""`)

	empty := tempPath(t)
	raw, _ = bolt.Open(empty, 0o600, nil)
	raw.Close()
	db := openT(t, empty)
	if err := db.Commit(context.Background(), engine.Changes{Cursors: []engine.Cursor{{Source: "webinar:1", Participant: "u", Last: t0}}}); err != nil {
		t.Fatalf("an empty bbolt file was not usable: %v", err)
	}
}

// A file cut short (a backup copied to a full disk, a crash of the
// copy) is refused with what to do, for every length: never a bbolt
// panic or a fault.
func TestRefusesTruncatedFile(t *testing.T) {
	full, used := filledStore(t)
	whole, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	page := 4096
	if used < 20*page {
		t.Fatalf("the store uses %d bytes; the test wants more pages", used)
	}
	sizes := []int{0, 100, page, 2*page + 1, 3 * page, used / 2, used - page, used - 1}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			path := tempPath(t)
			if err := os.WriteFile(path, whole[:n], 0o600); err != nil {
				t.Fatal(err)
			}
			if n == 0 { // an empty file is a new database
				openT(t, path).Close()
				return
			}
			db, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
			if err == nil {
				db.Close()
				t.Fatalf("a file cut to %d of %d bytes opened", n, len(whole))
			}
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "qoswatch backup") {
				t.Errorf("err = %v\nwant ErrDamaged naming the file and the backup", err)
			}
		})
	}
	// bbolt grows the file ahead of its pages: losing only that tail
	// loses nothing, and the file opens whole.
	path := tempPath(t)
	os.WriteFile(path, whole[:used], 0o600)
	db := openT(t, path)
	if snap, err := db.Load(context.Background()); err != nil || len(snap.Alerts) != 400 {
		t.Errorf("cut to the pages it uses: %d alerts, %v; want all 400", len(snap.Alerts), err)
	}
}

// Garbage, whole or over one page of a real file, is refused with what
// to do, never a crash.
func TestRefusesGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for _, n := range []int{10, 5000, 64 << 10} {
		path := tempPath(t)
		os.WriteFile(path, noise(n), 0o600)
		wantRefused(t, path, ErrDamaged, "qoswatch backup", "move the file aside")
	}

	full, used := filledStore(t)
	whole, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	// Used pages but the two meta pages, overwritten in turn: the first
	// ones (bucket roots), the last ones (the free list, the newest
	// writes) and a stride between. Whatever bbolt or the check makes of
	// it, Open answers.
	pages := used / 4096
	for p := 2; p < pages; p++ {
		if p >= 10 && p < pages-8 && p%13 != 0 {
			continue
		}
		damaged := bytes.Clone(whole)
		copy(damaged[p*4096:(p+1)*4096], noise(4096))
		path := filepath.Join(t.TempDir(), fmt.Sprintf("page%d.db", p))
		os.WriteFile(path, damaged, 0o600)
		db, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
		if err != nil {
			if os.Getenv("SHOW") != "" {
				t.Logf("page %d: %v", p, err)
			}
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "qoswatch backup") {
				t.Errorf("page %d overwritten: err = %v, want ErrDamaged and what to do", p, err)
			}
			continue
		}
		// A page the file no longer uses (free) may be overwritten
		// harmlessly; then everything must still read.
		if _, err := db.Load(context.Background()); err != nil {
			t.Errorf("page %d overwritten: opened, then Load: %v", p, err)
		}
		db.Close()
	}
}

// A text file where the database should be is refused as not a database,
// and a path that cannot be opened names itself.
func TestRefusesOtherFiles(t *testing.T) {
	path := tempPath(t)
	for _, size := range []int{400, 4000} { // smaller and larger than two pages
		if err := os.WriteFile(path, []byte(strings.Repeat("rules:\n  - name: x\n", size)), 0o600); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, path, ErrNotQoswatch, "point QOSWATCH_DB elsewhere")
	}
	_, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir", "q.db"), Options{})
	if err == nil || !strings.Contains(err.Error(), "q.db") {
		t.Errorf("err = %v", err)
	}
}

// A record that is not JSON is found at Open; one that is JSON but not
// what the store wrote is named with its bucket and key when read.
func TestNamesUnreadableRecord(t *testing.T) {
	put := func(path string, bucket []byte, k, v string) {
		raw, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put([]byte(k), []byte(v)) })
		raw.Close()
	}
	path := tempPath(t)
	openT(t, path).Close()
	put(path, bucketOutbox, "\x00\x00\x00\x00\x00\x00\x00\x07", "\x01\x02garbage")
	wantRefused(t, path, ErrDamaged, `outbox "\x00\x00\x00\x00\x00\x00\x00\a" is not a JSON record`)

	path = tempPath(t)
	openT(t, path).Close()
	put(path, bucketAlerts, "choppy-audio", `{"state":"exploded"}`)
	db := openT(t, path)
	_, err := db.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), `alert "choppy-audio"`) || !strings.Contains(err.Error(), `unknown alert state "exploded"`) {
		t.Errorf("err = %v", err)
	}
}
