package zoomtest

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/zoom"
)

func TestGenerateIsDeterministicBySeed(t *testing.T) {
	g := Gen{Participants: 500, Degraded: 0.04, AudioOnly: 0.1, Guests: 0.1, Churn: 0.2, Duration: 90 * time.Minute, Seed: 42}
	at := DefaultStart.Add(47 * time.Minute)
	a, b := Generate(g).QoSPages(at, 10), Generate(g).QoSPages(at, 10)
	if len(a) != 50 || !bytes.Equal(bytes.Join(a, nil), bytes.Join(b, nil)) {
		t.Fatalf("same seed: %d pages, equal %v", len(a), bytes.Equal(bytes.Join(a, nil), bytes.Join(b, nil)))
	}
	g.Seed = 43
	if c := Generate(g).QoSPages(at, 10); bytes.Equal(bytes.Join(a, nil), bytes.Join(c, nil)) {
		t.Error("another seed gave the same samples")
	}
}

func TestGenerateShapesTheCrowd(t *testing.T) {
	g := Gen{Participants: 10000, Degraded: 0.02, AudioOnly: 0.1, Guests: 0.1, Churn: 0.2, Duration: 2 * time.Hour, Seed: 1}
	sc := Generate(g)
	roles := map[string]int{}
	guests, audioOnly := 0, 0
	for _, p := range sc.Participants {
		roles[p.Role]++
		if p.ID == "" {
			guests++
		}
		if p.AudioOnly {
			audioOnly++
		}
		if p.Join < 0 || (p.Leave > 0 && p.Leave <= p.Join) || p.Join >= 2*time.Hour {
			t.Fatalf("%s: join %v leave %v", p.UserID, p.Join, p.Leave)
		}
	}
	if roles["host"] != 1 || roles["panelist"] != 4 || roles["attendee"] != 9995 {
		t.Errorf("roles %v", roles)
	}
	if guests < 800 || guests > 1200 || audioOnly < 800 || audioOnly > 1200 {
		t.Errorf("guests %d, audio-only %d of 10000, want about 10%% each", guests, audioOnly)
	}
	truth := sc.Truth()
	if len(truth) != 200 {
		t.Fatalf("%d degradations, want 2%% of 10000", len(truth))
	}
	kinds := map[Impairment]int{}
	for _, d := range truth {
		kinds[d.What]++
		p := sc.Participant(d.UserID)
		if d.From.Before(sc.Start.Add(p.Join)) || (p.Leave > 0 && d.To.After(sc.Start.Add(p.Leave))) || d.To.After(sc.End()) {
			t.Errorf("%s degraded %v..%v outside its presence %v..%v", d.UserID, d.From, d.To, p.Join, p.Leave)
		}
		if d.To.Sub(d.From) < time.Minute || d.To.Sub(d.From) > 12*time.Minute {
			t.Errorf("%s degraded for %v", d.UserID, d.To.Sub(d.From))
		}
	}
	if len(kinds) != len(Impairments) {
		t.Errorf("impairments used: %v", kinds)
	}
}

