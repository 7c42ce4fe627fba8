package notifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/rules"
)

// live runs the real rules (rules.example.yaml) and the real engine over
// one participant's samples, as the daemon does, and returns the
// notifications the engine queued.
type live struct {
	t    *testing.T
	set  *rules.Set
	eng  *engine.Engine
	st   *engine.MemoryStore
	src  engine.Source
	part engine.Participant
	at   time.Time
	wall *fakeclock.Manual // the engine's wall clock, kept at at
}

func newLive(t *testing.T) *live {
	t.Helper()
	set, err := rules.Parse("rules.example.yaml", qoswatch.ExampleRules)
	if err != nil {
		t.Fatal(err)
	}
	l := &live{t: t, set: set, st: engine.NewMemoryStore(), at: t0, wall: fakeclock.NewManual(t0),
		src:  engine.Source{Kind: engine.Webinar, ID: "86129471123", Topic: "Q1 All-Hands", Live: true},
		part: engine.Participant{UserID: "16778240", UserName: "Panelist 2", Device: "Mac", PCName: "Panelist 2's Mac", Role: "panelist", Location: "Paris (FR)"},
	}
	l.eng, err = engine.New(l.st, engine.Options{Clock: l.wall})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.eng.SetRules(context.Background(), set.Rules()); err != nil {
		t.Fatal(err)
	}
	return l
}

// minute feeds one minute's sample, filled by fill.
func (l *live) minute(fill func(s *engine.Sample)) {
	l.t.Helper()
	s := engine.NewSample()
	s.Source, s.Participant, s.Time = l.src, l.part, l.at
	fill(&s)
	s.Aggregate()
	if err := l.eng.Ingest(context.Background(), []engine.Sample{s}); err != nil {
		l.t.Fatal(err)
	}
	l.at = l.at.Add(time.Minute)
	l.wall.Set(l.at)
}

// summarize is what the daemon gives the renderer: the current rule's
// summary template.
func (l *live) summarize(n *engine.Notification) (string, error) {
	r, ok := l.set.Rule(n.Rule.Name)
	if !ok || r.Summary == nil {
		return "", errors.New("no summary")
	}
	return r.Summary.Render(n)
}

func (l *live) drain(kind engine.NotificationKind) *engine.Notification {
	l.t.Helper()
	for _, n := range l.st.Drain() {
		if n.Kind == kind {
			return &n
		}
	}
	l.t.Fatalf("the engine queued no %s notification", kind)
	return nil
}

func blocksOf(t *testing.T, m notifier.Message) string {
	t.Helper()
	return notifier.BlocksText(m.Blocks)
}

func frozen(fps float64) func(s *engine.Sample) {
	return func(s *engine.Sample) { s.VideoInput.FrameRate, s.VideoInput.Bitrate = fps, 800 }
}

// TestResolveSaysWhatWasWrongAndHowItEnded (issue 14 item 5): a video
// frozen at 0 fps that comes back at 21 fps resolves with "was 0 fps,
// now 21 fps", never with the firing summary rendered on the recovered
// sample ("video is frozen (21 fps)"); one that ends while frozen says
// "was 0 fps" and why it ended.
func TestResolveSaysWhatWasWrongAndHowItEnded(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{})
	route := engine.Route{Channel: "#c"}

	l := newLive(t)
	for range 4 {
		l.minute(frozen(0))
	}
	fired := l.drain(engine.KindFiring)
	if got := blocksOf(t, r.Render(fired, route)); !strings.Contains(got, "Panelist 2's video is frozen (0 fps)") {
		t.Fatalf("the firing does not carry the summary; the test proves nothing:\n%s", got)
	}
	for range 4 {
		l.minute(frozen(21))
	}
	res := l.drain(engine.KindResolved)
	if !strings.Contains(res.Summary, "(21 fps)") {
		t.Fatalf("the engine's resolve summary is %q; the contradiction this test guards against is gone", res.Summary)
	}
	for name, m := range map[string]notifier.Message{
		"update": r.RenderResolvedUpdate(res, route), "reply": r.RenderReply(res, route), "standalone": r.Render(res, route),
	} {
		got := blocksOf(t, m) + m.Text
		if !strings.Contains(got, "was 0 fps, now 21 fps") || !strings.Contains(got, "recovered") {
			t.Errorf("%s does not say what was wrong and how it ended:\n%s", name, got)
		}
		if strings.Contains(got, "is frozen") {
			t.Errorf("%s still says the video is frozen:\n%s", name, got)
		}
	}
	if reply := blocksOf(t, r.RenderReply(res, route)); strings.Count(reply, "\n") != 1 {
		t.Errorf("the reply is %d lines, want one:\n%s", strings.Count(reply, "\n"), reply)
	}

	// Ended while frozen: what it was, and why it is over.
	l = newLive(t)
	for range 4 {
		l.minute(frozen(0))
	}
	if err := l.eng.EndSource(context.Background(), l.src, l.at); err != nil {
		t.Fatal(err)
	}
	res = l.drain(engine.KindResolved)
	got := blocksOf(t, r.RenderResolvedUpdate(res, route))
	if !strings.Contains(got, "was 0 fps") || strings.Contains(got, "now") || !strings.Contains(got, "the webinar ended") {
		t.Errorf("a resolve at the webinar's end:\n%s", got)
	}
}

