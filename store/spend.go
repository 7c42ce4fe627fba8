package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Spent returns the API calls spent on day (its UTC date), so the poller's
// daily budget survives a restart. Zoom's daily cap resets at 00:00 UTC.
func (db *DB) Spent(ctx context.Context, day time.Time) (int64, error) {
	var n int64
	err := db.view(ctx, func(tx *bolt.Tx) error {
		n = spentIn(tx, dayKey(day))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: spend of %s: %w", dayKey(day), err)
	}
	return n, nil
}

// AddSpent adds n calls to day's (UTC date) spend.
func (db *DB) AddSpent(ctx context.Context, day time.Time, n int64) error {
	if n < 0 {
		return fmt.Errorf("store: spend of %s: negative amount %d", dayKey(day), n)
	}
	key := dayKey(day)
	err := db.update(ctx, func(tx *bolt.Tx) error {
		total := spentIn(tx, key) + n
		return tx.Bucket(bucketSpend).Put(key, binary.BigEndian.AppendUint64(nil, uint64(total)))
	})
	if err != nil {
		return fmt.Errorf("store: spend of %s: %w", key, err)
	}
	return nil
}

func spentIn(tx *bolt.Tx, key []byte) int64 {
	if v := tx.Bucket(bucketSpend).Get(key); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}
