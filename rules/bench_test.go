package rules

import (
	"testing"

	"github.com/expr-lang/expr"

	"github.com/qoswatch/qoswatch/engine"
)

// benchSample is a realistic minute: a panelist on Wi-Fi with audio, video
// and a little loss; screen share not in use (missing).
func benchSample() engine.Sample {
	s := engine.NewSample()
	s.Source = engine.Source{Kind: engine.Webinar, ID: "81234567890", Live: true}
	s.Participant = engine.Participant{UserID: "16778240", UserName: "Jane Doe", Role: "panelist", NetworkType: "Wifi", Version: "6.0.2"}
	s.AudioInput = engine.Stream{Bitrate: 27.15, Latency: 120, Jitter: 12, AvgLoss: 1.2, MaxLoss: 4, FrameRate: engine.NaN, Width: engine.NaN, Height: engine.NaN}
	s.AudioOutput = engine.Stream{Bitrate: 40, Latency: 110, Jitter: 8, AvgLoss: 0.2, MaxLoss: 1, FrameRate: engine.NaN, Width: engine.NaN, Height: engine.NaN}
	s.VideoInput = engine.Stream{Bitrate: 900, Latency: 125, Jitter: 15, AvgLoss: 0.5, MaxLoss: 2, FrameRate: 24, Width: 1280, Height: 720, Resolution: "1280*720"}
	s.CPUUsage = engine.CPUUsage{ZoomMinCPUUsage: 10, ZoomAvgCPUUsage: 35, ZoomMaxCPUUsage: 60, SystemMaxCPUUsage: 70}
	s.WiFiRSSI = engine.WiFiRSSI{MaxRSSI: -55, AvgRSSI: -62, MinRSSI: -70}
	s.Aggregate()
	return s
}

// BenchmarkEval evaluates the 20 rules of testdata/twenty.rules.yaml on one
// sample; ns/op and allocs/op are per rule evaluation.
func BenchmarkEval(b *testing.B) {
	set, err := Load("testdata/twenty.rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	rules := set.Rules()
	if len(rules) != 20 {
		b.Fatalf("%d rules", len(rules))
	}
	s := benchSample()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := rules[i%20].When.Eval(&s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvalExprRun is the same with expr.Run (a new VM per call, no
// memory budget), to show what the pooled VM costs or saves.
func BenchmarkEvalExprRun(b *testing.B) {
	set, err := Load("testdata/twenty.rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	rules := set.Rules()
	s := benchSample()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := expr.Run(rules[i%20].When.(*Condition).prog, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExplain is the cost of explaining one rule (done once per
// notification, not per sample).
func BenchmarkExplain(b *testing.B) {
	set, err := Load("../rules.example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	r, _ := set.Rule("speaker-degraded")
	s := benchSample()
	b.ReportAllocs()
	for b.Loop() {
		r.When.Explain(&s)
	}
}
