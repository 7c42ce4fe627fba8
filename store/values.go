package store

import (
	"fmt"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// The encode/decode pairs of every stored type. Keep each pair in the
// same field order, and only append (see codec.go).

func (w *writer) source(s *engine.Source) {
	w.nested(func(w *writer) {
		w.str(string(s.Kind))
		w.str(s.ID)
		w.str(s.UUID)
		w.str(s.Topic)
		w.str(s.Host)
		w.bool(s.Live)
	})
}

func (r *reader) source(s *engine.Source) {
	r.nested(func(r *reader) {
		s.Kind = engine.SourceKind(r.str())
		s.ID = r.str()
		s.UUID = r.str()
		s.Topic = r.str()
		s.Host = r.str()
		s.Live = r.bool()
	})
}

func (w *writer) participant(p *engine.Participant) {
	w.nested(func(w *writer) {
		w.str(p.UserID)
		w.str(p.ID)
		w.str(p.UserName)
		w.str(p.Email)
		w.str(p.Device)
		w.str(p.Client)
		w.str(p.Version)
		w.str(p.Location)
		w.str(p.IPAddress)
		w.str(p.Domain)
		w.str(p.PCName)
		w.str(p.MacAddr)
		w.str(p.HarddiskID)
		w.str(p.NetworkType)
		w.str(p.DataCenter)
		w.time(p.JoinTime)
		w.time(p.LeaveTime)
		w.str(p.Role)
		w.str(p.AudioQuality)
		w.str(p.VideoQuality)
		w.str(p.ScreenShareQuality)
	})
}

func (r *reader) participant(p *engine.Participant) {
	r.nested(func(r *reader) {
		p.UserID = r.str()
		p.ID = r.str()
		p.UserName = r.str()
		p.Email = r.str()
		p.Device = r.str()
		p.Client = r.str()
		p.Version = r.str()
		p.Location = r.str()
		p.IPAddress = r.str()
		p.Domain = r.str()
		p.PCName = r.str()
		p.MacAddr = r.str()
		p.HarddiskID = r.str()
		p.NetworkType = r.str()
		p.DataCenter = r.str()
		p.JoinTime = r.time()
		p.LeaveTime = r.time()
		p.Role = r.str()
		p.AudioQuality = r.str()
		p.VideoQuality = r.str()
		p.ScreenShareQuality = r.str()
	})
}

func (w *writer) stream(s *engine.Stream) {
	w.nested(func(w *writer) {
		w.float(s.Bitrate)
		w.float(s.Latency)
		w.float(s.Jitter)
		w.float(s.AvgLoss)
		w.float(s.MaxLoss)
		w.float(s.FrameRate)
		w.float(s.Width)
		w.float(s.Height)
		w.str(s.Resolution)
	})
}

func (r *reader) stream(s *engine.Stream) {
	r.nested(func(r *reader) {
		s.Bitrate = r.float()
		s.Latency = r.float()
		s.Jitter = r.float()
		s.AvgLoss = r.float()
		s.MaxLoss = r.float()
		s.FrameRate = r.float()
		s.Width = r.float()
		s.Height = r.float()
		s.Resolution = r.str()
	})
}

func (w *writer) sample(s *engine.Sample) {
	w.nested(func(w *writer) {
		w.source(&s.Source)
		w.participant(&s.Participant)
		w.time(s.Time)
		for _, st := range s.Streams() {
			w.stream(st)
		}
		w.nested(func(w *writer) {
			w.float(s.CPUUsage.ZoomMinCPUUsage)
			w.float(s.CPUUsage.ZoomAvgCPUUsage)
			w.float(s.CPUUsage.ZoomMaxCPUUsage)
			w.float(s.CPUUsage.SystemMaxCPUUsage)
		})
		w.nested(func(w *writer) {
			w.float(s.WiFiRSSI.MaxRSSI)
			w.float(s.WiFiRSSI.AvgRSSI)
			w.float(s.WiFiRSSI.MinRSSI)
		})
		w.float(s.Latency)
		w.float(s.Jitter)
		w.float(s.AvgLoss)
		w.float(s.MaxLoss)
	})
}

func (r *reader) sample(s *engine.Sample) {
	r.nested(func(r *reader) {
		r.source(&s.Source)
		r.participant(&s.Participant)
		s.Time = r.time()
		for _, st := range s.Streams() {
			r.stream(st)
		}
		r.nested(func(r *reader) {
			s.CPUUsage.ZoomMinCPUUsage = r.float()
			s.CPUUsage.ZoomAvgCPUUsage = r.float()
			s.CPUUsage.ZoomMaxCPUUsage = r.float()
			s.CPUUsage.SystemMaxCPUUsage = r.float()
		})
		r.nested(func(r *reader) {
			s.WiFiRSSI.MaxRSSI = r.float()
			s.WiFiRSSI.AvgRSSI = r.float()
			s.WiFiRSSI.MinRSSI = r.float()
		})
		s.Latency = r.float()
		s.Jitter = r.float()
		s.AvgLoss = r.float()
		s.MaxLoss = r.float()
	})
}

func (w *writer) terms(ts []engine.Term) {
	if ts == nil {
		w.uint(0)
		return
	}
	w.uint(uint64(len(ts)) + 1)
	for i := range ts {
		t := &ts[i]
		w.nested(func(w *writer) {
			w.str(t.Field)
			w.str(t.Value)
			w.str(t.Op)
			w.str(t.Threshold)
			w.bool(t.Holds)
		})
	}
}

func (r *reader) terms() []engine.Term {
	n := r.count()
	if n < 0 {
		return nil
	}
	ts := make([]engine.Term, n)
	for i := range ts {
		t := &ts[i]
		r.nested(func(r *reader) {
			t.Field = r.str()
			t.Value = r.str()
			t.Op = r.str()
			t.Threshold = r.str()
			t.Holds = r.bool()
		})
	}
	return ts
}

func (w *writer) key(k *engine.AlertKey) {
	w.nested(func(w *writer) {
		w.str(k.Rule)
		w.str(k.Source)
		w.str(k.Participant)
	})
}

func (r *reader) key(k *engine.AlertKey) {
	r.nested(func(r *reader) {
		k.Rule = r.str()
		k.Source = r.str()
		k.Participant = r.str()
	})
}

func encodeAlert(buf []byte, a *engine.Alert) []byte {
	w := writer{b: append(buf, valueVersion)}
	w.key(&a.Key)
	w.uint(uint64(a.State))
	w.str(string(a.Severity))
	w.labels(a.Labels)
	w.time(a.ActiveSince)
	w.time(a.FiredAt)
	w.time(a.ClearSince)
	w.time(a.LastSample)
	w.time(a.ResolvedAt)
	w.str(string(a.Reason))
	w.bool(a.Told)
	w.time(a.LastNotified)
	w.source(&a.Source)
	w.participant(&a.Participant)
	w.sample(&a.Sample)
	w.terms(a.Explain)
	return w.b
}

func decodeAlert(b []byte) (engine.Alert, error) {
	var a engine.Alert
	r := reader{b: b}
	r.version("alert")
	r.key(&a.Key)
	a.State = engine.State(r.uint())
	a.Severity = engine.Severity(r.str())
	a.Labels = r.labels()
	a.ActiveSince = r.time()
	a.FiredAt = r.time()
	a.ClearSince = r.time()
	a.LastSample = r.time()
	a.ResolvedAt = r.time()
	a.Reason = engine.Reason(r.str())
	a.Told = r.bool()
	a.LastNotified = r.time()
	r.source(&a.Source)
	r.participant(&a.Participant)
	r.sample(&a.Sample)
	a.Explain = r.terms()
	return a, r.err
}

func encodeNotification(buf []byte, n *engine.Notification) []byte {
	w := writer{b: append(buf, valueVersion)}
	w.uint(n.ID)
	w.str(string(n.Kind))
	w.key(&n.Key)
	w.nested(func(w *writer) {
		w.str(n.Rule.Name)
		w.str(n.Rule.Description)
		w.str(string(n.Rule.Severity))
		w.labels(n.Rule.Labels)
		w.dur(n.Rule.For)
	})
	w.source(&n.Source)
	w.participant(&n.Participant)
	w.sample(&n.Sample)
	w.terms(n.Explain)
	w.str(n.Summary)
	w.time(n.Since)
	w.time(n.At)
	w.str(string(n.Reason))
	w.time(n.Created)
	w.terms(n.Fired)
	return w.b
}

func decodeNotification(b []byte) (engine.Notification, error) {
	var n engine.Notification
	r := reader{b: b}
	r.version("notification")
	n.ID = r.uint()
	n.Kind = engine.NotificationKind(r.str())
	r.key(&n.Key)
	r.nested(func(r *reader) {
		n.Rule.Name = r.str()
		n.Rule.Description = r.str()
		n.Rule.Severity = engine.Severity(r.str())
		n.Rule.Labels = r.labels()
		n.Rule.For = r.dur()
	})
	r.source(&n.Source)
	r.participant(&n.Participant)
	r.sample(&n.Sample)
	n.Explain = r.terms()
	n.Summary = r.str()
	n.Since = r.time()
	n.At = r.time()
	n.Reason = engine.Reason(r.str())
	n.Created = r.time()
	n.Fired = r.terms()
	return n, r.err
}

func encodeSilence(s *engine.Silence) []byte {
	w := writer{b: []byte{valueVersion}}
	w.str(s.ID)
	if s.Matchers == nil {
		w.uint(0)
	} else {
		w.uint(uint64(len(s.Matchers)) + 1)
		for i := range s.Matchers {
			m := &s.Matchers[i]
			w.nested(func(w *writer) {
				w.str(m.Name)
				w.str(m.Value)
				w.bool(m.IsRegex)
			})
		}
	}
	w.time(s.StartsAt)
	w.time(s.EndsAt)
	w.str(s.CreatedBy)
	w.str(s.Comment)
	return w.b
}

func decodeSilence(b []byte) (engine.Silence, error) {
	var s engine.Silence
	r := reader{b: b}
	r.version("silence")
	s.ID = r.str()
	if n := r.count(); n >= 0 {
		s.Matchers = make([]engine.Matcher, n)
		for i := range s.Matchers {
			m := &s.Matchers[i]
			r.nested(func(r *reader) {
				m.Name = r.str()
				m.Value = r.str()
				m.IsRegex = r.bool()
			})
		}
	}
	s.StartsAt = r.time()
	s.EndsAt = r.time()
	s.CreatedBy = r.str()
	s.Comment = r.str()
	return s, r.err
}

func encodeCursor(c *engine.Cursor) []byte {
	w := writer{b: []byte{valueVersion}}
	w.str(c.Source)
	w.str(c.Participant)
	w.time(c.Last)
	return w.b
}

func decodeCursor(b []byte) (engine.Cursor, error) {
	var c engine.Cursor
	r := reader{b: b}
	r.version("cursor")
	c.Source = r.str()
	c.Participant = r.str()
	c.Last = r.time()
	return c, r.err
}

// storedRef is a message ref with the wall-clock time it was recorded, so
// group refs can be collected by age.
type storedRef struct {
	engine.MessageRef
	At time.Time
}

func encodeRef(ref storedRef) []byte {
	w := writer{b: []byte{valueVersion}}
	w.str(ref.Channel)
	w.str(ref.TS)
	w.time(ref.At)
	return w.b
}

func decodeRef(b []byte) (storedRef, error) {
	var ref storedRef
	r := reader{b: b}
	r.version("message ref")
	ref.Channel = r.str()
	ref.TS = r.str()
	ref.At = r.time()
	return ref, r.err
}

// decodeErr names what failed to decode, for an error a person can act on.
func decodeErr(bucket string, key []byte, err error) error {
	return fmt.Errorf("store: %s %q: %w", bucket, key, err)
}
