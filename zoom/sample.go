package zoom

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// AppendSamples appends to dst one sample per user_qos minute of p, in the
// order Zoom sent them, and returns the extended slice. A stream Zoom left
// out, or sent all blank, stays missing (NaN). A minute whose date_time is
// not RFC 3339 is skipped and counted in ParseStats().BadTimes: a sample
// without a time cannot be placed in an alert's history.
func AppendSamples(dst []engine.Sample, src engine.Source, p *ParticipantQoS) []engine.Sample {
	part := ParticipantOf(p)
	for i := range p.UserQoS {
		q := &p.UserQoS[i]
		t, ok := parseTime(q.DateTime)
		if !ok {
			continue
		}
		dst = append(dst, engine.NewSample())
		s := &dst[len(dst)-1]
		s.Source = src
		s.Participant = part
		s.Time = t
		setStream(&s.AudioInput, q.AudioInput)
		setStream(&s.AudioOutput, q.AudioOutput)
		setStream(&s.VideoInput, q.VideoInput)
		setStream(&s.VideoOutput, q.VideoOutput)
		setStream(&s.ASInput, q.ASInput)
		setStream(&s.ASOutput, q.ASOutput)
		setCPU(&s.CPUUsage, q.CPUUsage)
		setWiFi(&s.WiFiRSSI, q.WiFiRSSI)
		s.Aggregate()
	}
	return dst
}

// ParticipantOf maps the participant fields of a QoS entry. Times that are
// not RFC 3339 stay zero (and are counted).
func ParticipantOf(p *ParticipantQoS) engine.Participant {
	return engine.Participant{
		UserID:     p.UserID,
		ID:         p.ID,
		UserName:   p.UserName,
		Device:     p.Device,
		Version:    p.Version,
		Location:   p.Location,
		IPAddress:  p.IPAddress,
		Domain:     p.Domain,
		PCName:     p.PCName,
		MacAddr:    p.MacAddr,
		HarddiskID: p.HarddiskID,
		JoinTime:   optTime(p.JoinTime),
		LeaveTime:  optTime(p.LeaveTime),
	}
}

// MergeParticipant adds what the participants list knows and the QoS list
// does not (email, network type, data center, role, Zoom's quality
// ratings) to dst. A field the list leaves blank keeps dst's value, so a
// list entry never erases what the QoS list said.
func MergeParticipant(dst *engine.Participant, m *ParticipantMetrics) {
	set := func(f *string, v string) {
		if v != "" {
			*f = v
		}
	}
	set(&dst.UserID, m.UserID)
	set(&dst.ID, m.ID)
	set(&dst.UserName, m.UserName)
	set(&dst.Email, m.Email)
	set(&dst.Device, m.Device)
	set(&dst.Version, m.Version)
	set(&dst.Location, m.Location)
	set(&dst.IPAddress, m.IPAddress)
	set(&dst.Domain, m.Domain)
	set(&dst.PCName, m.PCName)
	set(&dst.MacAddr, m.MacAddr)
	set(&dst.HarddiskID, m.HarddiskID)
	set(&dst.NetworkType, m.NetworkType)
	set(&dst.DataCenter, m.DataCenter)
	set(&dst.Role, m.Role)
	set(&dst.AudioQuality, m.AudioQuality)
	set(&dst.VideoQuality, m.VideoQuality)
	set(&dst.ScreenShareQuality, m.ScreenShareQuality)
	if t := optTime(m.JoinTime); !t.IsZero() {
		dst.JoinTime = t
	}
	if t := optTime(m.LeaveTime); !t.IsZero() {
		dst.LeaveTime = t
	}
}

// SourceOf maps an entry of the webinars or meetings list to a Source.
func SourceOf(kind engine.SourceKind, live bool, m *SourceMetrics) engine.Source {
	return engine.Source{
		Kind:  kind,
		ID:    strconv.FormatInt(m.ID, 10),
		UUID:  m.UUID,
		Topic: m.Topic,
		Host:  m.Host,
		Live:  live,
	}
}

// PageDecoder decodes participants QoS pages to samples, reusing its
// sample slice from page to page. Not safe for concurrent use.
type PageDecoder struct {
	samples []engine.Sample
}

// Decode parses one page of GET .../participants/qos with encoding/json
// and returns its paging fields and its samples (AppendSamples). A QoS
// value of any JSON kind decodes: what does not parse is missing and
// counted, never an error; only a page that is not the participants QoS
// list is. The samples may be kept (they share nothing with body) but
// their slice is reused by the next Decode.
func (d *PageDecoder) Decode(body []byte, src engine.Source) (Page, []engine.Sample, error) {
	var l ParticipantQoSList // fresh: encoding/json merges into old slice elements
	if err := json.Unmarshal(body, &l); err != nil {
		return Page{}, nil, err
	}
	return l.Page, d.samplesOf(src, &l), nil
}

// samplesOf converts a decoded page to samples in the decoder's slice.
func (d *PageDecoder) samplesOf(src engine.Source, l *ParticipantQoSList) []engine.Sample {
	d.samples = d.samples[:0]
	for i := range l.Participants {
		d.samples = AppendSamples(d.samples, src, &l.Participants[i])
	}
	return d.samples
}

// setStream, setCPU and setWiFi fill a missing (NewSample) part of a
// sample with what Zoom sent; what Zoom left out stays missing.
func setStream(st *engine.Stream, q *StreamQoS) {
	if q == nil {
		return
	}
	st.Bitrate = parse(string(q.Bitrate), dimBitrate)
	st.Latency = parse(string(q.Latency), dimTime)
	st.Jitter = parse(string(q.Jitter), dimTime)
	st.AvgLoss = parse(string(q.AvgLoss), dimPercent)
	st.MaxLoss = parse(string(q.MaxLoss), dimPercent)
	// Audio streams have no frame rate or resolution: absent is not a
	// missing value worth counting.
	if q.FrameRate != "" {
		st.FrameRate = parse(string(q.FrameRate), dimRate)
	}
	if q.Resolution != "" {
		if w, h, ok := ParseResolution(string(q.Resolution)); ok {
			st.Width, st.Height, st.Resolution = w, h, string(q.Resolution)
		}
	}
}

func setCPU(c *engine.CPUUsage, q *CPUQoS) {
	if q == nil {
		return
	}
	c.ZoomMinCPUUsage = parse(string(q.ZoomMinCPUUsage), dimPercent)
	c.ZoomAvgCPUUsage = parse(string(q.ZoomAvgCPUUsage), dimPercent)
	c.ZoomMaxCPUUsage = parse(string(q.ZoomMaxCPUUsage), dimPercent)
	c.SystemMaxCPUUsage = parse(string(q.SystemMaxCPUUsage), dimPercent)
}

// setWiFi: Zoom sends wifi_rssi only for participants on Wi-Fi, and may
// leave out one of its numbers: absent is not a missing value worth
// counting.
func setWiFi(w *engine.WiFiRSSI, q *WiFiQoS) {
	if q == nil {
		return
	}
	for _, f := range [...]struct {
		dst *float64
		v   Number
	}{{&w.MaxRSSI, q.MaxRSSI}, {&w.AvgRSSI, q.AvgRSSI}, {&w.MinRSSI, q.MinRSSI}} {
		if f.v != "" {
			*f.dst = parse(string(f.v), dimSignal)
		}
	}
}

func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		valueStats.badTimes.Add(1)
		return time.Time{}, false
	}
	return t, true
}

// optTime parses a time that may be absent (a participant still in the
// webinar has no leave_time).
func optTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := parseTime(s)
	return t
}
