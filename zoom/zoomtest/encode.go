package zoomtest

import (
	"encoding/json"
	"strconv"

	"github.com/qoswatch/qoswatch/zoom"
)

// A hand-written JSON encoder for the QoS wire types, the fake's hot path
// (the simulator makes tens of thousands of QoS calls). It writes exactly
// what encoding/json writes for them; TestEncoderMatchesEncodingJSON
// holds it to that, and to the wire types' field lists.

func appendQoSList(b []byte, l *zoom.ParticipantQoSList) []byte {
	b = append(b, `{"next_page_token":`...)
	b = appendString(b, l.NextPageToken)
	b = append(b, `,"page_count":`...)
	b = strconv.AppendInt(b, l.PageCount, 10)
	b = append(b, `,"page_size":`...)
	b = strconv.AppendInt(b, int64(l.PageSize), 10)
	b = append(b, `,"total_records":`...)
	b = strconv.AppendInt(b, l.TotalRecords, 10)
	b = append(b, `,"participants":`...)
	b = appendList(b, l.Participants, appendParticipantQoS)
	return append(b, '}')
}

// appendList writes items as a JSON array (each by appendItem), or null
// for a nil slice, as encoding/json does.
func appendList[T any](b []byte, items []T, appendItem func([]byte, *T) []byte) []byte {
	if items == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, &items[i])
	}
	return append(b, ']')
}

func appendParticipantQoS(b []byte, p *zoom.ParticipantQoS) []byte {
	b = field(b, `{"id":`, p.ID)
	b = field(b, `,"user_id":`, p.UserID)
	b = field(b, `,"user_name":`, p.UserName)
	b = field(b, `,"device":`, p.Device)
	b = field(b, `,"ip_address":`, p.IPAddress)
	b = field(b, `,"location":`, p.Location)
	b = field(b, `,"join_time":`, p.JoinTime)
	if p.LeaveTime != "" {
		b = field(b, `,"leave_time":`, p.LeaveTime)
	}
	b = field(b, `,"pc_name":`, p.PCName)
	b = field(b, `,"domain":`, p.Domain)
	b = field(b, `,"mac_addr":`, p.MacAddr)
	b = field(b, `,"harddisk_id":`, p.HarddiskID)
	b = field(b, `,"version":`, p.Version)
	b = append(b, `,"user_qos":`...)
	b = appendList(b, p.UserQoS, appendUserQoS)
	return append(b, '}')
}

func appendUserQoS(b []byte, q *zoom.UserQoS) []byte {
	b = field(b, `{"date_time":`, q.DateTime)
	b = appendStream(b, `,"audio_input":`, q.AudioInput)
	b = appendStream(b, `,"audio_output":`, q.AudioOutput)
	b = appendStream(b, `,"video_input":`, q.VideoInput)
	b = appendStream(b, `,"video_output":`, q.VideoOutput)
	b = appendStream(b, `,"as_input":`, q.ASInput)
	b = appendStream(b, `,"as_output":`, q.ASOutput)
	if c := q.CPUUsage; c != nil {
		b = field(b, `,"cpu_usage":{"zoom_min_cpu_usage":`, c.ZoomMinCPUUsage)
		b = field(b, `,"zoom_avg_cpu_usage":`, c.ZoomAvgCPUUsage)
		b = field(b, `,"zoom_max_cpu_usage":`, c.ZoomMaxCPUUsage)
		b = field(b, `,"system_max_cpu_usage":`, c.SystemMaxCPUUsage)
		b = append(b, '}')
	}
	if w := q.WiFiRSSI; w != nil {
		b = append(b, `,"wifi_rssi":{`...)
		sep := ""
		for _, f := range []struct {
			name string
			v    zoom.Number
		}{{"max_rssi", w.MaxRSSI}, {"avg_rssi", w.AvgRSSI}, {"min_rssi", w.MinRSSI}} {
			if f.v != "" {
				n, _ := f.v.MarshalJSON() // a number as itself, anything else quoted
				b = append(b, sep+`"`+f.name+`":`...)
				b = append(b, n...)
				sep = ","
			}
		}
		if w.RSSIUnit != "" {
			b = field(b, sep+`"rssi_unit":`, w.RSSIUnit)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendStream(b []byte, name string, s *zoom.StreamQoS) []byte {
	if s == nil {
		return b
	}
	b = append(b, name...)
	b = field(b, `{"bitrate":`, s.Bitrate)
	b = field(b, `,"latency":`, s.Latency)
	b = field(b, `,"jitter":`, s.Jitter)
	b = field(b, `,"avg_loss":`, s.AvgLoss)
	b = field(b, `,"max_loss":`, s.MaxLoss)
	if s.Resolution != "" {
		b = field(b, `,"resolution":`, s.Resolution)
	}
	if s.FrameRate != "" {
		b = field(b, `,"frame_rate":`, s.FrameRate)
	}
	return append(b, '}')
}

func field[T ~string](b []byte, prefix string, v T) []byte {
	return appendString(append(b, prefix...), string(v))
}

// appendString writes a JSON string. Plain printable ASCII is copied;
// anything else goes through encoding/json, so escaping (HTML characters,
// control characters, invalid UTF-8) is exactly its.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
