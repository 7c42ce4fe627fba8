package zoomtest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/zoom"
)

// fill sets every field reachable from v: strings to s, ints to n,
// pointers allocated, slices to one element. A field added to the wire
// types later is filled too, so the encoder cannot silently miss it.
func fill(v reflect.Value, s string, n int64) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int64:
		v.SetInt(n)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), s, n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), s, n)
		fill(v.Index(1), s, n)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), s, n)
		}
	}
}

func TestEncoderMatchesEncodingJSON(t *testing.T) {
	check := func(name string, l *zoom.ParticipantQoSList) {
		t.Helper()
		want, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendQoSList(nil, l); string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		if len(l.Participants) > 0 {
			want, _ := json.Marshal(l.Participants[0])
			if got := appendParticipantQoS(nil, &l.Participants[0]); string(got) != string(want) {
				t.Errorf("%s, one participant:\n got %s\nwant %s", name, got, want)
			}
		}
	}
	var full zoom.ParticipantQoSList
	fill(reflect.ValueOf(&full).Elem(), "x", 7)
	check("every field set", &full)
	var odd zoom.ParticipantQoSList
	fill(reflect.ValueOf(&odd).Elem(), "<José & \"Q\"\\\n\u2028\xff>", -3)
	check("strings that need escaping", &odd)
	check("zero", &zoom.ParticipantQoSList{})
	check("empty participant", &zoom.ParticipantQoSList{Participants: []zoom.ParticipantQoS{{}}})
	check("empty wifi", &zoom.ParticipantQoSList{Participants: []zoom.ParticipantQoS{{UserQoS: []zoom.UserQoS{{WiFiRSSI: &zoom.WiFiQoS{}, AudioInput: &zoom.StreamQoS{}}}}}})

	// And what the fake really sends.
	sc := Generate(Gen{Participants: 300, Degraded: 0.3, AudioOnly: 0.2, Guests: 0.2, Churn: 0.3, Seed: 11})
	v := view{sc: sc, now: sc.Start.Add(40 * time.Minute), live: true}
	list := v.joined()
	for off := 0; off < len(list); off += 10 {
		l := v.qosList(list, page{offset: off, size: 10, total: len(list), next: "tok"}, [2]int{30, 40})
		check("generated", &l)
	}
}
