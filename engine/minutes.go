package engine

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"time"
)

// MinuteStats is what one source was like in one minute of sample time:
// how many participants were seen, how many each rule found degraded or
// had firing, which alerts started and ended, the shared causes found,
// and how the presenters (host, panelists) did. The engine counts it
// while it evaluates and hands it to the store in the same Commit as the
// alerts (Changes.Minutes); the store adds it up per (source, minute)
// with Merge, since a minute's samples arrive in several pages. It is all
// the post-webinar report is built from.
type MinuteStats struct {
	Source string    `json:"source"` // Source.Key()
	Minute time.Time `json:"minute"` // sample time, truncated to the minute (UTC)
	Topic  string    `json:"topic,omitempty"`

	Seen     int `json:"seen,omitempty"`     // participants with a sample in this minute
	Joined   int `json:"joined,omitempty"`   // of which seen for the first time in this occurrence
	Degraded int `json:"degraded,omitempty"` // of which on whom any rule's `when` held

	Rules      map[string]*RuleMinute `json:"rules,omitempty"`     // by rule name
	Presenters PresenterMinute        `json:"presenters,omitzero"` // hosts and panelists

	// EndedAt is set on the minute the source ended in (EndSource): the
	// minutes up to it are one occurrence.
	EndedAt time.Time `json:"ended_at,omitzero"`
}

// RuleMinute is one rule in one minute of one source.
type RuleMinute struct {
	Degraded int `json:"degraded,omitempty"` // participants on whom `when` held
	Firing   int `json:"firing,omitempty"`   // participants whose alert of the rule was firing (or resolving) after the sample
	// Started are the alerts that became firing in this minute; Ended
	// counts the firing alerts that resolved in it (for any reason).
	Started []Who `json:"started,omitempty"`
	Ended   int   `json:"ended,omitempty"`
	// Cause is the strongest shared cause found for the rule's firing
	// alerts in this minute (Notification.Cause), if any.
	Cause *Cause `json:"cause,omitempty"`
}

// Who names a participant of a source.
type Who struct {
	Key  string `json:"key"`            // Participant.Key()
	Name string `json:"name,omitempty"` // user_name
}

// PresenterMinute is how the presenters (participants with role host or
// panelist) did in one minute: what every attendee hears and sees comes
// from their uplink. The worst values are over their input (sent)
// streams; NaN when none was measured.
type PresenterMinute struct {
	Seen      int     `json:"seen,omitempty"`
	Degraded  int     `json:"degraded,omitempty"`   // on whom any rule's `when` held
	AudioLoss float64 `json:"audio_loss,omitempty"` // the highest audio_input.avg_loss, %
	Latency   float64 `json:"latency,omitempty"`    // the highest latency of their input streams, ms
	Jitter    float64 `json:"jitter,omitempty"`     // the highest jitter of their input streams, ms
	FrameRate float64 `json:"frame_rate,omitempty"` // the lowest video_input.frame_rate, fps
}

// IsZero reports whether no presenter was seen (so omitzero leaves it out).
func (p PresenterMinute) IsZero() bool { return p.Seen == 0 }

func (p PresenterMinute) MarshalJSON() ([]byte, error) {
	type plain PresenterMinute
	return json.Marshal(struct {
		plain
		AudioLoss jsonNum `json:"audio_loss"`
		Latency   jsonNum `json:"latency"`
		Jitter    jsonNum `json:"jitter"`
		FrameRate jsonNum `json:"frame_rate"`
	}{plain(p), jsonNum(p.AudioLoss), jsonNum(p.Latency), jsonNum(p.Jitter), jsonNum(p.FrameRate)})
}

func (p *PresenterMinute) UnmarshalJSON(b []byte) error {
	type plain PresenterMinute
	*p = PresenterMinute{AudioLoss: NaN, Latency: NaN, Jitter: NaN, FrameRate: NaN}
	return json.Unmarshal(b, (*plain)(p))
}

// observe adds one presenter sample.
func (p *PresenterMinute) observe(s *Sample, degraded bool) {
	if p.Seen == 0 {
		p.AudioLoss, p.Latency, p.Jitter, p.FrameRate = NaN, NaN, NaN, NaN
	}
	p.Seen++
	if degraded {
		p.Degraded++
	}
	p.AudioLoss = worst(p.AudioLoss, s.AudioInput.AvgLoss)
	for _, st := range [...]*Stream{&s.AudioInput, &s.VideoInput, &s.ASInput} {
		p.Latency = worst(p.Latency, st.Latency)
		p.Jitter = worst(p.Jitter, st.Jitter)
	}
	p.FrameRate = lowest(p.FrameRate, s.VideoInput.FrameRate)
}

func lowest(acc, v float64) float64 {
	if math.IsNaN(v) {
		return acc
	}
	if math.IsNaN(acc) || v < acc {
		return v
	}
	return acc
}

