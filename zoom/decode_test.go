package zoom

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

var pageSeeds = []string{
	`{"page_count":3,"page_size":10,"total_records":25,"next_page_token":"tok","participants":[
	  {"id":"u1","user_id":"1","user_name":"Ann","device":"Mac","join_time":"2026-11-28T09:00:00Z","user_qos":[
	    {"date_time":"2026-11-28T09:01:00Z","audio_input":{"bitrate":"27.15kbps","latency":"126 ms","jitter":"6 ms","avg_loss":"0.3%","max_loss":"1.9%"},
	     "video_input":{"bitrate":"1.2 Mbps","latency":"129 ms","jitter":"11 ms","avg_loss":"0.0%","max_loss":"4.9%","resolution":"1280*720","frame_rate":"12 fps"},
	     "as_input":{"bitrate":"","latency":"-","jitter":"","avg_loss":"","max_loss":"","resolution":"0*0","frame_rate":""},
	     "cpu_usage":{"zoom_min_cpu_usage":"8%","zoom_avg_cpu_usage":"12%","zoom_max_cpu_usage":"18%","system_max_cpu_usage":"40%"},
	     "wifi_rssi":{"max_rssi":-40,"avg_rssi":-55,"min_rssi":-71,"rssi_unit":"dBm"}},
	    {"date_time":"bad"},
	    null]},
	  {"user_qos":[{"date_time":"2026-11-28T09:01:00Z","audio_output":null,"cpu_usage":null,"wifi_rssi":{"max_rssi":null}}],"user_id":"2","leave_time":"2026-11-28T09:03:00Z","extra":{"a":[1,2.5e3,true,false,null,"x\"y"]}}]}`,
	`{"participants":[{"User_Id":"3","user_qos":[]}]}`,
	`{"participants":[{"user_name":"O\u0027Brien","user_qos":[]}]}`,
	`{"participants":[],"page_count":"integer [int64]"}`,
	`{"participants":[{"user_qos":[{"date_time":"2026-11-28T09:01:00Z","wifi_rssi":{"max_rssi":-40.5,"avg_rssi":"-67.5","min_rssi":{}}}]}]}`,
	`{"participants":[{"user_qos":[{"date_time":"2026-11-28T09:01:00Z","audio_input":{"bitrate":23,"latency":true,"jitter":[1],"avg_loss":{"a":1},"max_loss":"1e22 %"}}]}]}`,
	`{"participants":[{"user_qos":[{"cpu_usage":{}}]}]}`, // issue 15 item 17
	`{"page_count":01}`,
	`{"participants":null} x`,
	"{\"participants\":[]}\x00",
	`[]`,
	``,
}

// checkSample fails t for a number outside what its unit can have: no
// value a rule sees is impossible.
func checkSample(t *testing.T, s *engine.Sample) {
	t.Helper()
	in := func(name string, v float64, d dim) {
		if !math.IsNaN(v) && !possible(v, d) {
			t.Errorf("%s = %v, outside %v", name, v, limits[d])
		}
	}
	for i, st := range []*engine.Stream{&s.AudioInput, &s.AudioOutput, &s.VideoInput, &s.VideoOutput, &s.ASInput, &s.ASOutput} {
		in("bitrate", st.Bitrate, dimBitrate)
		in("latency", st.Latency, dimTime)
		in("jitter", st.Jitter, dimTime)
		in("avg_loss", st.AvgLoss, dimPercent)
		in("max_loss", st.MaxLoss, dimPercent)
		in("frame_rate", st.FrameRate, dimRate)
		in("width", st.Width, dimPixels)
		in("height", st.Height, dimPixels)
		if math.IsNaN(st.Width) != math.IsNaN(st.Height) || (st.Resolution == "") != math.IsNaN(st.Width) {
			t.Errorf("stream %d: resolution %q is %v*%v", i, st.Resolution, st.Width, st.Height)
		}
	}
	for _, v := range []float64{s.CPUUsage.ZoomMinCPUUsage, s.CPUUsage.ZoomAvgCPUUsage, s.CPUUsage.ZoomMaxCPUUsage, s.CPUUsage.SystemMaxCPUUsage, s.AvgLoss, s.MaxLoss} {
		in("percent", v, dimPercent)
	}
	for _, v := range []float64{s.WiFiRSSI.MaxRSSI, s.WiFiRSSI.AvgRSSI, s.WiFiRSSI.MinRSSI} {
		in("rssi", v, dimSignal)
	}
	in("latency", s.Latency, dimTime)
	in("jitter", s.Jitter, dimTime)
	if s.Time.IsZero() {
		t.Error("a sample without a time")
	}
}

