package zoom

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// The sample response of Zoom's API reference, as a rule sees it. Its
// paging fields hold type placeholders, so only participants is decoded.
func TestReferenceSampleGolden(t *testing.T) {
	body, err := os.ReadFile("testdata/reference-participants-qos.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Participants []ParticipantQoS `json:"participants"`
	}
	if err := json.Unmarshal(body, &ref); err != nil {
		t.Fatal(err)
	}
	src := engine.Source{Kind: engine.Webinar, ID: "123", Live: true}
	before := ParseStats()
	got := AppendSamples(nil, src, &ref.Participants[0])
	if d := ParseStats().Unparseable - before.Unparseable; d != 0 {
		t.Errorf("the reference response has %d unparseable values, want 0", d)
	}
	at := time.Date(2021, 6, 24, 20, 0, 0, 0, time.UTC)
	nan := math.NaN()
	stream := func(bitrate, latency, jitter, avg, max float64) engine.Stream {
		return engine.Stream{Bitrate: bitrate, Latency: latency, Jitter: jitter, AvgLoss: avg, MaxLoss: max, FrameRate: nan, Width: nan, Height: nan}
	}
	video := func(s engine.Stream, fps, w, h float64, res string) engine.Stream {
		s.FrameRate, s.Width, s.Height, s.Resolution = fps, w, h, res
		return s
	}
	want := []engine.Sample{{
		Source: src,
		Participant: engine.Participant{
			UserID: "1670000000", UserName: "User", Device: "Android", IPAddress: "192.0.2.0",
			Location: "San Jose (US)", JoinTime: at, LeaveTime: at, PCName: "User's Phone",
			Domain: "user-android", Version: "4.4.55383.0726",
		},
		Time:        at,
		AudioInput:  stream(23, 126, 6, 0.3, 1.9),
		AudioOutput: stream(63, 134, 6, 0, 0),
		VideoInput:  video(stream(1055, 129, 11, 0, 4.9), 12, 1280, 720, "1280*720"),
		VideoOutput: video(stream(673, 135, 11, 0, 0), 22, 640, 360, "640*360"),
		ASInput:     stream(70, 135, 8, 0, 0), // "0*0" and frame_rate "": no picture
		ASOutput:    stream(70, 135, 8, 0, 0),
		CPUUsage:    engine.CPUUsage{ZoomMinCPUUsage: 8, ZoomAvgCPUUsage: 12, ZoomMaxCPUUsage: 18, SystemMaxCPUUsage: 40},
		WiFiRSSI:    engine.WiFiRSSI{MaxRSSI: nan, AvgRSSI: nan, MinRSSI: nan},
		Latency:     135, Jitter: 11, AvgLoss: 0.3, MaxLoss: 4.9,
	}}
	if !sameSamples(got, want) {
		t.Errorf("reference sample:\n got %+v\nwant %+v", got, want)
	}
}

func TestAppendSamplesMissing(t *testing.T) {
	p := ParticipantQoS{
		UserID: "16778240", UserName: "Guest", // a guest: blank id
		JoinTime: "2026-11-28T09:00:00Z",
		UserQoS: []UserQoS{
			{ // audio only: video streams absent, as_input all blank
				DateTime:   "2026-11-28T09:01:00Z",
				AudioInput: &StreamQoS{Bitrate: "27.15kbps", Latency: "210 ms", Jitter: "12ms", AvgLoss: "3.1%", MaxLoss: "9%"},
				ASInput:    &StreamQoS{Bitrate: "", Latency: "-", Jitter: "", AvgLoss: "", MaxLoss: "", Resolution: "", FrameRate: ""},
				WiFiRSSI:   &WiFiQoS{MaxRSSI: "-40", AvgRSSI: "-55", MinRSSI: "-71", RSSIUnit: "dBm"},
			},
			{DateTime: "yesterday"}, // no usable time: skipped
			{DateTime: "2026-11-28T09:02:00Z"},
		},
	}
	before := ParseStats()
	got := AppendSamples(nil, engine.Source{Kind: engine.Meeting, ID: "9"}, &p)
	if len(got) != 2 {
		t.Fatalf("got %d samples, want 2 (the minute without a time skipped)", len(got))
	}
	if d := ParseStats().BadTimes - before.BadTimes; d != 1 {
		t.Errorf("bad times counted %d, want 1", d)
	}
	s := got[0]
	if s.Participant.Key() != "16778240" || s.Participant.ID != "" {
		t.Errorf("guest participant = %+v, want key user_id 16778240 and blank id", s.Participant)
	}
	if s.AudioInput.Bitrate != 27.15 || s.AudioInput.Latency != 210 || s.AudioInput.AvgLoss != 3.1 {
		t.Errorf("audio_input = %+v", s.AudioInput)
	}
	for name, st := range map[string]engine.Stream{"video_input": s.VideoInput, "video_output": s.VideoOutput, "as_input": s.ASInput} {
		if !sameFloats(reflect.ValueOf(st), reflect.ValueOf(engine.MissingStream)) || st.Resolution != "" {
			t.Errorf("%s = %+v, want all missing", name, st)
		}
	}
	if s.Latency != 210 || s.Jitter != 12 || s.AvgLoss != 3.1 || s.MaxLoss != 9 {
		t.Errorf("aggregates = %v %v %v %v, want the audio stream's", s.Latency, s.Jitter, s.AvgLoss, s.MaxLoss)
	}
	if s.WiFiRSSI != (engine.WiFiRSSI{MaxRSSI: -40, AvgRSSI: -55, MinRSSI: -71}) {
		t.Errorf("wifi_rssi = %+v", s.WiFiRSSI)
	}
	if !math.IsNaN(s.CPUUsage.ZoomAvgCPUUsage) {
		t.Errorf("cpu_usage absent but zoom_avg_cpu_usage = %v", s.CPUUsage.ZoomAvgCPUUsage)
	}
	if e := got[1]; !math.IsNaN(e.Latency) || !math.IsNaN(e.AudioInput.Bitrate) || !e.Time.Equal(time.Date(2026, 11, 28, 9, 2, 0, 0, time.UTC)) {
		t.Errorf("empty minute = %+v, want all missing at 09:02", e)
	}
}

