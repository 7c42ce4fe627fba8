package engine

import (
	"reflect"
	"testing"
)

// Every number field a rule can name has a unit, so the explain tool and
// the messages never show a bare number; strings have none.
func TestEveryNumberFieldHasAUnit(t *testing.T) {
	var walk func(t reflect.Type, prefix string)
	numbers := 0
	walk = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := prefix + f.Tag.Get("expr")
			switch f.Type.Kind() {
			case reflect.Float64:
				numbers++
				if Unit(name) == "" {
					t.Errorf("%s: no unit", name)
				}
			case reflect.String:
				if u := Unit(name); u != "" {
					t.Errorf("%s is a string but has unit %q", name, u)
				}
			case reflect.Struct:
				walk(f.Type, name+".")
			}
		}
	}
	walk(reflect.TypeFor[Sample](), "")
	if numbers < 40 {
		t.Fatalf("walked %d number fields; the sample has more", numbers)
	}
	for field, want := range map[string]string{
		"audio_input.avg_loss": "%", "max_loss": "%", "latency": "ms", "video_output.jitter": "ms",
		"as_input.bitrate": "kbps", "video_input.frame_rate": "fps", "video_input.width": "px",
		"cpu_usage.system_max_cpu_usage": "%", "wifi_rssi.min_rssi": "dBm", "participant.user_name": "",
	} {
		if got := Unit(field); got != want {
			t.Errorf("Unit(%q) = %q, want %q", field, got, want)
		}
	}
}
