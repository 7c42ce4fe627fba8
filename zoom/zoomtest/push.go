package zoomtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/qoswatch/qoswatch/zoom"
)

// What Zoom pushes for a scenario: the same people, the same minutes and
// the same QoS values as the API serves (userQoS), as the events Zoom's
// reference documents (zoom/testdata/events), each at the time Zoom would
// send it. Deliver them as signed webhooks (WebhookSender) or over the
// fake's WebSocket endpoint (ws.go).

// PushEvent is one event and when Zoom would send it.
type PushEvent struct {
	At   time.Time // when Zoom sends it
	Name string    // "webinar.participant_qos", …
	Body []byte    // the event JSON: a webhook body, a WebSocket message's content
}

// PushOptions choose what a scenario pushes.
type PushOptions struct {
	// QSS is the QSS add-on: every present participant's QoS each minute
	// (participant_qos, sent a little after the minute), and a
	// participant_qos_summary at each leave.
	QSS bool
	// NoAlerts turns off Zoom's own alert events (one per issue and
	// source at most every 10 minutes, 90 s after an impairment starts).
	NoAlerts bool
}

// QSSDelay is how long after a minute ends Zoom sends its QSS event.
const QSSDelay = 5 * time.Second

// alertDelay is how long after an impairment starts Zoom flags it.
const alertDelay = 90 * time.Second

// zoomIssue is the issue Zoom's alert names for an impairment.
var zoomIssue = map[Impairment]string{
	AudioLoss: "Unstable audio quality", WeakWiFi: "Unstable audio quality", HighLatency: "Unstable audio quality",
	FrozenVideo: "Unstable video quality", ScreenShareStutter: "Unstable screen share quality", CPUHog: "High CPU occupation",
}

// Events returns the events the scenario pushes with At in [from, to), in
// time order. The scenario ends at sc.End() (never, when zero).
func (sc *Scenario) Events(from, to time.Time, o PushOptions) []PushEvent {
	return sc.events(from, to, sc.End(), o)
}

// PushEvents returns the events of every source on the server with At in
// [from, to), in time order, with the ends set by EndAt.
func (s *Server) PushEvents(from, to time.Time, o PushOptions) []PushEvent {
	s.mu.Lock()
	srcs := slices.Clone(s.sources)
	s.mu.Unlock()
	var out []PushEvent
	for _, src := range srcs {
		s.mu.Lock()
		end := src.end
		s.mu.Unlock()
		out = append(out, src.sc.events(from, to, end, o)...)
	}
	slices.SortStableFunc(out, func(a, b PushEvent) int { return a.At.Compare(b.At) })
	return out
}

