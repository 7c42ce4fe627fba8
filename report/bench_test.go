package report_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/report"
)

// BenchmarkReport builds the report and draws the chart of a two-hour
// webinar of 10,000 people with 9 rules, each holding for some in every
// minute and a 200-person storm in the middle: what the notifier does
// once per ended source.
func BenchmarkReport(b *testing.B) {
	start := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	var minutes []engine.MinuteStats
	for m := range 120 {
		ms := engine.MinuteStats{Source: "webinar:1", Minute: start.Add(time.Duration(m) * time.Minute), Topic: "All hands", Seen: 10000, Rules: map[string]*engine.RuleMinute{}}
		if m == 0 {
			ms.Joined = 10000
		}
		for r := range 9 {
			rm := &engine.RuleMinute{Degraded: 20 + 10*r + m%7}
			if r == 0 && m >= 40 && m < 60 {
				rm.Degraded += 200
				if m == 42 {
					for p := range 200 {
						rm.Started = append(rm.Started, engine.Who{Key: fmt.Sprint(p), Name: fmt.Sprintf("Attendee %d", p)})
					}
				}
				if m == 59 {
					rm.Ended = 200
				}
			}
			ms.Rules[fmt.Sprintf("rule-%d", r)] = rm
			ms.Degraded += rm.Degraded
		}
		minutes = append(minutes, ms)
	}
	minutes[119].EndedAt = start.Add(120 * time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		r, err := report.Build("webinar:1", minutes, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		_ = r.Markdown()
		if _, err := r.ChartPNG(); err != nil {
			b.Fatal(err)
		}
	}
}
