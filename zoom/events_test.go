package zoom

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// TestEventExamplesDecode decodes every example Zoom documents for the
// events qoswatch consumes (testdata/events): each is an event, of the
// kind its name says, with what qoswatch needs from it.
func TestEventExamplesDecode(t *testing.T) {
	files, err := filepath.Glob("testdata/events/*.json")
	if err != nil || len(files) < 15 {
		t.Fatalf("examples: %v, %d files", err, len(files))
	}
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "websocket.") {
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := ParseEvent(body)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		seen[ev.Event] = true
		if name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".json"), ".all-types"); name != ev.Event {
			t.Errorf("%s holds a %s event", f, ev.Event)
		}
		if ev.Event == EventURLValidation {
			continue
		}
		kind, what := classify(ev.Event)
		if what == evUnused || kind == "" {
			t.Errorf("%s: %s is not consumed", f, ev.Event)
		}
		if ev.At().Year() != 2021 {
			t.Errorf("%s: event_ts %d read as %v", f, ev.EventTS, ev.At())
		}
	}
	for _, name := range ConsumedEvents {
		if !seen[name] {
			t.Errorf("no example of %s in testdata/events", name)
		}
	}
}

func loadEvent(t *testing.T, name string) *Event {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata/events", name))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestQSSExampleBecomesASample(t *testing.T) {
	ev := loadEvent(t, "webinar.participant_qos.json")
	src := engine.Source{Kind: engine.Webinar, ID: "1234567890", UUID: ev.Payload.Object.UUID}
	p := ev.Payload.Object.Participant
	got := appendQSSSamples(nil, src, p.participant(), p.QoS)
	if len(got) != 1 {
		t.Fatalf("%d samples, want 1", len(got))
	}
	s := got[0]
	if !s.Time.Equal(time.Date(2021, 7, 13, 21, 44, 51, 0, time.UTC)) || s.Participant.Key() != "1234567890" ||
		s.Participant.ID != "rstuvwxyza789-cde" || s.Participant.Email != "user@example.com" || s.Source != src {
		t.Errorf("sample identity: %+v %+v %v", s.Source, s.Participant, s.Time)
	}
	a := s.AudioInput
	if a.Bitrate != 63 || a.Latency != 134 || a.Jitter != 6 || a.AvgLoss != 0 || a.MaxLoss != 0 {
		t.Errorf("audio_input = %+v", a)
	}
	if s.Latency != 134 || !math.IsNaN(s.VideoInput.Bitrate) || !math.IsNaN(s.CPUUsage.ZoomMaxCPUUsage) {
		t.Errorf("aggregate latency %v, video %v, cpu %v: want 134 and missing", s.Latency, s.VideoInput.Bitrate, s.CPUUsage.ZoomMaxCPUUsage)
	}
	if s.Participant.AudioQuality != "good" {
		t.Errorf("audio quality %q, want good (from the stream's quality)", s.Participant.AudioQuality)
	}
	// The meeting example carries Wi-Fi RSSI beside the stream, as strings.
	ev = loadEvent(t, "meeting.participant_qos.json")
	p = ev.Payload.Object.Participant
	m := appendQSSSamples(nil, engine.Source{Kind: engine.Meeting, ID: "1"}, p.participant(), p.QoS)
	if w := m[0].WiFiRSSI; w.MinRSSI != -56 || w.AvgRSSI != -50 || w.MaxRSSI != -44 {
		t.Errorf("meeting example Wi-Fi = %+v", w)
	}
}

// TestQSSTolerance reads the item types and value shapes Zoom added over
// time: minutes are grouped by date_time, legs and unknown types are
// skipped, numbers arrive as strings or integers, ratings are the worst of
// the minute.
func TestQSSTolerance(t *testing.T) {
	ev := loadEvent(t, "webinar.participant_qos.all-types.json")
	p := ev.Payload.Object.Participant
	got := appendQSSSamples(nil, engine.Source{Kind: engine.Webinar, ID: "1"}, p.participant(), p.QoS)
	if len(got) != 2 || !got[0].Time.Before(got[1].Time) {
		t.Fatalf("%d samples, want 2 minutes in order", len(got))
	}
	s := got[0]
	checks := []struct {
		name      string
		got, want float64
	}{
		{"audio_input.avg_loss (not the rwg leg's 20%)", s.AudioInput.AvgLoss, 3.5},
		{"audio_input.latency (not the rwg leg's 300 ms)", s.AudioInput.Latency, 134},
		{"audio_output.bitrate 27.15kbps", s.AudioOutput.Bitrate, 27.15},
		{"video_input.bitrate 1.2 Mbps", s.VideoInput.Bitrate, 1200},
		{"video_input.width", s.VideoInput.Width, 1280},
		{"video_input.frame_rate", s.VideoInput.FrameRate, 25},
		{"cpu_usage.system_max_cpu_usage", s.CPUUsage.SystemMaxCPUUsage, 91},
		{"wifi_rssi.max_rssi (a string)", s.WiFiRSSI.MaxRSSI, -44},
		{"wifi_rssi.min_rssi (an integer)", s.WiFiRSSI.MinRSSI, -56},
		{"latency (worst of the streams)", s.Latency, 134},
		{"avg_loss (worst of the streams)", s.AvgLoss, 3.5},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !math.IsNaN(s.VideoOutput.Bitrate) || !math.IsNaN(s.VideoOutput.Latency) {
		t.Errorf("blank and \"-\" values of video_output = %+v, want missing", s.VideoOutput)
	}
	if s.Participant.AudioQuality != "poor" || s.Participant.VideoQuality != "good" {
		t.Errorf("ratings audio %q video %q, want poor and good", s.Participant.AudioQuality, s.Participant.VideoQuality)
	}
	if s2 := got[1]; s2.AudioInput.AvgLoss != 4 || !math.IsNaN(s2.CPUUsage.SystemMaxCPUUsage) {
		t.Errorf("second minute: %+v cpu %+v", s2.AudioInput, s2.CPUUsage)
	}
}

func TestParseEventRefusesWhatIsNoEvent(t *testing.T) {
	for name, body := range map[string]string{
		"garbage":                    `{"event": "webinar.started", "payl`,
		"not JSON":                   `hello`,
		"no event name":              `{"payload": {"object": {"id": "1"}}}`,
		"a number":                   `42`,
		"validation without a token": `{"event": "endpoint.url_validation", "payload": {}}`,
		"started without an id":      `{"event": "webinar.started", "payload": {"object": {"topic": "x"}}}`,
		"QSS without a participant":  `{"event": "webinar.participant_qos", "payload": {"object": {"uuid": "u"}}}`,
		"left without a participant": `{"event": "meeting.participant_left", "payload": {"object": {"id": 1, "uuid": "u", "participant": {}}}}`,
		"event name not a string":    `{"event": 12}`,
	} {
		if _, err := ParseEvent([]byte(body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Unused types need their name only; ids may be numbers or strings.
	for _, body := range []string{
		`{"event": "recording.completed", "payload": {"object": {}}}`,
		`{"event": "meeting.started", "event_ts": 1, "payload": {"object": {"id": 85746065432, "uuid": "u"}}}`,
		`{"event": "meeting.started", "event_ts": 1, "payload": {"object": {"id": "85746065432", "uuid": "u", "quality": {"quality": "good"}}}}`,
	} {
		ev, err := ParseEvent([]byte(body))
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if id := ev.Payload.Object.ID; ev.Event == "meeting.started" && id != "85746065432" {
			t.Errorf("id read as %q", id)
		}
	}
}
