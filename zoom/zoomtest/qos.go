package zoomtest

import (
	"strconv"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/zoom"
)

// rng is a tiny deterministic generator seeded per (participant, minute),
// so any minute can be computed on demand, in any order.
type rng uint64

func (r *rng) next() uint64 { *r++; return mix(uint64(*r)) }

// between returns a float in [lo, hi).
func (r *rng) between(lo, hi float64) float64 {
	return lo + (hi-lo)*float64(r.next()>>11)/(1<<53)
}

// intn returns an int in [lo, hi].
func (r *rng) intn(lo, hi int) int { return lo + int(r.next()%uint64(hi-lo+1)) }

// Formatting as Zoom does: "23 kbps", "126 ms", "0.3%", "12 fps", "8%".
// The common values come from tables built once, so a sample costs no
// string allocations; rarer ones are formatted on the spot.
var (
	kbpsTab = table(5000, kbpsTab0)
	msTab   = table(2000, msTab0)
	fpsTab  = table(61, fpsTab0)
	pctTab  = table(101, pctTab0)
	lossTab = table(1001, lossTab0)
)

func table(n int, f func(int) string) []zoom.Value {
	t := make([]zoom.Value, n)
	for i := range t {
		t[i] = zoom.Value(f(i))
	}
	return t
}

func lookup(tab []zoom.Value, i int, f func(int) string) zoom.Value {
	if i >= 0 && i < len(tab) {
		return tab[i]
	}
	return zoom.Value(f(i))
}

func kbps(v float64) zoom.Value { return lookup(kbpsTab, int(v+0.5), kbpsTab0) }
func ms(v float64) zoom.Value   { return lookup(msTab, int(v+0.5), msTab0) }
func loss(v float64) zoom.Value { return lookup(lossTab, int(v*10+0.5), lossTab0) }
func fps(v int) zoom.Value      { return lookup(fpsTab, v, fpsTab0) }
func pct(v float64) zoom.Value  { return lookup(pctTab, int(v+0.5), pctTab0) }
func res(w, h int) zoom.Value {
	switch {
	case w == 1280 && h == 720:
		return "1280*720"
	case w == 640 && h == 360:
		return "640*360"
	case w == 1920 && h == 1080:
		return "1920*1080"
	}
	return zoom.Value(strconv.Itoa(w) + "*" + strconv.Itoa(h))
}

// The formats themselves: the tables hold their first values.
func kbpsTab0(i int) string    { return strconv.Itoa(i) + " kbps" }
func msTab0(i int) string      { return strconv.Itoa(i) + " ms" }
func lossTab0(i int) string    { return strconv.FormatFloat(float64(i)/10, 'f', 1, 64) + "%" }
func fpsTab0(i int) string     { return strconv.Itoa(i) + " fps" }
func pctTab0(i int) string     { return strconv.Itoa(i) + "%" }
func dbm(v int) zoom.Number    { return zoom.Number(strconv.Itoa(v)) }
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// stamp returns the date_time of the minute starting at off, from a
// table for the scenario's first hours.
func (sc *Scenario) stamp(off time.Duration) string {
	if k := int(off / time.Minute); k >= 0 && k < len(sc.stamps) && off%time.Minute == 0 {
		return sc.stamps[k]
	}
	return stamp(sc.start().Add(off))
}

// emptyStream is a stream not in use: Zoom sends every field as "".
func emptyStream() *zoom.StreamQoS { return &zoom.StreamQoS{} }

// baseline is a participant's healthy operating point, fixed per
// participant so its numbers look like one person's connection.
type baseline struct {
	latency, jitter, loss float64
	audioKbps, videoKbps  float64
	w, h, fps             int
	cpu                   float64
	rssi                  int
}

