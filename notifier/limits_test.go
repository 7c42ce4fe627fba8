package notifier_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeslack"
	"github.com/qoswatch/qoswatch/notifier"
)

// gen draws hostile, random alert sets.
type gen struct{ r *rand.Rand }

// Pieces of names: letters, Slack's control characters and mrkdwn, the
// mentions Slack would expand, wide and combining characters, emoji
// outside the BMP (two UTF-16 units each), right-to-left text.
var pieces = []string{
	"a", "Z", "é", " ", "-", "'", "&", "<", ">", "*", "_", "`", "~", "|",
	"<!channel>", "<!everyone>", "<!here>", "<@U123>", "&lt;", "&amp;", "<https://evil.example|click>",
	"李", "𝔘", "🎙", "👩‍💻", "e\u0301", "\u202e", "مرحبا", "Ω",
}

func (g gen) str(maxRunes int) string {
	if maxRunes <= 0 {
		return ""
	}
	want := 1 + g.r.IntN(maxRunes)
	var b strings.Builder
	n := 0
	for n < want {
		p := pieces[g.r.IntN(len(pieces))]
		if g.r.IntN(3) > 0 {
			p = string(rune('a' + g.r.IntN(26)))
		}
		k := len([]rune(p))
		if n+k > want {
			p, k = string(rune('a'+g.r.IntN(26))), 1
		}
		b.WriteString(p)
		n += k
	}
	return b.String()
}

// maybe is s half the time, "" otherwise.
func (g gen) maybe(s string) string {
	if g.r.IntN(2) == 0 {
		return ""
	}
	return s
}

// rules are every kind of rule: a number above or below a threshold, a
// field held against two thresholds, a string match, several streams,
// missing values, and one with many terms.
var ruleKinds = [][]engine.Term{
	{{Field: "audio_input.avg_loss", Op: ">", Threshold: "2"}, {Field: "latency", Op: ">", Threshold: "150"}},
	{{Field: "video_output.frame_rate", Op: "<", Threshold: "10"}},
	{{Field: "cpu_usage.zoom_avg_cpu_usage", Op: ">", Threshold: "80"}, {Field: "cpu_usage.zoom_avg_cpu_usage", Op: ">", Threshold: "40"}},
	{{Field: "participant.user_name", Op: "contains", Threshold: `"Mac"`}, {Field: "wifi_rssi.min_rssi", Op: "<", Threshold: "-80"}},
	{{Field: "participant.location", Op: "==", Threshold: `"Paris"`}, {Field: "jitter", Op: ">", Threshold: "40"}},
}

func (g gen) terms(kind int, p engine.Participant, holds bool) []engine.Term {
	var base []engine.Term
	if kind < len(ruleKinds) {
		base = ruleKinds[kind]
	} else { // many terms
		for _, k := range ruleKinds {
			base = append(base, k...)
		}
	}
	out := make([]engine.Term, len(base))
	for i, t := range base {
		t.Holds = holds && g.r.IntN(5) > 0
		switch {
		case strings.HasPrefix(t.Field, "participant."):
			t.Value = g.maybe(p.Location) + p.UserName
		case g.r.IntN(8) == 0:
			t.Value = "missing"
		default:
			t.Value = fmt.Sprintf("%.1f", g.r.Float64()*500-100)
		}
		out[i] = t
	}
	return out
}

var reasons = []engine.Reason{engine.ReasonRecovered, engine.ReasonLeft, engine.ReasonStale, engine.ReasonEnded, engine.ReasonRuleRemoved}

// alertSet is one random storm: n participants of one rule in one source.
func (g gen) alertSet(n int) []*engine.Notification {
	t0 := time.Date(2026, 3, 12, 13, 41, 0, 0, time.UTC)
	src := engine.Source{Kind: engine.Webinar, ID: fmt.Sprint(g.r.Int64N(1e11)), UUID: g.str(30), Topic: g.str(200), Host: g.maybe(g.str(80)), Live: g.r.IntN(2) == 0}
	if g.r.IntN(2) == 0 {
		src.Kind = engine.Meeting
	}
	kind := g.r.IntN(len(ruleKinds) + 1)
	labels := map[string]string{}
	for range g.r.IntN(6) {
		labels[g.str(20)] = g.str(40)
	}
	rule := engine.RuleInfo{Name: "rule-" + g.str(40), Description: g.maybe(g.str(300)), Severity: []engine.Severity{engine.SeverityInfo, engine.SeverityWarning, engine.SeverityCritical}[g.r.IntN(3)], Labels: labels, For: time.Duration(g.r.IntN(5)) * time.Minute}
	ns := make([]*engine.Notification, n)
	for i := range ns {
		p := engine.Participant{
			UserID: fmt.Sprint(16778240 + i), UserName: g.str(200), Email: g.maybe(g.str(60) + "@example.com"),
			Device: g.maybe(g.str(40)), Client: g.maybe(g.str(20)), Version: g.maybe(g.str(20)), Location: g.maybe(g.str(120)),
			IPAddress: g.maybe("203.0.113." + fmt.Sprint(i%256)), PCName: g.maybe(g.str(60)), MacAddr: g.maybe("00:1a:2b:3c:4d:5e"),
			NetworkType: g.maybe(g.str(30)), DataCenter: g.maybe(g.str(60)), Role: []string{"", "attendee", "panelist", "host"}[g.r.IntN(4)],
			JoinTime: t0.Add(-time.Duration(g.r.IntN(3000)) * time.Minute),
		}
		since := t0.Add(time.Duration(g.r.IntN(60)) * time.Minute)
		nt := &engine.Notification{
			ID: uint64(i + 1), Kind: engine.KindFiring, Key: engine.AlertKey{Rule: rule.Name, Source: src.Key(), Participant: p.Key()},
			Rule: rule, Source: src, Participant: p, Explain: g.terms(kind, p, true),
			Summary: g.maybe(g.str(100) + p.UserName + g.str(400)), Since: since, At: since, Created: since,
		}
		nt.Sample.Participant = p
		ns[i] = nt
	}
	if g.r.IntN(2) == 0 { // a shared cause, with a value Zoom controls
		others := g.r.IntN(2000)
		ns[n-1].Cause = &engine.Cause{Attribute: []string{"data_center", "location", "network_type", "client_version", "device"}[g.r.IntN(5)],
			Value: g.str(300), Affected: n, Of: n, Others: g.r.IntN(others + 1), OthersOf: others}
	}
	return ns
}

