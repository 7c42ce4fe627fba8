package engine

import (
	"math"
	"runtime"
	"testing"
	"time"
)

// lossWindow records each sample's audio_input.avg_loss for span.
func lossWindow(span time.Duration) *Window {
	return &Window{Span: span, Values: 1, Key: "loss", Record: func(s *Sample, dst []float64) { dst[0] = s.AudioInput.AvgLoss }}
}

// avgOver is a condition that reads the window the way rules'
// avg_over(audio_input.avg_loss, span) > x does.
func avgOver(span time.Duration, x float64) Condition {
	return cond{name: "avg_over", eval: func(s *Sample) (bool, error) {
		st := s.Past.Stats(0, span, s.Time)
		return st.Known > 0 && st.Sum/float64(st.Known) > x, nil
	}}
}

// TestWindowEndsWithTheCurrentSample: a 3-minute average sees this minute
// and the two before, skips a missing one, forgets an older one; the
// alert's message explains on the same window.
func TestWindowEndsWithTheCurrentSample(t *testing.T) {
	r := Rule{Name: "avg-loss", When: avgOver(3*time.Minute, 2), RepeatInterval: time.Hour, Window: lossWindow(3 * time.Minute)}
	f := newFixture(t, r)
	for m, loss := range []float64{0, 0, 9, math.NaN(), 0, 0} {
		f.ingest(smp("u1", m, loss))
	}
	if got := f.told(); len(got) != 2 || got[0] != "firing avg-loss u1 @2" || got[1] != "resolved avg-loss u1 @5 recovered" {
		t.Errorf("told %v; want firing at 2 (0 0 9: 3), still at 3 (0 9 _: 4.5) and 4 (9 _ 0: 4.5), resolved at 5 (_ 0 0)", got)
	}
}

// TestWindowsSurviveAReloadThatKeepsThem: a reload with the same windows
// keeps the participants' rings; one that changes them starts them anew.
func TestWindowsSurviveAReloadThatKeepsThem(t *testing.T) {
	r := Rule{Name: "avg-loss", When: avgOver(3*time.Minute, 2), RepeatInterval: time.Hour, Window: lossWindow(3 * time.Minute)}
	f := newFixture(t, r)
	f.ingest(smp("u1", 0, 9))
	if err := f.e.SetRules(ctxT(t), []Rule{r}); err != nil {
		t.Fatal(err)
	}
	f.ingest(smp("u1", 1, 0)) // (9+0)/2 = 4.5 only if minute 0 was kept
	if got := f.state(); got != "avg-loss/u1=firing" {
		t.Errorf("after a reload with the same window: %q, want firing", got)
	}
	r.Window = lossWindow(5 * time.Minute)
	r.Window.Key = "loss over 5m"
	if err := f.e.SetRules(ctxT(t), []Rule{r}); err != nil {
		t.Fatal(err)
	}
	f.ingest(smp("u1", 2, 0)) // a fresh ring: 0 alone
	if got := f.state(); got != "avg-loss/u1=resolved" {
		t.Errorf("after a reload with another window: %q, want resolved", got)
	}
}

// BenchmarkWindowLiveBytes measures what a 10-minute window costs per
// participant in live memory: 10,000 participants, one rule recording
// one number a sample, 12 minutes ingested (the rings full), the heap
// after a GC against the same run without the window. ring-bytes is the
// engine's own count (LiveStateBytes).
//
//	go test -run '^$' -bench WindowLiveBytes -benchtime 1x ./engine
func BenchmarkWindowLiveBytes(b *testing.B) {
	const n = 10000
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	run := func(w *Window) uint64 {
		before := heap()
		r := Rule{Name: "loss", When: lossAbove(50), RepeatInterval: time.Hour, Window: w}
		e, err := New(NewMemoryStore(), Options{Clock: newClock(), ResolvedRetention: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.SetRules(b.Context(), []Rule{r}); err != nil {
			b.Fatal(err)
		}
		for m := range 12 {
			for _, page := range webinarMinute(n, m) {
				if err := e.Ingest(b.Context(), page); err != nil {
					b.Fatal(err)
				}
			}
		}
		after := heap()
		runtime.KeepAlive(e)
		return after - before
	}
	var with, without uint64
	for range b.N {
		with, without = run(lossWindow(10*time.Minute)), run(nil)
	}
	b.ReportMetric((float64(with)-float64(without))/n, "bytes/participant")
	b.ReportMetric(float64(LiveStateBytes([]Rule{{Window: lossWindow(10 * time.Minute)}})), "ring-bytes/participant")
}
