// Package engine is the domain of qoswatch: the QoS sample a rule sees, the
// alert lifecycle, and the small interfaces (Condition, Store) the rest of
// the program plugs into. It imports nothing of ours.
package engine

import (
	"math"
	"strings"
	"time"
)

// SourceKind says whether a source is a webinar or a meeting.
type SourceKind string

const (
	Webinar SourceKind = "webinar"
	Meeting SourceKind = "meeting"
)

// Source is the webinar or meeting a sample belongs to.
type Source struct {
	Kind  SourceKind `expr:"kind" json:"kind"`
	ID    string     `expr:"id" json:"id"`
	UUID  string     `expr:"uuid" json:"uuid,omitempty"`
	Topic string     `expr:"topic" json:"topic,omitempty"`
	Host  string     `expr:"host" json:"host,omitempty"`
	Live  bool       `expr:"live" json:"live"`
}

// Key identifies a source across polls: "webinar:123456789".
func (s Source) Key() string { return string(s.Kind) + ":" + s.ID }

// Roles a participant may have, when known.
const (
	RoleHost     = "host"
	RolePanelist = "panelist"
	RoleAttendee = "attendee"
)

// Participant is who a sample is about. Field names follow Zoom's.
type Participant struct {
	UserID      string    `expr:"user_id" json:"user_id"`
	ID          string    `expr:"id" json:"id,omitempty"` // blank for guests
	UserName    string    `expr:"user_name" json:"user_name,omitempty"`
	Email       string    `expr:"email" json:"email,omitempty"`
	Device      string    `expr:"device" json:"device,omitempty"`
	Client      string    `expr:"client" json:"client,omitempty"`
	Version     string    `expr:"version" json:"version,omitempty"`
	Location    string    `expr:"location" json:"location,omitempty"`
	IPAddress   string    `expr:"ip_address" json:"ip_address,omitempty"`
	Domain      string    `expr:"domain" json:"domain,omitempty"`
	PCName      string    `expr:"pc_name" json:"pc_name,omitempty"`
	MacAddr     string    `expr:"mac_addr" json:"mac_addr,omitempty"`
	HarddiskID  string    `expr:"harddisk_id" json:"harddisk_id,omitempty"`
	NetworkType string    `expr:"network_type" json:"network_type,omitempty"`
	DataCenter  string    `expr:"data_center" json:"data_center,omitempty"`
	JoinTime    time.Time `expr:"join_time" json:"join_time,omitzero"`
	LeaveTime   time.Time `expr:"leave_time" json:"leave_time,omitzero"`
	Role        string    `expr:"role" json:"role,omitempty"` // host|panelist|attendee, when known

	// Zoom's quality ratings (good|fair|poor|bad) from the participants
	// list, where the account enables them; blank otherwise.
	AudioQuality       string `expr:"audio_quality" json:"audio_quality,omitempty"`
	VideoQuality       string `expr:"video_quality" json:"video_quality,omitempty"`
	ScreenShareQuality string `expr:"screen_share_quality" json:"screen_share_quality,omitempty"`
}

// Key identifies a participant within its source. Guests have a blank id,
// so Zoom's user_id (unique within a meeting) is the key.
func (p Participant) Key() string {
	if p.UserID != "" {
		return p.UserID
	}
	if p.ID != "" {
		return p.ID
	}
	return p.UserName
}

// Stream is one direction of one media stream for one minute. Missing
// values are NaN, so every comparison on them is false.
type Stream struct {
	Bitrate    float64 `expr:"bitrate" json:"bitrate"`       // kbps
	Latency    float64 `expr:"latency" json:"latency"`       // ms
	Jitter     float64 `expr:"jitter" json:"jitter"`         // ms
	AvgLoss    float64 `expr:"avg_loss" json:"avg_loss"`     // %
	MaxLoss    float64 `expr:"max_loss" json:"max_loss"`     // %
	FrameRate  float64 `expr:"frame_rate" json:"frame_rate"` // fps
	Width      float64 `expr:"width" json:"width"`           // px
	Height     float64 `expr:"height" json:"height"`         // px
	Resolution string  `expr:"resolution" json:"resolution"` // "1280*720", "" when missing
}

// CPUUsage is the participant's CPU load, in percent.
type CPUUsage struct {
	ZoomMinCPUUsage   float64 `expr:"zoom_min_cpu_usage" json:"zoom_min_cpu_usage"`
	ZoomAvgCPUUsage   float64 `expr:"zoom_avg_cpu_usage" json:"zoom_avg_cpu_usage"`
	ZoomMaxCPUUsage   float64 `expr:"zoom_max_cpu_usage" json:"zoom_max_cpu_usage"`
	SystemMaxCPUUsage float64 `expr:"system_max_cpu_usage" json:"system_max_cpu_usage"`
}

// WiFiRSSI is the participant's Wi-Fi signal strength, in dBm.
type WiFiRSSI struct {
	MaxRSSI float64 `expr:"max_rssi" json:"max_rssi"`
	AvgRSSI float64 `expr:"avg_rssi" json:"avg_rssi"`
	MinRSSI float64 `expr:"min_rssi" json:"min_rssi"`
}

