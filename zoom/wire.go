// Package zoom is the Zoom Dashboard API client: Server-to-Server OAuth,
// rate limits, paging, the QoS value parser, and the poller.
package zoom

// The wire types of the Dashboard metrics endpoints, as Zoom sends them
// (see shared/zoom/dashboard-metrics.openapi.json). They are shared by the
// client and by zoomtest, the fake Zoom, so the two cannot drift apart.

import (
	"bytes"
	"encoding/json"
)

// Page is the pagination object of every list response.
type Page struct {
	NextPageToken string `json:"next_page_token"`
	PageCount     int64  `json:"page_count"`
	PageSize      int    `json:"page_size"`
	TotalRecords  int64  `json:"total_records"`
}

// SourceMetrics is one webinar or meeting of /metrics/webinars or
// /metrics/meetings.
type SourceMetrics struct {
	ID                 int64  `json:"id"`
	UUID               string `json:"uuid"`
	Topic              string `json:"topic"`
	Host               string `json:"host"`
	Email              string `json:"email,omitempty"`
	UserType           string `json:"user_type,omitempty"`
	StartTime          string `json:"start_time"`
	EndTime            string `json:"end_time,omitempty"`
	Duration           string `json:"duration,omitempty"`
	Participants       int    `json:"participants"`
	HasVideo           bool   `json:"has_video"`
	HasScreenShare     bool   `json:"has_screen_share"`
	AudioQuality       string `json:"audio_quality,omitempty"`
	VideoQuality       string `json:"video_quality,omitempty"`
	ScreenShareQuality string `json:"screen_share_quality,omitempty"`
}

// WebinarList is the response of GET /metrics/webinars.
type WebinarList struct {
	From string `json:"from"`
	To   string `json:"to"`
	Page
	Webinars []SourceMetrics `json:"webinars"`
}

// MeetingList is the response of GET /metrics/meetings.
type MeetingList struct {
	From string `json:"from"`
	To   string `json:"to"`
	Page
	Meetings []SourceMetrics `json:"meetings"`
}

// ParticipantMetrics is one entry of /metrics/{webinars|meetings}/{id}/participants.
type ParticipantMetrics struct {
	ID                 string `json:"id"`
	UserID             string `json:"user_id"`
	UserName           string `json:"user_name"`
	Email              string `json:"email,omitempty"`
	Device             string `json:"device"`
	IPAddress          string `json:"ip_address"`
	Location           string `json:"location"`
	NetworkType        string `json:"network_type"`
	DataCenter         string `json:"data_center"`
	ConnectionType     string `json:"connection_type,omitempty"`
	JoinTime           string `json:"join_time"`
	LeaveTime          string `json:"leave_time,omitempty"`
	LeaveReason        string `json:"leave_reason,omitempty"`
	Version            string `json:"version"`
	PCName             string `json:"pc_name,omitempty"`
	Domain             string `json:"domain,omitempty"`
	MacAddr            string `json:"mac_addr,omitempty"`
	HarddiskID         string `json:"harddisk_id,omitempty"`
	Role               string `json:"role,omitempty"`
	AudioQuality       string `json:"audio_quality"`
	VideoQuality       string `json:"video_quality"`
	ScreenShareQuality string `json:"screen_share_quality"`
	ParticipantUserID  string `json:"participant_user_id,omitempty"`
	OS                 string `json:"os,omitempty"`
	OSVersion          string `json:"os_version,omitempty"`
}

// ParticipantList is the response of GET .../participants.
type ParticipantList struct {
	Page
	Participants []ParticipantMetrics `json:"participants"`
}

// Value is one QoS value as Zoom writes it: a string with a unit ("23
// kbps", "0.3%", "1280*720"). It decodes from any JSON value, so one value
// of an unexpected kind is that value missing (AppendSamples counts it),
// never a page that fails to decode.
type Value string

func (v *Value) UnmarshalJSON(b []byte) error {
	s, err := anyText(b)
	*v = Value(s)
	return err
}