func (sc *Scenario) events(from, to, end time.Time, o PushOptions) []PushEvent {
	sc.init()
	start := sc.start()
	in := func(t time.Time) bool {
		return !t.Before(from) && t.Before(to) && (end.IsZero() || !t.After(end))
	}
	var out []PushEvent
	add := func(at time.Time, what string, obj map[string]any) {
		if !in(at) {
			return
		}
		name := string(sc.Kind) + "." + what
		body, err := json.Marshal(map[string]any{
			"event": name, "event_ts": at.UnixMilli(),
			"payload": map[string]any{"account_id": "fakeAccountID", "object": obj},
		})
		if err != nil {
			panic(err) // maps of strings, numbers and slices: cannot fail
		}
		out = append(out, PushEvent{At: at, Name: name, Body: body})
	}
	obj := func(more map[string]any) map[string]any {
		m := map[string]any{"id": strconv.FormatInt(sc.ID, 10), "uuid": sc.UUID, "host_id": "fakeHostID",
			"topic": sc.Topic, "type": 5, "start_time": stamp(start), "timezone": "UTC", "duration": int(sc.Duration / time.Minute)}
		if sc.Kind == Meeting {
			m["id"], m["type"] = sc.ID, 2 // meeting events carry the id as a number
		}
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	person := func(p *Participant, more map[string]any) map[string]any {
		m := map[string]any{"user_id": p.UserID, "user_name": p.UserName, "id": p.ID, "email": p.Email,
			"participant_user_id": p.ID, "participant_uuid": "fake-" + p.UserID}
		for k, v := range more {
			m[k] = v
		}
		return m
	}

	add(start, "started", obj(nil))
	if !end.IsZero() {
		add(end, "ended", obj(map[string]any{"end_time": stamp(end)}))
	}
	issuesAt := map[string]time.Time{}
	for _, p := range sc.order {
		add(start.Add(p.Join), "participant_joined", obj(map[string]any{"participant": person(p, map[string]any{"join_time": p.joinStamp})}))
		if p.Leave > 0 {
			leave := start.Add(p.Leave)
			add(leave, "participant_left", obj(map[string]any{"participant": person(p, map[string]any{
				"leave_time": stamp(leave), "leave_reason": p.UserName + " left the " + string(sc.Kind) + "."})}))
			if o.QSS {
				add(leave.Add(QSSDelay), "participant_qos_summary", map[string]any{"uuid": sc.UUID, "id": strconv.FormatInt(sc.ID, 10),
					"participant": map[string]any{"participant_id": p.UserID, "user_name": p.UserName, "id": p.ID, "email": p.Email, "qos": []any{}}})
			}
		}
		if !o.NoAlerts {
			for _, d := range p.Degradations {
				at := start.Add(max(d.From, p.Join) + alertDelay)
				issue := zoomIssue[d.Kind]
				if last, ok := issuesAt[issue]; (ok && at.Sub(last) < 10*time.Minute && at.Sub(last) > -10*time.Minute) || !p.present(at.Sub(start)) {
					continue
				}
				issuesAt[issue] = at
				add(at, "alert", obj(map[string]any{"issues": []string{issue}}))
			}
		}
		if !o.QSS {
			continue
		}
		// Minutes whose event falls in [from, to).
		first := max(0, from.Sub(start)-time.Minute-QSSDelay) / time.Minute
		for k := first; ; k++ {
			off := k * time.Minute
			at := start.Add(off + time.Minute + QSSDelay)
			if !at.Before(to) || (!end.IsZero() && !start.Add(off).Before(end)) {
				break
			}
			if p.present(off) {
				add(at, "participant_qos", map[string]any{"uuid": sc.UUID,
					"participant": map[string]any{"user_id": p.UserID, "participant_user_id": p.ID, "email": p.Email,
						"qos": qssItems(sc.userQoS(p, off))}})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b PushEvent) int { return a.At.Compare(b.At) })
	return out
}

// qssItems spells a minute of QoS the way QSS events do: one item per
// type, each with its details.
func qssItems(q zoom.UserQoS) []map[string]any {
	var items []map[string]any
	item := func(typ string, details map[string]any) {
		items = append(items, map[string]any{"date_time": q.DateTime, "type": typ, "details": details})
	}
	stream := func(typ string, s *zoom.StreamQoS) {
		if s == nil || *s == (zoom.StreamQoS{}) {
			return
		}
		d := map[string]any{"bitrate": s.Bitrate, "latency": s.Latency, "jitter": s.Jitter, "avg_loss": s.AvgLoss, "max_loss": s.MaxLoss}
		if s.Resolution != "" || s.FrameRate != "" {
			d["resolution"], d["frame_rate"] = s.Resolution, s.FrameRate
		}
		item(typ, d)
	}
	stream("audio_input", q.AudioInput)
	stream("audio_output", q.AudioOutput)
	stream("video_input", q.VideoInput)
	stream("video_output", q.VideoOutput)
	stream("as_input", q.ASInput)
	stream("as_output", q.ASOutput)
	if c := q.CPUUsage; c != nil {
		item("cpu_usage", map[string]any{"zoom_min_cpu_usage": c.ZoomMinCPUUsage, "zoom_avg_cpu_usage": c.ZoomAvgCPUUsage,
			"zoom_max_cpu_usage": c.ZoomMaxCPUUsage, "system_max_cpu_usage": c.SystemMaxCPUUsage})
	}
	if w := q.WiFiRSSI; w != nil && w.AvgRSSI != "" {
		// Zoom's examples send RSSI both as strings and as integers.
		item("wifi_rssi", map[string]any{"max_rssi": string(w.MaxRSSI), "avg_rssi": w.AvgRSSI, "min_rssi": string(w.MinRSSI), "rssi_unit": "dBm"})
	}
	return items
}

// WebhookSender posts events to a webhook endpoint the way Zoom does:
// signed with the app's secret token, timestamped now.
type WebhookSender struct {
	URL    string
	Secret string
	Client *http.Client     // default http.DefaultClient
	Now    func() time.Time // the timestamp's clock; default time.Now
}

// Fault is how a delivery goes wrong, for the bad-input scenarios.
type SendFault int

const (
	SendOK           SendFault = iota
	SendBadSignature           // signed with another secret
	SendStale                  // timestamped 6 minutes ago (a replay)
	SendNoSignature            // without x-zm-signature
)

// Send posts one event; the caller reads (and closes) the answer.
func (w *WebhookSender) Send(body []byte, fault SendFault) (*http.Response, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	at := now()
	secret := w.Secret
	switch fault {
	case SendBadSignature:
		secret = "not-" + w.Secret
	case SendStale:
		at = at.Add(-6 * time.Minute)
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Zoom Marketplace/1.0a")
	req.Header.Set("x-zm-request-timestamp", ts)
	if fault != SendNoSignature {
		req.Header.Set("x-zm-signature", zoom.Signature([]byte(secret), ts, body))
	}
	c := w.Client
	if c == nil {
		c = http.DefaultClient
	}
	return c.Do(req)
}

// Deliver posts an event as Zoom does: until it is answered 2xx, with
// Zoom's retries (after 5, 20 and 60 more minutes, here without the
// wait): the number of attempts it took, and the last status.
func (w *WebhookSender) Deliver(body []byte) (attempts, status int, err error) {
	for attempts < 4 {
		attempts++
		resp, err := w.Send(body, SendOK)
		if err != nil {
			return attempts, 0, err
		}
		resp.Body.Close()
		status = resp.StatusCode
		if status < 500 { // Zoom retries 5xx only
			return attempts, status, nil
		}
	}
	return attempts, status, fmt.Errorf("zoomtest: %d attempts answered %d", attempts, status)
}
