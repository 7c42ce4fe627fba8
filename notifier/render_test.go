package notifier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
)

var t0 = time.Date(2026, 3, 12, 13, 41, 0, 0, time.UTC)

func firing() engine.Notification {
	src := engine.Source{Kind: engine.Meeting, ID: "812345678", UUID: "/ab//cd==", Topic: "Ops <standup> & co", Host: "ops@example.com", Live: true}
	p := engine.Participant{UserID: "1001", UserName: "Zoë <b>bold</b>", Email: "zoe@example.com", IPAddress: "203.0.113.7", PCName: "ZOE-PC", Location: "Oslo (NO)", JoinTime: t0.Add(-90 * time.Minute)}
	return engine.Notification{
		ID: 1, Kind: engine.KindFiring, Key: engine.AlertKey{Rule: "low-fps", Source: src.Key(), Participant: p.Key()},
		Rule:   engine.RuleInfo{Name: "low-fps", Severity: engine.SeverityCritical},
		Source: src, Participant: p,
		Explain: []engine.Term{
			{Field: "video_output.frame_rate", Value: "4", Op: "<", Threshold: "10", Holds: true},
			{Field: "wifi_rssi.min_rssi", Value: "missing", Op: "<", Threshold: "-80", Holds: false},
			{Field: "participant.ip_address", Value: "203.0.113.7", Op: "startsWith", Threshold: `"203."`, Holds: true},
		},
		Summary: "Zoë (zoe@example.com) gets 4 fps",
		Since:   t0, At: t0, Created: t0,
	}
}

func render(t *testing.T, m notifier.Message) (blocks, text string) {
	t.Helper()
	js, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	return string(js), m.Text
}

// TestRenderEscapesAndUnits: people's names and topics cannot inject
// Slack markup, the route's mention can; values carry units, a missing
// value does not.
func TestRenderEscapesAndUnits(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{})
	n := firing()
	m := r.Render(&n, engine.Route{Channel: "#c", Mention: "<@U024BE7LH>"})
	blocks, text := render(t, m)
	for _, want := range []string{
		`Zoë \u0026lt;b\u0026gt;bold\u0026lt;/b\u0026gt;`, // escaped name in mrkdwn
		`Ops \u0026lt;standup\u0026gt; \u0026amp; co`,
		`\u003c@U024BE7LH\u003e`, // the mention stays markup
		"*4 fps*", `(rule: \u0026lt; 10 fps)`,
		"*missing*", "— not met",
		"https://zoom.us/account/metrics/livemeetingdetail?meeting_id=%2Fab%2F%2Fcd%3D%3D",
		"🔴 Firing: low-fps",
	} {
		if !strings.Contains(blocks, want) {
			t.Errorf("blocks lack %q:\n%s", want, blocks)
		}
	}
	if strings.Contains(blocks, "missing dBm") {
		t.Error("a missing value got a unit")
	}
	if !strings.HasPrefix(text, "<@U024BE7LH> [FIRING] critical low-fps") {
		t.Errorf("fallback text = %q", text)
	}
}

// TestRedactionEverywhere: a redacted field is gone from the participant
// block, from the explained terms and from the summary, in blocks and text.
func TestRedactionEverywhere(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{})
	n := firing()
	route := engine.Route{Channel: "#c", Redact: []string{"ip_address", "email", "pc_name"}}
	for _, m := range []notifier.Message{
		r.Render(&n, route),
		r.RenderResolvedUpdate(&n, route),
		r.RenderGroup([]*engine.Notification{&n, &n}, 0, route),
		r.RenderThreadBatch(engine.KindFiring, []*engine.Notification{&n}, route),
	} {
		blocks, text := render(t, m)
		for _, leak := range []string{"203.0.113.7", "zoe@example.com", "ZOE-PC"} {
			if strings.Contains(blocks, leak) || strings.Contains(text, leak) {
				t.Errorf("%q leaked:\n%s\n%s", leak, blocks, text)
			}
		}
	}
	if n.Participant.IPAddress == "" {
		t.Error("redaction changed the caller's notification")
	}
	n.Summary = n.Participant.UserName + " gets 4 fps"
	blocks, _ := render(t, r.Render(&n, engine.Route{Redact: []string{"user_name"}}))
	if strings.Contains(blocks, "Zoë") || !strings.Contains(blocks, notifier.Redacted) {
		t.Errorf("user_name redaction: %s", blocks)
	}
}