// Number is a QoS value Zoom sends as a JSON number (wifi_rssi: -55). It
// decodes from any JSON value as Value does (-67.5, "-67", garbage), and
// encodes as a JSON number when it is one.
type Number string

func (n *Number) UnmarshalJSON(b []byte) error {
	s, err := anyText(b)
	*n = Number(s)
	return err
}

func (n Number) MarshalJSON() ([]byte, error) {
	if b := []byte(n); json.Valid(b) && (b[0] == '-' || ('0' <= b[0] && b[0] <= '9')) {
		return b, nil
	}
	return json.Marshal(string(n))
}

// anyText is the text of a JSON value: a string's content, null as "",
// anything else (a number, true, an object) as its JSON text, which the
// value parser reads as a number or counts as unparseable.
func anyText(b []byte) (string, error) {
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", nil
	case b[0] != '"':
		return string(b), nil
	case bytes.IndexByte(b, '\\') < 0:
		return string(b[1 : len(b)-1]), nil
	}
	var s string
	err := json.Unmarshal(b, &s) // escapes: encoding/json reads them
	return s, err
}

// StreamQoS is one stream of one QoS minute ("23 kbps").
type StreamQoS struct {
	Bitrate    Value `json:"bitrate"`
	Latency    Value `json:"latency"`
	Jitter     Value `json:"jitter"`
	AvgLoss    Value `json:"avg_loss"`
	MaxLoss    Value `json:"max_loss"`
	Resolution Value `json:"resolution,omitempty"`
	FrameRate  Value `json:"frame_rate,omitempty"`
}

// CPUQoS is the CPU usage of one QoS minute ("12%").
type CPUQoS struct {
	ZoomMinCPUUsage   Value `json:"zoom_min_cpu_usage"`
	ZoomAvgCPUUsage   Value `json:"zoom_avg_cpu_usage"`
	ZoomMaxCPUUsage   Value `json:"zoom_max_cpu_usage"`
	SystemMaxCPUUsage Value `json:"system_max_cpu_usage"`
}

// WiFiQoS is the Wi-Fi signal of one QoS minute, in dBm.
type WiFiQoS struct {
	MaxRSSI  Number `json:"max_rssi,omitempty"`
	AvgRSSI  Number `json:"avg_rssi,omitempty"`
	MinRSSI  Number `json:"min_rssi,omitempty"`
	RSSIUnit Value  `json:"rssi_unit,omitempty"`
}

// UserQoS is one minute of one participant's QoS.
type UserQoS struct {
	DateTime    string     `json:"date_time"`
	AudioInput  *StreamQoS `json:"audio_input,omitempty"`
	AudioOutput *StreamQoS `json:"audio_output,omitempty"`
	VideoInput  *StreamQoS `json:"video_input,omitempty"`
	VideoOutput *StreamQoS `json:"video_output,omitempty"`
	ASInput     *StreamQoS `json:"as_input,omitempty"`
	ASOutput    *StreamQoS `json:"as_output,omitempty"`
	CPUUsage    *CPUQoS    `json:"cpu_usage,omitempty"`
	WiFiRSSI    *WiFiQoS   `json:"wifi_rssi,omitempty"`
}

// ParticipantQoS is one participant of .../participants/qos, or the whole
// response of .../participants/{participantId}/qos.
type ParticipantQoS struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	UserName   string    `json:"user_name"`
	Device     string    `json:"device"`
	IPAddress  string    `json:"ip_address"`
	Location   string    `json:"location"`
	JoinTime   string    `json:"join_time"`
	LeaveTime  string    `json:"leave_time,omitempty"`
	PCName     string    `json:"pc_name"`
	Domain     string    `json:"domain"`
	MacAddr    string    `json:"mac_addr"`
	HarddiskID string    `json:"harddisk_id"`
	Version    string    `json:"version"`
	UserQoS    []UserQoS `json:"user_qos"`
}

// ParticipantQoSList is the response of GET .../participants/qos.
type ParticipantQoSList struct {
	Page
	Participants []ParticipantQoS `json:"participants"`
}

// APIError is Zoom's error body: {"code": 124, "message": "Invalid access token."}.
type APIError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}
