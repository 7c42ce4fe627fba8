package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qoswatch/qoswatch/engine"
)

// Collected counts what one Collect removed.
type Collected struct {
	Alerts, Cursors, Silences, Refs, GroupRefs, SpendDays int
	Minutes                                               int // per-minute aggregates of sources (the report's)
	Reports                                               int // reports never posted, of sources that ended before the cutoff
	Roster                                                int // joined participants the engine forgot (roster.go)
}

// Collect removes, in one transaction, what no longer matters before the
// cutoff, so the file does not grow without bound during a long event.
//
// The engine collects alerts, cursors and silences itself (Changes.Deleted,
// Changes.DeletedCursors, DeleteSilence); Collect applies the same rules,
// so with the engine's retention it removes only what the engine would
// have, and it is what collects the things only the store holds:
//   - resolved alerts resolved before the cutoff (sample time);
//   - cursors whose newest sample is before it, of participants with no
//     alert left (sample time);
//   - silences that ended before it;
//   - message refs of alerts that are gone, unless an outbox entry still
//     needs them (a resolve to thread); group refs recorded before it
//     (wall time);
//   - API spend of UTC days before the cutoff's day;
//   - the sources' per-minute aggregates of minutes before it (sample
//     time), and the reports of sources that ended before it;
//   - the push roster's participants who joined before it and have no
//     cursor left (their leave or their source's end was missed).
func (db *DB) Collect(ctx context.Context, before time.Time) (Collected, error) {
	var got Collected
	err := db.update(ctx, func(tx *bolt.Tx) error {
		got = Collected{}
		var err error
		var gone []engine.AlertKey
		alerted := map[string]bool{} // cursor keys of participants with an alert left
		err = tx.Bucket(bucketAlerts).ForEach(func(k, v []byte) error {
			var a engine.Alert
			if err := decode("alert", k, v, &a); err != nil {
				return err
			}
			if a.State == engine.StateResolved && a.ResolvedAt.Before(before) {
				gone = append(gone, a.Key)
			} else {
				alerted[string(joinKey(a.Key.Source, a.Key.Participant))] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range gone {
			if err := deleteAlert(tx, k); err != nil {
				return err
			}
		}
		got.Alerts = len(gone)

		if got.Cursors, err = deleteWhere(tx.Bucket(bucketCursors), func(k, v []byte) (bool, error) {
			var c engine.Cursor
			if err := decode("cursor", k, v, &c); err != nil {
				return false, err
			}
			return c.Last.Before(before) && !alerted[string(k)], nil
		}); err != nil {
			return err
		}
		if got.Silences, err = deleteWhere(tx.Bucket(bucketSilences), func(k, v []byte) (bool, error) {
			var s engine.Silence
			if err := decode("silence", k, v, &s); err != nil {
				return false, err
			}
			return !s.EndsAt.IsZero() && s.EndsAt.Before(before), nil
		}); err != nil {
			return err
		}
		alerts, pending := tx.Bucket(bucketAlerts), tx.Bucket(bucketPending)
		if got.Refs, err = deleteWhere(tx.Bucket(bucketRefs), func(k, _ []byte) (bool, error) {
			return alerts.Get(k) == nil && pending.Get(k) == nil, nil
		}); err != nil {
			return err
		}
		if got.GroupRefs, err = deleteWhere(tx.Bucket(bucketGroupRefs), func(k, v []byte) (bool, error) {
			var r storedRef
			if err := decode("group ref", k, v, &r); err != nil {
				return false, err
			}
			return r.At.Before(before), nil
		}); err != nil {
			return err
		}
		today := dayKey(before)
		if got.SpendDays, err = deleteWhere(tx.Bucket(bucketSpend), func(k, _ []byte) (bool, error) {
			return bytes.Compare(k, today) < 0, nil
		}); err != nil {
			return err
		}
		if got.Minutes, err = collectMinutes(tx, before); err != nil {
			return err
		}
		if got.Reports, err = collectReports(tx, before); err != nil {
			return err
		}
		got.Roster, err = collectRoster(tx, before)
		return err
	})
	if err != nil {
		return Collected{}, fmt.Errorf("store: collect %s: %w", db.path, err)
	}
	db.log.Debug("collected", "before", before, "alerts", got.Alerts, "cursors", got.Cursors,
		"silences", got.Silences, "refs", got.Refs, "group_refs", got.GroupRefs, "spend_days", got.SpendDays, "minutes", got.Minutes, "reports", got.Reports, "roster", got.Roster)
	return got, nil
}

// deleteWhere deletes the keys of b that drop says to, after the walk (a
// bbolt cursor must not delete under itself while iterating).
func deleteWhere(b *bolt.Bucket, drop func(k, v []byte) (bool, error)) (int, error) {
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		ok, err := drop(k, v)
		if ok {
			keys = append(keys, bytes.Clone(k))
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
