package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/internal/webinartest"
	"github.com/qoswatch/qoswatch/report"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

var start = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// lagos is the test's webinar: 30 people for 40 minutes. The host and 8
// attendees in Lagos break up (audio loss and latency: choppy-audio) from
// minute 5 to 15; a panelist's video freezes from 20 to 30
// (frozen-video). Nobody joins late or leaves, so every count is known.
func lagos() *zoomtest.Scenario {
	sc := zoomtest.Generate(zoomtest.Gen{ID: 81234567890, Topic: "Lagos all-hands", Start: start, Duration: 40 * time.Minute, Participants: 30, Seed: 3})
	for i, p := range sc.Participants {
		p.Join, p.Leave, p.Degradations = 0, 0, nil
		p.Location = []string{"San Jose (US)", "London (GB)", "Tokyo (JP)"}[i%3]
		p.AudioOnly = false
		switch {
		case i == 0:
			p.Role = "host"
		case i < 3:
			p.Role = "panelist"
		default:
			p.Role = "attendee"
		}
		if i == 0 || (i >= 10 && i < 18) {
			if i > 0 {
				p.Location = "Lagos (NG)"
			}
			p.Degradations = []zoomtest.Degradation{
				{Kind: zoomtest.AudioLoss, From: 5 * time.Minute, To: 15 * time.Minute},
				{Kind: zoomtest.HighLatency, From: 5 * time.Minute, To: 15 * time.Minute}}
		}
		if i == 1 {
			p.Degradations = []zoomtest.Degradation{{Kind: zoomtest.FrozenVideo, From: 20 * time.Minute, To: 30 * time.Minute}}
		}
	}
	return sc
}

// run plays the scenario into a real bbolt file and returns the store.
func run(t *testing.T, sc *zoomtest.Scenario) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "qoswatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	webinartest.Run(t, sc, db)
	return db
}

// The report's numbers are the fake's ground truth: the attendees, who
// had an alert of which rule, how many were degraded in each minute, the
// worst minutes, the shared cause (Lagos), the host's degraded minutes.
func TestReportAgainstTruth(t *testing.T) {
	sc := lagos()
	db := run(t, sc)
	minutes, err := db.Minutes(context.Background(), "webinar:81234567890")
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Build("webinar:81234567890", minutes, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Attendees != 30 || r.Peak != 30 || !r.Ended || !r.To.Equal(sc.End()) || r.Topic != "Lagos all-hands" {
		t.Errorf("attendees %d peak %d ended %v to %v topic %q", r.Attendees, r.Peak, r.Ended, r.To, r.Topic)
	}
	if r.Duration() > 40*time.Minute || r.Duration() < 38*time.Minute {
		t.Errorf("duration %s, want about 40m", r.Duration())
	}

	// Who was degraded by what, per minute, from the truth.
	truth := sc.Truth()
	byRule := map[string]zoomtest.Impairment{"choppy-audio": zoomtest.AudioLoss, "frozen-video": zoomtest.FrozenVideo}
	wantAlerted := map[string][]string{}
	for rule, imp := range byRule {
		for _, tr := range truth {
			if tr.What == imp && !slices.Contains(wantAlerted[rule], tr.UserName) {
				wantAlerted[rule] = append(wantAlerted[rule], tr.UserName)
			}
		}
		slices.Sort(wantAlerted[rule])
	}
	got := map[string][]string{}
	for _, s := range r.Rules {
		for _, w := range s.Alerted {
			got[s.Name] = append(got[s.Name], w.Name)
		}
		slices.Sort(got[s.Name])
	}
	for rule, want := range wantAlerted {
		if !slices.Equal(got[rule], want) {
			t.Errorf("%s alerted %v, want (the truth) %v", rule, got[rule], want)
		}
	}
	if r.Alerted != len(wantAlerted["choppy-audio"])+len(wantAlerted["frozen-video"]) {
		t.Errorf("alerted %d participants, want %d", r.Alerted, 10)
	}
	for _, m := range r.Minutes {
		if m.Seen == 0 {
			continue
		}
		for rule, imp := range byRule {
			want := 0
			for _, tr := range truth {
				if tr.What == imp && !m.Minute.Before(tr.From) && m.Minute.Before(tr.To) {
					want++
				}
			}
			got := 0
			if rm := m.Rules[rule]; rm != nil {
				got = rm.Degraded
			}
			if got != want {
				t.Errorf("%s %s degraded %d of %d, the truth says %d", m.Minute.Format("15:04"), rule, got, m.Seen, want)
			}
		}
	}
	if len(r.Worst) != report.WorstMinutes {
		t.Fatalf("worst minutes %+v", r.Worst)
	}
	for _, w := range r.Worst {
		if w.ByRule["choppy-audio"] != 9 || w.At.Before(start.Add(5*time.Minute)) || !w.At.Before(start.Add(15*time.Minute)) {
			t.Errorf("worst minute %s", w.WorstLine())
		}
	}
	if len(r.Causes) == 0 || r.Causes[0].Rule != "choppy-audio" || r.Causes[0].Cause.Value != "Lagos (NG)" || r.Causes[0].Cause.Affected != 8 {
		t.Errorf("causes %+v, want choppy-audio: Lagos (NG), 8 affected", r.Causes)
	}
	if p := r.Presenters; p.Minutes != 40 || p.DegradedMinutes != 20 || p.AudioLoss < 5 || p.Latency < 300 {
		t.Errorf("presenters %+v, want 40 minutes seen, 20 degraded (the host 10, a panelist 10), loss ≥ 5%%, latency ≥ 300 ms", p)
	}

	md := r.Markdown()
	for _, want := range []string{
		"# Post-webinar report: Lagos all-hands (webinar:81234567890)",
		"- **Attendees:** 30 participants (at most 30 at once",
		"- **Participants with any alert:** 10 of 30 (33%)",
		"| choppy-audio | 9 | 9 | 30% (9) at 15:05 | 10 |",
		"choppy-audio: location Lagos (NG) — 8 of 9 affected, 0% of the other 21",
		"a rule held for a presenter in 20 of them",
		"video sent at 0 fps at 15:20",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown lacks %q:\n%s", want, md)
		}
	}
	for _, name := range append(wantAlerted["choppy-audio"], wantAlerted["frozen-video"]...) {
		if !strings.Contains(md, name) {
			t.Errorf("the Markdown does not name %s", name)
		}
	}
}

