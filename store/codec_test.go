package store

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// fill sets every field reachable from v to a distinct non-zero value, so
// a round trip that drops or swaps any field (say, one engine added later)
// is caught by reflect.DeepEqual.
func fill(v reflect.Value, n *int) {
	*n++
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Unix(1_700_000_000+int64(*n)*61, int64(*n)*1000+7).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d\x00é", *n)) // a NUL and UTF-8, to be sure
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n) * 1e9)
	case reflect.Uint8:
		v.SetUint(uint64(*n%200 + 1))
	case reflect.Uint64, reflect.Uint:
		v.SetUint(uint64(*n) << 40)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			e := reflect.New(v.Type().Elem()).Elem()
			fill(k, n)
			fill(e, n)
			_ = i
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	default:
		panic(fmt.Sprintf("fill: add a case for %s (%s)", v.Type(), v.Kind()))
	}
}

func filled[T any]() T {
	var v T
	n := 0
	fill(reflect.ValueOf(&v).Elem(), &n)
	return v
}

// TestCodecCoversEveryField fails when a stored engine type gains a field
// that values.go does not encode: add it there, at the end of its struct.
func TestCodecCoversEveryField(t *testing.T) {
	check := func(name string, want, got any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s does not round-trip (a field missing from store/values.go?)\nwant %+v\n got %+v", name, want, got)
		}
	}
	a := filled[engine.Alert]()
	ga, err := decodeAlert(encodeAlert(nil, &a))
	check("Alert", a, ga, err)

	n := filled[engine.Notification]()
	gn, err := decodeNotification(encodeNotification(nil, &n))
	check("Notification", n, gn, err)

	s := filled[engine.Silence]()
	gs, err := decodeSilence(encodeSilence(&s))
	check("Silence", s, gs, err)

	c := filled[engine.Cursor]()
	gc, err := decodeCursor(encodeCursor(&c))
	check("Cursor", c, gc, err)

	r := storedRef{MessageRef: filled[engine.MessageRef](), At: time.Unix(1_800_000_000, 5).UTC()}
	gr, err := decodeRef(encodeRef(r))
	check("MessageRef", r, gr, err)
}

// Nil and empty maps and slices come back as they went in.
func TestCodecNilVersusEmpty(t *testing.T) {
	for _, a := range []engine.Alert{
		{Labels: nil, Explain: nil},
		{Labels: map[string]string{}, Explain: []engine.Term{}},
	} {
		got, err := decodeAlert(encodeAlert(nil, &a))
		if err != nil {
			t.Fatal(err)
		}
		if (got.Labels == nil) != (a.Labels == nil) || (got.Explain == nil) != (a.Explain == nil) {
			t.Errorf("labels %#v explain %#v came back as %#v %#v", a.Labels, a.Explain, got.Labels, got.Explain)
		}
	}
}

func TestCodecFloats(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 2.5, 150, 27.15, -65, 1e-300, math.MaxFloat64,
		math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1)} {
		w := writer{}
		w.float(f)
		r := reader{b: w.b}
		got := r.float()
		if math.Float64bits(got) != math.Float64bits(f) || r.err != nil || len(r.b) != 0 {
			t.Errorf("%v came back as %v (err %v, %d bytes left)", f, got, r.err, len(r.b))
		}
	}
	w := writer{}
	w.float(math.NaN())
	if len(w.b) != 1 {
		t.Errorf("NaN takes %d bytes, want 1", len(w.b))
	}
	r := reader{b: w.b}
	if got := r.float(); !math.IsNaN(got) {
		t.Errorf("NaN came back as %v", got)
	}
}

// A sample with every number missing keeps them missing (encoding/json
// could not store it at all).
func TestCodecNaNSample(t *testing.T) {
	s := engine.NewSample()
	s.AudioInput.AvgLoss = 3.5
	a := engine.Alert{Key: engine.AlertKey{Rule: "r", Source: "webinar:1", Participant: "u"}, Sample: s}
	got, err := decodeAlert(encodeAlert(nil, &a))
	if err != nil {
		t.Fatal(err)
	}
	if got.Sample.AudioInput.AvgLoss != 3.5 {
		t.Errorf("avg_loss = %v, want 3.5", got.Sample.AudioInput.AvgLoss)
	}
	for name, f := range map[string]float64{
		"audio_input.latency": got.Sample.AudioInput.Latency, "video_output.width": got.Sample.VideoOutput.Width,
		"cpu_usage.zoom_min_cpu_usage": got.Sample.CPUUsage.ZoomMinCPUUsage, "wifi_rssi.min_rssi": got.Sample.WiFiRSSI.MinRSSI,
		"latency": got.Sample.Latency, "max_loss": got.Sample.MaxLoss,
	} {
		if !math.IsNaN(f) {
			t.Errorf("%s = %v, want NaN (missing)", name, f)
		}
	}
}

