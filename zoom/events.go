package zoom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// The events Zoom pushes, by webhook or WebSocket, as its reference
// documents them (testdata/events holds one example of each, with the URL
// it came from). Decoding is tolerant: a field Zoom adds is ignored, a
// number sent as a string (or the other way round) is read, and a QoS item
// of a type qoswatch does not map (the *_rwg and *_crc legs, a
// notification, a type Zoom adds later) is skipped.

// EventURLValidation is Zoom's challenge-response check of a webhook
// endpoint (at setup and every 72 hours).
const EventURLValidation = "endpoint.url_validation"

// eventKind is what an event does to qoswatch.
type eventKind uint8

const (
	evUnused     eventKind = iota
	evQoS                  // *.participant_qos: one minute (or a few) of one participant's QoS
	evQoSSummary           // *.participant_qos_summary: sent when a participant leaves
	evStarted              // *.started
	evEnded                // *.ended
	evJoined               // *.participant_joined
	evLeft                 // *.participant_left
	evAlert                // *.alert: Zoom's own issue flags
)

// classify says what an event name does, and of which kind of source.
func classify(name string) (engine.SourceKind, eventKind) {
	kind, what, ok := strings.Cut(name, ".")
	if !ok || (kind != string(engine.Webinar) && kind != string(engine.Meeting)) {
		return "", evUnused
	}
	k := map[string]eventKind{
		"participant_qos": evQoS, "participant_qos_summary": evQoSSummary,
		"started": evStarted, "ended": evEnded,
		"participant_joined": evJoined, "participant_left": evLeft,
		"alert": evAlert,
	}[what]
	return engine.SourceKind(kind), k
}

// ConsumedEvents are the event types qoswatch uses: subscribe to these in
// the Zoom app (the participant_qos ones need the QSS add-on).
var ConsumedEvents = []string{
	"webinar.started", "webinar.ended", "webinar.participant_joined", "webinar.participant_left",
	"webinar.alert", "webinar.participant_qos", "webinar.participant_qos_summary",
	"meeting.started", "meeting.ended", "meeting.participant_joined", "meeting.participant_left",
	"meeting.alert", "meeting.participant_qos", "meeting.participant_qos_summary",
}

// Event is one Zoom event: the envelope every webhook body and WebSocket
// message content shares.
type Event struct {
	Event   string       `json:"event"`
	EventTS int64        `json:"event_ts"` // ms since the epoch
	Payload EventPayload `json:"payload"`
}

// EventPayload is the payload of the events qoswatch reads.
type EventPayload struct {
	AccountID  string      `json:"account_id,omitempty"`
	Object     EventObject `json:"object"`
	PlainToken string      `json:"plainToken,omitempty"` // endpoint.url_validation
}

// EventObject is the webinar or meeting an event is about. QSS events
// carry only its uuid.
type EventObject struct {
	ID          flexString        `json:"id,omitempty"` // a number in some events, a string in others
	UUID        string            `json:"uuid"`
	HostID      string            `json:"host_id,omitempty"`
	Topic       string            `json:"topic,omitempty"`
	StartTime   string            `json:"start_time,omitempty"`
	EndTime     string            `json:"end_time,omitempty"`
	Issues      []string          `json:"issues,omitempty"` // *.alert
	Participant *EventParticipant `json:"participant,omitempty"`
}

// EventParticipant is the participant of a join, leave or QSS event.
type EventParticipant struct {
	UserID            string     `json:"user_id,omitempty"`        // the in-meeting id: Participant.Key()
	ParticipantID     string     `json:"participant_id,omitempty"` // the same id, in the QSS summaries
	UserName          string     `json:"user_name,omitempty"`
	ID                string     `json:"id,omitempty"` // the user's Zoom id; blank for guests
	ParticipantUserID string     `json:"participant_user_id,omitempty"`
	ParticipantUUID   string     `json:"participant_uuid,omitempty"`
	Email             string     `json:"email,omitempty"`
	JoinTime          string     `json:"join_time,omitempty"`
	LeaveTime         string     `json:"leave_time,omitempty"`
	LeaveReason       string     `json:"leave_reason,omitempty"`
	QoS               []QSSEntry `json:"qos,omitempty"`
}

