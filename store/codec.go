package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"
)

// The value encoding: a leading version byte, then the fields in a fixed
// order, each struct wrapped in a length prefix.
//
// Why not encoding/json: it cannot carry NaN, and NaN is how a sample says
// "missing". Why not gob: every value would carry its type description
// (an Alert with its Sample is ~3x bigger in gob; see BenchmarkEncode).
//
// Evolving it: only APPEND fields at the end of a struct's encode and
// decode. A decoder that reaches the end of a struct leaves the remaining
// fields zero (an older file read by a newer release), and skips bytes it
// does not know (a newer file read by an older release, after a
// downgrade). TestCodecCoversEveryField fails when engine adds a field
// this file does not encode yet.

// valueVersion is the first byte of every stored value.
const valueVersion = 1

var errTruncated = errors.New("value truncated")

type writer struct{ b []byte }

func (w *writer) byte(v byte)         { w.b = append(w.b, v) }
func (w *writer) uint(v uint64)       { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) int(v int64)         { w.b = binary.AppendVarint(w.b, v) }
func (w *writer) str(s string)        { w.uint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *writer) bool(v bool)         { w.b = append(w.b, b2u(v)) }
func (w *writer) dur(d time.Duration) { w.int(int64(d)) }

// float writes NaN (every NaN: the payload is not kept) as one byte, and
// other values as a varint of their byte-reversed bits plus one, so the
// round numbers QoS is full of (0, 2, 150, 3.5) take 1-3 bytes, not 8.
func (w *writer) float(f float64) {
	if math.IsNaN(f) {
		w.uint(0)
		return
	}
	w.uint(bits.ReverseBytes64(math.Float64bits(f)) + 1)
}

// time writes the zero time as one byte; others as Unix seconds and
// nanoseconds. The location is not kept: times come back in UTC.
func (w *writer) time(t time.Time) {
	if t.IsZero() {
		w.byte(0)
		return
	}
	w.byte(1)
	w.int(t.Unix())
	w.uint(uint64(t.Nanosecond()))
}

// labels writes a map sorted by key, so equal maps give equal bytes.
// nil and empty are told apart (count+1), so a value round-trips exactly.
func (w *writer) labels(m map[string]string) {
	if m == nil {
		w.uint(0)
		return
	}
	w.uint(uint64(len(m)) + 1)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.str(k)
		w.str(m[k])
	}
}

// nested writes one struct with a length prefix, so fields can be
// appended to it later without breaking what follows.
func (w *writer) nested(body func(w *writer)) {
	start := len(w.b)
	body(w)
	n := len(w.b) - start
	var pre [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(pre[:], uint64(n))
	w.b = append(w.b, pre[:k]...)           // grow by k
	copy(w.b[start+k:], w.b[start:start+n]) // shift the body right
	copy(w.b[start:], pre[:k])
}

func b2u(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// reader decodes what writer wrote. At the end of its bytes every read
// returns zero without an error: that is how an older, shorter value
// decodes. Corrupt bytes (a length past the end) set err.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uint() uint64 {
	if len(r.b) == 0 {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(fmt.Errorf("bad varint: %w", errTruncated))
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) int() int64 {
	if len(r.b) == 0 {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(fmt.Errorf("bad varint: %w", errTruncated))
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) take(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.fail(fmt.Errorf("length %d past the end: %w", n, errTruncated))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string        { return string(r.take(r.uint())) }
func (r *reader) bool() bool         { return r.byte() != 0 }
func (r *reader) dur() time.Duration { return time.Duration(r.int()) }

// float returns NaN past the end: a float field an older release did not
// write is missing, like every other missing number.
func (r *reader) float() float64 {
	v := r.uint()
	if v == 0 {
		return math.NaN()
	}
	return math.Float64frombits(bits.ReverseBytes64(v - 1))
}

func (r *reader) time() time.Time {
	if r.byte() == 0 {
		return time.Time{}
	}
	sec := r.int()
	nsec := r.uint()
	return time.Unix(sec, int64(nsec)).UTC()
}

func (r *reader) labels() map[string]string {
	n := r.uint()
	if n == 0 {
		return nil
	}
	n--
	if n > uint64(len(r.b)) { // each entry takes at least 2 bytes
		r.fail(fmt.Errorf("%d labels: %w", n, errTruncated))
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

// count reads a slice length written as count+1; -1 means nil.
func (r *reader) count() int {
	n := r.uint()
	if n == 0 {
		return -1
	}
	n--
	if n > uint64(len(r.b)) { // each element takes at least 1 byte
		r.fail(fmt.Errorf("%d elements: %w", n, errTruncated))
		return -1
	}
	return int(n)
}

// nested reads one length-prefixed struct; body sees only its bytes, so
// fields it does not know (from a newer release) are skipped.
func (r *reader) nested(body func(r *reader)) {
	sub := reader{b: r.take(r.uint())}
	body(&sub)
	if sub.err != nil {
		r.fail(sub.err)
	}
}

// version checks the leading version byte of a value.
func (r *reader) version(what string) {
	if len(r.b) == 0 {
		r.fail(fmt.Errorf("empty %s value: %w", what, errTruncated))
		return
	}
	if v := r.byte(); v != valueVersion {
		r.fail(fmt.Errorf("%s value has encoding version %d; this release reads version %d (a newer qoswatch wrote it?)", what, v, valueVersion))
	}
}
