// Package report is the post-webinar report: from the per-minute
// aggregates the store kept of a source (engine.MinuteStats), who came and
// for how long, how many had an alert of each rule, the worst minutes,
// the shared causes found, how the presenters did, and a chart of the
// share of participants degraded per minute (PNG, drawn with
// gonum.org/v1/plot). The notifier posts it when a source ends; `qoswatch
// report` prints it.
package report

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// WorstMinutes is how many minutes the report lists as the worst.
const WorstMinutes = 3

// ErrNoData means the store kept nothing of the source: unknown, never
// polled, or its minutes were collected after the retention.
var ErrNoData = errors.New("no minutes kept for this source")

// Report is one occurrence of a webinar or meeting, as its minutes tell it.
type Report struct {
	Source string // "webinar:81234567890"
	Topic  string
	// From is the first minute with a sample; To is the end of the last
	// one (or the source's end, when that came before it).
	From, To time.Time
	Ended    bool

	Attendees int // participants seen in the occurrence, each once
	Peak      int // the most participants seen in one minute
	PeakAt    time.Time

	Alerted int           // participants with an alert of any rule
	Rules   []RuleSummary // rules that were degraded at some minute, the most alerted first
	Worst   []Minute      // the minutes with the largest share degraded, worst first
	Causes  []CauseFound
	// Presenters is how the hosts and panelists did.
	Presenters Presenters

	// Minutes are the occurrence's aggregates, in time order: the chart.
	Minutes []engine.MinuteStats
}

// Duration is how long the occurrence lasted.
func (r *Report) Duration() time.Duration { return r.To.Sub(r.From) }

// RuleSummary is one rule over the occurrence.
type RuleSummary struct {
	Name string
	// Alerted are the participants whose alert of the rule fired, each
	// once, in the order their first alert started.
	Alerted []engine.Who
	Alerts  int // alerts that started firing (a participant may have several)
	Ended   int // firing alerts that resolved
	// PeakShare is the largest share (0..1) of the participants seen in a
	// minute on whom the rule's `when` held, and PeakAt that minute.
	PeakShare      float64
	PeakDegraded   int
	PeakAt         time.Time
	DegradedMinute int // minutes in which the rule held for someone
}

// Minute is one minute of the occurrence, for the worst minutes.
type Minute struct {
	At       time.Time
	Seen     int
	Degraded int            // participants on whom any rule held
	ByRule   map[string]int // participants on whom each rule held
}

// Share is Degraded/Seen.
func (m Minute) Share() float64 { return share(m.Degraded, m.Seen) }

// CauseFound is a shared cause the engine found for a rule's alerts, at
// its strongest, and when it was first found.
type CauseFound struct {
	Rule  string
	Cause engine.Cause
	First time.Time
}

// Presenters sums up the hosts' and panelists' minutes.
type Presenters struct {
	Minutes         int // minutes with a presenter seen
	DegradedMinutes int // of which minutes where a rule held for a presenter
	// The worst values of their sent streams, and when; NaN when never
	// measured.
	AudioLoss, Latency, FrameRate       float64
	AudioLossAt, LatencyAt, FrameRateAt time.Time
}

