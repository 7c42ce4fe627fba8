package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Day counters: a bucket of UTC dates ("2026-11-28") → a count,
// big-endian. The quota's spend and the poller's live time are both.

// bucketLive keeps the live participant-seconds the poller polled per
// UTC day. The poller's learned plan (poll.LiveHistory) reads the last
// week of it. Created on first use.
var bucketLive = []byte("live_seconds")

// LiveDays is how many days of live time the store keeps, today
// included: the poller's week (poll.HistoryDays) and today.
const LiveDays = 8

// Spent returns the API calls spent on day (its UTC date), so the poller's
// daily budget survives a restart. Zoom's daily cap resets at 00:00 UTC.
func (db *DB) Spent(ctx context.Context, day time.Time) (int64, error) {
	return db.dayCount(ctx, bucketSpend, "spend", day)
}

// AddSpent adds n calls to day's (UTC date) spend. Collect forgets the
// days before today.
func (db *DB) AddSpent(ctx context.Context, day time.Time, n int64) error {
	return db.addDayCount(ctx, bucketSpend, "spend", day, n, 0)
}

// LiveSeconds returns the live participant-seconds recorded for day (its
// UTC date); 0 for a day with none.
func (db *DB) LiveSeconds(ctx context.Context, day time.Time) (int64, error) {
	return db.dayCount(ctx, bucketLive, "live seconds", day)
}

// AddLiveSeconds adds n to day's live participant-seconds and forgets the
// days older than LiveDays before it.
func (db *DB) AddLiveSeconds(ctx context.Context, day time.Time, n int64) error {
	return db.addDayCount(ctx, bucketLive, "live seconds", day, n, LiveDays)
}

func (db *DB) dayCount(ctx context.Context, bucket []byte, what string, day time.Time) (int64, error) {
	var n int64
	err := db.viewBucket(ctx, bucket, func(b *bolt.Bucket) error {
		n = countOf(b, dayKey(day))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: %s of %s: %w", what, dayKey(day), err)
	}
	return n, nil
}

// addDayCount adds n to day's count and, when keep is not 0, forgets the
// days more than keep-1 before it.
func (db *DB) addDayCount(ctx context.Context, bucket []byte, what string, day time.Time, n int64, keep int) error {
	key := dayKey(day)
	if n < 0 {
		return fmt.Errorf("store: %s of %s: negative amount %d", what, key, n)
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		if err := b.Put(key, binary.BigEndian.AppendUint64(nil, uint64(countOf(b, key)+n))); err != nil {
			return err
		}
		if keep == 0 {
			return nil
		}
		oldest := dayKey(day.AddDate(0, 0, 1-keep))
		_, err = deleteWhere(b, func(k, _ []byte) (bool, error) { return bytes.Compare(k, oldest) < 0, nil })
		return err
	})
	if err != nil {
		return fmt.Errorf("store: %s of %s: %w", what, key, err)
	}
	return nil
}

func countOf(b *bolt.Bucket, key []byte) int64 {
	if v := b.Get(key); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}