// QSSEntry is one item of a QSS event's qos list: one type (a stream, the
// CPU, Wi-Fi, a quality rating, a network leg) for one minute.
type QSSEntry struct {
	DateTime string     `json:"date_time,omitempty"` // absent in the summaries
	Type     string     `json:"type"`
	Details  QSSDetails `json:"details"`
}

// QSSDetails are the values of one QSS item, with their units, as Zoom
// sends them ("63 kbps"); the same formats as the Dashboard API's.
type QSSDetails struct {
	Bitrate    Value `json:"bitrate,omitempty"`
	Latency    Value `json:"latency,omitempty"`
	Jitter     Value `json:"jitter,omitempty"`
	AvgLoss    Value `json:"avg_loss,omitempty"`
	MaxLoss    Value `json:"max_loss,omitempty"`
	Resolution Value `json:"resolution,omitempty"`
	FrameRate  Value `json:"frame_rate,omitempty"`

	ZoomMinCPUUsage   Value `json:"zoom_min_cpu_usage,omitempty"`
	ZoomAvgCPUUsage   Value `json:"zoom_avg_cpu_usage,omitempty"`
	ZoomMaxCPUUsage   Value `json:"zoom_max_cpu_usage,omitempty"`
	SystemMaxCPUUsage Value `json:"system_max_cpu_usage,omitempty"`

	// Wi-Fi RSSI, in dBm: strings in one example, integers in another, in
	// a wifi_rssi item or beside a stream's values.
	MaxRSSI Value `json:"max_rssi,omitempty"`
	AvgRSSI Value `json:"avg_rssi,omitempty"`
	MinRSSI Value `json:"min_rssi,omitempty"`

	Quality      Value `json:"quality,omitempty"` // good|fair|poor|bad
	QualityScore Value `json:"quality_score,omitempty"`
}

// flexString reads a JSON string or number as its text. Anything else (an
// object, null) reads as blank. It is for identifiers (an object's id is
// a number in some events, a string in others); QoS values are Value.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case json.Valid(b) && len(b) > 0 && (b[0] == '-' || ('0' <= b[0] && b[0] <= '9')):
		*f = flexString(b)
	default:
		*f = ""
	}
	return nil
}

// errNotEvent is a body that is JSON but no Zoom event.
var errNotEvent = errors.New("not a Zoom event")

// ParseEvent decodes one event (a webhook body, a WebSocket message's
// content) and checks that it is one: it has a name, and an event
// qoswatch consumes has what qoswatch needs from it (the source's uuid or
// id, the participant of a join or leave). An event of another type only
// needs its name.
func ParseEvent(body []byte) (*Event, error) {
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotEvent, err)
	}
	if ev.Event == "" {
		return nil, fmt.Errorf("%w: no \"event\" name", errNotEvent)
	}
	if ev.Event == EventURLValidation {
		if ev.Payload.PlainToken == "" {
			return nil, fmt.Errorf("%w: %s without payload.plainToken", errNotEvent, ev.Event)
		}
		return &ev, nil
	}
	_, what := classify(ev.Event)
	o := &ev.Payload.Object
	switch {
	case what == evUnused:
	case o.UUID == "" && o.ID == "":
		return nil, fmt.Errorf("%w: %s without payload.object.uuid or id", errNotEvent, ev.Event)
	case what == evQoS && (o.UUID == "" || o.Participant == nil || o.Participant.UserID == ""):
		return nil, fmt.Errorf("%w: %s without object.uuid or participant.user_id", errNotEvent, ev.Event)
	case (what == evJoined || what == evLeft || what == evQoSSummary) && (o.Participant == nil || o.Participant.key() == ""):
		return nil, fmt.Errorf("%w: %s without a participant id", errNotEvent, ev.Event)
	case (what == evStarted || what == evEnded || what == evAlert || what == evJoined || what == evLeft) && o.ID == "":
		return nil, fmt.Errorf("%w: %s without object.id", errNotEvent, ev.Event)
	}
	return &ev, nil
}

// At is when the event happened, on Zoom's clock.
func (ev *Event) At() time.Time { return time.UnixMilli(ev.EventTS).UTC() }

