package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/qoswatch/qoswatch/engine"
)

// Pending returns up to limit outbox entries, oldest first (limit <= 0:
// all). Entries stay until Ack, so after a crash they are delivered again.
func (db *DB) Pending(ctx context.Context, limit int) ([]engine.Notification, error) {
	var out []engine.Notification
	err := db.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		k, v := c.First()
		var err error
		out, err = collect[engine.Notification]("outbox entry", k, v, c.Next, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: pending of %s: %w", db.path, err)
	}
	return out, nil
}

// Ack deletes a delivered outbox entry and, when ref is not zero, records
// it as the alert's message, in one transaction. Acking an id that is not
// there (acked before a crash) is not an error; the ref is still recorded.
func (db *DB) Ack(ctx context.Context, id uint64, key engine.AlertKey, ref engine.MessageRef) error {
	if err := db.ackAll(ctx, []uint64{id}, []engine.AlertKey{key}, ref); err != nil {
		return fmt.Errorf("store: ack %d (%s): %w", id, key, err)
	}
	return nil
}

// AckAll is Ack for the entries one message delivered (a storm's grouped
// message, a batch of replies), in ONE transaction: a crash after the
// message leaves all of them pending or none, so a restart re-sends one
// message, not the part of a group that was not acked yet. ids[i] belongs
// to keys[i]; ref, when not zero, is recorded for every key.
func (db *DB) AckAll(ctx context.Context, ids []uint64, keys []engine.AlertKey, ref engine.MessageRef) error {
	if len(ids) != len(keys) {
		return fmt.Errorf("store: ack of %d ids with %d keys", len(ids), len(keys))
	}
	if err := db.ackAll(ctx, ids, keys, ref); err != nil {
		return fmt.Errorf("store: ack of %d entries %v: %w", len(ids), ids, err)
	}
	return nil
}

func (db *DB) ackAll(ctx context.Context, ids []uint64, keys []engine.AlertKey, ref engine.MessageRef) error {
	removed := 0
	var refv []byte
	if ref != (engine.MessageRef{}) {
		var err error
		if refv, err = encode("message ref", storedRef{MessageRef: ref, At: db.now()}); err != nil {
			return err
		}
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		removed = 0
		outbox, refs := tx.Bucket(bucketOutbox), tx.Bucket(bucketRefs)
		for i, id := range ids {
			k := seqKey(id)
			if v := outbox.Get(k); v != nil {
				// The entry's own key counts, whatever the caller passed.
				var n engine.Notification
				if err := decode("outbox entry", k, v, &n); err != nil {
					return err
				}
				if err := outbox.Delete(k); err != nil {
					return err
				}
				if err := addPending(tx, n.Key, -1); err != nil {
					return err
				}
				removed++
			}
			if refv != nil {
				if err := refs.Put(alertKey(keys[i]), refv); err != nil {
					return fmt.Errorf("ref of %s: %w", keys[i], err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	db.outbox.Add(-int64(removed))
	return nil
}

// Ref returns the alert's first message, if one was recorded.
func (db *DB) Ref(ctx context.Context, key engine.AlertKey) (engine.MessageRef, bool, error) {
	return db.getRef(ctx, bucketRefs, alertKey(key), key.String())
}

// PutGroupRef records the message of a group (the notifier's storm
// message), under a key the notifier chooses. Collect drops it once older
// than its cutoff.
func (db *DB) PutGroupRef(ctx context.Context, key string, ref engine.MessageRef) error {
	if key == "" {
		return fmt.Errorf("store: group ref without a key")
	}
	v, err := encode("group ref", storedRef{MessageRef: ref, At: db.now()})
	if err != nil {
		return fmt.Errorf("store: group ref %q: %w", key, err)
	}
	err = db.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketGroupRefs).Put([]byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("store: group ref %q: %w", key, err)
	}
	return nil
}

// GroupRef returns the message recorded for a group key, if any.
func (db *DB) GroupRef(ctx context.Context, key string) (engine.MessageRef, bool, error) {
	if key == "" {
		return engine.MessageRef{}, false, nil
	}
	return db.getRef(ctx, bucketGroupRefs, []byte(key), key)
}

func (db *DB) getRef(ctx context.Context, bucket, key []byte, name string) (engine.MessageRef, bool, error) {
	var ref storedRef
	found := false
	err := db.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucket).Get(key)
		if v == nil {
			return nil
		}
		if err := decode(string(bucket), key, v, &ref); err != nil {
			return err
		}
		found = true
		return nil
	})
	if err != nil {
		return engine.MessageRef{}, false, fmt.Errorf("store: %s %s: %w", bucket, name, err)
	}
	return ref.MessageRef, found, nil
}