// Build makes the report of one occurrence of a source from its minutes
// (in any order): the one that ended at `ended`, or the latest when
// `ended` is zero or matches none.
func Build(source string, minutes []engine.MinuteStats, ended time.Time) (*Report, error) {
	occ := occurrence(minutes, ended)
	if len(occ) == 0 {
		return nil, fmt.Errorf("report of %s: %w", source, ErrNoData)
	}
	r := &Report{Source: source, Minutes: occ, From: occ[0].Minute}
	// To is the end of the last minute with a sample, or the end when
	// that came first: qoswatch may learn of an end a poll later than it
	// was, and the minutes say when people were last there.
	for _, m := range occ {
		if m.Seen > 0 {
			r.To = m.Minute.Add(time.Minute)
		}
	}
	if last := occ[len(occ)-1]; !last.EndedAt.IsZero() {
		r.Ended = true
		if last.EndedAt.Before(r.To) {
			r.To = last.EndedAt
		}
	}
	rules := map[string]*RuleSummary{}
	alerted := map[string]bool{}
	seenBy := map[string]map[string]bool{}
	causes := map[string]*CauseFound{} // rule, attribute, value
	r.Presenters = Presenters{AudioLoss: math.NaN(), Latency: math.NaN(), FrameRate: math.NaN()}
	var worst []Minute
	for i := range occ {
		m := &occ[i]
		if m.Topic != "" {
			r.Topic = m.Topic
		}
		r.Attendees += m.Joined
		if m.Seen > r.Peak {
			r.Peak, r.PeakAt = m.Seen, m.Minute
		}
		mm := Minute{At: m.Minute, Seen: m.Seen, Degraded: m.Degraded, ByRule: map[string]int{}}
		for _, name := range sortedNames(m.Rules) {
			rm := m.Rules[name]
			rs := rules[name]
			if rs == nil {
				rs = &RuleSummary{Name: name}
				rules[name] = rs
				seenBy[name] = map[string]bool{}
			}
			rs.Alerts += len(rm.Started)
			rs.Ended += rm.Ended
			for _, w := range rm.Started {
				alerted[w.Key] = true
				if !seenBy[name][w.Key] {
					seenBy[name][w.Key] = true
					rs.Alerted = append(rs.Alerted, w)
				}
			}
			if rm.Degraded > 0 {
				rs.DegradedMinute++
				mm.ByRule[name] = rm.Degraded
				if s := share(rm.Degraded, m.Seen); s > rs.PeakShare {
					rs.PeakShare, rs.PeakDegraded, rs.PeakAt = s, rm.Degraded, m.Minute
				}
			}
			if c := rm.Cause; c != nil {
				k := name + "\x00" + c.Attribute + "\x00" + c.Value
				if cf := causes[k]; cf == nil {
					causes[k] = &CauseFound{Rule: name, Cause: *c, First: m.Minute}
				} else if c.Affected > cf.Cause.Affected {
					cf.Cause = *c
				}
			}
		}
		if m.Degraded > 0 {
			worst = append(worst, mm)
		}
		r.Presenters.add(m)
	}
	r.Alerted = len(alerted)
	for _, rs := range rules {
		if rs.DegradedMinute > 0 || rs.Alerts > 0 {
			r.Rules = append(r.Rules, *rs)
		}
	}
	slices.SortFunc(r.Rules, func(a, b RuleSummary) int {
		return cmp.Or(cmp.Compare(len(b.Alerted), len(a.Alerted)), cmp.Compare(b.PeakShare, a.PeakShare), cmp.Compare(a.Name, b.Name))
	})
	slices.SortStableFunc(worst, func(a, b Minute) int {
		return cmp.Or(cmp.Compare(b.Share(), a.Share()), cmp.Compare(b.Degraded, a.Degraded))
	})
	r.Worst = worst[:min(len(worst), WorstMinutes)]
	for _, cf := range causes {
		r.Causes = append(r.Causes, *cf)
	}
	slices.SortFunc(r.Causes, func(a, b CauseFound) int {
		return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Cause.Value, b.Cause.Value))
	})
	return r, nil
}

func (p *Presenters) add(m *engine.MinuteStats) {
	pm := m.Presenters
	if pm.Seen == 0 {
		return
	}
	p.Minutes++
	if pm.Degraded > 0 {
		p.DegradedMinutes++
	}
	if pm.AudioLoss > p.AudioLoss || (math.IsNaN(p.AudioLoss) && !math.IsNaN(pm.AudioLoss)) {
		p.AudioLoss, p.AudioLossAt = pm.AudioLoss, m.Minute
	}
	if pm.Latency > p.Latency || (math.IsNaN(p.Latency) && !math.IsNaN(pm.Latency)) {
		p.Latency, p.LatencyAt = pm.Latency, m.Minute
	}
	if pm.FrameRate < p.FrameRate || (math.IsNaN(p.FrameRate) && !math.IsNaN(pm.FrameRate)) {
		p.FrameRate, p.FrameRateAt = pm.FrameRate, m.Minute
	}
}

// occurrence returns the minutes of one occurrence, in time order. A
// minute with EndedAt closes an occurrence; the minutes after it are the
// next one (a recurring webinar keeps its id).
func occurrence(minutes []engine.MinuteStats, ended time.Time) []engine.MinuteStats {
	ms := slices.Clone(minutes)
	slices.SortFunc(ms, func(a, b engine.MinuteStats) int { return a.Minute.Compare(b.Minute) })
	var occs [][]engine.MinuteStats
	start := 0
	for i := range ms {
		if !ms[i].EndedAt.IsZero() {
			occs = append(occs, ms[start:i+1])
			start = i + 1
		}
	}
	if start < len(ms) {
		occs = append(occs, ms[start:])
	}
	// Only minutes with participants count (an end mark alone is not an
	// occurrence), but a trailing end mark stays with its occurrence.
	occs = slices.DeleteFunc(occs, func(o []engine.MinuteStats) bool {
		return !slices.ContainsFunc(o, func(m engine.MinuteStats) bool { return m.Seen > 0 })
	})
	if len(occs) == 0 {
		return nil
	}
	for _, o := range occs {
		if !ended.IsZero() && o[len(o)-1].EndedAt.Equal(ended) {
			return trim(o)
		}
	}
	return trim(occs[len(occs)-1])
}

// trim drops the minutes before the first one with participants.
func trim(o []engine.MinuteStats) []engine.MinuteStats {
	i := slices.IndexFunc(o, func(m engine.MinuteStats) bool { return m.Seen > 0 })
	return o[i:]
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
