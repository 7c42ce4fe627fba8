package notifier

import (
	"fmt"
	"math"
	"net/url"
	"slices"
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
	rest = strings.ReplaceAll(rest, "_", " ")
	rest = strings.ReplaceAll(rest, "cpu usage", "CPU")
	rest = strings.ReplaceAll(rest, "rssi", "RSSI")
	if head == "cpu_usage" {
		return upperFirst(rest) // "Zoom avg CPU", not "CPU zoom avg CPU"
	}
	name, known := streamNames[head]
	if !known {
		name = upperFirst(strings.ReplaceAll(head, "_", " "))
	}
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

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape makes a string safe in any text Slack parses (mrkdwn, plain_text
// and the fallback text): Slack reads &, < and > as control characters
// (<!channel>, <@U123>, links), so they are sent as &amp; &lt; &gt; and
// shown as written (https://api.slack.com/reference/surfaces/formatting#escaping).
// Everything Zoom or a rule author controls goes through it; only the
// route's mention and our own links do not.
func escape(s string) string { return escaper.Replace(s) }

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

// fieldTerms is one field's comparisons in an explanation: its value and
// every threshold it was held against ("cpu > 80 && cpu > 40" is one
// field with two thresholds, told on one line).
type fieldTerms struct {
	field, value string
	held, unmet  []string // "> 80 %"
}

// groupTerms groups terms by field, in the order fields first appear.
func groupTerms(terms []engine.Term) []fieldTerms {
	var out []fieldTerms
	for _, t := range terms {
		i := slices.IndexFunc(out, func(g fieldTerms) bool { return g.field == t.Field && g.value == t.Value })
		if i < 0 {
			out = append(out, fieldTerms{field: t.Field, value: t.Value})
			i = len(out) - 1
		}
		th := strings.TrimSpace(t.Op + " " + withUnit(t.Threshold, t.Field))
		g := &out[i]
		if slices.Contains(g.held, th) || slices.Contains(g.unmet, th) {
			continue
		}
		if t.Holds {
			g.held = append(g.held, th)
		} else {
			g.unmet = append(g.unmet, th)
		}
	}
	return out
}

func (g fieldTerms) holds() bool { return len(g.held) > 0 }

// rule is the thresholds in words: "rule: > 80 %, > 40 %", with those
// not met apart: "rule: > 40 %; not met: > 80 %".
func (g fieldTerms) rule() string {
	switch {
	case len(g.unmet) == 0:
		return "rule: " + strings.Join(g.held, ", ")
	case len(g.held) == 0:
		return "rule: " + strings.Join(g.unmet, ", ")
	}
	return "rule: " + strings.Join(g.held, ", ") + "; not met: " + strings.Join(g.unmet, ", ")
}

// termLines renders an explanation, one line per field:
// "• Zoom avg CPU *94 %* (rule: > 80 %, > 40 %) `cpu_usage.zoom_avg_cpu_usage`".
func termLines(terms []engine.Term) string {
	if len(terms) == 0 {
		return "_no values recorded_"
	}
	var lines []string
	for _, g := range groupTerms(terms) {
		l := fmt.Sprintf("• %s *%s* (%s) `%s`", escape(label(g.field)), escape(withUnit(g.value, g.field)), escape(g.rule()), escape(g.field))
		if !g.holds() {
			l += " — not met"
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// termPlain is the fields that held, for the fallback text:
// "Zoom avg CPU 94 % (> 80 %, > 40 %)".
func termPlain(terms []engine.Term) string {
	var parts []string
	for _, g := range groupTerms(terms) {
		if g.holds() {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", label(g.field), withUnit(g.value, g.field), strings.Join(g.held, ", ")))
		}
	}
	return escape(strings.Join(parts, "; "))
}

// change is one field of a resolved alert: what it was when the alert
// was told, what it is at the end.
type change struct {
	fieldTerms        // as told (its value: "was")
	now        string // the latest value; "" when unknown
}

// changes pairs the fields that were wrong when the alert was told
// (n.Fired) with their latest values (n.Explain). A resolve queued
// without Fired knows only the latest values: they are "now" after a
// recovery, and the last values seen otherwise.
func changes(n *engine.Notification) []change {
	latest := groupTerms(n.Explain)
	if len(n.Fired) == 0 {
		held := slices.ContainsFunc(latest, fieldTerms.holds)
		var out []change
		for _, g := range latest {
			switch {
			case n.Reason == engine.ReasonRecovered:
				out = append(out, change{fieldTerms{field: g.field, held: g.held, unmet: g.unmet}, g.value})
			case g.holds() || !held: // while it fired, what was wrong
				out = append(out, change{g, ""})
			}
		}
		return out
	}
	var out []change
	for _, g := range groupTerms(n.Fired) {
		if !g.holds() {
			continue // it was not what was wrong
		}
		c := change{fieldTerms: g}
		if i := slices.IndexFunc(latest, func(l fieldTerms) bool { return l.field == g.field }); i >= 0 {
			c.now = latest[i].value
		}
		out = append(out, c)
	}
	return out
}

// words says a change: "was 0 fps, now 21 fps" after a recovery; "was
// 0 fps" (", last 3 fps" when it moved) when the alert ended otherwise.
func (c change) words(reason engine.Reason, bold string) string {
	v := func(s string) string { return bold + escape(withUnit(s, c.field)) + bold }
	var parts []string
	if c.value != "" {
		parts = append(parts, "was "+v(c.value))
	}
	switch {
	case c.now == "":
	case reason == engine.ReasonRecovered:
		parts = append(parts, "now "+v(c.now))
	case c.now != c.value:
		parts = append(parts, "last "+v(c.now))
	}
	return strings.Join(parts, ", ")
}

// thresholds is every threshold of the field: "< 10 fps".
func (c change) thresholds() string {
	return escape(strings.Join(append(slices.Clone(c.held), c.unmet...), ", "))
}