func (p *Participant) baseline() baseline {
	r := rng(p.seed ^ 0xB5AD4ECEDA1CE2A9)
	b := baseline{
		latency:   r.between(20, 110),
		jitter:    r.between(1, 8),
		loss:      r.between(0, 0.4),
		audioKbps: r.between(20, 70),
		videoKbps: r.between(400, 1500),
		fps:       r.intn(20, 30),
		cpu:       r.between(5, 25),
		rssi:      r.intn(-62, -40),
	}
	if r.next()%2 == 0 {
		b.w, b.h = 1280, 720
	} else {
		b.w, b.h = 640, 360
	}
	return b
}

// userQoS computes participant p's QoS for the minute starting at off
// (an offset from the scenario start) of scenario sc.
func (sc *Scenario) userQoS(p *Participant, off time.Duration) zoom.UserQoS {
	b := p.baseline()
	minute := uint64(off / time.Minute)
	r := rng(p.seed ^ mix(minute+uint64(sc.Seed)<<20))
	bad := p.active(off)

	lat := b.latency * r.between(0.9, 1.15)
	jit := b.jitter * r.between(0.8, 1.3)
	lo := b.loss * r.between(0, 1.5)
	if bad.has(HighLatency) {
		lat = r.between(300, 600)
		jit = r.between(40, 80)
	}
	if bad.has(WeakWiFi) {
		lo = r.between(3, 6)
		jit = r.between(30, 50)
	}
	maxLo := func(avg float64) float64 { return avg * r.between(2, 5) }

	stream := func(kb float64) *zoom.StreamQoS {
		l := lo
		return &zoom.StreamQoS{
			Bitrate: kbps(kb * r.between(0.85, 1.1)), Latency: ms(lat * r.between(0.95, 1.1)),
			Jitter: ms(jit * r.between(0.9, 1.2)), AvgLoss: loss(l), MaxLoss: loss(maxLo(l)),
		}
	}

	q := zoom.UserQoS{DateTime: sc.stamp(off)}
	q.AudioInput = stream(b.audioKbps)
	if bad.has(AudioLoss) {
		avg := r.between(5, 12)
		q.AudioInput.AvgLoss, q.AudioInput.MaxLoss = loss(avg), loss(r.between(15, 30))
	}
	q.AudioOutput = stream(b.audioKbps * 1.8)
	if bad.has(ReceivedAudioLoss) {
		avg := r.between(5, 12)
		q.AudioOutput.AvgLoss, q.AudioOutput.MaxLoss = loss(avg), loss(r.between(15, 30))
	}

	video := func(send bool) *zoom.StreamQoS {
		s := stream(b.videoKbps)
		if !send {
			s.Bitrate = kbps(b.videoKbps * 0.6 * r.between(0.85, 1.1))
		}
		s.Resolution = res(b.w, b.h)
		f := b.fps - r.intn(0, 3)
		if bad.has(CPUHog) {
			f = r.intn(3, 8)
		}
		s.FrameRate = fps(f)
		return s
	}
	switch {
	case p.AudioOnly:
		q.VideoInput, q.VideoOutput = emptyStream(), emptyStream()
	default:
		if p.sendsVideo(sc.Kind) {
			q.VideoInput = video(true)
		} else {
			q.VideoInput = emptyStream()
		}
		q.VideoOutput = video(false)
		if bad.has(FrozenVideo) {
			frozen := q.VideoOutput // what an attendee sees freezes
			if p.sendsVideo(sc.Kind) {
				frozen = q.VideoInput // what a sender sends freezes
			}
			frozen.FrameRate = "0 fps"
			frozen.Bitrate = kbps(r.between(0, 4))
		}
	}

	share := func(kb float64) *zoom.StreamQoS {
		s := stream(kb)
		s.Resolution = res(1920, 1080)
		s.FrameRate = fps(r.intn(8, 15))
		if bad.has(ScreenShareStutter) {
			s.FrameRate = fps(r.intn(0, 2))
			l := r.between(8, 15)
			s.AvgLoss, s.MaxLoss = loss(l), loss(maxLo(l))
			s.Jitter = ms(r.between(60, 120))
		}
		return s
	}
	if p.SharesScreen {
		q.ASInput = share(r.between(150, 400))
	} else {
		q.ASInput = emptyStream()
	}
	if p.AudioOnly {
		q.ASOutput = emptyStream()
	} else {
		q.ASOutput = share(r.between(100, 300))
	}

	cpu := b.cpu * r.between(0.8, 1.3)
	sys := cpu + r.between(10, 35)
	zmax := cpu * r.between(1.2, 1.6)
	if bad.has(CPUHog) {
		cpu, zmax, sys = r.between(85, 95), r.between(96, 99), 100
	}
	q.CPUUsage = &zoom.CPUQoS{
		ZoomMinCPUUsage: pct(cpu * 0.6), ZoomAvgCPUUsage: pct(cpu),
		ZoomMaxCPUUsage: pct(zmax), SystemMaxCPUUsage: pct(min(sys, 100)),
	}

	if sc.Quirks {
		quirks(&q, &r)
	}
	if p.NetworkType == "Wifi" {
		avg := b.rssi + r.intn(-3, 3)
		if bad.has(WeakWiFi) {
			avg = r.intn(-90, -80)
		}
		q.WiFiRSSI = &zoom.WiFiQoS{MaxRSSI: dbm(avg + r.intn(1, 5)), AvgRSSI: dbm(avg), MinRSSI: dbm(avg - r.intn(1, 6)), RSSIUnit: "dBm"}
	}
	return q
}

