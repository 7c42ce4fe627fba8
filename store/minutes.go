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
		if !m.EndedAt.IsZero() {
			if err := queueReport(tx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// Minutes returns the per-minute aggregates kept for a source
// (engine.Source.Key(), "webinar:81234567890"), in time order; none when
// the source is unknown or its minutes were collected.
func (db *DB) Minutes(ctx context.Context, source string) ([]engine.MinuteStats, error) {
	var out []engine.MinuteStats
	err := db.viewBucket(ctx, bucketMinutes, func(b *bolt.Bucket) error {
		prefix := sourcePrefix(source)
		add := appendTo("minute", &out)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if err := add(k, v); err != nil {
				return err
			}
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

// bucketReports is the queue of post-webinar reports to post:
// source/ended_at → engine.ReportDue. Created by the first end committed.
var bucketReports = []byte("reports")

func reportKey(source string, ended time.Time) []byte {
	return joinKey(source, ended.UTC().Format(time.RFC3339Nano))
}

// queueReport adds the report of an occurrence that ended, unless it is
// queued already (the same end committed again).
func queueReport(tx *bolt.Tx, m *engine.MinuteStats) error {
	b, err := tx.CreateBucketIfNotExists(bucketReports)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucketReports, err)
	}
	k := reportKey(m.Source, m.EndedAt)
	if b.Get(k) != nil {
		return nil
	}
	v, err := encode("report", engine.ReportDue{Source: m.Source, EndedAt: m.EndedAt.UTC()})
	if err != nil {
		return err
	}
	if err := b.Put(k, v); err != nil {
		return fmt.Errorf("report of %s: %w", m.Source, err)
	}
	return nil
}

// DueReports returns the reports waiting to be posted, oldest end first
// within a source.
func (db *DB) DueReports(ctx context.Context) ([]engine.ReportDue, error) {
	return readAll[engine.ReportDue](ctx, db, bucketReports, "report")
}

// UpdateReport records a report's progress (its summary's message, the
// files uploaded), so a restart goes on where it stopped. A report no
// longer queued (done, or collected) is left gone.
func (db *DB) UpdateReport(ctx context.Context, r engine.ReportDue) error {
	v, err := encode("report", r)
	if err != nil {
		return err
	}
	err = db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReports)
		k := reportKey(r.Source, r.EndedAt)
		if b == nil || b.Get(k) == nil {
			return nil
		}
		return b.Put(k, v)
	})
	if err != nil {
		return fmt.Errorf("store: report of %s: %w", r.Source, err)
	}
	return nil
}

// DoneReport removes a report from the queue: posted, or given up.
func (db *DB) DoneReport(ctx context.Context, r engine.ReportDue) error {
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReports)
		if b == nil {
			return nil
		}
		return b.Delete(reportKey(r.Source, r.EndedAt))
	})
	if err != nil {
		return fmt.Errorf("store: report of %s done: %w", r.Source, err)
	}
	return nil
}

// collectReports deletes the reports of occurrences that ended before
// the cutoff: their minutes are collected too.
func collectReports(tx *bolt.Tx, before time.Time) (int, error) {
	b := tx.Bucket(bucketReports)
	if b == nil {
		return 0, nil
	}
	return deleteWhere(b, func(k, v []byte) (bool, error) {
		var r engine.ReportDue
		if err := decode("report", k, v, &r); err != nil {
			return false, err
		}
		return r.EndedAt.Before(before), nil
	})
}
