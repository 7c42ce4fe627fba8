package store

import (
	"encoding/json"
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
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Unix(1_700_000_000+int64(*n)*61, int64(*n)*1000+7).UTC()))
		return
	case reflect.TypeFor[engine.State]():
		v.Set(reflect.ValueOf(engine.StateResolving))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d\x00é<\"", *n)) // a NUL, UTF-8 and what JSON escapes
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n) * 1e9)
	case reflect.Uint64, reflect.Uint:
		v.SetUint(uint64(*n)<<40 + 1) // beyond a float64's exact integers
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			e := reflect.New(v.Type().Elem()).Elem()
			fill(k, n)
			fill(e, n)
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
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("json") != "-" { // json:"-": the engine's views, never stored
				fill(v.Field(i), n)
			}
		}
	case reflect.Pointer: // a record's optional part (an alert's shared cause)
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), n)
		v.Set(p)
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

func roundTrip[T any](t *testing.T, name string, want T) T {
	t.Helper()
	b, err := encode(name, &want)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var got T
	if err := decode(name, []byte("k"), b, &got); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, b)
	}
	return got
}

// TestRecordsCoverEveryField: every field of every stored type survives
// the file, so a field engine adds later is stored without more code (or
// this fails and says which type).
func TestRecordsCoverEveryField(t *testing.T) {
	check := func(name string, want, got any) {
		t.Helper()
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s does not round-trip through its JSON record\nwant %+v\n got %+v", name, want, got)
		}
	}
	a := filled[engine.Alert]()
	check("Alert", a, roundTrip(t, "alert", a))
	n := filled[engine.Notification]()
	check("Notification", n, roundTrip(t, "notification", n))
	s := filled[engine.Silence]()
	check("Silence", s, roundTrip(t, "silence", s))
	c := filled[engine.Cursor]()
	check("Cursor", c, roundTrip(t, "cursor", c))
	r := storedRef{MessageRef: filled[engine.MessageRef](), At: time.Unix(1_800_000_000, 5).UTC()}
	check("MessageRef", r, roundTrip(t, "ref", r))
}

// A missing number is null in the file and missing (NaN) when read back;
// so is a field an older record does not have. ±Inf, which no QoS value
// can be, is stored as missing rather than failing the commit.
func TestRecordsKeepMissingNumbers(t *testing.T) {
	s := engine.NewSample()
	s.AudioInput.AvgLoss = 3.5
	s.VideoInput.Latency = math.Inf(1)
	s.WiFiRSSI.MinRSSI = math.Inf(-1)
	s.CPUUsage.ZoomAvgCPUUsage = 0 // a real zero stays zero
	a := engine.Alert{Key: engine.AlertKey{Rule: "r", Source: "webinar:1", Participant: "u"}, Sample: s}
	b, err := encode("alert", &a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"avg_loss":3.5`) || !strings.Contains(string(b), `"max_rssi":null`) {
		t.Errorf("record %s: want avg_loss 3.5 and a missing RSSI as null", b)
	}
	got := roundTrip(t, "alert", a)
	if got.Sample.AudioInput.AvgLoss != 3.5 || got.Sample.CPUUsage.ZoomAvgCPUUsage != 0 {
		t.Errorf("avg_loss = %v, zoom_avg_cpu_usage = %v; want 3.5 and 0", got.Sample.AudioInput.AvgLoss, got.Sample.CPUUsage.ZoomAvgCPUUsage)
	}
	for name, f := range map[string]float64{
		"audio_input.latency": got.Sample.AudioInput.Latency, "video_output.width": got.Sample.VideoOutput.Width,
		"video_input.latency (+Inf)": got.Sample.VideoInput.Latency, "wifi_rssi.min_rssi (-Inf)": got.Sample.WiFiRSSI.MinRSSI,
		"cpu_usage.zoom_min_cpu_usage": got.Sample.CPUUsage.ZoomMinCPUUsage, "latency": got.Sample.Latency,
	} {
		if !math.IsNaN(f) {
			t.Errorf("%s = %v, want NaN (missing)", name, f)
		}
	}

	// An older record: a sample with only one stream's bitrate.
	var old engine.Alert
	if err := decode("alert", []byte("k"), []byte(`{"key":{"rule":"r"},"state":"firing","sample":{"audio_input":{"bitrate":12}}}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.State != engine.StateFiring || old.Sample.AudioInput.Bitrate != 12 || !math.IsNaN(old.Sample.AudioInput.Latency) ||
		!math.IsNaN(old.Sample.VideoOutput.FrameRate) || !math.IsNaN(old.Sample.AvgLoss) || !math.IsNaN(old.Sample.WiFiRSSI.AvgRSSI) {
		t.Errorf("an older record read as %+v; want bitrate 12 and every other number missing", old.Sample)
	}
}

// A record that is not what the store wrote is an error naming its
// bucket and key, never a panic.
func TestRecordsRefuseGarbage(t *testing.T) {
	a := filled[engine.Alert]()
	b, err := encode("alert", &a)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b { // every truncation
		var got engine.Alert
		_ = decode("alert", []byte("k"), b[:i], &got)
	}
	var got engine.Alert
	err = decode("alert", []byte("choppy-audio"), []byte(`{"state":"exploded"}`), &got)
	if err == nil || !strings.Contains(err.Error(), `alert "choppy-audio"`) || !strings.Contains(err.Error(), `unknown alert state "exploded"`) {
		t.Errorf("err = %v", err)
	}
	if err := decode("alert", []byte("k"), b[:len(b)/2], &got); err == nil {
		t.Error("half a record decoded without an error")
	}
}

// The stored form is readable: snake_case names, states by name, zero
// times left out.
func TestRecordsAreReadable(t *testing.T) {
	a := alert(key("choppy-audio", "u1"), engine.StateFiring, t0)
	b, err := encode("alert", &a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["state"] != "firing" || m["last_sample"] != "2026-11-28T09:00:00Z" || m["resolved_at"] != nil {
		t.Errorf("record %s: want state \"firing\", last_sample in RFC 3339, no resolved_at", b)
	}
}
