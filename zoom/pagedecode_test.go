package zoom

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/qoswatch/qoswatch/engine"
)

// slowDecode is the reference: encoding/json, then AppendSamples.
func slowDecode(body []byte, src engine.Source) (Page, []engine.Sample, error) {
	var l ParticipantQoSList
	if err := json.Unmarshal(body, &l); err != nil {
		return Page{}, nil, err
	}
	var out []engine.Sample
	for i := range l.Participants {
		out = AppendSamples(out, src, &l.Participants[i])
	}
	return l.Page, out, nil
}

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
	`{"participants":[{"User_Id":"3","user_qos":[]}]}`,              // encoding/json matches keys ignoring case
	`{"participants":[{"user_name":"O\u0027Brien","user_qos":[]}]}`, // escapes go slow
	`{"participants":[],"page_count":"integer [int64]"}`,
	`{"participants":[{"user_qos":[{"date_time":"2026-11-28T09:01:00Z","wifi_rssi":{"max_rssi":-40.5}}]}]}`,
	`{"page_count":01}`,
	`{"participants":null} x`,
	"{\"participants\":[]}\x00",
	`{"participants":[{"user_qos":[{"date_time":"2026-11-28T09:01:00Z"}],"user_qos":[]}]}`,
	`{"participants":[{"user_id":"1","user_qos":[{"date_time":"2026-11-28T09:01:00Z"}]}],"participants":[{"user_qos":[]}]}`,
	`[]`,
	``,
}

// The fast path gives exactly what encoding/json and AppendSamples give,
// or leaves the page to them.
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
		// Decode counts the missing values as the slow path does, once,
		// whichever path took the page.
		s0 := ParseStats()
		new(PageDecoder).Decode(body, src)
		s1 := ParseStats()
		slowDecode(body, src)
		if s2 := ParseStats(); statsDelta(s0, s1) != statsDelta(s1, s2) {
			t.Fatalf("Decode counted %+v missing values, the slow path %+v", statsDelta(s0, s1), statsDelta(s1, s2))
		}

		var d PageDecoder
		fastErr := d.decodeFast(body, src)
		page, samples, slowErr := slowDecode(body, src)
		if fastErr != nil {
			// Decode falls back: it must agree with the slow path.
			pg, got, err := d.Decode(body, src)
			if (err == nil) != (slowErr == nil) || (err == nil && (pg != page || !sameSamples(got, samples))) {
				t.Fatalf("Decode after fallback differs: %v vs %v", err, slowErr)
			}
			return
		}
		if slowErr != nil {
			t.Fatalf("fast path accepted what encoding/json refuses: %v", slowErr)
		}
		if d.list.Page != page {
			t.Errorf("page = %+v, want %+v", d.list.Page, page)
		}
		if !sameSamples(d.samples, samples) {
			t.Errorf("samples differ:\nfast %+v\nslow %+v", d.samples, samples)
		}
	})
}

func statsDelta(from, to ValueStats) ValueStats {
	return ValueStats{Blank: to.Blank - from.Blank, Unparseable: to.Unparseable - from.Unparseable, BadTimes: to.BadTimes - from.BadTimes}
}

// A page the fast path gives up on halfway (an escaped name in its second
// participant) is counted once, by the slow path: the missing values of
// the first participant are not counted twice.
func TestPageDecoderFallbackCountsOnce(t *testing.T) {
	body := []byte(`{"participants":[
	  {"user_id":"1","join_time":"soon","user_qos":[{"date_time":"2026-11-28T09:01:00Z",
	    "audio_input":{"bitrate":"","latency":"-","jitter":"?","avg_loss":"0.3%","max_loss":"1%"},
	    "cpu_usage":{"zoom_min_cpu_usage":"","zoom_avg_cpu_usage":"12%","zoom_max_cpu_usage":"18%","system_max_cpu_usage":"40%"}},
	    {"date_time":"later"}]},
	  {"user_id":"2","user_name":"Ren\u00e9","user_qos":[]}]}`)
	src := engine.Source{Kind: engine.Webinar, ID: "1", Live: true}
	var d PageDecoder
	if err := d.decodeFast(body, src); err == nil {
		t.Fatal("the fast path took a page with an escaped name")
	}
	before := ParseStats()
	_, samples, err := d.Decode(body, src)
	if err != nil || len(samples) != 1 || samples[0].Participant.UserID != "1" {
		t.Fatalf("Decode: %v, %d samples", err, len(samples))
	}
	want := ValueStats{Blank: 3, Unparseable: 1, BadTimes: 2} // "", "-", "" / "?" / "soon", "later"
	if got := statsDelta(before, ParseStats()); got != want {
		t.Errorf("counted %+v, want %+v", got, want)
	}
}

func TestPageDecoderFastPathIsTaken(t *testing.T) {
	var d PageDecoder
	src := engine.Source{Kind: engine.Webinar, ID: "1"}
	if err := d.decodeFast([]byte(pageSeeds[0]), src); err != nil {
		t.Fatalf("the first seed went slow: %v", err)
	}
	if err := d.decodeFast(benchPage(t), src); err != nil {
		t.Fatalf("a page as Zoom sends it went slow: %v", err)
	}
	if len(d.samples) != 50 {
		t.Errorf("%d samples, want 50", len(d.samples))
	}
	for i, s := range pageSeeds[1:11] {
		if err := d.decodeFast([]byte(s), src); err == nil {
			t.Errorf("seed %d took the fast path; it must go slow", i+1)
		}
	}
	// Strings of the samples do not alias the body.
	body := benchPage(t)
	_, samples, _ := d.Decode(body, src)
	name := samples[0].Participant.UserName
	for i := range body {
		body[i] = 'x'
	}
	if samples[0].Participant.UserName != name || !reflect.DeepEqual(name, "User 0") {
		t.Errorf("participant name changed with the body: %q", samples[0].Participant.UserName)
	}
}