// An older release wrote fewer fields; a newer one more. Both decode.
func TestCodecEvolution(t *testing.T) {
	// A "version 1 minus" Source: only kind and id. The rest is zero.
	w := writer{}
	w.nested(func(w *writer) { w.str("webinar"); w.str("42") })
	// A stream from a release that knew only bitrate: the rest is missing.
	w.nested(func(w *writer) { w.float(12) })
	// A term from a newer release with a field we do not know.
	w.nested(func(w *writer) {
		w.str("latency")
		w.str("200")
		w.str(">")
		w.str("150")
		w.bool(true)
		w.str("a field from the future")
	})
	w.str("after")

	r := reader{b: w.b}
	var src engine.Source
	r.source(&src)
	var st engine.Stream
	r.stream(&st)
	var term engine.Term
	r.nested(func(r *reader) {
		term.Field, term.Value, term.Op, term.Threshold, term.Holds = r.str(), r.str(), r.str(), r.str(), r.bool()
	})
	after := r.str()
	if r.err != nil {
		t.Fatal(r.err)
	}
	if src != (engine.Source{Kind: engine.Webinar, ID: "42"}) {
		t.Errorf("older source = %+v", src)
	}
	if st.Bitrate != 12 || !math.IsNaN(st.Latency) || !math.IsNaN(st.Height) || st.Resolution != "" {
		t.Errorf("older stream = %+v, want bitrate 12 and the rest missing", st)
	}
	if !term.Holds || term.Threshold != "150" || after != "after" {
		t.Errorf("newer term = %+v, then %q", term, after)
	}
}

// Garbage never panics: every truncation and a flipped byte anywhere of a
// real value decode to a value or an error.
func TestCodecGarbage(t *testing.T) {
	a := filled[engine.Alert]()
	b := encodeAlert(nil, &a)
	for i := range b {
		_, _ = decodeAlert(b[:i])
		c := append([]byte(nil), b...)
		c[i] ^= 0xA5
		_, _ = decodeAlert(c)
	}
	_, err := decodeAlert(nil)
	if err == nil || !strings.Contains(err.Error(), "empty alert value") {
		t.Errorf("empty value: err = %v", err)
	}
	_, err = decodeAlert(b[:len(b)/2])
	if err == nil {
		t.Errorf("half an alert decoded without an error")
	}
	future := append([]byte{valueVersion + 1}, b[1:]...)
	_, err = decodeNotification(future)
	if err == nil || !strings.Contains(err.Error(), "notification value has encoding version 2") {
		t.Errorf("newer version: err = %v", err)
	}
}

func TestKeysSort(t *testing.T) {
	ordered := [][]string{
		{"a", "webinar:1", "u"},
		{"a", "webinar:1", "u\x00"},
		{"a", "webinar:1", "ua"},
		{"a", "webinar:10", ""},
		{"a\x00", "", ""},
		{"ab", "", ""},
		{"b", "", ""},
	}
	for i := 1; i < len(ordered); i++ {
		p, q := joinKey(ordered[i-1]...), joinKey(ordered[i]...)
		if string(p) >= string(q) {
			t.Errorf("key %q does not sort before %q", ordered[i-1], ordered[i])
		}
	}
	if string(joinKey("a\x00", "b")) == string(joinKey("a", "\x00b")) {
		t.Error("parts with NUL collide")
	}
	for i, pair := range [][2]uint64{{1, 2}, {255, 256}, {65535, 65536}, {1 << 40, 1<<40 + 1}} {
		if string(seqKey(pair[0])) >= string(seqKey(pair[1])) {
			t.Errorf("%d: seq %d does not sort before %d", i, pair[0], pair[1])
		}
	}
	berlin := time.FixedZone("CET", 3600)
	if got := string(dayKey(time.Date(2026, 11, 29, 0, 30, 0, 0, berlin))); got != "2026-11-28" {
		t.Errorf("day of 00:30 CET = %s, want the UTC date 2026-11-28", got)
	}
}
