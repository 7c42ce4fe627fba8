package notifier_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
)

// actionsOf is the message's actions block, as Slack receives it.
func actionsOf(t *testing.T, m notifier.Message) (blockID string, actionIDs, options []string, link string, found bool) {
	t.Helper()
	js, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			ActionID string `json:"action_id"`
			URL      string `json:"url"`
			Options  []struct {
				Value string `json:"value"`
			} `json:"options"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(js, &blocks); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		if found {
			t.Fatal("two actions blocks in one message")
		}
		found, blockID = true, b.BlockID
		for _, e := range b.Elements {
			actionIDs = append(actionIDs, e.ActionID)
			for _, o := range e.Options {
				options = append(options, o.Value)
			}
			if e.URL != "" {
				link = e.URL
			}
		}
	}
	return blockID, actionIDs, options, link, found
}

// TestFiringMessagesCarryButtons: with Actions on, every firing message
// (alone, a repeat, a storm) ends with Acknowledge, Silence ▾ (four
// scopes; three for a storm), Not an issue and the Zoom link, and names
// its alert (a storm: no participant) in a block_id Slack takes back;
// resolves, thread lists, continuations and Actions off carry none; a
// route that hides the participant's key gets the link alone.
func TestFiringMessagesCarryButtons(t *testing.T) {
	r := notifier.NewRenderer(notifier.RenderOptions{Actions: true})
	n := firing()
	all := []string{notifier.ActionAck, notifier.ActionSilence, notifier.ActionDismiss, notifier.ActionZoom}
	for what, m := range map[string]notifier.Message{
		"firing": r.Render(&n, engine.Route{}),
		"repeat": r.Render(func() *engine.Notification { x := n; x.Kind = engine.KindRepeat; return &x }(), engine.Route{}),
		"reply":  r.RenderReply(func() *engine.Notification { x := n; x.Kind = engine.KindRepeat; return &x }(), engine.Route{}),
	} {
		id, ids, opts, link, ok := actionsOf(t, m)
		if !ok {
			t.Fatalf("%s: no buttons", what)
		}
		k, err := notifier.ParseActionBlockID(id)
		if err != nil || k != n.Key {
			t.Errorf("%s: block_id %q names %v (%v), want %v", what, id, k, err, n.Key)
		}
		if fmt.Sprint(ids) != fmt.Sprint(all) {
			t.Errorf("%s: action_ids %v, want %v", what, ids, all)
		}
		if want := []string{"participant", "rule_source", "rule_1h", "until_resolved"}; fmt.Sprint(opts) != fmt.Sprint(want) {
			t.Errorf("%s: silence options %v, want %v", what, opts, want)
		}
		if !strings.Contains(link, "livemeetingdetail") {
			t.Errorf("%s: link %q is not the live meeting's Dashboard page", what, link)
		}
		if got, ok := notifier.ActionKey(m.Blocks); !ok || got != n.Key {
			t.Errorf("%s: ActionKey = %v, %v", what, got, ok)
		}
		if !strings.Contains(notifier.BlocksText(m.Blocks), "[Acknowledge] [Silence ▾] [Not an issue]\n") {
			t.Errorf("%s: the console does not show the buttons:\n%s", what, notifier.BlocksText(m.Blocks))
		}
		checkMessage(t, what, m, "")
	}

	var ns []*engine.Notification
	for i := range 30 {
		x := firing()
		x.Participant.UserID = fmt.Sprint(2000 + i)
		x.Key.Participant = x.Participant.UserID
		ns = append(ns, &x)
	}
	storm := r.RenderGroup(ns, 0, engine.Route{})
	id, _, opts, _, ok := actionsOf(t, storm)
	k, err := notifier.ParseActionBlockID(id)
	if !ok || err != nil || k != (engine.AlertKey{Rule: n.Key.Rule, Source: n.Key.Source}) {
		t.Errorf("storm: block_id %q names %v (%v), want the rule and source alone", id, k, err)
	}
	if want := []string{"rule_source", "rule_1h", "until_resolved"}; fmt.Sprint(opts) != fmt.Sprint(want) {
		t.Errorf("storm: silence options %v, want %v", opts, want)
	}
	checkMessage(t, "storm", storm, "")
	for i, c := range storm.More {
		if _, _, _, _, ok := actionsOf(t, c); ok {
			t.Errorf("storm continuation %d has buttons", i+2)
		}
	}

	resolved := n
	resolved.Kind, resolved.Reason = engine.KindResolved, engine.ReasonRecovered
	for what, m := range map[string]notifier.Message{
		"resolved":        r.Render(&resolved, engine.Route{}),
		"resolved reply":  r.RenderReply(&resolved, engine.Route{}),
		"resolved update": r.RenderResolvedUpdate(&resolved, engine.Route{}),
		"thread batch":    r.RenderThreadBatch(engine.KindFiring, ns, engine.Route{}),
		"storm over":      r.RenderGroupOver(ns[0], len(ns), t0, t0, engine.Route{}),
		"webhook mode":    notifier.NewRenderer(notifier.RenderOptions{}).Render(&n, engine.Route{}),
		"webhook storm":   notifier.NewRenderer(notifier.RenderOptions{}).RenderGroup(ns, 0, engine.Route{}),
	} {
		if _, _, _, _, ok := actionsOf(t, m); ok {
			t.Errorf("%s: has buttons", what)
		}
	}

	hidden := r.Render(&n, engine.Route{Redact: []string{"user_id"}})
	id, ids, _, link, _ := actionsOf(t, hidden)
	if id != "" || fmt.Sprint(ids) != fmt.Sprint([]string{notifier.ActionZoom}) || link == "" || strings.Contains(mustJSON(t, hidden.Blocks), `1001`) {
		t.Errorf("redacted key: block_id %q, actions %v: want the Zoom link alone, and the key nowhere", id, ids)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

// TestActionBlockIDRoundTrip: what ActionBlockID writes, ParseActionBlockID
// reads back, whatever the names hold; a key too long for Slack's 255
// characters is refused, and block_ids not ours are told apart.
func TestActionBlockIDRoundTrip(t *testing.T) {
	for _, k := range []engine.AlertKey{
		{Rule: "r", Source: "webinar:1", Participant: "16778240"},
		{Rule: "r", Source: "meeting:2", Participant: `Zoë "<!channel>" | & 🎙`},
		{Rule: "r", Source: "webinar:1"},
	} {
		id, ok := notifier.ActionBlockID(k)
		if !ok {
			t.Fatalf("%v: refused", k)
		}
		if got, err := notifier.ParseActionBlockID(id); err != nil || got != k {
			t.Errorf("%v: read back %v, %v", k, got, err)
		}
	}
	if _, ok := notifier.ActionBlockID(engine.AlertKey{Rule: strings.Repeat("r", 250), Source: "webinar:1"}); ok {
		t.Error("a block_id over 255 characters was accepted")
	}
	for _, id := range []string{"", "abc", "qw1:", "qw1:[]", `qw1:["r"]`, `qw1:["","webinar:1",""]`} {
		if _, err := notifier.ParseActionBlockID(id); err == nil {
			t.Errorf("%q: parsed", id)
		}
	}
}