// Merge adds o (the same source and minute, counted from other samples)
// into m: counts add up, the started alerts join, the worst presenter
// values and the strongest cause win.
func (m *MinuteStats) Merge(o *MinuteStats) {
	if o.Topic != "" {
		m.Topic = o.Topic
	}
	m.Seen += o.Seen
	m.Joined += o.Joined
	m.Degraded += o.Degraded
	m.EndedAt = laterOf(m.EndedAt, o.EndedAt)
	for name, r := range o.Rules {
		mr := m.rule(name)
		mr.Degraded += r.Degraded
		mr.Firing += r.Firing
		mr.Started = append(mr.Started, r.Started...)
		mr.Ended += r.Ended
		if r.Cause != nil && (mr.Cause == nil || stronger(*r.Cause, *mr.Cause)) {
			c := *r.Cause
			mr.Cause = &c
		}
	}
	switch p, q := &m.Presenters, &o.Presenters; {
	case q.Seen == 0:
	case p.Seen == 0:
		*p = *q
	default:
		p.Seen += q.Seen
		p.Degraded += q.Degraded
		p.AudioLoss = worst(p.AudioLoss, q.AudioLoss)
		p.Latency = worst(p.Latency, q.Latency)
		p.Jitter = worst(p.Jitter, q.Jitter)
		p.FrameRate = lowest(p.FrameRate, q.FrameRate)
	}
}

// rule returns the minute's record of a rule, creating it.
func (m *MinuteStats) rule(name string) *RuleMinute {
	r := m.Rules[name]
	if r == nil {
		if m.Rules == nil {
			m.Rules = map[string]*RuleMinute{}
		}
		r = &RuleMinute{}
		m.Rules[name] = r
	}
	return r
}

// Clone deep-copies m.
func (m *MinuteStats) Clone() MinuteStats {
	c := *m
	c.Rules = nil
	c.Merge(&MinuteStats{Rules: m.Rules})
	return c
}

// minuteKey identifies one minute of one source in a call's tally.
type minuteKey struct {
	source string
	minute int64 // Unix minutes
}

// tally is a call's MinuteStats, with each minute's rules indexed like
// Engine.rules for the hot path (a rule not in the set, such as a removed
// one resolving, goes by name).
type tally struct {
	m     MinuteStats
	rules []RuleMinute
}

// minute returns this call's tally of a source's minute, creating it.
func (t *tx) minute(source string, at time.Time) *tally {
	k := minuteKey{source, at.Unix() / 60}
	if at.Unix() < 0 && at.Unix()%60 != 0 {
		k.minute-- // floor, for times before 1970 (tests)
	}
	if m := t.minutes[k]; m != nil {
		return m
	}
	m := &tally{m: MinuteStats{Source: source, Minute: time.Unix(k.minute*60, 0).UTC()}}
	if t.minutes == nil {
		t.minutes = map[minuteKey]*tally{}
	}
	t.minutes[k] = m
	return m
}

// ruleAt returns a rule's record in a tally: by index when the rule is in
// the set, by name otherwise.
func (e *Engine) ruleAt(m *tally, name string) *RuleMinute {
	if i, ok := e.ruleIdx[name]; ok && i < len(e.rules) && e.rules[i].Name == name {
		if m.rules == nil {
			m.rules = make([]RuleMinute, len(e.rules))
		}
		return &m.rules[i]
	}
	return m.m.rule(name)
}

// countSample tallies one evaluated sample: seen, joined, degraded (any
// rule held) and, for a host or panelist, the presenters' quality.
func (m *tally) countSample(s *Sample, joined, degraded bool) {
	m.m.Seen++
	if joined {
		m.m.Joined++
	}
	if degraded {
		m.m.Degraded++
	}
	if s.Source.Topic != "" {
		m.m.Topic = s.Source.Topic
	}
	if r := s.Participant.Role; r == RoleHost || r == RolePanelist {
		m.m.Presenters.observe(s, degraded)
	}
}

// tallyChanges turns a call's tallies into Changes.Minutes, sorted, with
// the shared causes its firing notifications carry.
func (e *Engine) tallyChanges(t *tx) {
	for i := range t.changes.Notifications {
		n := &t.changes.Notifications[i]
		if n.Kind == KindFiring && n.Cause != nil {
			r := e.ruleAt(t.minute(n.Key.Source, n.At), n.Key.Rule)
			if r.Cause == nil || stronger(*n.Cause, *r.Cause) {
				c := *n.Cause
				r.Cause = &c
			}
		}
	}
	if len(t.minutes) == 0 {
		return
	}
	out := make([]MinuteStats, 0, len(t.minutes))
	for _, m := range t.minutes {
		for i := range m.rules {
			if r := &m.rules[i]; r.Degraded+r.Firing+r.Ended > 0 || len(r.Started) > 0 || r.Cause != nil {
				*m.m.rule(e.rules[i].Name) = *r
			}
		}
		out = append(out, m.m)
	}
	slices.SortFunc(out, func(a, b MinuteStats) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), a.Minute.Compare(b.Minute))
	})
	t.changes.Minutes = out
}

// ReportDue is a post-webinar report waiting to be posted. The store
// queues one in the transaction that commits a source's end (a
// MinuteStats with EndedAt), so an end is never without its report nor
// has two; the notifier removes it once posted. Posted and Files are its
// progress, kept across restarts: the summary is not posted twice, nor a
// file uploaded twice (beyond the one call in flight).
type ReportDue struct {
	Source  string     `json:"source"`   // Source.Key()
	EndedAt time.Time  `json:"ended_at"` // the occurrence's end: which one to report
	Posted  MessageRef `json:"posted,omitzero"`
	Files   int        `json:"files,omitempty"` // files uploaded to the summary's thread so far
}
