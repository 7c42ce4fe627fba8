package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
)

// The JSON form of the domain types, which the store writes (see
// docs/architecture.md, "The database file"). encoding/json cannot write
// NaN, and NaN is how a sample says "missing": here a missing number is
// null, and null or an absent field reads back as missing. ±Inf, which no
// QoS value can be, is written as null too, so no sample can make a
// commit fail.
//
// Stream, CPUUsage, WiFiRSSI and Sample, the types with float fields, go
// through marshalNulls and unmarshalNulls: the same fields, each float
// written by jsonNum. A float field added later needs no code.

func (s Stream) MarshalJSON() ([]byte, error)   { return marshalNulls(s) }
func (c CPUUsage) MarshalJSON() ([]byte, error) { return marshalNulls(c) }
func (w WiFiRSSI) MarshalJSON() ([]byte, error) { return marshalNulls(w) }
func (s Sample) MarshalJSON() ([]byte, error)   { return marshalNulls(s) }

// UnmarshalJSON starts from every value missing, so null and absent fields
// stay missing.
func (s *Stream) UnmarshalJSON(b []byte) error {
	*s = MissingStream
	return unmarshalNulls(b, s)
}

func (c *CPUUsage) UnmarshalJSON(b []byte) error {
	*c = CPUUsage{NaN, NaN, NaN, NaN}
	return unmarshalNulls(b, c)
}

func (w *WiFiRSSI) UnmarshalJSON(b []byte) error {
	*w = WiFiRSSI{NaN, NaN, NaN}
	return unmarshalNulls(b, w)
}

// UnmarshalJSON starts from NewSample: whatever the JSON leaves out is
// missing, not zero.
func (s *Sample) UnmarshalJSON(b []byte) error {
	*s = NewSample()
	return unmarshalNulls(b, s)
}

// jsonNum is a float64 that marshals NaN and ±Inf as null (null reads
// back as no change: the missing value the field started with).
type jsonNum float64

func (n jsonNum) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// withNulls is a struct type's twin: the same fields and tags, each
// float64 a jsonNum, and no methods (so encoding/json does not call back
// into the type's own MarshalJSON). Built once per type.
func withNulls(t reflect.Type) reflect.Type {
	if twin, ok := twins.Load(t); ok {
		return twin.(reflect.Type)
	}
	fields := make([]reflect.StructField, t.NumField())
	for i := range fields {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Float64 {
			f.Type = reflect.TypeFor[jsonNum]()
		}
		fields[i] = reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag}
	}
	twin, _ := twins.LoadOrStore(t, reflect.StructOf(fields))
	return twin.(reflect.Type)
}

var twins sync.Map // reflect.Type → its withNulls twin

// copyFields copies each field of a struct into the same field of its
// twin, or back.
func copyFields(dst, src reflect.Value) {
	for i := range src.NumField() {
		dst.Field(i).Set(src.Field(i).Convert(dst.Field(i).Type()))
	}
}

// marshalNulls is v (a struct) as JSON, NaN and ±Inf floats as null.
func marshalNulls(v any) ([]byte, error) {
	src := reflect.ValueOf(v)
	twin := reflect.New(withNulls(src.Type())).Elem()
	copyFields(twin, src)
	return json.Marshal(twin.Interface())
}

// unmarshalNulls decodes b into v, a pointer to a struct that holds what
// absent and null fields keep.
func unmarshalNulls(b []byte, v any) error {
	dst := reflect.ValueOf(v).Elem()
	twin := reflect.New(withNulls(dst.Type()))
	copyFields(twin.Elem(), dst)
	if err := json.Unmarshal(b, twin.Interface()); err != nil {
		return err
	}
	copyFields(dst, twin.Elem())
	return nil
}

// MarshalText writes a state by its name ("firing"), so stored alerts
// read the way the API and the docs name their states.
func (s State) MarshalText() ([]byte, error) {
	if int(s) >= len(stateNames) {
		return nil, fmt.Errorf("engine: unknown alert state %d", uint8(s))
	}
	return []byte(stateNames[s]), nil
}

func (s *State) UnmarshalText(b []byte) error {
	i := slices.Index(stateNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("engine: unknown alert state %q", b)
	}
	*s = State(i)
	return nil
}