// The chart is a PNG of the documented size, with the lines drawn: many
// colours, not a blank canvas.
func TestChartPNG(t *testing.T) {
	db := run(t, lagos())
	minutes, err := db.Minutes(context.Background(), "webinar:81234567890")
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Build("webinar:81234567890", minutes, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.ChartPNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got.X != report.ChartWidth || got.Y != report.ChartHeight {
		t.Errorf("chart is %v, want %dx%d", got, report.ChartWidth, report.ChartHeight)
	}
	colours := map[[4]uint32]int{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, b, a := img.At(x, y).RGBA()
			colours[[4]uint32{r >> 8, g >> 8, b >> 8, a >> 8}]++
		}
	}
	white := colours[[4]uint32{255, 255, 255, 255}]
	if len(colours) < 20 || white > bounds.Dx()*bounds.Dy()/4*98/100 {
		t.Errorf("the chart looks empty: %d colours, %d of %d sampled pixels white", len(colours), white, bounds.Dx()*bounds.Dy()/4)
	}
	t.Logf("chart: %d bytes, %d colours", len(b), len(colours))
}

// A source the store kept nothing of is a clear error.
func TestReportNoData(t *testing.T) {
	if _, err := report.Build("webinar:1", nil, time.Time{}); err == nil || !strings.Contains(err.Error(), "webinar:1") {
		t.Errorf("err = %v", err)
	}
}

// How big the kept aggregates are: a 40-minute, 30-person webinar with
// the example rules; docs/capacity.md quotes it per source-hour.
func TestMinutesSize(t *testing.T) {
	db := run(t, lagos())
	minutes, err := db.Minutes(context.Background(), "webinar:81234567890")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, m := range minutes {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		total += len(b)
	}
	perHour := total * 60 / len(minutes)
	t.Logf("%d minutes kept, %d bytes of JSON, %d bytes per source-hour", len(minutes), total, perHour)
	if perHour > 64<<10 {
		t.Errorf("%d bytes per source-hour: more than docs/capacity.md promises (64 KiB)", perHour)
	}
}
