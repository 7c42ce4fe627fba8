package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qoswatch/qoswatch/engine"
)

// Responders' actions (engine.Act): the audit log and the per-rule count
// of dismissals. Both buckets are made by the first commit that needs
// them, so a file written before them opens as it is.
//
// Retention: the log keeps the newest engine.MaxActionRecords actions
// and none more than engine.ActionRetention older than the newest (their
// At, wall clock); older ones are deleted by the commit that adds a new one. An action ID is
// applied once while its record is kept.
var (
	bucketActions    = []byte("actions")    // big-endian Seq → ActionRecord
	bucketActionIDs  = []byte("action_ids") // action ID → Seq (uint64)
	bucketDismissals = []byte("dismissals") // rule name → dismissed alerts (uint64)
)

var _ engine.ActionLog = (*DB)(nil)

// commitActions writes the actions, their ids and the dismissals of one
// engine Commit, inside its transaction.
func (db *DB) commitActions(tx *bolt.Tx, c *engine.Changes) error {
	if len(c.Dismissals) > 0 {
		b, err := tx.CreateBucketIfNotExists(bucketDismissals)
		if err != nil {
			return fmt.Errorf("dismissals bucket: %w", err)
		}
		for _, rule := range c.Dismissals {
			n := uint64(0)
			if v := b.Get([]byte(rule)); len(v) == 8 {
				n = binary.BigEndian.Uint64(v)
			}
			if err := b.Put([]byte(rule), binary.BigEndian.AppendUint64(nil, n+1)); err != nil {
				return fmt.Errorf("dismissals of rule %q: %w", rule, err)
			}
		}
	}
	if len(c.Actions) == 0 {
		return nil
	}
	log, err := tx.CreateBucketIfNotExists(bucketActions)
	if err != nil {
		return fmt.Errorf("actions bucket: %w", err)
	}
	ids, err := tx.CreateBucketIfNotExists(bucketActionIDs)
	if err != nil {
		return fmt.Errorf("action ids bucket: %w", err)
	}
	for i := range c.Actions {
		r := &c.Actions[i]
		if ids.Get([]byte(r.ID)) != nil {
			// The engine checks first; this keeps the guarantee if two
			// engines ever shared a file.
			return fmt.Errorf("action %q: already applied", r.ID)
		}
		if err := putNext(log, "action", r, func(seq uint64) { r.Seq = seq }); err != nil {
			return fmt.Errorf("action %q: %w", r.ID, err)
		}
		if err := ids.Put([]byte(r.ID), seqKey(r.Seq)); err != nil {
			return fmt.Errorf("action id %q: %w", r.ID, err)
		}
	}
	newest := &c.Actions[len(c.Actions)-1]
	return pruneActions(log, ids, newest.Seq, newest.At)
}

// pruneActions deletes the oldest records beyond the retention, measured
// from the newest action's time (the engine's clock, which stamped
// them). The log is deleted from its front only, so it holds the
// sequences first..last.
func pruneActions(log, ids *bolt.Bucket, last uint64, newest time.Time) error {
	horizon := newest.Add(-engine.ActionRetention)
	cur := log.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.First() {
		seq := binary.BigEndian.Uint64(k)
		var r engine.ActionRecord
		if err := decode("action", k, v, &r); err != nil {
			return err
		}
		if last-seq < engine.MaxActionRecords && !r.At.Before(horizon) {
			return nil
		}
		if err := cur.Delete(); err != nil {
			return fmt.Errorf("delete action %q: %w", r.ID, err)
		}
		if err := ids.Delete([]byte(r.ID)); err != nil {
			return fmt.Errorf("delete action id %q: %w", r.ID, err)
		}
	}
	return nil
}

// Action returns the record of an action ID, if it is still kept.
func (db *DB) Action(ctx context.Context, id string) (engine.ActionRecord, bool, error) {
	var r engine.ActionRecord
	var found bool
	err := db.view(ctx, func(tx *bolt.Tx) error {
		ids, log := tx.Bucket(bucketActionIDs), tx.Bucket(bucketActions)
		if ids == nil || log == nil {
			return nil
		}
		seq := ids.Get([]byte(id))
		if seq == nil {
			return nil
		}
		v := log.Get(seq)
		if v == nil {
			return nil
		}
		found = true
		return decode("action", seq, v, &r)
	})
	if err != nil {
		return engine.ActionRecord{}, false, fmt.Errorf("store: action %q in %s: %w", id, db.path, err)
	}
	return r, found, nil
}

// Actions returns the audit log newest first: up to q.Limit records
// (all when <= 0) with Seq below q.Before (from the newest when 0).
func (db *DB) Actions(ctx context.Context, q engine.ActionQuery) ([]engine.ActionRecord, error) {
	var out []engine.ActionRecord
	err := db.viewBucket(ctx, bucketActions, func(log *bolt.Bucket) error {
		cur := log.Cursor()
		var k, v []byte
		if q.Before == 0 {
			k, v = cur.Last()
		} else {
			if k, _ = cur.Seek(seqKey(q.Before)); k == nil {
				k, v = cur.Last() // every record is older
			} else {
				k, v = cur.Prev()
			}
		}
		var err error
		out, err = collect[engine.ActionRecord]("action", k, v, cur.Prev, q.Limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: actions in %s: %w", db.path, err)
	}
	return out, nil
}

// loadDismissals reads the per-rule dismissal counts.
func loadDismissals(tx *bolt.Tx) map[string]uint64 {
	b := tx.Bucket(bucketDismissals)
	if b == nil {
		return nil
	}
	out := map[string]uint64{}
	_ = b.ForEach(func(k, v []byte) error {
		if len(v) == 8 {
			out[string(k)] = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return out
}

// Dismissals returns how many alerts responders dismissed as not an
// issue, by rule.
func (db *DB) Dismissals(ctx context.Context) (map[string]uint64, error) {
	var out map[string]uint64
	err := db.view(ctx, func(tx *bolt.Tx) error {
		out = loadDismissals(tx)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: dismissals in %s: %w", db.path, err)
	}
	return out, nil
}
