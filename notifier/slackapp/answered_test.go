package slackapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
)

// lossOver is a hand-written Condition (the rules package compiles the
// real ones): audio_input.avg_loss > x.
type lossOver float64

func (c lossOver) Eval(s *engine.Sample) (bool, error) { return s.AudioInput.AvgLoss > float64(c), nil }
func (c lossOver) Explain(s *engine.Sample) []engine.Term {
	return []engine.Term{{Field: "audio_input.avg_loss", Value: fmt.Sprint(s.AudioInput.AvgLoss), Op: ">", Threshold: fmt.Sprint(float64(c)), Holds: s.AudioInput.AvgLoss > float64(c)}}
}

// answered is the real engine on the real bbolt store, its outbox drained
// by the notifier through the real slack-go client into the fake Slack.
type answered struct {
	*rig
	e *engine.Engine
}

func newAnswered(t *testing.T, threshold int) *answered {
	t.Helper()
	r := newRigWith(t, boltBox(t), toChannel("#webinar-support"), func(o *notifier.Options) {
		o.Render.Actions = true
		o.StormThreshold = threshold
	})
	e, err := engine.New(r.ob.queue, engine.Options{Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	err = e.SetRules(context.Background(), []engine.Rule{{Name: "choppy-audio", When: lossOver(2), RepeatInterval: 30 * time.Minute,
		AckExpiry: time.Hour, Severity: engine.SeverityWarning}})
	if err != nil {
		t.Fatal(err)
	}
	return &answered{r, e}
}

// minute ingests one minute of the first n people, bad or not.
func (a *answered) minute(t *testing.T, m, n int, bad bool) {
	t.Helper()
	var batch []engine.Sample
	for _, p := range people[:n] {
		s := engine.NewSample()
		s.Source, s.Time = webinar, t0.Add(time.Duration(m)*time.Minute)
		s.Participant = engine.Participant{UserID: p.id, UserName: p.name, Location: p.loc}
		s.AudioInput.AvgLoss = 0.1
		if bad {
			s.AudioInput.AvgLoss = p.loss
		}
		s.Aggregate()
		batch = append(batch, s)
	}
	if err := a.e.Ingest(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

func (a *answered) act(t *testing.T, x engine.Action) engine.ActionResult {
	t.Helper()
	res, err := a.e.Act(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// readable is a call's blocks as a person reads them.
func readable(t *testing.T, c call) string {
	t.Helper()
	var blocks slack.Blocks
	if err := json.Unmarshal(c.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	return notifier.BlocksText(blocks.BlockSet)
}

func hasButtons(t *testing.T, c call) bool {
	var blocks slack.Blocks
	if err := json.Unmarshal(c.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	_, ok := notifier.ActionKey(blocks.BlockSet)
	return ok
}

// An acknowledgement updates the alert's message in place (still with its
// buttons) and says who and until when in its thread; the same action
// again (a retry) sends nothing; repeats stop while acknowledged and the
// alert is told again in its thread when the ack expires, its message no
// longer saying "acknowledged".
func TestAckUpdatesMessageAndThread(t *testing.T) {
	a := newAnswered(t, 0)
	a.minute(t, 0, 1, true)
	a.flush(t)
	first := a.slack.Calls()[0]
	alice := engine.AlertKey{Rule: "choppy-audio", Source: webinar.Key(), Participant: people[0].id}
	ack := engine.Action{ID: "slack:1.1:U0ANA", Kind: engine.ActionAck, Alert: alice, User: "U0ANA", UserName: "ana",
		Message: engine.MessageRef{Channel: first.Channel, TS: first.TS}}
	clicked := time.Now()
	if res := a.act(t, ack); !res.Applied {
		t.Fatalf("ack: %+v", res)
	}
	a.flush(t)
	t.Logf("from Act to the updated message and its reply (fsynced commit, chat.update, chat.postMessage, the ack's fsync): %s", time.Since(clicked).Round(100*time.Microsecond))
	calls := a.slack.Calls()
	if len(calls) != 3 {
		t.Fatalf("calls = %v; want the firing, its update and a reply", calls)
	}
	up, reply := calls[1], calls[2]
	if up.Method != "chat.update" || up.TS != first.TS || !strings.Contains(readable(t, up), "👀 Acknowledged by <@U0ANA> at 14:00:00 UTC") ||
		!strings.Contains(readable(t, up), "Alice Example") || !hasButtons(t, up) {
		t.Fatalf("update: %s\n%s", up, readable(t, up))
	}
	if reply.Method != "chat.postMessage" || reply.ThreadTS != first.TS ||
		!strings.Contains(readable(t, reply), "<@U0ANA> acknowledged this alert at 14:00:00 UTC: no repeats until 15:00:00 UTC") {
		t.Fatalf("reply: %s\n%s", reply, readable(t, reply))
	}
	if res := a.act(t, ack); res.Applied || !res.Replay {
		t.Fatalf("the same action again: %+v", res)
	}
	// 59 minutes later, still bad: no repeat (it would be due at 30).
	for m := 1; m < 60; m++ {
		a.clock.Advance(time.Minute)
		a.minute(t, m, 1, true)
	}
	a.flush(t)
	if n := len(a.slack.Calls()); n != 3 {
		t.Fatalf("%d calls while acknowledged: %v", n, a.slack.Calls()[3:])
	}
	a.clock.Advance(time.Minute)
	a.minute(t, 60, 1, true)
	a.flush(t)
	calls = a.slack.Calls()
	if len(calls) != 5 || calls[3].Method != "chat.update" || calls[4].ThreadTS != first.TS {
		t.Fatalf("after the ack expired: %v; want the update back to firing and a reply", calls)
	}
	if s := readable(t, calls[3]); strings.Contains(s, "👀") || !strings.Contains(s, "the ack expired") {
		t.Fatalf("the first message after the ack expired:\n%s", s)
	}
	if s := readable(t, calls[4]); !strings.Contains(s, "Still firing 1h00m after the ack") || !strings.Contains(s, "<@U0ANA>") {
		t.Fatalf("the reply when the ack expired:\n%s", s)
	}
}

// A storm's Acknowledge acknowledges every member: the storm message is
// updated, and the reply names each participant.
func TestStormAckNamesEveryMember(t *testing.T) {
	a := newAnswered(t, 3)
	a.minute(t, 0, 4, true)
	a.flush(t)
	calls := a.slack.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls = %v; want one storm message", calls)
	}
	storm := calls[0]
	res := a.act(t, engine.Action{ID: "s1", Kind: engine.ActionAck, User: "U0ANA",
		Alert:   engine.AlertKey{Rule: "choppy-audio", Source: webinar.Key()},
		Message: engine.MessageRef{Channel: storm.Channel, TS: storm.TS}})
	if !res.Applied || res.Alerts != 4 || res.Text != "Acknowledged 4 alerts of choppy-audio." {
		t.Fatalf("storm ack: %+v", res)
	}
	for _, al := range a.e.Alerts() {
		if al.AckedBy != "U0ANA" {
			t.Errorf("%s not acknowledged", al.Key)
		}
	}
	a.flush(t)
	calls = a.slack.Calls()
	if len(calls) != 3 || calls[1].Method != "chat.update" || calls[1].TS != storm.TS || calls[2].ThreadTS != storm.TS {
		t.Fatalf("calls = %v; want the storm's update and a reply in its thread", calls)
	}
	if s := readable(t, calls[1]); !strings.Contains(s, "Acknowledged: choppy-audio — 4 participants") || !hasButtons(t, calls[1]) {
		t.Fatalf("storm update:\n%s", s)
	}
	s := readable(t, calls[2])
	for _, p := range people[:4] {
		if !strings.Contains(s, p.name) {
			t.Errorf("the reply does not name %s:\n%s", p.name, s)
		}
	}
	// An hour on, still bad: one reply for the storm, and its message
	// no longer says acknowledged.
	for m := 1; m <= 60; m++ {
		a.clock.Advance(time.Minute)
		a.minute(t, m, 4, true)
	}
	a.flush(t)
	calls = a.slack.Calls()[3:]
	if len(calls) != 2 || calls[0].Method != "chat.update" || calls[0].TS != storm.TS || calls[1].ThreadTS != storm.TS {
		t.Fatalf("after the ack expired: %v; want the storm's update and one reply", calls)
	}
	if s := readable(t, calls[0]); !strings.Contains(s, "⏰ Ack expired: choppy-audio — 4 participants") || strings.Contains(s, "👀") {
		t.Fatalf("the storm's message after the ack expired:\n%s", s)
	}
	if s := readable(t, calls[1]); !strings.Contains(s, "Still firing 1h00m after the ack by <@U0ANA>: 4 participants of choppy-audio") {
		t.Fatalf("the reply after the ack expired:\n%s", s)
	}
}

// Not an issue resolves the alert as dismissed: its message says so and
// keeps only the Zoom link; the rule's false positives are counted; the
// alert stays quiet while its condition keeps holding.
func TestDismissResolvesAndCounts(t *testing.T) {
	a := newAnswered(t, 0)
	a.minute(t, 0, 1, true)
	a.flush(t)
	alice := engine.AlertKey{Rule: "choppy-audio", Source: webinar.Key(), Participant: people[0].id}
	res := a.act(t, engine.Action{ID: "d1", Kind: engine.ActionDismiss, Alert: alice, User: "U0ANA"})
	if !res.Applied {
		t.Fatalf("dismiss: %+v", res)
	}
	a.flush(t)
	calls := a.slack.Calls()
	if len(calls) != 3 || calls[1].Method != "chat.update" {
		t.Fatalf("calls = %v", calls)
	}
	if s := readable(t, calls[1]); !strings.Contains(s, "Dismissed: choppy-audio") || !strings.Contains(s, "✅ Dismissed by <@U0ANA>") || hasButtons(t, calls[1]) {
		t.Fatalf("dismissed message (buttons: %v):\n%s", hasButtons(t, calls[1]), s)
	}
	if got := a.e.Dismissals()["choppy-audio"]; got != 1 {
		t.Fatalf("dismissals = %d, want 1", got)
	}
	for m := 1; m < 5; m++ {
		a.minute(t, m, 1, true)
	}
	a.flush(t)
	if n := len(a.slack.Calls()); n != 3 {
		t.Fatalf("a dismissed alert whose condition still holds was told again: %v", a.slack.Calls()[3:])
	}
	al := a.e.Alerts()[0]
	if al.State != engine.StateResolved || al.Reason != engine.ReasonDismissed {
		t.Fatalf("alert: %s %s", al.State, al.Reason)
	}
}