func TestMergeParticipant(t *testing.T) {
	p := engine.Participant{UserID: "1", UserName: "Ann", Location: "Berlin (DE)", Device: "Mac"}
	MergeParticipant(&p, &ParticipantMetrics{
		UserID: "1", Email: "ann@example.com", NetworkType: "Wifi", DataCenter: "Frankfurt (DE)",
		Role: "panelist", AudioQuality: "poor", VideoQuality: "good", ScreenShareQuality: "",
		JoinTime: "2026-11-28T09:00:00Z",
	})
	want := engine.Participant{
		UserID: "1", UserName: "Ann", Location: "Berlin (DE)", Device: "Mac",
		Email: "ann@example.com", NetworkType: "Wifi", DataCenter: "Frankfurt (DE)", Role: "panelist",
		AudioQuality: "poor", VideoQuality: "good", JoinTime: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC),
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("merged:\n got %+v\nwant %+v", p, want)
	}
}

func TestPageDecoderDoesNotLeakBetweenPages(t *testing.T) {
	var d PageDecoder
	src := engine.Source{Kind: engine.Webinar, ID: "1"}
	page1 := `{"page_size":10,"participants":[{"user_id":"a","leave_time":"2026-11-28T09:05:00Z","user_qos":[{"date_time":"2026-11-28T09:01:00Z","video_input":{"bitrate":"900 kbps","latency":"80 ms","jitter":"1 ms","avg_loss":"0%","max_loss":"0%"}}]}]}`
	page2 := `{"page_size":10,"participants":[{"user_id":"b","user_qos":[{"date_time":"2026-11-28T09:01:00Z"}]}]}`
	if _, s, err := d.Decode([]byte(page1), src); err != nil || len(s) != 1 || s[0].VideoInput.Bitrate != 900 {
		t.Fatalf("page 1: %v %+v", err, s)
	}
	_, s, err := d.Decode([]byte(page2), src)
	if err != nil || len(s) != 1 {
		t.Fatalf("page 2: %v %+v", err, s)
	}
	if s[0].Participant.UserID != "b" || !s[0].Participant.LeaveTime.IsZero() || !math.IsNaN(s[0].VideoInput.Bitrate) {
		t.Errorf("page 2 sample carries page 1's values: %+v", s[0])
	}
	if _, _, err := d.Decode([]byte(`{"participants":[{"user_qos":"nope"}]}`), src); err == nil {
		t.Error("garbage page decoded without error")
	}
}

// sameSamples compares samples treating NaN as equal to NaN.
func sameSamples(a, b []engine.Sample) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameFloats(reflect.ValueOf(a[i]), reflect.ValueOf(b[i])) {
			return false
		}
	}
	return true
}

func sameFloats(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y || (math.IsNaN(x) && math.IsNaN(y))
	case reflect.Struct:
		if t, ok := a.Interface().(time.Time); ok {
			return t.Equal(b.Interface().(time.Time))
		}
		for i := 0; i < a.NumField(); i++ {
			if !sameFloats(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
}
