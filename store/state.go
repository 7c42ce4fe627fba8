package store

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/qoswatch/qoswatch/engine"
)

// Load returns everything the engine starts from.
func (db *DB) Load(ctx context.Context) (engine.Snapshot, error) {
	var snap engine.Snapshot
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketAlerts).ForEach(appendTo("alert", &snap.Alerts)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketCursors).ForEach(appendTo("cursor", &snap.Cursors)); err != nil {
			return err
		}
		snap.Dismissals = loadDismissals(tx)
		if v := tx.Bucket(bucketMeta).Get(metaLastNumber); len(v) == 8 {
			snap.LastNumber = binary.BigEndian.Uint64(v)
		}
		return tx.Bucket(bucketSilences).ForEach(appendTo("silence", &snap.Silences))
	})
	if err != nil {
		return engine.Snapshot{}, fmt.Errorf("store: load %s: %w", db.path, err)
	}
	return snap, nil
}

// Commit writes what one Ingest (or Act) decided in one fsynced
// transaction: alert upserts, cursors, the notifications appended to the
// outbox, the alerts and cursors the engine's own GC dropped, silences
// set or ended, and responders' actions with the dismissals they count. Each notification gets
// its outbox ID, written back into c.Notifications[i].ID when the commit
// succeeds. On any error nothing is written.
func (db *DB) Commit(ctx context.Context, c engine.Changes) error {
	err := db.update(ctx, func(tx *bolt.Tx) error {
		// The outbox first: its pending counts keep the message ref of an
		// alert deleted in this same commit, for the resolve to thread.
		outbox := tx.Bucket(bucketOutbox)
		for i := range c.Notifications {
			n := &c.Notifications[i]
			if err := putNext(outbox, "notification", n, func(id uint64) { n.ID = id }); err != nil {
				return fmt.Errorf("notification %s %s: %w", n.Kind, n.Key, err)
			}
			if err := addPending(tx, n.Key, 1); err != nil {
				return err
			}
		}
		// Deletions before upserts: if both name a key, the state wins.
		for _, k := range c.Deleted {
			if err := deleteAlert(tx, k); err != nil {
				return err
			}
		}
		alerts := tx.Bucket(bucketAlerts)
		if err := keepLastNumber(tx, c.Alerts); err != nil {
			return err
		}
		for i := range c.Alerts {
			a := &c.Alerts[i]
			if err := put(alerts, "alert", alertKey(a.Key), a); err != nil {
				return fmt.Errorf("alert %s: %w", a.Key, err)
			}
		}
		cursors := tx.Bucket(bucketCursors)
		for _, cur := range c.DeletedCursors { // before upserts, like alerts
			if err := cursors.Delete(cursorKey(cur)); err != nil {
				return fmt.Errorf("delete cursor %s/%s: %w", cur.Source, cur.Participant, err)
			}
		}
		for i := range c.Cursors {
			cur := &c.Cursors[i]
			if err := put(cursors, "cursor", cursorKey(*cur), cur); err != nil {
				return fmt.Errorf("cursor %s/%s: %w", cur.Source, cur.Participant, err)
			}
		}
		silences := tx.Bucket(bucketSilences)
		for i := range c.Silences {
			s := &c.Silences[i]
			if err := put(silences, "silence", []byte(s.ID), s); err != nil {
				return fmt.Errorf("silence %q: %w", s.ID, err)
			}
		}
		if err := putMinutes(tx, c.Minutes); err != nil {
			return err
		}
		return db.commitActions(tx, &c)
	})
	if err != nil {
		for i := range c.Notifications {
			c.Notifications[i].ID = 0 // never handed out
		}
		for i := range c.Actions {
			c.Actions[i].Seq = 0
		}
		return fmt.Errorf("store: commit to %s: %w", db.path, err)
	}
	db.engine.Add(1)
	db.outbox.Add(int64(len(c.Notifications)))
	return nil
}

// deleteAlert removes an alert, and its message ref unless an outbox entry
// still needs it (a resolve waiting to be threaded under the first message).
func deleteAlert(tx *bolt.Tx, k engine.AlertKey) error {
	key := alertKey(k)
	if err := tx.Bucket(bucketAlerts).Delete(key); err != nil {
		return fmt.Errorf("delete alert %s: %w", k, err)
	}
	if tx.Bucket(bucketPending).Get(key) != nil {
		return nil
	}
	if err := tx.Bucket(bucketRefs).Delete(key); err != nil {
		return fmt.Errorf("delete ref of %s: %w", k, err)
	}
	return nil
}

// addPending counts the outbox entries of one alert; the entry is removed
// at zero.
func addPending(tx *bolt.Tx, k engine.AlertKey, delta int64) error {
	b := tx.Bucket(bucketPending)
	key := alertKey(k)
	var n int64
	if v := b.Get(key); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n += delta
	var err error
	if n <= 0 {
		err = b.Delete(key)
	} else {
		err = b.Put(key, binary.BigEndian.AppendUint64(nil, uint64(n)))
	}
	if err != nil {
		return fmt.Errorf("pending count of %s: %w", k, err)
	}
	return nil
}

// PutSilence creates or replaces a silence.
func (db *DB) PutSilence(ctx context.Context, s engine.Silence) error {
	if s.ID == "" {
		return fmt.Errorf("store: silence without an id")
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		return put(tx.Bucket(bucketSilences), "silence", []byte(s.ID), &s)
	})
	if err != nil {
		return fmt.Errorf("store: silence %q: %w", s.ID, err)
	}
	return nil
}

// DeleteSilence removes a silence; an unknown id is not an error.
func (db *DB) DeleteSilence(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSilences).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("store: delete silence %q: %w", id, err)
	}
	return nil
}

// metaLastNumber is the largest engine.Alert.Number committed (uint64,
// big-endian), so a restart never gives a number twice.
var metaLastNumber = []byte("last_alert_number")

func keepLastNumber(tx *bolt.Tx, alerts []engine.Alert) error {
	var top uint64
	for i := range alerts {
		top = max(top, alerts[i].Number)
	}
	if top == 0 {
		return nil
	}
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(metaLastNumber); len(v) == 8 && binary.BigEndian.Uint64(v) >= top {
		return nil
	}
	if err := meta.Put(metaLastNumber, binary.BigEndian.AppendUint64(nil, top)); err != nil {
		return fmt.Errorf("last alert number: %w", err)
	}
	return nil
}
