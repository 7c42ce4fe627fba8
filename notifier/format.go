package notifier

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

var streamNames = map[string]string{
	"audio_input":  "Audio sent",
	"audio_output": "Audio received",
	"video_input":  "Video sent",
	"video_output": "Video received",
	"as_input":     "Screen share sent",
	"as_output":    "Screen share received",
	"cpu_usage":    "CPU",
	"wifi_rssi":    "Wi-Fi",
	"participant":  "Participant",
	"source":       "Source",
}

// label turns a sample field into words: "audio_input.avg_loss" →
// "Audio sent avg loss"; "latency" → "Latency (worst stream)".
func label(field string) string {
	head, rest, ok := strings.Cut(field, ".")
	if !ok {
		switch field {
		case "latency", "jitter", "avg_loss", "max_loss":
			return upperFirst(strings.ReplaceAll(field, "_", " ")) + " (worst stream)"
		}
		return upperFirst(strings.ReplaceAll(field, "_", " "))
	}
	name, known := streamNames[head]
	if !known {
		name = upperFirst(strings.ReplaceAll(head, "_", " "))
	}
	rest = strings.ReplaceAll(rest, "_", " ")
	rest = strings.ReplaceAll(rest, "cpu usage", "CPU")
	rest = strings.ReplaceAll(rest, "rssi", "RSSI")
	return name + " " + rest
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// withUnit appends the field's unit to a number: "3.5" → "3.5 %".
// Words ("missing", a string value) are left alone.
func withUnit(v, field string) string {
	u := engine.Unit(field)
	if u == "" || v == "" {
		return v
	}
	if _, err := strconv.ParseFloat(v, 64); err != nil {
		return v
	}
	return v + " " + u
}

// termValue parses a term's value for sorting the worst participants.
func termValue(t engine.Term) (float64, bool) {
	f, err := strconv.ParseFloat(t.Value, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// lowerIsWorse reports whether a smaller value is the worse one for this
// comparison (bitrate < 100: the lowest bitrate is the worst).
func lowerIsWorse(op string) bool { return op == "<" || op == "<=" }

// duration renders a duration for people: 45s, 12m, 1h05m, 2d3h.
func duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// escape makes a user-supplied string safe inside mrkdwn: Slack reads
// &, < and > as control characters (links, mentions).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// DefaultDashboardBase is the Zoom web portal; ZoomGov accounts use another
// host (RenderOptions.DashboardBase).
const DefaultDashboardBase = "https://zoom.us"

// DefaultDashboardURL links a source to its page in the Zoom web portal's
// Dashboard. A live meeting has a detail page keyed by its UUID
// (/account/metrics/livemeetingdetail?meeting_id=); other sources link to
// the Dashboard, where the webinar or past meeting is one search away.
// RenderOptions.DashboardURL replaces it.
func DefaultDashboardURL(base string) func(engine.Source) string {
	base = strings.TrimRight(base, "/")
	return func(s engine.Source) string {
		switch {
		case s.Kind == engine.Meeting && s.Live && s.UUID != "":
			return base + "/account/metrics/livemeetingdetail?meeting_id=" + url.QueryEscape(s.UUID)
		case s.Kind == engine.Meeting:
			return base + "/account/metrics/pastmeetings"
		default:
			return base + "/account/metrics/dashboard"
		}
	}
}
