package store

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qoswatch/qoswatch/engine"
)

// The push roster: who Zoom's join events said each participant of a
// source is (QSS samples carry only ids), until a leave, the source's end
// or Collect. It is written by DoneEvents, in the transaction that marks
// the joins applied, so a restart (or a crash) neither loses a join nor
// keeps one whose leave was applied.
var bucketRoster = []byte("push_roster") // source/participant → RosterEntry; created on first use

// rosterKey is the participant's cursor key too: Collect looks one up by
// the other.
func rosterKey(r engine.RosterEntry) []byte { return joinKey(r.Source, r.Participant.Key()) }

// putRoster applies what applied events did to the roster, in order.
func putRoster(tx *bolt.Tx, roster []engine.RosterEntry) error {
	if len(roster) == 0 {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketRoster)
	if err != nil {
		return err
	}
	for _, r := range roster {
		switch {
		case !r.Gone:
			v, err := encode("roster entry", r)
			if err != nil {
				return err
			}
			if err := b.Put(rosterKey(r), v); err != nil {
				return err
			}
		case r.Participant.Key() != "":
			if err := b.Delete(rosterKey(r)); err != nil {
				return err
			}
		default: // the source ended: every participant of it
			prefix := sourcePrefix(r.Source)
			if _, err := deleteWhere(b, func(k, _ []byte) (bool, error) { return bytes.HasPrefix(k, prefix), nil }); err != nil {
				return err
			}
		}
	}
	return nil
}

// Roster returns every participant the roster holds, by source and
// participant.
func (db *DB) Roster(ctx context.Context) ([]engine.RosterEntry, error) {
	return readAll[engine.RosterEntry](ctx, db, bucketRoster, "roster")
}

// collectRoster deletes the roster's participants who joined before the
// cutoff and have no cursor left (the engine forgot them: no sample since
// the cutoff, no alert): their source ended unseen, or they left unseen.
// Run after the cursors are collected.
func collectRoster(tx *bolt.Tx, before time.Time) (int, error) {
	b := tx.Bucket(bucketRoster)
	if b == nil {
		return 0, nil
	}
	cursors := tx.Bucket(bucketCursors)
	return deleteWhere(b, func(k, v []byte) (bool, error) {
		var r engine.RosterEntry
		if err := decode("roster", k, v, &r); err != nil {
			return false, err
		}
		return r.Participant.JoinTime.Before(before) && cursors.Get(k) == nil, nil
	})
}