// TestRedactionOfEveryParticipantField: the rules file accepts any
// participant field in a route's redact (device, network_type,
// data_center...), so every one of them is hidden, not only the usual
// identifiers.
func TestRedactionOfEveryParticipantField(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{})
	n := firing()
	n.Participant.Device = "Windows-Secret-Laptop"
	n.Participant.NetworkType = "Wired-Corp-VPN"
	n.Participant.DataCenter = "Frankfurt-DC-7"
	n.Participant.Client = "ClientXYZ-42"
	n.Summary = "on Windows-Secret-Laptop via Wired-Corp-VPN"
	n.Sample.Participant = n.Participant
	route := engine.Route{Channel: "#c", Redact: []string{"device", "network_type", "data_center", "client"}}
	for _, m := range []notifier.Message{
		r.Render(&n, route),
		r.RenderResolvedUpdate(&n, route),
		r.RenderReply(&n, route),
		r.RenderGroup([]*engine.Notification{&n, &n}, 0, route),
		r.RenderThreadBatch(engine.KindFiring, []*engine.Notification{&n}, route),
	} {
		blocks, text := render(t, m)
		for _, leak := range []string{"Windows-Secret-Laptop", "Wired-Corp-VPN", "Frankfurt-DC-7", "ClientXYZ-42"} {
			if strings.Contains(blocks, leak) || strings.Contains(text, leak) {
				t.Errorf("%q leaked:\n%s\n%s", leak, blocks, text)
			}
		}
	}
	// Unredacted, the device does show: the test above can fail.
	if blocks, _ := render(t, r.Render(&n, engine.Route{Channel: "#c"})); !strings.Contains(blocks, "Windows-Secret-Laptop") {
		t.Errorf("without redact the device is not in the message; this test proves nothing:\n%s", blocks)
	}
}

// TestRenderLimits: Slack rejects a header over 150 characters; long
// names are cut, never sent as an invalid message.
func TestRenderLimits(t *testing.T) {
	n := firing()
	n.Participant.UserName = strings.Repeat("N", 400)
	m := notifier.NewRenderer(notifier.RenderOptions{}).Render(&n, engine.Route{})
	var hdr struct {
		Text struct{ Text string } `json:"text"`
	}
	js, _ := json.Marshal(m.Blocks[0])
	_ = json.Unmarshal(js, &hdr)
	if got := len([]rune(hdr.Text.Text)); got > 150 || !strings.HasSuffix(hdr.Text.Text, "…") {
		t.Errorf("header is %d runes: %q", got, hdr.Text.Text)
	}
}

func TestResolvedReasons(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{Location: time.FixedZone("CET", 3600)})
	for reason, want := range map[engine.Reason]string{
		engine.ReasonRecovered:    "recovered",
		engine.ReasonLeft:         "the participant left",
		engine.ReasonEnded:        "the meeting ended",
		engine.ReasonRuleRemoved:  "the rule was removed",
		engine.ReasonRuleDisabled: "the rule was disabled: evaluating it failed",
		engine.ReasonStale:        "stale",
	} {
		n := firing()
		n.Kind, n.Reason, n.At = engine.KindResolved, reason, t0.Add(95*time.Minute)
		_, text := render(t, r.Render(&n, engine.Route{Mention: "<!here>"}))
		if !strings.Contains(text, want) || !strings.Contains(text, "lasted 1h35m (14:41:00 CET–16:16:00 CET)") {
			t.Errorf("%s: %q", reason, text)
		}
		if strings.Contains(text, "<!here>") {
			t.Errorf("%s: a resolve must not page people", reason)
		}
	}
}

