package slackapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

type rig struct {
	clock *fakeclock.Stepping
	reg   *prometheus.Registry
	slack *fakeSlack
	ob    box
	logs  *logBuffer
	d     *notifier.Dispatcher
	bot   *slackapp.Bot
}

const testToken = "xoxb-1111111111-2222222222-SeCrEtToKeNvAlUe"

func newRig(t *testing.T, router engine.Router, opts ...func(*notifier.Options)) *rig {
	t.Helper()
	return newRigWith(t, memBox(t), router, opts...)
}

func newRigWith(t *testing.T, ob box, router engine.Router, opts ...func(*notifier.Options)) *rig {
	t.Helper()
	r := &rig{clock: newClock(), ob: ob, logs: &logBuffer{}, reg: prometheus.NewRegistry()}
	r.slack = newFakeSlack(t, r.clock)
	bot, err := slackapp.NewBot(testToken, slackapp.Options{APIURL: r.slack.url(), Timeout: 5 * time.Second, Logger: r.logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	r.bot = bot
	o := notifier.Options{Outbox: r.ob.queue, Router: router, Sender: bot, Logger: r.logs.logger(), Clock: r.clock, Registerer: r.reg}
	for _, f := range opts {
		f(&o)
	}
	r.d, err = notifier.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.d.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if n := r.ob.len(); n != 0 {
		t.Fatalf("outbox still holds %d entries after flush", n)
	}
}

// TestMessagesGolden runs one alert through firing, repeat and resolve and
// a storm through grouping and resolve, against the real slack-go client,
// and compares what Slack received with testdata/*.golden.json. The
// .golden.txt files are the same messages as people read them.
func TestMessagesGolden(t *testing.T) {
	route := engine.Route{Channel: "#webinar-support", Mention: "<!subteam^S0AVTEAM>"}
	// Bot mode with an answering transport: the firing messages carry buttons.
	r := newRig(t, routerFunc(func(*engine.Notification) engine.Route { return route }), func(o *notifier.Options) { o.Render.Actions = true })
	alice := people[0]

	r.ob.add(notif(engine.KindFiring, alice, rule, t0))
	r.flush(t)
	r.ob.add(notif(engine.KindRepeat, alice, rule, t0.Add(time.Hour)))
	r.flush(t)
	r.ob.add(notif(engine.KindResolved, alice, rule, t0.Add(72*time.Minute)))
	r.flush(t)

	// A storm two hours later: five more participants, same rule, same webinar.
	at := t0.Add(2 * time.Hour)
	for _, p := range people[1:] {
		n := notif(engine.KindFiring, p, rule, at)
		n.Since = at
		r.ob.add(n)
	}
	r.flush(t)
	for _, p := range people[1:] {
		n := notif(engine.KindResolved, p, rule, at.Add(9*time.Minute))
		n.Since = at
		r.ob.add(n)
	}
	r.flush(t)

	calls := r.slack.Calls()
	names := []string{"firing", "repeat", "resolved_update", "resolved", "grouped", "grouped_resolved", "grouped_over"}
	if len(calls) != len(names) {
		for _, c := range calls {
			t.Logf("%s %s thread=%s %q", c.Method, c.Channel, c.ThreadTS, firstLine(c.Text))
		}
		t.Fatalf("Slack got %d calls, want %d (%v)", len(calls), len(names), names)
	}
	for i, name := range names {
		checkGolden(t, name, calls[i])
	}

	// Threading: follow-ups reply in the first message's thread; the
	// resolve updated that first message; the storm's resolves went into
	// its thread in one reply and marked it over.
	first, group := calls[0], calls[4]
	want := []struct{ method, ts, thread string }{
		{"chat.postMessage", first.TS, ""},
		{"chat.postMessage", "", first.TS},
		{"chat.update", first.TS, ""},
		{"chat.postMessage", "", first.TS},
		{"chat.postMessage", group.TS, ""},
		{"chat.postMessage", "", group.TS},
		{"chat.update", group.TS, ""},
	}
	for i, w := range want {
		c := calls[i]
		if c.Method != w.method || (w.ts != "" && c.TS != w.ts) || c.ThreadTS != w.thread {
			t.Errorf("call %d (%s): %s ts=%s thread=%s, want %s ts=%s thread=%s", i, names[i], c.Method, c.TS, c.ThreadTS, w.method, w.ts, w.thread)
		}
	}
	n := func(kind, outcome string) float64 {
		return metric(t, r.reg, "qoswatch_notifications_total", "kind", kind, "outcome", outcome)
	}
	if g := metric(t, r.reg, "qoswatch_slack_group_messages_total"); g != 1 || n("firing", notifier.OutcomeGrouped) != 5 || n("resolved", notifier.OutcomeGrouped) != 5 {
		t.Errorf("group messages = %v, grouped firings = %v, resolves = %v; want 1, 5, 5", g, n("firing", notifier.OutcomeGrouped), n("resolved", notifier.OutcomeGrouped))
	}
	if u := metric(t, r.reg, "qoswatch_slack_updates_total"); n("firing", notifier.OutcomeDelivered) != 1 || n("repeat", notifier.OutcomeDelivered) != 1 || u != 2 {
		t.Errorf("delivered firings = %v, repeats = %v, updates = %v; want 1, 1, 2", n("firing", notifier.OutcomeDelivered), n("repeat", notifier.OutcomeDelivered), u)
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func checkGolden(t *testing.T, name string, c call) {
	t.Helper()
	var blocks slack.Blocks
	if err := json.Unmarshal(c.Blocks, &blocks); err != nil {
		t.Fatalf("%s: Slack got blocks it cannot decode: %v", name, err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, c.Blocks, "", "  "); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{"method": c.Method, "text": c.Text, "thread": c.ThreadTS != "", "blocks": json.RawMessage(pretty.Bytes())}
	js, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	js = append(js, '\n')
	txt := []byte(notifier.BlocksText(blocks.BlockSet) + "--- text fallback ---\n" + c.Text + "\n")
	for _, f := range []struct {
		path string
		data []byte
	}{{filepath.Join("testdata", name+".golden.json"), js}, {filepath.Join("testdata", name+".golden.txt"), txt}} {
		if *update {
			if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(want, f.data) {
			t.Errorf("%s differs from the golden file (go test -run Golden -update to accept):\n%s", f.path, f.data)
		}
	}
}