// key is the participant's in-meeting id: Participant.Key() of the
// samples the poller makes for the same person.
func (p *EventParticipant) key() string {
	return cmpOr(p.UserID, p.ParticipantID, p.ParticipantUUID, p.UserName)
}

func cmpOr(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// participant is what the event says of its participant.
func (p *EventParticipant) participant() engine.Participant {
	return engine.Participant{
		UserID:    p.key(),
		ID:        cmpOr(p.ID, p.ParticipantUserID),
		UserName:  p.UserName,
		Email:     p.Email,
		JoinTime:  optTime(p.JoinTime),
		LeaveTime: optTime(p.LeaveTime),
	}
}

// appendQSSSamples appends to dst the samples of a participant_qos
// event's qos list, one per minute (date_time), in time order, through the
// same value parser as polled pages. part is who the samples are about.
// The applier appends a whole batch's samples to one slice: a sample is
// 1 kB, one slice per event was a fifth of the applier's allocations.
func appendQSSSamples(dst []engine.Sample, src engine.Source, part engine.Participant, items []QSSEntry) []engine.Sample {
	start := len(dst)
	for i := range items {
		it := &items[i]
		t, ok := parseTime(it.DateTime)
		if !ok {
			continue // counted in ParseStats().BadTimes
		}
		j := start
		for j < len(dst) && !dst[j].Time.Equal(t) { // a few minutes at most
			j++
		}
		if j == len(dst) {
			s := engine.NewSample()
			s.Source, s.Participant, s.Time = src, part, t
			dst = append(dst, s)
		}
		applyQSS(&dst[j], it)
	}
	out := dst[start:]
	for i := range out {
		out[i].Aggregate()
	}
	slices.SortStableFunc(out, func(a, b engine.Sample) int { return a.Time.Compare(b.Time) })
	return dst
}

// applyQSS sets what one qos item says on the sample of its minute.
func applyQSS(s *engine.Sample, it *QSSEntry) {
	d := &it.Details
	var rating *string
	switch it.Type {
	case "audio_input", "audio_output", "audio_quality":
		rating = &s.Participant.AudioQuality
	case "video_input", "video_output", "video_quality":
		rating = &s.Participant.VideoQuality
	case "as_input", "as_output", "as_quality":
		rating = &s.Participant.ScreenShareQuality
	case "cpu_usage":
		setCPU(&s.CPUUsage, &CPUQoS{
			ZoomMinCPUUsage: d.ZoomMinCPUUsage, ZoomAvgCPUUsage: d.ZoomAvgCPUUsage,
			ZoomMaxCPUUsage: d.ZoomMaxCPUUsage, SystemMaxCPUUsage: d.SystemMaxCPUUsage,
		})
	case "wifi_rssi":
	default:
		return // the *_rwg and *_crc legs, notifications, types Zoom adds later
	}
	if i := slices.Index(qssStreams[:], it.Type); i >= 0 {
		setStream(s.Streams()[i], &StreamQoS{
			Bitrate: d.Bitrate, Latency: d.Latency, Jitter: d.Jitter, AvgLoss: d.AvgLoss, MaxLoss: d.MaxLoss,
			Resolution: d.Resolution, FrameRate: d.FrameRate,
		})
	}
	if q := string(d.Quality); rating != nil && q != "" && (*rating == "" || QualityRank(q) > QualityRank(*rating)) {
		*rating = q // the worst rating of the minute
	}
	if d.MaxRSSI != "" || d.AvgRSSI != "" || d.MinRSSI != "" {
		setWiFi(&s.WiFiRSSI, &WiFiQoS{MaxRSSI: Number(d.MaxRSSI), AvgRSSI: Number(d.AvgRSSI), MinRSSI: Number(d.MinRSSI)})
	}
}

// qssStreams are the types of the qos items of the sample's streams, in
// Sample.Streams() order.
var qssStreams = [...]string{"audio_input", "audio_output", "video_input", "video_output", "as_input", "as_output"}

// QualityRank ranks Zoom's quality ratings, in any case, worst highest:
// good 0, fair 1, poor 2, bad 3; -1 for none or a word Zoom does not use.
func QualityRank(q string) int {
	return slices.Index([]string{"good", "fair", "poor", "bad"}, strings.ToLower(q))
}
