package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qoswatch/qoswatch/engine"
)

// bucketMinutes holds the engine's per-minute aggregates of each source
// (engine.MinuteStats), for the post-webinar report: source/minute → JSON.
// Created by the first Commit that has one; collected with the retention.
var bucketMinutes = []byte("minutes")

// minuteFormat is the minute part of a key: fixed width, sorts by time.
const minuteFormat = "2006-01-02T15:04Z"

func minuteKey(source string, minute time.Time) []byte {
	return joinKey(source, minute.UTC().Format(minuteFormat))
}

// sourcePrefix is what every minute key of a source starts with.
func sourcePrefix(source string) []byte { return append(appendPart(nil, source), 0, 1) }

// putMinutes adds each aggregate to the one stored for its source and
// minute (engine.MinuteStats.Merge): a minute's samples come in several
// commits.
func putMinutes(tx *bolt.Tx, ms []engine.MinuteStats) error {
	if len(ms) == 0 {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketMinutes)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucketMinutes, err)
	}
	for i := range ms {
		m := &ms[i]
		k := minuteKey(m.Source, m.Minute)
		cur := engine.MinuteStats{Source: m.Source, Minute: m.Minute.UTC()}
		if v := b.Get(k); v != nil {
			if err := decode("minute", k, v, &cur); err != nil {
				return err
			}
		}
		cur.Merge(m)
		v, err := encode("minute", &cur)
		if err != nil {
			return err
		}
		if err := b.Put(k, v); err != nil {
			return fmt.Errorf("minute %s %s: %w", m.Source, m.Minute.Format(minuteFormat), err)
		}
	}
	return nil
}

// Minutes returns the per-minute aggregates kept for a source
// (engine.Source.Key(), "webinar:81234567890"), in time order; none when
// the source is unknown or its minutes were collected.
func (db *DB) Minutes(ctx context.Context, source string) ([]engine.MinuteStats, error) {
	var out []engine.MinuteStats
	err := db.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMinutes)
		if b == nil {
			return nil
		}
		prefix := sourcePrefix(source)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var m engine.MinuteStats
			if err := decode("minute", k, v, &m); err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: minutes of %s in %s: %w", source, db.path, err)
	}
	return out, nil
}

// collectMinutes deletes the aggregates of minutes before the cutoff.
func collectMinutes(tx *bolt.Tx, before time.Time) (int, error) {
	b := tx.Bucket(bucketMinutes)
	if b == nil {
		return 0, nil
	}
	return deleteWhere(b, func(k, v []byte) (bool, error) {
		var m struct {
			Minute time.Time `json:"minute"`
		}
		if err := decode("minute", k, v, &m); err != nil {
			return false, err
		}
		return m.Minute.Before(before), nil
	})
}