// Whatever the body: no panic; a page that does not decode counts
// nothing; a page that does gives one sample per minute with an RFC 3339
// date_time, and every number in them is possible for its unit.
func FuzzPageDecoder(f *testing.F) {
	for _, s := range pageSeeds {
		f.Add([]byte(s))
	}
	f.Add(benchPage(f))
	if ref, err := os.ReadFile("testdata/reference-participants-qos.json"); err == nil {
		f.Add(ref)
	}
	src := engine.Source{Kind: engine.Webinar, ID: "1", Live: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := ParseStats()
		page, samples, err := new(PageDecoder).Decode(body, src)
		if err != nil {
			if d := statsDelta(before, ParseStats()); d != (ValueStats{}) || page != (Page{}) || samples != nil {
				t.Fatalf("a page that failed (%v) gave %+v, %d samples and counted %+v", err, page, len(samples), d)
			}
			return
		}
		var minutes struct {
			Participants []struct {
				UserQoS []struct {
					DateTime string `json:"date_time"`
				} `json:"user_qos"`
			} `json:"participants"`
		}
		if err := json.Unmarshal(body, &minutes); err != nil {
			t.Fatalf("Decode took a page encoding/json refuses: %v", err)
		}
		want := 0
		for _, p := range minutes.Participants {
			for _, q := range p.UserQoS {
				if _, err := time.Parse(time.RFC3339, q.DateTime); err == nil {
					want++
				}
			}
		}
		if len(samples) != want {
			t.Errorf("%d samples, want %d (one per minute with a date_time)", len(samples), want)
		}
		for i := range samples {
			checkSample(t, &samples[i])
		}
	})
}

// Issue 15 item 17: a minute without a date_time is skipped and counted
// as a bad time; its cpu_usage, present but empty, is not counted (the
// minute is not a sample). It was counted 4 times by one decoder and 0 by
// the other.
func TestSkippedMinuteCountsOnlyItsTime(t *testing.T) {
	before := ParseStats()
	_, samples, err := new(PageDecoder).Decode([]byte(`{"participants":[{"user_qos":[{"cpu_usage":{}}]}]}`), engine.Source{Kind: engine.Webinar, ID: "1"})
	if err != nil || len(samples) != 0 {
		t.Fatalf("Decode: %v, %d samples", err, len(samples))
	}
	if d := statsDelta(before, ParseStats()); d != (ValueStats{BadTimes: 1}) {
		t.Errorf("counted %+v, want one bad time", d)
	}
}

// onePage is one participant's minute with every QoS value present; slot
// names one of them, replaced by value (raw JSON).
func onePage(slot, value string) []byte {
	vals := map[string]string{
		"bitrate": `"900 kbps"`, "latency": `"80 ms"`, "jitter": `"4 ms"`, "avg_loss": `"0.5%"`, "max_loss": `"2%"`,
		"resolution": `"1280*720"`, "frame_rate": `"25 fps"`,
		"zoom_min_cpu_usage": `"8%"`, "zoom_avg_cpu_usage": `"12%"`, "zoom_max_cpu_usage": `"18%"`, "system_max_cpu_usage": `"40%"`,
		"max_rssi": `-40`, "avg_rssi": `-55`, "min_rssi": `-71`, "rssi_unit": `"dBm"`,
	}
	if slot != "" {
		vals[slot] = value
	}
	var b strings.Builder
	b.WriteString(`{"participants":[{"user_id":"1","user_qos":[{"date_time":"2026-11-28T09:01:00Z","video_input":{`)
	sep := ""
	for _, k := range []string{"bitrate", "latency", "jitter", "avg_loss", "max_loss", "resolution", "frame_rate"} {
		b.WriteString(sep + `"` + k + `":` + vals[k])
		sep = ","
	}
	b.WriteString(`},"cpu_usage":{`)
	sep = ""
	for _, k := range []string{"zoom_min_cpu_usage", "zoom_avg_cpu_usage", "zoom_max_cpu_usage", "system_max_cpu_usage"} {
		b.WriteString(sep + `"` + k + `":` + vals[k])
		sep = ","
	}
	b.WriteString(`},"wifi_rssi":{`)
	sep = ""
	for _, k := range []string{"max_rssi", "avg_rssi", "min_rssi", "rssi_unit"} {
		b.WriteString(sep + `"` + k + `":` + vals[k])
		sep = ","
	}
	b.WriteString(`}}]}]}`)
	return []byte(b.String())
}

var slots = []string{"bitrate", "latency", "jitter", "avg_loss", "max_loss", "resolution", "frame_rate",
	"zoom_min_cpu_usage", "zoom_avg_cpu_usage", "zoom_max_cpu_usage", "system_max_cpu_usage", "max_rssi", "avg_rssi", "min_rssi", "rssi_unit"}

// slotValue is what a rule sees of slot in s.
func slotValue(s *engine.Sample, slot string) float64 {
	v := &s.VideoInput
	return map[string]float64{
		"bitrate": v.Bitrate, "latency": v.Latency, "jitter": v.Jitter, "avg_loss": v.AvgLoss, "max_loss": v.MaxLoss,
		"resolution": v.Width, "frame_rate": v.FrameRate,
		"zoom_min_cpu_usage": s.CPUUsage.ZoomMinCPUUsage, "zoom_avg_cpu_usage": s.CPUUsage.ZoomAvgCPUUsage,
		"zoom_max_cpu_usage": s.CPUUsage.ZoomMaxCPUUsage, "system_max_cpu_usage": s.CPUUsage.SystemMaxCPUUsage,
		"max_rssi": s.WiFiRSSI.MaxRSSI, "avg_rssi": s.WiFiRSSI.AvgRSSI, "min_rssi": s.WiFiRSSI.MinRSSI,
	}[slot]
}

