package engine

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// benchRules are 20 rules shaped like a realistic rules file: thresholds on
// streams, aggregates, CPU and Wi-Fi, some with clear and labels.
func benchRules() []Rule {
	type f = func(s *Sample) bool
	conds := []f{
		func(s *Sample) bool { return s.AudioInput.AvgLoss > 2 && s.Latency > 150 },
		func(s *Sample) bool { return s.AudioOutput.AvgLoss > 2 && s.Latency > 150 },
		func(s *Sample) bool { return s.VideoInput.FrameRate < 5 && s.VideoInput.Bitrate > 0 },
		func(s *Sample) bool { return s.VideoOutput.FrameRate < 5 && s.VideoOutput.Bitrate > 0 },
		func(s *Sample) bool { return s.ASInput.FrameRate < 2 },
		func(s *Sample) bool { return s.ASOutput.FrameRate < 2 },
		func(s *Sample) bool { return s.CPUUsage.ZoomAvgCPUUsage > 80 },
		func(s *Sample) bool { return s.CPUUsage.SystemMaxCPUUsage > 95 },
		func(s *Sample) bool { return s.WiFiRSSI.AvgRSSI < -75 },
		func(s *Sample) bool { return s.Jitter > 40 },
		func(s *Sample) bool { return s.MaxLoss > 20 },
		func(s *Sample) bool { return s.AvgLoss > 5 },
		func(s *Sample) bool { return s.Latency > 400 },
		func(s *Sample) bool { return s.AudioInput.Jitter > 60 && s.AudioInput.AvgLoss > 1 },
		func(s *Sample) bool { return s.VideoInput.Height < 360 && s.VideoInput.Height > 0 },
		func(s *Sample) bool { return s.Participant.Role == RoleHost && s.AvgLoss > 1 },
		func(s *Sample) bool { return s.Participant.Role == RolePanelist && s.Latency > 250 },
		func(s *Sample) bool { return s.AudioOutput.Bitrate < 8 && s.AudioOutput.Bitrate > 0 },
		func(s *Sample) bool { return s.VideoOutput.Latency > 300 },
		func(s *Sample) bool { return s.ASInput.AvgLoss > 10 },
	}
	rules := make([]Rule, len(conds))
	for i, c := range conds {
		rules[i] = Rule{
			Name: fmt.Sprintf("rule-%02d", i), Severity: SeverityWarning,
			When: cond{name: "c", eval: func(s *Sample) (bool, error) { return c(s), nil }},
			For:  2 * time.Minute, KeepFiringFor: 2 * time.Minute, RepeatInterval: time.Hour,
			Labels: map[string]string{"team": "support"},
		}
	}
	return rules
}

// webinarMinute returns one minute of an n-participant webinar as pages of
// 10 samples; one participant in a hundred has bad audio.
func webinarMinute(n, minute int) [][]Sample { return webinarMinuteBad(n, minute, 100) }

// webinarMinuteBad is webinarMinute where one participant in every
// `every` has bad audio.
func webinarMinuteBad(n, minute, every int) [][]Sample {
	var pages [][]Sample
	page := make([]Sample, 0, 10)
	for p := 0; p < n; p++ {
		s := NewSample()
		s.Source = Source{Kind: Webinar, ID: "81234567890", Topic: "Quarterly all hands", Live: true}
		id := strconv.Itoa(16778240 + p)
		s.Participant = Participant{UserID: id, UserName: "Attendee " + id, Device: "Mac", Role: RoleAttendee}
		s.Time = t0.Add(time.Duration(minute) * time.Minute)
		s.AudioInput = Stream{Bitrate: 27, Latency: 40, Jitter: 3, AvgLoss: 0.1, MaxLoss: 0.5, FrameRate: NaN, Width: NaN, Height: NaN}
		s.AudioOutput = Stream{Bitrate: 30, Latency: 42, Jitter: 2, AvgLoss: 0, MaxLoss: 0.3, FrameRate: NaN, Width: NaN, Height: NaN}
		s.VideoOutput = Stream{Bitrate: 900, Latency: 45, Jitter: 4, AvgLoss: 0.2, MaxLoss: 1, FrameRate: 25, Width: 1280, Height: 720, Resolution: "1280*720"}
		s.CPUUsage = CPUUsage{5, 12, 30, 45}
		if p%every == 0 {
			s.AudioInput.AvgLoss, s.AudioInput.Latency = 4, 180
		}
		s.Aggregate()
		page = append(page, s)
		if len(page) == 10 {
			pages = append(pages, page)
			page = make([]Sample, 0, 10)
		}
	}
	if len(page) > 0 {
		pages = append(pages, page)
	}
	return pages
}