// as returns copies of ns as notifications of kind k.
func (g gen) as(ns []*engine.Notification, k engine.NotificationKind) []*engine.Notification {
	out := make([]*engine.Notification, len(ns))
	for i, n := range ns {
		c := *n
		c.Kind = k
		c.At = n.Since.Add(time.Duration(1+g.r.IntN(600)) * time.Minute)
		if k == engine.KindResolved {
			c.Reason = reasons[g.r.IntN(len(reasons))]
			if g.r.IntN(4) > 0 { // a resolve queued before Fired existed has none
				c.Fired = n.Explain
			}
			c.Explain = g.terms(0, n.Participant, false)
		}
		out[i] = &c
	}
	return out
}

func (g gen) route() engine.Route {
	r := engine.Route{Channel: "#c"}
	if g.r.IntN(2) == 0 {
		r.Mention = "<!subteam^S0AVTEAM>"
	}
	for _, f := range []string{"ip_address", "email", "pc_name", "mac_addr", "location", "device", "network_type", "data_center", "client", "user_id"} {
		if g.r.IntN(4) == 0 {
			r.Redact = append(r.Redact, f)
		}
	}
	return r
}

// texts is every text object of the blocks, as Slack receives them.
func texts(t *testing.T, m notifier.Message) []string {
	t.Helper()
	js, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []struct {
		Text     *struct{ Text string }
		Fields   []struct{ Text string }
		Elements []struct{ Text json.RawMessage } // a context's text, or a button's text object
	}
	if err := json.Unmarshal(js, &blocks); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range blocks {
		if b.Text != nil {
			out = append(out, b.Text.Text)
		}
		for _, f := range b.Fields {
			out = append(out, f.Text)
		}
		for _, e := range b.Elements {
			var text string
			if json.Unmarshal(e.Text, &text) != nil {
				var obj struct{ Text string }
				if err := json.Unmarshal(e.Text, &obj); err != nil && e.Text != nil {
					t.Fatal(err)
				}
				text = obj.Text
			}
			out = append(out, text)
		}
	}
	return out
}

// checkMessage fails t unless m and its continuations are within every
// Slack limit (fakeslack.Validate, the same check the Slack tests' server
// makes) and carry no markup but the route's mention and our own links.
// It returns every text of every message.
func checkMessage(t *testing.T, what string, m notifier.Message, mention string) string {
	t.Helper()
	var all strings.Builder
	for i, x := range append([]notifier.Message{m}, m.More...) {
		js, err := json.Marshal(x.Blocks)
		if err != nil {
			t.Fatal(err)
		}
		if lerr := fakeslack.Validate(js, x.Text); lerr != nil {
			t.Errorf("%s, message %d of %d: Slack would refuse it: %v", what, i+1, len(m.More)+1, lerr)
		}
		if i > 0 && len(x.More) > 0 {
			t.Errorf("%s: continuation %d has continuations of its own", what, i)
		}
		for _, s := range append(texts(t, x), x.Text) {
			checkEscaped(t, what, s, mention)
			all.WriteString(s + "\n")
		}
	}
	return all.String()
}

// ourLink is the only markup of ours: the source's link to Zoom.
var ourLink = regexp.MustCompile(`<https://zoom\.us/[^|<>]*\|[^<>]*>`)

// slackEscape is Slack's escaping of &, < and >, written here apart from
// the renderer's.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// checkEscaped: besides the route's mention and our links to Zoom, no
// '<' or '>' reaches Slack (it would parse <!channel>, <@U123>, links),
// and every '&' is an escape.
func checkEscaped(t *testing.T, what, s, mention string) {
	t.Helper()
	if mention != "" {
		s = strings.ReplaceAll(s, mention, "")
	}
	s = ourLink.ReplaceAllString(s, "")
	if i := strings.IndexAny(s, "<>"); i >= 0 {
		t.Errorf("%s: markup Slack would parse: %q", what, s[max(0, i-20):min(len(s), i+40)])
	}
	bare := strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(s)
	if i := strings.IndexByte(bare, '&'); i >= 0 {
		t.Errorf("%s: an unescaped '&' in %q", what, bare[max(0, i-20):min(len(bare), i+40)])
	}
}

