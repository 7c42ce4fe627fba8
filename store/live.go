package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketLive keeps, per UTC day, the live participant-seconds the poller
// polled: "2026-11-28" → uint64, big-endian. The poller's learned plan
// (poll.LiveHistory) reads the last week of it. Created on first use.
var bucketLive = []byte("live_seconds")

// LiveDays is how many days of live time the store keeps, today
// included: the poller's week (poll.HistoryDays) and today.
const LiveDays = 8

// LiveSeconds returns the live participant-seconds recorded for day (its
// UTC date); 0 for a day with none.
func (db *DB) LiveSeconds(ctx context.Context, day time.Time) (int64, error) {
	var n int64
	err := db.viewBucket(ctx, bucketLive, func(b *bolt.Bucket) error {
		if v := b.Get(dayKey(day)); len(v) == 8 {
			n = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: live seconds of %s: %w", dayKey(day), err)
	}
	return n, nil
}

// AddLiveSeconds adds n to day's live participant-seconds and forgets the
// days older than LiveDays before it.
func (db *DB) AddLiveSeconds(ctx context.Context, day time.Time, n int64) error {
	if n < 0 {
		return fmt.Errorf("store: live seconds of %s: negative amount %d", dayKey(day), n)
	}
	key := dayKey(day)
	oldest := dayKey(day.AddDate(0, 0, 1-LiveDays))
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketLive)
		if err != nil {
			return err
		}
		var total int64
		if v := b.Get(key); len(v) == 8 {
			total = int64(binary.BigEndian.Uint64(v))
		}
		if err := b.Put(key, binary.BigEndian.AppendUint64(nil, uint64(total+n))); err != nil {
			return err
		}
		var old [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, oldest) < 0; k, _ = c.Next() {
			old = append(old, bytes.Clone(k))
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: live seconds of %s: %w", key, err)
	}
	return nil
}