// BenchmarkIngest is one minute of a 10,000-participant webinar (1,000
// pages of 10) through 20 rules per iteration, on a MemoryStore: a normal
// minute (1% of participants with bad audio) and a storm (a third of them).
func BenchmarkIngest(b *testing.B) {
	for _, bc := range []struct {
		name  string
		every int
	}{{"quiet", 100}, {"storm", 3}} {
		b.Run(bc.name, func(b *testing.B) { benchIngest(b, bc.every) })
	}
}

func benchIngest(b *testing.B, every int) {
	const n = 10000
	ctx := context.Background()
	store := NewMemoryStore()
	clk := newClock()
	e, err := New(store, Options{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.SetRules(ctx, benchRules()); err != nil {
		b.Fatal(err)
	}
	pages := webinarMinuteBad(n, 0, every)
	var samples int
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for minute := 0; b.Loop(); minute++ {
		b.StopTimer()
		for _, p := range pages { // the next minute
			for i := range p {
				p[i].Time = t0.Add(time.Duration(minute) * time.Minute)
			}
		}
		store.Drain()
		b.StartTimer()
		for _, p := range pages {
			if err := e.Ingest(ctx, p); err != nil {
				b.Fatal(err)
			}
			samples += len(p)
		}
		clk.add(time.Minute)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(samples), "allocs/sample")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(samples), "B/sample")
	if st := e.Stats(); b.N > 3 && st.NotifiedFiring == 0 {
		b.Fatal("the bad-audio participants never fired")
	}
}

// discardStore is a Store that keeps nothing: a boundary fake, so memory
// and allocation figures are the engine's own.
type discardStore struct{}

func (discardStore) Load(context.Context) (Snapshot, error)    { return Snapshot{}, nil }
func (discardStore) Commit(context.Context, Changes) error     { return nil }
func (discardStore) PutSilence(context.Context, Silence) error { return nil }
func (discardStore) DeleteSilence(context.Context, string) error {
	return nil
}
func (discardStore) Action(context.Context, string) (ActionRecord, bool, error) {
	return ActionRecord{}, false, nil
}
func (discardStore) Actions(context.Context, ActionQuery) ([]ActionRecord, error) { return nil, nil }

// BenchmarkStatePerParticipant reports the engine's live heap per tracked
// participant after one minute of an n-participant webinar (1% alerting).
func BenchmarkStatePerParticipant(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			ctx := context.Background()
			var perPart float64
			for b.Loop() {
				e, err := New(discardStore{}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := e.SetRules(ctx, benchRules()); err != nil {
					b.Fatal(err)
				}
				before := liveHeap()
				pages := webinarMinute(n, 0)
				for _, p := range pages {
					if err := e.Ingest(ctx, p); err != nil {
						b.Fatal(err)
					}
				}
				pages = nil
				after := liveHeap()
				runtime.KeepAlive(e)
				if st := e.Stats(); st.Participants != n {
					b.Fatalf("tracking %d participants, want %d", st.Participants, n)
				}
				perPart = float64(int64(after)-int64(before)) / float64(n)
			}
			b.ReportMetric(perPart, "B/participant")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