// TestOneLinePerField (issue 14 item 6): zoom-cpu-hog holds Zoom's CPU
// against > 80 and against > 40; the message tells that field once, with
// both thresholds.
func TestOneLinePerField(t *testing.T) {
	l := newLive(t)
	for range 5 {
		l.minute(func(s *engine.Sample) {
			s.CPUUsage.ZoomAvgCPUUsage, s.CPUUsage.SystemMaxCPUUsage = 94, 97
		})
	}
	n := l.drain(engine.KindFiring)
	got := blocksOf(t, notifier.NewRenderer(notifier.RenderOptions{}).Render(n, engine.Route{}))
	var lines []string
	for _, line := range strings.Split(got, "\n") {
		if strings.Contains(line, "cpu_usage.zoom_avg_cpu_usage") {
			lines = append(lines, line)
		}
	}
	want := "• Zoom avg CPU 94 % (rule: > 80 %, > 40 %) `cpu_usage.zoom_avg_cpu_usage`"
	if len(lines) != 1 || lines[0] != want {
		t.Errorf("Zoom's CPU is told in %d lines, want one:\n%s\nwant %s", len(lines), strings.Join(lines, "\n"), want)
	}
	if !strings.Contains(got, "• System max CPU 97 % (rule: > 95 %)") {
		t.Errorf("the other field:\n%s", got)
	}
}

// TestRedactionByField (issue 14 item 7): a route that hides pc_name hides
// that field, never text that happens to equal its value: "Panelist 2's
// Mac" is also the name and the device, and the summary built from them
// stays whole. A hidden field the summary printed reads [redacted].
func TestRedactionByField(t *testing.T) {
	l := newLive(t)
	for range 5 {
		l.minute(func(s *engine.Sample) { s.CPUUsage.ZoomAvgCPUUsage = 94 })
	}
	n := l.drain(engine.KindFiring)
	n.Explain = append(n.Explain, engine.Term{Field: "participant.pc_name", Value: n.Participant.PCName, Op: "endsWith", Threshold: `"Mac"`, Holds: true})
	r := notifier.NewRenderer(notifier.RenderOptions{Summarize: l.summarize})

	m := r.Render(n, engine.Route{Channel: "#c", Redact: []string{"pc_name"}})
	got := blocksOf(t, m) + m.Text
	if !strings.Contains(got, "Zoom uses 94% CPU on Panelist 2's Mac") {
		t.Errorf("hiding pc_name changed text from other fields:\n%s", got)
	}
	if !strings.Contains(got, "Participant pc name [redacted]") {
		t.Errorf("the pc_name term is not hidden:\n%s", got)
	}

	m = r.Render(n, engine.Route{Channel: "#c", Redact: []string{"device"}})
	got = blocksOf(t, m) + m.Text
	if !strings.Contains(got, "Zoom uses 94% CPU on Panelist 2's [redacted]") || strings.Contains(got, "Device: Mac") {
		t.Errorf("a hidden device is printed:\n%s", got)
	}

	// Without the rules to write the summary again, a route that hides a
	// field the participant has shows none: it cannot know what the
	// template printed.
	m = notifier.NewRenderer(notifier.RenderOptions{}).Render(n, engine.Route{Channel: "#c", Redact: []string{"device"}})
	if got := blocksOf(t, m) + m.Text; strings.Contains(got, "Zoom uses 94%") {
		t.Errorf("without Summarize the summary went out with a hidden field in it:\n%s", got)
	}

	// The alert key carries the participant's user_id: hidden with it.
	m = r.Render(n, engine.Route{Channel: "#c", Redact: []string{"user_id"}})
	if got := blocksOf(t, m) + m.Text; strings.Contains(got, n.Participant.UserID) {
		t.Errorf("a hidden user_id is in the message:\n%s", got)
	}
}