// TestEveryMessageWithinSlackLimitsNamesEveryone is the property test of
// issue 14 item 4: random alert sets of 1 to 500 participants, with names
// of up to 200 hostile characters, every rule kind, storms, repeats,
// resolves for every reason, routes with mentions and redactions, render
// to messages Slack takes (every limit, checked on the JSON as posted)
// that name every participant somewhere, and let no Zoom value become
// Slack markup. Webhook mode posts the same messages (continuations as
// plain messages), so it is covered here too.
func TestEveryMessageWithinSlackLimitsNamesEveryone(t *testing.T) {
	runs := 40
	if testing.Short() {
		runs = 15
	}
	maxMsgs := 0
	for seed := range runs {
		g := gen{rand.New(rand.NewPCG(uint64(seed), 14))}
		n := 1 + g.r.IntN(20)
		if seed%3 == 0 {
			n = 1 + g.r.IntN(500)
		}
		// Buttons in bot mode (even seeds), none in webhook mode.
		rd := notifier.NewRenderer(notifier.RenderOptions{WorstN: []int{0, 1, 5, 50}[g.r.IntN(4)], Actions: seed%2 == 0})
		firing := g.alertSet(n)
		route := g.route()
		named := func(what, all string, ns []*engine.Notification) {
			t.Helper()
			for _, x := range ns {
				name := slackEscape(x.Participant.UserName)
				if !strings.Contains(all, name) {
					t.Errorf("seed %d, %s of %d: participant %q is named in no message", seed, what, len(ns), x.Participant.UserName)
					return
				}
			}
		}
		// One message per alert, every kind and mode.
		for _, x := range []*engine.Notification{firing[0], g.as(firing[:1], engine.KindRepeat)[0], g.as(firing[:1], engine.KindResolved)[0]} {
			for what, m := range map[string]notifier.Message{
				"render " + string(x.Kind): rd.Render(x, route),
				"reply " + string(x.Kind):  rd.RenderReply(x, route),
				"update " + string(x.Kind): rd.RenderResolvedUpdate(x, route),
			} {
				all := checkMessage(t, fmt.Sprintf("seed %d, %s", seed, what), m, route.Mention)
				if !strings.HasPrefix(what, "reply") {
					named(what, all, []*engine.Notification{x})
				}
			}
		}
		// The storm, and its thread's batches.
		storm := rd.RenderGroup(firing, g.r.IntN(4), route)
		named("storm", checkMessage(t, fmt.Sprintf("seed %d, storm of %d", seed, n), storm, route.Mention), firing)
		maxMsgs = max(maxMsgs, 1+len(storm.More))
		for _, k := range []engine.NotificationKind{engine.KindFiring, engine.KindRepeat, engine.KindResolved} {
			ns := g.as(firing, k)
			if k == engine.KindFiring {
				ns = firing
			}
			m := rd.RenderThreadBatch(k, ns, route)
			named("batch of "+string(k), checkMessage(t, fmt.Sprintf("seed %d, batch of %d %s", seed, n, k), m, ""), ns)
			maxMsgs = max(maxMsgs, 1+len(m.More))
		}
		over := rd.RenderGroupOver(firing[0], n, firing[0].Since, firing[0].Since.Add(time.Hour), route)
		checkMessage(t, fmt.Sprintf("seed %d, storm over", seed), over, "")
		if len(over.More) > 0 {
			t.Errorf("seed %d: an update has continuations", seed)
		}
	}
	t.Logf("the longest list took %d messages", maxMsgs)
}

// TestStormMessageNamesAFewOthersItself: a storm of 12 is one message
// naming all 12 (worst first); a storm of 60 names the worst and
// continues ("2/…") with the rest.
func TestStormMessageNamesAFewOthersItself(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{})
	for _, tc := range []struct{ n, msgs int }{{12, 1}, {25, 1}, {26, 2}, {60, 2}} {
		var ns []*engine.Notification
		for i := range tc.n {
			n := firing()
			n.Participant.UserName = fmt.Sprintf("Attendee %03d", i)
			n.Participant.UserID = fmt.Sprint(i)
			ns = append(ns, &n)
		}
		m := r.RenderGroup(ns, 0, engine.Route{})
		all := checkMessage(t, fmt.Sprintf("storm of %d", tc.n), m, "")
		if got := 1 + len(m.More); got != tc.msgs {
			t.Errorf("storm of %d: %d messages, want %d", tc.n, got, tc.msgs)
		}
		for i := range tc.n {
			if !strings.Contains(all, fmt.Sprintf("Attendee %03d", i)) {
				t.Errorf("storm of %d: Attendee %03d is not named", tc.n, i)
			}
		}
	}
}
