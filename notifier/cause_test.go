package notifier_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/slack-go/slack"
)

// stormOf runs the example rules and the real engine over a webinar of
// 100 people for four minutes, where those bad(i) says lose audio from the
// second minute, and returns the firings the engine queued.
func stormOf(t *testing.T, who func(i int) engine.Participant, bad func(i int) bool) []*engine.Notification {
	t.Helper()
	set, err := rules.Parse("rules.example.yaml", qoswatch.ExampleRules)
	if err != nil {
		t.Fatal(err)
	}
	st := engine.NewMemoryStore()
	eng, err := engine.New(st, engine.Options{Clock: fakeclock.NewManual(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetRules(context.Background(), set.Rules()); err != nil {
		t.Fatal(err)
	}
	src := engine.Source{Kind: engine.Webinar, ID: "86129471123", Topic: "Q1 All-Hands", Live: true}
	for m := range 4 { // the example rules wait 2m before they tell
		var batch []engine.Sample
		for i := range 100 {
			s := engine.NewSample()
			s.Source, s.Participant, s.Time = src, who(i), t0.Add(time.Duration(m)*time.Minute)
			s.AudioInput.AvgLoss, s.AudioInput.Latency = 0.1, 40
			if m >= 1 && bad(i) {
				s.AudioInput.AvgLoss, s.AudioInput.Latency = 8, 320
			}
			s.Aggregate()
			batch = append(batch, s)
		}
		if err := eng.Ingest(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	var out []*engine.Notification
	for _, n := range st.Drain() {
		if n.Kind == engine.KindFiring && n.Rule.Name == "choppy-audio" {
			out = append(out, &n)
		}
	}
	return out
}

// attendee i: spread over places, networks, data centres and clients like
// a real audience; the first 12 sit behind one link in Lagos.
func attendee(i int) engine.Participant {
	p := engine.Participant{
		UserID: fmt.Sprint(16778240 + i), UserName: fmt.Sprintf("Attendee %03d", i), Role: "attendee",
		Location:    []string{"San Jose (US)", "London (GB)", "Tokyo (JP)", "Frankfurt (DE)"}[i%4],
		NetworkType: []string{"Wired", "Wifi", "Cellular"}[i%3],
		DataCenter:  []string{"US (SC Crc)", "EU (AMS Crc)"}[i%2],
		Client:      "Zoom", Version: []string{"6.2.5", "6.3.0"}[(i/2)%2], Device: []string{"Windows", "Mac"}[(i/3)%2],
	}
	if i < 12 {
		p.Location = "Lagos (NG)"
	}
	return p
}

// TestStormLeadsWithSharedCause (issue 13 item 1): a support agent reading
// the storm of 12 attendees in Lagos sees, first under the title, that
// they share Lagos and nobody else there does; the per-attribute
// breakdown is still below it, and the notification preview says it too.
func TestStormLeadsWithSharedCause(t *testing.T) {
	ns := stormOf(t, attendee, func(i int) bool { return i < 12 })
	if len(ns) != 12 {
		t.Fatalf("%d choppy-audio firings, want 12", len(ns))
	}
	r := notifier.NewRenderer(notifier.RenderOptions{})
	route := engine.Route{Channel: "#av", Mention: "<!subteam^S0AV>"}
	m := r.RenderGroup(ns, 0, route)
	all := checkMessage(t, "storm", m, route.Mention)

	const hint = "🔎 *Likely shared cause: location Lagos (NG)* — 12 of 12 affected, 0% of the other 88."
	if sec, ok := m.Blocks[1].(*slack.SectionBlock); !ok || sec.Text == nil || sec.Text.Text != hint {
		t.Errorf("the block under the title:\n%s\nwant the hint:\n%s", notifier.BlocksText(m.Blocks[1:2]), hint)
	}
	if i, j := strings.Index(all, "Likely shared cause"), strings.Index(all, "By location"); i < 0 || j < i {
		t.Errorf("the breakdown by location (at %d) is not below the hint (at %d):\n%s", j, i, all)
	}
	if !strings.Contains(m.Text, "Likely shared cause: location Lagos (NG) — 12 of 12 affected, 0% of the other 88.") {
		t.Errorf("the preview text does not give the hint:\n%s", m.Text)
	}

	// A route that hides locations does not get them through the hint.
	hidden := r.RenderGroup(ns, 0, engine.Route{Channel: "#public", Redact: []string{"location"}})
	if all := checkMessage(t, "redacted storm", hidden, ""); strings.Contains(all, "Lagos") || strings.Contains(all, "shared cause") {
		t.Errorf("a route redacting location sees the hint:\n%s", all)
	}
}

// TestStormWithoutSharedCauseSaysNone: 12 attendees spread like everyone
// else, or too few to tell, get no hint: a wrong hint sends the support
// agent after the wrong thing.
func TestStormWithoutSharedCauseSaysNone(t *testing.T) {
	spread := func(i int) engine.Participant { p := attendee(i + 12); p.UserID = fmt.Sprint(i); return p }
	for name, tc := range map[string]struct {
		who func(int) engine.Participant
		bad func(int) bool
	}{
		"spread over everything": {spread, func(i int) bool { return i%7 == 0 }},
		"half Lagos, half Tokyo": {attendee, func(i int) bool { return i < 6 || (i >= 50 && i < 56) }},
		"four in Lagos":          {attendee, func(i int) bool { return i < 4 }},
	} {
		ns := stormOf(t, tc.who, tc.bad)
		if len(ns) < 4 {
			t.Fatalf("%s: %d firings", name, len(ns))
		}
		all := checkMessage(t, name, notifier.NewRenderer(notifier.RenderOptions{}).RenderGroup(ns, 0, engine.Route{}), "")
		if strings.Contains(all, "shared cause") {
			t.Errorf("%s: a hint where nothing stands out:\n%s", name, all)
		}
	}
}