// ratingEffects is the score each impairment gives a participant's
// audio, video and screen share ("": it does not touch that one).
var ratingEffects = map[Impairment]struct{ audio, video, share string }{
	AudioLoss:          {audio: "bad"},
	ReceivedAudioLoss:  {audio: "poor"},
	HighLatency:        {audio: "poor", video: "poor"},
	WeakWiFi:           {audio: "fair", video: "poor"},
	FrozenVideo:        {video: "bad"},
	CPUHog:             {video: "fair"},
	ScreenShareStutter: {share: "poor"},
}

// ratings is Zoom's quality score for a participant's audio, video and
// screen share given the impairments of the minute (or the session): the
// worst any of them gives.
func ratings(p *Participant, bad impSet) (audio, video, share string) {
	audio, video, share = "good", "good", "good"
	if p.AudioOnly {
		video, share = "", ""
	}
	worse := func(cur *string, to string) {
		if *cur != "" && zoom.QualityRank(to) > zoom.QualityRank(*cur) {
			*cur = to
		}
	}
	for imp, e := range ratingEffects {
		if bad.has(imp) {
			worse(&audio, e.audio)
			worse(&video, e.video)
			worse(&share, e.share)
		}
	}
	return audio, video, share
}

// quirks rewrites some values the other ways Zoom writes them: decimals
// without the space ("27.15kbps"), Mbps ("1.06 Mbps"), "0ms" style
// latencies, and "-" for a jitter it did not measure.
func quirks(q *zoom.UserQoS, r *rng) {
	for _, s := range [...]*zoom.StreamQoS{q.AudioInput, q.AudioOutput, q.VideoInput, q.VideoOutput, q.ASInput, q.ASOutput} {
		if s == nil || s.Bitrate == "" {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSuffix(string(s.Bitrate), " kbps")); err == nil {
			switch x := r.next() % 10; {
			case n >= 1000 && x < 5:
				s.Bitrate = zoom.Value(strconv.FormatFloat(float64(n)/1000, 'f', 2, 64) + " Mbps")
			case x < 3:
				s.Bitrate = zoom.Value(strconv.Itoa(n) + "." + strconv.Itoa(10+int(r.next()%90)) + "kbps")
			}
		}
		if r.next()%10 < 3 {
			s.Latency = zoom.Value(strings.Replace(string(s.Latency), " ms", "ms", 1))
		}
		if r.next()%20 == 0 {
			s.Jitter = "-"
		}
	}
}
