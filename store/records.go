package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qoswatch/qoswatch/engine"
)

// Records are JSON: the engine types' own json form (engine/json.go: a
// missing number is null). Adding a field is compatible both ways: an
// older record reads with the field zero (or missing, for a number), and
// a field this release does not know is ignored.

// storedRef is a message ref with the wall-clock time it was recorded, so
// group refs can be collected by age.
type storedRef struct {
	engine.MessageRef
	At time.Time `json:"at"`
}

// encode writes a record. It cannot fail for the types the store keeps
// (every float goes through engine's NaN-safe form); the error is passed
// on anyway, so a type that could would fail its commit, not corrupt it.
func encode(what string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return b, nil
}

// decode reads a record of bucket under key into v, naming both when the
// bytes are not one.
func decode(bucket string, key, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return decodeErr(bucket, key, err)
	}
	return nil
}

// decodeErr names what failed to decode, for an error a person can act on.
func decodeErr(bucket string, key []byte, err error) error {
	return fmt.Errorf("%s %q: %w", bucket, key, err)
}

// appendTo is a callback for bbolt's ForEach (or a cursor's loop) that
// decodes each record of bucket into a T appended to *out.
func appendTo[T any](bucket string, out *[]T) func(k, v []byte) error {
	return func(k, v []byte) error {
		var x T
		if err := decode(bucket, k, v, &x); err != nil {
			return err
		}
		*out = append(*out, x)
		return nil
	}
}

// collect decodes the records of bucket from k, v on, stepping with next
// (a cursor's Next or Prev), until there are limit of them (<= 0: all).
func collect[T any](bucket string, k, v []byte, next func() ([]byte, []byte), limit int) ([]T, error) {
	var out []T
	add := appendTo(bucket, &out)
	for ; k != nil && (limit <= 0 || len(out) < limit); k, v = next() {
		if err := add(k, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// put stores rec (what it is: "alert") under key.
func put(b *bolt.Bucket, what string, key []byte, rec any) error {
	v, err := encode(what, rec)
	if err != nil {
		return err
	}
	return b.Put(key, v)
}

// putNext stores rec under b's next sequence number, which setSeq writes
// into rec first, so the record's ID in the file and in memory agree.
func putNext(b *bolt.Bucket, what string, rec any, setSeq func(uint64)) error {
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("%s sequence: %w", what, err)
	}
	setSeq(seq)
	return put(b, what, seqKey(seq), rec)
}

// readAll decodes every record of a bucket (what names one in errors),
// in key order; none when the bucket was never written.
func readAll[T any](ctx context.Context, db *DB, bucket []byte, what string) ([]T, error) {
	var out []T
	err := db.viewBucket(ctx, bucket, func(b *bolt.Bucket) error { return b.ForEach(appendTo(what, &out)) })
	if err != nil {
		return nil, fmt.Errorf("store: %s: every %s: %w", db.path, what, err)
	}
	return out, nil
}
