package store

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// benchAlert is a firing alert as the engine stores it: a realistic
// participant, a sample where audio and video are present and screen
// share and Wi-Fi are missing (NaN), and the explain terms.
func benchAlert(i int) engine.Alert {
	src := engine.Source{Kind: engine.Webinar, ID: "81234567890", UUID: "4444AAAiAAAAAiAiAiiAii==", Topic: "Quarterly all-hands", Host: "ceo@example.com", Live: true}
	p := engine.Participant{UserID: fmt.Sprintf("16778240%04d", i), ID: "bPL-2Bm8SxWR7dBjGyWnBw", UserName: "Jill Chill",
		Email: "jill@example.com", Device: "Windows", Client: "win", Version: "6.1.0 (45678)", Location: "Berlin (DE)",
		IPAddress: "203.0.113.7", Domain: "corp.example.com", PCName: "JILL-LAPTOP", MacAddr: "00:11:22:33:44:55",
		HarddiskID: "WD-12345", NetworkType: "Wifi", DataCenter: "Frankfurt (DE)", JoinTime: t0, Role: engine.RoleAttendee,
		AudioQuality: "poor"}
	s := engine.NewSample()
	s.Source, s.Participant, s.Time = src, p, t0.Add(time.Duration(i)*time.Minute)
	s.AudioInput = engine.Stream{Bitrate: 27.15, Latency: 180, Jitter: 12, AvgLoss: 3.5, MaxLoss: 9.8, FrameRate: math.NaN(), Width: math.NaN(), Height: math.NaN()}
	s.AudioOutput = engine.Stream{Bitrate: 31.2, Latency: 150, Jitter: 4, AvgLoss: 0.2, MaxLoss: 1.1, FrameRate: math.NaN(), Width: math.NaN(), Height: math.NaN()}
	s.VideoOutput = engine.Stream{Bitrate: 812.4, Latency: 150, Jitter: 7, AvgLoss: 0.5, MaxLoss: 2, FrameRate: 25, Width: 1280, Height: 720, Resolution: "1280*720"}
	s.CPUUsage = engine.CPUUsage{ZoomMinCPUUsage: 3, ZoomAvgCPUUsage: 11, ZoomMaxCPUUsage: 27, SystemMaxCPUUsage: 64}
	s.Aggregate()
	return engine.Alert{
		Key:      engine.AlertKey{Rule: "choppy-audio", Source: src.Key(), Participant: p.Key()},
		State:    engine.StateFiring,
		Severity: engine.SeverityWarning, Labels: map[string]string{"team": "av"},
		ActiveSince: s.Time.Add(-2 * time.Minute), FiredAt: s.Time, LastSample: s.Time, Notified: true, LastNotified: t0,
		Source: src, Participant: p, Sample: s,
		Explain: []engine.Term{{Field: "audio_input.avg_loss", Value: "3.5", Op: ">", Threshold: "2", Holds: true},
			{Field: "latency", Value: "180", Op: ">", Threshold: "150", Holds: true}},
	}
}

// BenchmarkEncode is one firing alert with its sample as the store writes
// and reads it; bytes/value is what a commit writes per alert. (v0's
// positional binary codec wrote 929 bytes in 4.3 µs and read them in
// 14.9 µs on the machine of docs/performance.md.)
func BenchmarkEncode(b *testing.B) {
	a := benchAlert(1)
	b.Run("json", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = encode("alert", &a); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(buf)), "bytes/value")
	})
	b.Run("json-decode", func(b *testing.B) {
		buf, err := encode("alert", &a)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			var got engine.Alert
			if err := decode("alert", nil, buf, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCommit is one page of Zoom's QoS list (10 participants) as the
// engine commits it, into a store that already tracks 2,000 participants.
// "quiet": only the 10 cursors move. "firing": 10 alerts with their
// samples, 10 cursors and one notification.
func BenchmarkCommit(b *testing.B) {
	for _, mode := range []string{"quiet", "firing"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(b.TempDir()+"/qoswatch.db", Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			const tracked = 2000
			pages := make([]engine.Changes, tracked/10)
			for i := range pages {
				c := &pages[i]
				for j := range 10 {
					a := benchAlert(i*10 + j)
					c.Cursors = append(c.Cursors, engine.Cursor{Source: a.Key.Source, Participant: a.Key.Participant, Last: a.LastSample})
					if mode == "firing" {
						c.Alerts = append(c.Alerts, a)
					}
				}
				if mode == "firing" {
					c.Notifications = []engine.Notification{{Kind: engine.KindFiring, Key: c.Alerts[0].Key, Sample: c.Alerts[0].Sample,
						Source: c.Alerts[0].Source, Participant: c.Alerts[0].Participant, Explain: c.Alerts[0].Explain}}
				}
				if err := db.Commit(ctx, *c); err != nil { // the state the benchmark starts from
					b.Fatal(err)
				}
			}
			before := db.Stats()
			i := 0
			for b.Loop() {
				if err := db.Commit(ctx, pages[i%len(pages)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			after := db.Stats()
			commits := float64(after.Commits - before.Commits)
			b.ReportMetric(float64(after.BytesWritten-before.BytesWritten)/commits, "bytes-written/commit")
			b.ReportMetric(float64(after.PageWrites-before.PageWrites)/commits, "page-writes/commit")
			b.ReportMetric(float64(after.FileSize), "file-bytes")
		})
	}
}