func TestSamplesGrowMinuteByMinute(t *testing.T) {
	sc := Generate(Gen{Participants: 3, Seed: 5, Panelists: -1})
	pageAt := func(d time.Duration) zoom.ParticipantQoSList {
		var l zoom.ParticipantQoSList
		if err := json.Unmarshal(sc.QoSPages(sc.Start.Add(d), 10)[0], &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := pageAt(30 * time.Second); len(l.Participants) != 1 || len(l.Participants[0].UserQoS) != 0 {
		t.Errorf("half a minute in: %+v", l)
	}
	l := pageAt(10*time.Minute + 30*time.Second)
	if got := l.Participants[0].UserQoS; len(got) != 1 || got[0].DateTime != "2026-01-05T15:09:00Z" {
		t.Errorf("10.5 minutes in: %+v", got)
	}
	if l.TotalRecords != 3 || l.NextPageToken != "" {
		t.Errorf("paging %+v", l.Page)
	}
	// The source ends after an hour: the last minute stays the last.
	l = pageAt(3 * time.Hour)
	if got := l.Participants[0].UserQoS; len(got) != 1 || got[0].DateTime != "2026-01-05T15:59:00Z" || l.Participants[0].LeaveTime != "2026-01-05T16:00:00Z" {
		t.Errorf("after the end: %+v", l.Participants[0])
	}
}

func TestTruthFollowsTheEnd(t *testing.T) {
	sc := handBuilt()
	s := New(t, Options{Now: fakeclock.NewManual(t0).Now, Scenarios: []*Scenario{sc}})
	if got := s.Truth(); len(got) != 1 || got[0].UserID != "16778245" || got[0].What != AudioLoss ||
		!got[0].From.Equal(t0.Add(10*time.Minute)) || !got[0].To.Equal(t0.Add(15*time.Minute)) || got[0].SourceID != "81234567890" {
		t.Fatalf("truth %+v", got)
	}
	s.EndAt(sc, t0.Add(12*time.Minute))
	if got := s.Truth(); !got[0].To.Equal(t0.Add(12 * time.Minute)) {
		t.Errorf("truth after an early end: %+v", got)
	}
	s.EndAt(sc, t0.Add(5*time.Minute))
	if got := s.Truth(); len(got) != 0 {
		t.Errorf("a degradation after the end happened: %+v", got)
	}
}

func TestScoreDetections(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	truth := []Truth{
		{SourceID: "1", UUID: "U1", UserID: "a", From: at(10), To: at(15)},
		{SourceID: "1", UUID: "U1", UserID: "b", From: at(20), To: at(25)},
		{SourceID: "2", UserID: "a", From: at(10), To: at(15)},
	}
	dets := []Detection{
		{SourceID: "1", UserID: "a", At: at(13)},
		{SourceID: "U1", UserID: "a", At: at(12)}, // by UUID, earlier: the first counts
		{SourceID: "1", UserID: "b", At: at(19)},  // before onset: false
		{SourceID: "1", UserID: "b", At: at(27)},  // within 2m after the end
		{SourceID: "2", UserID: "a", At: at(30)},  // too late: false
		{SourceID: "3", UserID: "z", At: at(30)},  // nobody: false
	}
	sc := ScoreDetections(truth, dets, 2*time.Minute)
	if sc.Degraded != 3 || sc.Detected != 2 || sc.FalseAlerts != 3 {
		t.Errorf("score %+v", sc)
	}
	if sc.Delays[0] != 2*time.Minute || sc.Delays[1] != 7*time.Minute || sc.Within(5*time.Minute) != 1 || sc.Quantile(0.5) != 7*time.Minute {
		t.Errorf("delays %v, within 5m %d, median %v", sc.Delays, sc.Within(5*time.Minute), sc.Quantile(0.5))
	}
	if r := sc.Rate(); r < 0.66 || r > 0.67 {
		t.Errorf("rate %v", r)
	}
}

func TestQuirksSpellValuesZoomsOtherWays(t *testing.T) {
	sc := Generate(Gen{Participants: 50, Panelists: 10, Quirks: true, Seed: 6})
	var l zoom.ParticipantQoSList
	seen := map[string]int{}
	forms := map[string]*regexp.Regexp{
		"kbps":       regexp.MustCompile(`^\d+ kbps$`),
		"decimal":    regexp.MustCompile(`^\d+\.\d\dkbps$`),
		"Mbps":       regexp.MustCompile(`^\d+\.\d\d Mbps$`),
		"ms":         regexp.MustCompile(`^\d+ ms$`),
		"ms nospace": regexp.MustCompile(`^\d+ms$`),
		"-":          regexp.MustCompile(`^-$`),
	}
	classify := func(v zoom.Value, names ...string) {
		for _, n := range names {
			if forms[n].MatchString(string(v)) {
				seen[n]++
				return
			}
		}
		t.Errorf("%q is none of %v", v, names)
	}
	for _, page := range sc.QoSPages(sc.Start.Add(30*time.Minute), 10) {
		if err := json.Unmarshal(page, &l); err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Participants {
			for _, q := range p.UserQoS {
				for _, s := range []*zoom.StreamQoS{q.AudioInput, q.AudioOutput, q.VideoInput, q.VideoOutput, q.ASInput, q.ASOutput} {
					if s.Bitrate == "" {
						continue
					}
					classify(s.Bitrate, "kbps", "decimal", "Mbps")
					classify(s.Latency, "ms", "ms nospace")
					classify(s.Jitter, "ms", "-")
				}
			}
		}
	}
	for n := range forms {
		if seen[n] == 0 {
			t.Errorf("no %s value in 50 participants' minute", n)
		}
	}
}
