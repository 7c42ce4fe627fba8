package zoomtest

import (
	"slices"
	"strconv"
	"time"
)

// Truth is one degradation as it happened: the answer key a test or the
// simulator scores alerts against.
type Truth struct {
	Kind     Kind
	SourceID string // the webinar or meeting number, in decimal
	UUID     string
	UserID   string // the participant's user_id (the key within the source)
	ID       string // blank for guests
	UserName string
	Role     string
	What     Impairment
	// From is the onset: the start of the first bad minute. To is the end
	// of the last one, cut to the participant's presence and the source's end.
	From, To time.Time
}

// Truth returns every degradation of the scenario, by onset.
func (sc *Scenario) Truth() []Truth { return sc.truth(sc.End()) }

func (sc *Scenario) truth(end time.Time) []Truth {
	sc.init()
	var out []Truth
	start := sc.start()
	for _, p := range sc.Participants {
		for _, d := range p.Degradations {
			from, to := max(d.From, p.Join), d.To
			if p.Leave > 0 {
				to = min(to, p.Leave)
			}
			f, t := start.Add(from), start.Add(to)
			if !end.IsZero() && t.After(end) {
				t = end
			}
			if !t.After(f) {
				continue // never happened
			}
			out = append(out, Truth{Kind: sc.Kind, SourceID: strconv.FormatInt(sc.ID, 10), UUID: sc.UUID,
				UserID: p.UserID, ID: p.ID, UserName: p.UserName, Role: p.Role, What: d.Kind, From: f, To: t})
		}
	}
	slices.SortStableFunc(out, func(a, b Truth) int { return a.From.Compare(b.From) })
	return out
}

// Truth returns the degradations of every source on the server, with the
// ends set by EndAt.
func (s *Server) Truth() []Truth {
	s.mu.Lock()
	srcs := slices.Clone(s.sources)
	ends := make([]time.Time, len(srcs))
	for i, src := range srcs {
		ends[i] = src.end
	}
	s.mu.Unlock()
	var out []Truth
	for i, src := range srcs {
		out = append(out, src.sc.truth(ends[i])...)
	}
	return out
}

// Detection is an alert raised about a participant, to score.
type Detection struct {
	SourceID string // the webinar/meeting number or its UUID
	UserID   string
	At       time.Time // when the alert fired
}

// Score is how well detections matched the truth.
type Score struct {
	Degraded    int             // degradations in the truth
	Detected    int             // degradations with a matching detection
	Delays      []time.Duration // onset to first matching detection, sorted
	FalseAlerts int             // detections that match no degradation
}

// Rate is Detected / Degraded (1 when nothing was degraded).
func (s Score) Rate() float64 {
	if s.Degraded == 0 {
		return 1
	}
	return float64(s.Detected) / float64(s.Degraded)
}

// Within counts the degradations detected no later than d after onset.
func (s Score) Within(d time.Duration) int {
	n, _ := slices.BinarySearch(s.Delays, d+1)
	return n
}

// Quantile returns the q-quantile (0.5 = median) of the delays.
func (s Score) Quantile(q float64) time.Duration {
	if len(s.Delays) == 0 {
		return 0
	}
	i := int(q*float64(len(s.Delays)-1) + 0.5)
	return s.Delays[min(max(i, 0), len(s.Delays)-1)]
}

// ScoreDetections matches detections to degradations: a detection about
// the same source and participant from the onset until late after the
// degradation's end matches it. Participants are keyed by user_id.
func ScoreDetections(truth []Truth, dets []Detection, late time.Duration) Score {
	sc := Score{Degraded: len(truth)}
	type key struct{ src, user string }
	byKey := map[key][]int{}
	for i, t := range truth {
		byKey[key{t.SourceID, t.UserID}] = append(byKey[key{t.SourceID, t.UserID}], i)
		if t.UUID != "" {
			byKey[key{t.UUID, t.UserID}] = append(byKey[key{t.UUID, t.UserID}], i)
		}
	}
	first := make([]time.Time, len(truth))
	for _, d := range dets {
		matched := false
		for _, i := range byKey[key{d.SourceID, d.UserID}] {
			t := truth[i]
			if d.At.Before(t.From) || d.At.After(t.To.Add(late)) {
				continue
			}
			matched = true
			if first[i].IsZero() || d.At.Before(first[i]) {
				first[i] = d.At
			}
		}
		if !matched {
			sc.FalseAlerts++
		}
	}
	for i, f := range first {
		if !f.IsZero() {
			sc.Detected++
			sc.Delays = append(sc.Delays, f.Sub(truth[i].From))
		}
	}
	slices.Sort(sc.Delays)
	return sc
}
