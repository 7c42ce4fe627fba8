package engine

import (
	"math"
	"strings"
	"time"
)

// Window is what a rule's windowed functions (avg_over, count_over, …)
// need of a participant's recent samples: a few numbers of each sample,
// kept per participant for Span. The engine keeps them in one bounded ring
// per participant (the width of every windowed rule's values, as deep as
// the longest Span allows at one sample a minute), and hands a rule's
// conditions its part of the ring through Sample.Past.
type Window struct {
	// Span is the longest window the rule's conditions read.
	Span time.Duration
	// Values is how many numbers Record writes per sample.
	Values int
	// Record writes the rule's numbers for s into dst (len Values): a
	// missing value is NaN.
	Record func(s *Sample, dst []float64)
	// Key says what Record records (the expressions and their spans), so
	// a reload that keeps it keeps the windows filled.
	Key string
}

// MaxWindowSpan bounds Window.Span: a ring per participant of an hour of
// minutes at most.
const MaxWindowSpan = time.Hour

// Past is one rule's view of the current participant's recent samples,
// the current one included, set on the sample while the rule's conditions
// run (Sample.Past) and nil otherwise.
type Past struct {
	r   *ring
	off int // the rule's first value in an entry
}

// WindowStats are the known values of one recorded number over a window.
type WindowStats struct {
	Samples int     // samples in the window
	Known   int     // of them, with the value known (not NaN)
	Sum     float64 // of the known values
	Min     float64 // NaN when none is known
	Max     float64
}

// Stats summarizes value i of the rule over the samples of the window that
// ends at `at` (included) and began `span` before it (excluded): "5m" at
// one sample a minute is the current minute and the four before it.
func (p *Past) Stats(i int, span time.Duration, at time.Time) WindowStats {
	st := WindowStats{Min: math.NaN(), Max: math.NaN()}
	if p == nil || p.r == nil {
		return st
	}
	r := p.r
	from, to := float64(at.Add(-span).Unix()), float64(at.Unix())
	for k := 0; k < r.n; k++ {
		e := r.entry(k)
		if t := e[0]; t <= from || t > to {
			continue
		}
		st.Samples++
		v := e[1+p.off+i]
		if math.IsNaN(v) {
			continue
		}
		if st.Known == 0 || v < st.Min {
			st.Min = v
		}
		if st.Known == 0 || v > st.Max {
			st.Max = v
		}
		st.Known++
		st.Sum += v
	}
	return st
}

// ring is a participant's recent samples: depth entries of [time in Unix
// seconds, the values of every windowed rule], oldest overwritten. One
// allocation of floats, so a participant costs (1+width)×depth×8 bytes
// and a small header.
type ring struct {
	name    string // the participant's name, for the source rules' worst
	buf     []float64
	n, next int // entries held; where the next goes
	width   int // 1 + the values of an entry
}

func newRing(depth, values int) *ring {
	return &ring{buf: make([]float64, depth*(1+values)), width: 1 + values}
}

func (r *ring) depth() int { return len(r.buf) / r.width }

// entry k, 0 the oldest.
func (r *ring) entry(k int) []float64 {
	i := (r.next - r.n + k + r.depth()) % r.depth()
	return r.buf[i*r.width : (i+1)*r.width]
}

// newest is the time of the newest entry (-Inf when empty).
func (r *ring) newest() float64 {
	if r.n == 0 {
		return math.Inf(-1)
	}
	return r.entry(r.n - 1)[0]
}

// push makes room for a sample at t and returns its entry's values to fill
// (nil when t is not newer than the newest entry: recorded already, by a
// batch whose commit failed and which is ingested again).
func (r *ring) push(t time.Time) []float64 {
	ts := float64(t.Unix())
	if ts <= r.newest() {
		return nil
	}
	e := r.buf[r.next*r.width : (r.next+1)*r.width]
	e[0] = ts
	r.next = (r.next + 1) % r.depth()
	r.n = min(r.n+1, r.depth())
	return e[1:]
}

// windows is the layout of the rings for a rule set: each windowed rule's
// offset in an entry, and the ring's size.
type windows struct {
	offsets map[string]int // by rule name
	values  int            // per entry, every rule's
	depth   int            // entries: the longest span in minutes, and the current one
	key     string         // what is recorded, in order: a reload with the same key keeps the rings
}

// windowsOf lays out the rings of a rule set; nil when no rule has a
// window, so a rule set without them costs nothing per sample.
func windowsOf(rules []Rule) *windows {
	var w *windows
	var key strings.Builder
	for i := range rules {
		r := &rules[i]
		if r.Window == nil || r.Window.Values <= 0 {
			continue
		}
		if w == nil {
			w = &windows{offsets: map[string]int{}}
		}
		w.offsets[r.Name] = w.values
		w.values += r.Window.Values
		span := min(r.Window.Span, MaxWindowSpan)
		w.depth = max(w.depth, int((span+time.Minute-1)/time.Minute)+1)
		key.WriteString(r.Name + "\x00" + r.Window.Key + "\x00")
	}
	if w != nil {
		w.key = key.String()
	}
	return w
}

// record puts s in the participant's ring (made on its first sample) and
// returns the ring.
func (w *windows) record(rules []Rule, ps *partState, s *Sample) {
	if ps.past == nil || ps.past.width != 1+w.values || ps.past.depth() != w.depth {
		ps.past = newRing(w.depth, w.values)
	}
	e := ps.past.push(s.Time)
	if e == nil {
		return
	}
	if n := s.Participant.UserName; n != ps.past.name {
		ps.past.name = strings.Clone(n) // do not keep the batch alive
	}
	for i := range rules {
		r := &rules[i]
		if r.Window == nil {
			continue
		}
		off := w.offsets[r.Name]
		dst := e[off : off+r.Window.Values]
		for j := range dst {
			dst[j] = math.NaN()
		}
		r.Window.Record(s, dst)
	}
}

// LiveStateBytes is what the engine keeps per participant for the windows
// of rules: the ring's floats and its header. For capacity planning and
// the benchmark that reports it.
func LiveStateBytes(rules []Rule) int {
	w := windowsOf(rules)
	if w == nil {
		return 0
	}
	const header = 8 + 16 + 24 + 3*8 // the pointer in partState, the name, the slice, three ints
	return header + w.depth*(1+w.values)*8
}

// pastOf is a rule's view of the ring of an alert's participant, for the
// Explain of a message (nil without a window, or without a ring).
func (e *Engine) pastOf(t *tx, r *Rule, k AlertKey) *Past {
	if r.Window == nil || e.win == nil {
		return nil
	}
	st := e.sources[k.Source]
	if st == nil {
		return nil
	}
	ps, _ := t.part(st, k.Participant)
	if ps.past == nil {
		return nil
	}
	return &Past{r: ps.past, off: e.win.offsets[r.Name]}
}

// PastOf is a rule's view of one participant's samples (in time order; the
// last is the one evaluated) as the engine would keep them: for tools that
// evaluate a rule outside the engine (qoswatch explain). Nil without a
// window.
func PastOf(w *Window, samples []Sample) *Past {
	if w == nil || w.Values <= 0 || w.Record == nil {
		return nil
	}
	r := newRing(int((min(w.Span, MaxWindowSpan)+time.Minute-1)/time.Minute)+1, w.Values)
	for i := range samples {
		if e := r.push(samples[i].Time); e != nil {
			for j := range e {
				e[j] = math.NaN()
			}
			w.Record(&samples[i], e)
		}
	}
	return &Past{r: r}
}