// decodeOne decodes onePage(slot, value) and checks that the page
// decoded, that every other value is what the page said, and that the
// values are possible. It returns the slot's value and what was counted.
func decodeOne(t *testing.T, slot, value string) (float64, ValueStats) {
	t.Helper()
	src := engine.Source{Kind: engine.Webinar, ID: "1"}
	_, ref, err := new(PageDecoder).Decode(onePage("", ""), src)
	if err != nil || len(ref) != 1 {
		t.Fatalf("the healthy page: %v, %d samples", err, len(ref))
	}
	before := ParseStats()
	_, got, err := new(PageDecoder).Decode(onePage(slot, value), src)
	counted := statsDelta(before, ParseStats())
	if err != nil || len(got) != 1 {
		t.Fatalf("%s = %s failed the page: %v, %d samples", slot, value, err, len(got))
	}
	checkSample(t, &got[0])
	for _, other := range slots {
		if other != slot && other != "rssi_unit" && slotValue(&got[0], other) != slotValue(&ref[0], other) {
			t.Errorf("%s = %s changed %s: %v, was %v", slot, value, other, slotValue(&got[0], other), slotValue(&ref[0], other))
		}
	}
	return slotValue(&got[0], slot), counted
}

// Issue 15 item 10: one unexpected value is that value missing, counted
// by cause, never the page. Before, a decimal avg_rssi failed every page.
func TestOneUnexpectedValueIsThatValueMissing(t *testing.T) {
	tests := []struct {
		slot, value string
		want        float64 // NaN: missing
		cause       ValueStats
	}{
		{"avg_rssi", `-67.5`, -67.5, ValueStats{}},
		{"avg_rssi", `"-67"`, -67, ValueStats{}},
		{"avg_rssi", `"-67 dBm"`, -67, ValueStats{}},
		{"avg_rssi", `"weak"`, math.NaN(), ValueStats{Unparseable: 1}},
		{"avg_rssi", `{}`, math.NaN(), ValueStats{Unparseable: 1}},
		{"avg_rssi", `12`, math.NaN(), ValueStats{Impossible: 1}},
		{"min_rssi", `-6.75e1`, math.NaN(), ValueStats{Unparseable: 1}}, // not how Zoom writes a number
		{"bitrate", `23`, 23, ValueStats{}},                             // a bare number: kbps
		{"bitrate", `"-23 kbps"`, math.NaN(), ValueStats{Impossible: 1}},
		{"bitrate", `true`, math.NaN(), ValueStats{Unparseable: 1}},
		{"latency", `"1e22 ms"`, math.NaN(), ValueStats{Unparseable: 1}},
		{"latency", `"10000000000000000000000 ms"`, math.NaN(), ValueStats{Impossible: 1}},
		{"latency", `[126]`, math.NaN(), ValueStats{Unparseable: 1}},
		{"latency", `null`, math.NaN(), ValueStats{Blank: 1}},
		{"jitter", `"4\u0020ms"`, 4, ValueStats{}},
		{"avg_loss", `"101%"`, math.NaN(), ValueStats{Impossible: 1}},
		{"max_loss", `"-"`, math.NaN(), ValueStats{Blank: 1}},
		{"frame_rate", `"-12 fps"`, math.NaN(), ValueStats{Impossible: 1}},
		{"frame_rate", `12`, 12, ValueStats{}},
		{"resolution", `1280`, math.NaN(), ValueStats{Unparseable: 1}},
		{"resolution", `"0*720"`, math.NaN(), ValueStats{Impossible: 1}},
		{"zoom_avg_cpu_usage", `"250%"`, math.NaN(), ValueStats{Impossible: 1}},
		{"system_max_cpu_usage", `{"a":[1,2]}`, math.NaN(), ValueStats{Unparseable: 1}},
	}
	for _, tt := range tests {
		got, counted := decodeOne(t, tt.slot, tt.value)
		if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && got != tt.want) {
			t.Errorf("%s = %s: %v, want %v", tt.slot, tt.value, got, tt.want)
		}
		if counted != tt.cause {
			t.Errorf("%s = %s: counted %+v, want %+v", tt.slot, tt.value, counted, tt.cause)
		}
	}
}

// Any JSON value in any QoS slot: the page decodes, the other values stand,
// and the slot is a possible number or missing.
func FuzzOneValue(f *testing.F) {
	for _, v := range []string{`-67.5`, `"-67.5"`, `{}`, `[]`, `true`, `null`, `"1e22 ms"`, `"-3 fps"`, `"101%"`, `1e400`, `"\u0031 ms"`, `"x\"y"`, `0`} {
		f.Add(uint8(0), v)
		f.Add(uint8(12), v)
	}
	f.Fuzz(func(t *testing.T, slot uint8, value string) {
		if !json.Valid([]byte(value)) {
			return
		}
		decodeOne(t, slots[int(slot)%len(slots)], value)
	})
}
