package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qoswatch/qoswatch/engine"
)

// The event inbox: what Zoom pushed (webhooks, WebSocket messages), kept
// from the moment qoswatch acknowledged it until it has been applied to
// the engine. A webhook is answered 200 only once its event is here, on
// disk; Zoom does not send it again then.
//
// Every event also leaves its key in a per-hour bucket of seen keys, so a
// retry or a duplicate delivery is recognised and stored once. Zoom
// retries a webhook it got no 2xx for 5, 25 and 85 minutes after the first
// attempt; the keys are kept DedupRetention, then their hour's bucket is
// deleted whole.

// DedupRetention is how long an event's key is remembered.
const DedupRetention = 2 * time.Hour

var (
	bucketInbox     = []byte("inbox")      // big-endian sequence → the event's JSON, as received
	bucketInboxSeen = []byte("inbox_seen") // "2026-11-28T14" (UTC hour) → bucket of keys seen that hour
)

// appendOnly is the FillPercent of buckets whose keys come in order (the
// inbox's sequence, the seen keys' time prefix): bbolt splits a page
// that fills at this share of it, and the default (half) would leave every
// page of an append-only bucket half empty, twice the pages written.
const appendOnly = 1.0

func hourKey(t time.Time) []byte { return []byte(t.UTC().Format("2006-01-02T15")) }

// EnqueueEvents stores events, in order, until DoneEvents, and sets the
// ID of each one stored (0 for the others), except those
// whose key was stored within DedupRetention of their Received time (or
// earlier in the same call): dup[i] reports those, and nothing is stored
// for them. Bodies must be JSON. It returns once the write is on disk: one
// write transaction for the call, shared with concurrent calls (group
// commit: the calls that arrive during a commit go together in the next),
// so a burst of webhooks costs a few fsyncs, not one each, and a
// WebSocket's backlog is one. Keys that sort in time order (the zoom
// package's start with the event's time) keep a commit's new keys on a
// few pages of the seen bucket.
func (db *DB) EnqueueEvents(ctx context.Context, es []engine.InboxEntry) (dup []bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	for _, e := range es {
		if e.Key == "" {
			return nil, fmt.Errorf("store: %s: an event without a key", db.path)
		}
		if !json.Valid(e.Body) {
			return nil, fmt.Errorf("store: event %s: its body is not JSON", e.Key)
		}
	}
	err = db.batch(ctx, func(tx *bolt.Tx) error {
		// A group commit may run this twice (after another call's failure): it
		// decides afresh each time.
		dup = make([]bool, len(es))
		seen, err := tx.CreateBucketIfNotExists(bucketInboxSeen)
		if err != nil {
			return err
		}
		inbox, err := tx.CreateBucketIfNotExists(bucketInbox)
		if err != nil {
			return err
		}
		inbox.FillPercent = appendOnly
		for i := range es {
			if dup[i], err = enqueue(seen, inbox, &es[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %s: enqueue %d events: %w", db.path, len(es), err)
	}
	return dup, nil
}

// enqueue stores one event, and sets its ID, unless its key was seen.
func enqueue(seen, inbox *bolt.Bucket, e *engine.InboxEntry) (dup bool, err error) {
	e.ID = 0
	hours := int(DedupRetention/time.Hour) + 1
	for h := range hours {
		if b := seen.Bucket(hourKey(e.Received.Add(-time.Duration(h) * time.Hour))); b != nil && b.Get([]byte(e.Key)) != nil {
			return true, nil
		}
	}
	if err := dropOldHours(seen, e.Received.Add(-time.Duration(hours)*time.Hour)); err != nil {
		return false, err
	}
	hb, err := seen.CreateBucketIfNotExists(hourKey(e.Received))
	if err != nil {
		return false, err
	}
	hb.FillPercent = appendOnly
	// A non-empty value: bbolt reads back a nil one as absent within the
	// transaction that put it.
	if err := hb.Put([]byte(e.Key), []byte{1}); err != nil {
		return false, err
	}
	seq, err := inbox.NextSequence()
	if err != nil {
		return false, err
	}
	e.ID = seq
	return false, inbox.Put(seqKey(seq), e.Body)
}

// dropOldHours deletes the seen-key buckets of hours before cutoff's.
func dropOldHours(seen *bolt.Bucket, cutoff time.Time) error {
	limit := string(hourKey(cutoff))
	var old [][]byte
	c := seen.Cursor()
	for k, _ := c.First(); k != nil && string(k) < limit; k, _ = c.Next() {
		old = append(old, k)
	}
	for _, k := range old {
		if err := seen.DeleteBucket(k); err != nil {
			return err
		}
	}
	return nil
}

// PendingEvents returns up to limit stored events, oldest first: their ID
// and Body (the key and the time they came are not kept with them).
func (db *DB) PendingEvents(ctx context.Context, limit int) ([]engine.InboxEntry, error) {
	var out []engine.InboxEntry
	err := db.viewBucket(ctx, bucketInbox, func(b *bolt.Bucket) error {
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			out = append(out, engine.InboxEntry{ID: seqOf(k), Body: slices.Clone(v)}) // v lives only in the transaction
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %s: pending events: %w", db.path, err)
	}
	return out, nil
}

// DoneEvents deletes applied events and, in the same transaction, writes
// what they did to the roster (joins, leaves, ends; see roster.go). It
// shares its write transaction with concurrent EnqueueEvents calls (group
// commit): under load the deletes of what was applied ride on the commit
// of what is arriving, one fsync for both.
func (db *DB) DoneEvents(ctx context.Context, ids []uint64, roster []engine.RosterEntry) error {
	if len(ids) == 0 && len(roster) == 0 {
		return nil
	}
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		if err := putRoster(tx, roster); err != nil {
			return err
		}
		b := tx.Bucket(bucketInbox)
		if b == nil {
			return nil
		}
		for _, id := range ids {
			if err := b.Delete(seqKey(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %s: done events: %w", db.path, err)
	}
	return nil
}

// InboxDepth is the number of events waiting to be applied.
func (db *DB) InboxDepth(ctx context.Context) (int, error) {
	n := 0
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketInbox); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

func seqOf(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

// bucketPushSeen remembers, across restarts, when the account's pushed
// events last came: "lifecycle" (a started or ended event) and "qss" (a
// QSS sample), as Unix nanoseconds, big-endian. Created on first use.
var bucketPushSeen = []byte("push_seen")

// PushSeen returns when started/ended events and QSS samples last came, as
// SetPushSeen saved them (zero: never).
func (db *DB) PushSeen(ctx context.Context) (lifecycle, qss time.Time, err error) {
	err = db.viewBucket(ctx, bucketPushSeen, func(b *bolt.Bucket) error {
		read := func(key string) time.Time {
			if v := b.Get([]byte(key)); len(v) == 8 {
				return time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
			}
			return time.Time{}
		}
		lifecycle, qss = read("lifecycle"), read("qss")
		return nil
	})
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("store: %s: push seen: %w", db.path, err)
	}
	return lifecycle, qss, nil
}

// SetPushSeen saves when started/ended events and QSS samples last came (a
// zero time leaves its value as it is). It shares a group commit with the
// inbox's writes.
func (db *DB) SetPushSeen(ctx context.Context, lifecycle, qss time.Time) error {
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPushSeen)
		if err != nil {
			return err
		}
		for key, t := range map[string]time.Time{"lifecycle": lifecycle, "qss": qss} {
			if t.IsZero() {
				continue
			}
			if err := b.Put([]byte(key), binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %s: push seen: %w", db.path, err)
	}
	return nil
}