// TestConsoleThreadsAndUpdates runs the dispatcher with the console
// sender: the same content, readable, with threads and updates shown.
func TestConsoleThreadsAndUpdates(t *testing.T) {
	var out bytes.Buffer
	st := engine.NewMemoryStore()
	d, err := notifier.New(notifier.Options{
		Outbox: st, Router: routerFunc(func(*engine.Notification) engine.Route { return engine.Route{Channel: "#demo"} }),
		Sender: notifier.NewConsole(&out), ChannelInterval: -1,
		Clock: noWaiting{t0},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := firing()
	res := f
	res.Kind, res.Reason, res.At = engine.KindResolved, engine.ReasonLeft, t0.Add(3*time.Minute)
	if err := st.Commit(context.Background(), engine.Changes{Notifications: []engine.Notification{f, res}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"── #1 to #demo ──\n🔴 Firing: low-fps — Zoë <b>bold</b> · Ops <standup> & co\n",
		"• Video received frame rate 4 fps (rule: < 10 fps) `video_output.frame_rate`",
		"Participant: Zoë <b>bold</b>   Email: zoe@example.com",
		"── #1 in #demo updated ──\n✅ Resolved after 3m",
		"• Video received frame rate: was 4 fps (rule: < 10 fps)",
		// The reply in the thread is one line: the update told it all.
		"\n   ↳ #2 in the thread of #1: ✅ Resolved: Zoë <b>bold</b>, after 3m (13:41:00 UTC–13:44:00 UTC): the participant left. Video received frame rate was 4 fps; Participant ip address was 203.0.113.7.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
	// The resolve is told in full once (the update), not twice.
	if n := strings.Count(got, "Participant: Zoë"); n != 2 {
		t.Errorf("the participant block is printed %d times, want 2 (the firing, the update):\n%s", n, got)
	}
	if !strings.HasSuffix(got, "203.0.113.7.\n") {
		t.Errorf("the reply is not the one last line:\n%s", got)
	}
}

func TestOptionsNameWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		o    notifier.Options
		want string
	}{
		{notifier.Options{}, "Options.Outbox"},
		{notifier.Options{Outbox: engine.NewMemoryStore()}, "Options.Router"},
		{notifier.Options{Outbox: engine.NewMemoryStore(), Router: routerFunc(nil)}, "Options.Sender"},
		{notifier.Options{Outbox: engine.NewMemoryStore(), Router: routerFunc(nil), Sender: notifier.NewConsole(&bytes.Buffer{}), BackoffMin: time.Hour, BackoffMax: time.Minute}, "BackoffMax"},
	} {
		if _, err := notifier.New(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one naming %s", err, tc.want)
		}
	}
}

type routerFunc func(n *engine.Notification) engine.Route

func (f routerFunc) Route(n *engine.Notification) engine.Route { return f(n) }

// TestRenderShowsZoomsFlags: the issues Zoom's own alert named around the
// sample's time are in the firing message, blocks and text; without them
// there is no such line.
func TestRenderShowsZoomsFlags(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{})
	n := firing()
	n.Sample.ZoomAlert.Issues = []string{"Unstable audio quality", "High CPU occupation"}
	blocks, text := render(t, r.Render(&n, engine.Route{Channel: "#c"}))
	for name, s := range map[string]string{"blocks": blocks, "text": text} {
		if !strings.Contains(s, "Zoom flagged: Unstable audio quality, High CPU occupation") {
			t.Errorf("%s lack Zoom's issues:\n%s", name, s)
		}
	}
	n = firing()
	if blocks, _ := render(t, r.Render(&n, engine.Route{Channel: "#c"})); strings.Contains(blocks, "Zoom flagged") {
		t.Error("a flag line without flags")
	}
}

// TestRenderFolded (issue 13 §2): a presenter's alert that folds the
// attendees' says how many receive it degraded, in the blocks and the
// text, firing and resolved; an alert that folds none says nothing.
func TestRenderFolded(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{})
	n := firing()
	n.Folded, n.Source.Kind = 200, engine.Webinar
	blocks, text := render(t, r.Render(&n, engine.Route{Channel: "#c"}))
	for name, s := range map[string]string{"blocks": blocks, "text": text} {
		if !strings.Contains(s, "200 attendees receive it degraded so far") {
			t.Errorf("firing %s lack the count:\n%s", name, s)
		}
	}
	n.Kind, n.Reason = engine.KindResolved, engine.ReasonRecovered
	if blocks, _ := render(t, r.RenderResolvedUpdate(&n, engine.Route{Channel: "#c"})); !strings.Contains(blocks, "200 attendees received it degraded") {
		t.Errorf("resolved update lacks the count:\n%s", blocks)
	}
	n.Source.Kind = engine.Meeting // a meeting has no attendees
	if blocks, _ := render(t, r.RenderResolvedUpdate(&n, engine.Route{Channel: "#c"})); !strings.Contains(blocks, "200 participants received it degraded") {
		t.Errorf("a meeting's resolved update lacks the count:\n%s", blocks)
	}
	n = firing()
	if blocks, text := render(t, r.Render(&n, engine.Route{Channel: "#c"})); strings.Contains(blocks+text, "degraded:") {
		t.Error("a fold line without a fold")
	}
}

// TestRenderSourceAlert (issue 13 §3): a webinar-level rule's alert is
// about the whole webinar, shows its aggregate, and names the worst
// participants instead of a participant block.
func TestRenderSourceAlert(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{})
	n := firing()
	n.Source.Kind = engine.Webinar
	n.Key.Participant, n.Participant = "", engine.Participant{}
	n.Explain = []engine.Term{{Field: `fraction(audio_output.avg_loss > 2, role == "attendee")`, Value: "0.15", Op: ">", Threshold: "0.1", Holds: true}}
	n.Worst = []engine.Standing{{Participant: "a2", Name: "Ana <Two>", Value: 7, Field: "audio_output.avg_loss"}, {Participant: "a1", Value: 5, Field: "audio_output.avg_loss"}}
	blocks, text := render(t, r.Render(&n, engine.Route{Channel: "#c"}))
	for _, want := range []string{"the whole webinar", "Worst participants", `Ana \u0026lt;Two\u0026gt;`, "participant a1", "0.15"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("blocks lack %q:\n%s", want, blocks)
		}
	}
	if !strings.Contains(text, "the whole webinar") || strings.Contains(blocks+text, "unknown participant") {
		t.Errorf("text does not say it is about the webinar:\n%s", text)
	}
}
