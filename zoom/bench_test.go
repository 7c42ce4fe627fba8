package zoom

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/qoswatch/qoswatch/engine"
)

// benchPage is a live participants QoS page as Zoom sends it: 10
// participants, the last 5 minutes each, audio and video.
func benchPage(tb testing.TB) []byte {
	tb.Helper()
	var l ParticipantQoSList
	l.PageSize, l.TotalRecords, l.PageCount, l.NextPageToken = 10, 1000, 100, "IAfJX3jsOLW7w3dokmFl84zOa0MAVGyMEB2"
	for i := range 10 {
		p := ParticipantQoS{
			ID: fmt.Sprint(16778240 + i), UserID: fmt.Sprint(1670000000 + i), UserName: fmt.Sprintf("User %d", i),
			Device: "Mac", IPAddress: "192.0.2.0", Location: "San Jose (US)", JoinTime: "2026-11-28T09:00:00Z",
			PCName: "pc", Domain: "example.com", Version: "6.2.5.12345",
		}
		for m := range 5 {
			s := func(res, fps Value) *StreamQoS {
				return &StreamQoS{Bitrate: "1055 kbps", Latency: "129 ms", Jitter: "11 ms", AvgLoss: "0.3%", MaxLoss: "4.9%", Resolution: res, FrameRate: fps}
			}
			p.UserQoS = append(p.UserQoS, UserQoS{
				DateTime:   fmt.Sprintf("2026-11-28T09:%02d:00Z", m),
				AudioInput: s("", ""), AudioOutput: s("", ""),
				VideoInput: s("1280*720", "25 fps"), VideoOutput: s("640*360", "22 fps"),
				ASInput: s("0*0", ""), ASOutput: s("0*0", ""),
				CPUUsage: &CPUQoS{"8%", "12%", "18%", "40%"},
			})
		}
		l.Participants = append(l.Participants, p)
	}
	b, err := json.Marshal(&l)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkUnmarshalPage is the baseline: plain json.Unmarshal of a page.
func BenchmarkUnmarshalPage(b *testing.B) {
	body := benchPage(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var l ParticipantQoSList
		if err := json.Unmarshal(body, &l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodePage decodes the same page and converts it to samples.
func BenchmarkDecodePage(b *testing.B) {
	body := benchPage(b)
	src := engine.Source{Kind: engine.Webinar, ID: "1", Live: true}
	var d PageDecoder
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, s, err := d.Decode(body, src); err != nil || len(s) != 50 {
			b.Fatal(err, len(s))
		}
	}
}
