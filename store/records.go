package store

import (
	"encoding/json"
	"fmt"
	"time"

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