// ZoomAlert is Zoom's own verdict on a webinar or meeting: the issues of
// its alert events ("Unstable audio quality", "Unstable video quality",
// "Unstable screen share quality", "High CPU occupation", "Call
// Reconnection"), empty when Zoom flagged nothing near the sample's time.
// A rule can test `"Unstable audio quality" in zoom_alert.issues`.
type ZoomAlert struct {
	Issues []string `expr:"issues" json:"issues,omitempty"`
}

// Sample is one participant's QoS for one minute: what a rule sees.
// Field names are Zoom's, in snake_case, so rule authors can copy them
// from Zoom's API reference.
type Sample struct {
	Source      Source      `expr:"source" json:"source"`
	Participant Participant `expr:"participant" json:"participant"`
	Time        time.Time   `expr:"time" json:"time"` // Zoom's date_time

	AudioInput  Stream `expr:"audio_input" json:"audio_input"`   // what the participant sends
	AudioOutput Stream `expr:"audio_output" json:"audio_output"` // what it receives
	VideoInput  Stream `expr:"video_input" json:"video_input"`
	VideoOutput Stream `expr:"video_output" json:"video_output"`
	ASInput     Stream `expr:"as_input" json:"as_input"` // screen share
	ASOutput    Stream `expr:"as_output" json:"as_output"`

	CPUUsage CPUUsage `expr:"cpu_usage" json:"cpu_usage"`
	WiFiRSSI WiFiRSSI `expr:"wifi_rssi" json:"wifi_rssi"`

	// ZoomAlert is what Zoom's own issue flags (meeting.alert,
	// webinar.alert) said about the sample's source around its time.
	ZoomAlert ZoomAlert `expr:"zoom_alert" json:"zoom_alert,omitzero"`

	// The worst value over the streams present; set by Aggregate.
	Latency float64 `expr:"latency" json:"latency"`   // ms
	Jitter  float64 `expr:"jitter" json:"jitter"`     // ms
	AvgLoss float64 `expr:"avg_loss" json:"avg_loss"` // %
	MaxLoss float64 `expr:"max_loss" json:"max_loss"` // %

	// Past is the participant's recent samples as the rule being
	// evaluated sees them (its Window), set by the engine only while that
	// rule's conditions run: what avg_over() and the like read.
	Past *Past `expr:"-" json:"-"`
	// Population is the source's current participants, set by the engine
	// on a source rule's sample while its conditions run: what count(),
	// fraction() and the like read.
	Population *Population `expr:"-" json:"-"`
}

// NaN is the missing value.
var NaN = math.NaN()

// MissingStream is a stream with every value missing.
var MissingStream = Stream{Bitrate: NaN, Latency: NaN, Jitter: NaN, AvgLoss: NaN, MaxLoss: NaN, FrameRate: NaN, Width: NaN, Height: NaN}

// NewSample returns a sample whose numbers are all missing, ready to fill.
func NewSample() Sample {
	return Sample{
		AudioInput: MissingStream, AudioOutput: MissingStream,
		VideoInput: MissingStream, VideoOutput: MissingStream,
		ASInput: MissingStream, ASOutput: MissingStream,
		CPUUsage: CPUUsage{NaN, NaN, NaN, NaN},
		WiFiRSSI: WiFiRSSI{NaN, NaN, NaN},
		Latency:  NaN, Jitter: NaN, AvgLoss: NaN, MaxLoss: NaN,
	}
}

// Streams returns pointers to the six streams, in a fixed order.
func (s *Sample) Streams() [6]*Stream {
	return [6]*Stream{&s.AudioInput, &s.AudioOutput, &s.VideoInput, &s.VideoOutput, &s.ASInput, &s.ASOutput}
}

// Aggregate sets latency, jitter, avg_loss and max_loss to the worst (the
// highest) value over the streams present; NaN when none is.
func (s *Sample) Aggregate() {
	s.Latency, s.Jitter, s.AvgLoss, s.MaxLoss = NaN, NaN, NaN, NaN
	for _, st := range s.Streams() {
		s.Latency = worst(s.Latency, st.Latency)
		s.Jitter = worst(s.Jitter, st.Jitter)
		s.AvgLoss = worst(s.AvgLoss, st.AvgLoss)
		s.MaxLoss = worst(s.MaxLoss, st.MaxLoss)
	}
}

func worst(acc, v float64) float64 {
	if math.IsNaN(v) {
		return acc
	}
	if math.IsNaN(acc) || v > acc {
		return v
	}
	return acc
}

// Unit is the unit of a number field of the sample, by its rule name
// ("audio_input.avg_loss" → "%", "latency" → "ms"), for people reading a
// value: the explain tool and the messages. "" for a field without one.
func Unit(field string) string {
	name := field[strings.LastIndexByte(field, '.')+1:]
	switch {
	case strings.HasSuffix(name, "loss"), strings.HasSuffix(name, "cpu_usage"):
		return "%"
	case name == "latency", name == "jitter":
		return "ms"
	case name == "bitrate":
		return "kbps"
	case name == "frame_rate":
		return "fps"
	case name == "width", name == "height":
		return "px"
	case strings.HasSuffix(name, "rssi"):
		return "dBm"
	}
	return ""
}