// hostile are names and places Slack would turn into pings and links if
// they reached it unescaped.
var hostile = []string{"<!channel> Mallory", "<!everyone>", "<@U123>", "&lt;b&gt; Eve", "<!here|here>", "<https://evil.example|Zoom login>", "<#C123>"}

// TestZoomValuesCannotPingOrLink (issue 15 item 14): every field Zoom
// controls, hostile in every message kind, reaches the blocks and the
// fallback text escaped; the route's mention is the only markup.
func TestZoomValuesCannotPingOrLink(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{})
	for i, h := range hostile {
		n := firing()
		n.Participant = engine.Participant{UserID: h, UserName: h, Email: h, Device: h, Client: h, Version: h, Location: h, IPAddress: h,
			NetworkType: h, DataCenter: h, PCName: h, Role: h, JoinTime: t0}
		n.Source = engine.Source{Kind: engine.Webinar, ID: h, Topic: h, Host: h, UUID: h}
		n.Summary, n.Rule.Description, n.Rule.Labels = h+" has 4 fps", h, map[string]string{"team": h}
		n.Explain = append(n.Explain, engine.Term{Field: "participant.location", Value: h, Op: "==", Threshold: `"` + h + `"`, Holds: true})
		n.Cause = &engine.Cause{Attribute: "location", Value: h, Affected: 3, Of: 3, OthersOf: 10}
		res := n
		res.Kind, res.Reason, res.At, res.Fired = engine.KindResolved, engine.ReasonLeft, t0.Add(time.Hour), n.Explain
		route := engine.Route{Channel: "#c", Mention: "<!subteam^S0AV>"}
		ns := []*engine.Notification{&n, &n, &n}
		for what, m := range map[string]notifier.Message{
			"firing": r.Render(&n, route), "reply": r.RenderReply(&res, route), "update": r.RenderResolvedUpdate(&res, route),
			"storm": r.RenderGroup(ns, 1, route), "batch": r.RenderThreadBatch(engine.KindResolved, []*engine.Notification{&res}, route),
			"over": r.RenderGroupOver(&n, 3, t0, t0.Add(time.Hour), route),
		} {
			all := checkMessage(t, what+" "+h, m, route.Mention)
			if i == 3 && !strings.Contains(all, "&amp;lt;b&amp;gt; Eve") {
				t.Errorf("%s: the name %q is not shown as written:\n%s", what, h, all)
			}
			js, _ := json.Marshal(m.Blocks)
			for _, ping := range []string{"<!channel>", "<!everyone>", "<@U123>", "<!here", "<#C123>", "<https://evil"} {
				if strings.Contains(m.Text, ping) || strings.Contains(string(js), ping) {
					t.Errorf("%s: %q reaches Slack as markup", what, ping)
				}
			}
		}
	}
}

// TestStormGrammar (issue 14 item 15): one earlier alert "was" posted.
func TestStormGrammar(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{})
	n := firing()
	ns := []*engine.Notification{&n, &n, &n, &n}
	for earlier, want := range map[int]string{
		1: "5 participants match rule low-fps since 13:41:00 UTC. 1 of them was posted on its own just before; here are the other 4.",
		2: "6 participants match rule low-fps since 13:41:00 UTC. 2 of them were posted one by one just before; here are the other 4.",
	} {
		if got := blocksOf(t, r.RenderGroup(ns, earlier, engine.Route{})); !strings.Contains(got, want) {
			t.Errorf("earlier %d:\n%s\nwant %q", earlier, got, want)
		}
	}
}
