package zoom

import (
	"encoding/json"
	"math"
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
		t, ok := parseTime(q.DateTime, nil)
		if !ok {
			continue
		}
		dst = append(dst, engine.Sample{})
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
		JoinTime:   optTime(p.JoinTime, nil),
		LeaveTime:  optTime(p.LeaveTime, nil),
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
	if t := optTime(m.JoinTime, nil); !t.IsZero() {
		dst.JoinTime = t
	}
	if t := optTime(m.LeaveTime, nil); !t.IsZero() {
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

// PageDecoder decodes participants QoS pages and converts them to samples,
// reusing its buffers from page to page. Not safe for concurrent use.
type PageDecoder struct {
	list    ParticipantQoSList
	samples []engine.Sample

	// The fast path's scratch (pagedecode.go).
	buf   []byte
	times [8]struct {
		raw []byte
		t   time.Time
		ok  bool
	}
	resolutions []string
	next        int
	tally       tally // missing values of the page, counted once it decoded
}

// Decode parses one page of GET .../participants/qos and returns its
// paging fields and its samples, the same as json.Unmarshal followed by
// AppendSamples would, at a fraction of the cost. The page is valid
// until the next call to Decode; the samples may be kept (their strings
// are not shared with body) but their slice is reused.
func (d *PageDecoder) Decode(body []byte, src engine.Source) (Page, []engine.Sample, error) {
	if err := d.decodeFast(body, src); err == nil {
		return d.list.Page, d.samples, nil
	}
	// A fresh list: encoding/json merges into old slice elements, which
	// would leak one participant's fields into the next.
	d.list = ParticipantQoSList{}
	if err := json.Unmarshal(body, &d.list); err != nil {
		return Page{}, nil, err
	}
	d.samples = d.Samples(src, &d.list)
	return d.list.Page, d.samples, nil
}

// Samples converts a decoded page to samples, reusing the decoder's buffer.
func (d *PageDecoder) Samples(src engine.Source, l *ParticipantQoSList) []engine.Sample {
	s := d.samples[:0]
	for i := range l.Participants {
		s = AppendSamples(s, src, &l.Participants[i])
	}
	d.samples = s
	return s
}

func setStream(st *engine.Stream, q *StreamQoS) {
	*st = engine.MissingStream
	if q == nil {
		return
	}
	st.Bitrate = parse(q.Bitrate, dimBitrate, nil)
	st.Latency = parse(q.Latency, dimTime, nil)
	st.Jitter = parse(q.Jitter, dimTime, nil)
	st.AvgLoss = parse(q.AvgLoss, dimPercent, nil)
	st.MaxLoss = parse(q.MaxLoss, dimPercent, nil)
	// Audio streams have no frame rate or resolution: absent is not a
	// missing value worth counting.
	if q.FrameRate != "" {
		st.FrameRate = parse(q.FrameRate, dimRate, nil)
	}
	if q.Resolution != "" {
		if w, h, ok := parseResolution(q.Resolution, nil); ok {
			st.Width, st.Height, st.Resolution = w, h, q.Resolution
		}
	}
}

func setCPU(c *engine.CPUUsage, q *CPUQoS) {
	if q == nil {
		*c = engine.CPUUsage{ZoomMinCPUUsage: engine.NaN, ZoomAvgCPUUsage: engine.NaN, ZoomMaxCPUUsage: engine.NaN, SystemMaxCPUUsage: engine.NaN}
		return
	}
	c.ZoomMinCPUUsage = parse(q.ZoomMinCPUUsage, dimPercent, nil)
	c.ZoomAvgCPUUsage = parse(q.ZoomAvgCPUUsage, dimPercent, nil)
	c.ZoomMaxCPUUsage = parse(q.ZoomMaxCPUUsage, dimPercent, nil)
	c.SystemMaxCPUUsage = parse(q.SystemMaxCPUUsage, dimPercent, nil)
}

func setWiFi(w *engine.WiFiRSSI, q *WiFiQoS) {
	*w = engine.WiFiRSSI{MaxRSSI: engine.NaN, AvgRSSI: engine.NaN, MinRSSI: engine.NaN}
	if q == nil {
		return
	}
	w.MaxRSSI, w.AvgRSSI, w.MinRSSI = intOrNaN(q.MaxRSSI), intOrNaN(q.AvgRSSI), intOrNaN(q.MinRSSI)
}

func intOrNaN(p *int) float64 {
	if p == nil {
		return math.NaN()
	}
	return float64(*p)
}

func parseTime(s string, tl *tally) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tl.addBadTime()
		return time.Time{}, false
	}
	return t, true
}

// optTime parses a time that may be absent (a participant still in the
// webinar has no leave_time).
func optTime(s string, tl *tally) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := parseTime(s, tl)
	return t
}
