package slackapp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
)

// longNamed is n attendees with names of about 180 characters, unicode
// and Slack's control characters in them.
func longNamed(n int) []person {
	out := make([]person, n)
	for i := range out {
		name := fmt.Sprintf("Attendee %02d «Ünïcødé & <Söhne> 李小龍 🎙» ", i) + strings.Repeat(string(rune('a'+i%26)), 120)
		out[i] = person{fmt.Sprint(17000000 + i), name, "", "Paris (FR)", "Wifi", "5.17.5", "203.0.113.1", 3 + float64(i%7), 160 + float64(i)}
	}
	return out
}

// stormOf60 posts a storm of 60 attendees with long names and then their
// resolves, through sender, and returns what Slack accepted.
func stormOf60(t *testing.T, fs *fakeSlack, clock *fakeclock.Stepping, sender notifier.Sender) ([]person, []call) {
	t.Helper()
	ob := memBox(t)
	d, err := notifier.New(notifier.Options{Outbox: ob.queue, Router: toChannel("#webinar-support"), Sender: sender, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ps := longNamed(60)
	for _, p := range ps {
		ob.add(notif(engine.KindFiring, p, rule, t0))
	}
	for _, p := range ps {
		ob.add(notif(engine.KindResolved, p, rule, t0.Add(30*time.Minute)))
	}
	if err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := ob.len(); n != 0 {
		t.Fatalf("%d notifications left in the outbox", n)
	}
	return ps, fs.Calls()
}

// everyoneNamed: each attendee is named in the storm's messages and
// again in the resolves'.
func everyoneNamed(t *testing.T, ps []person, calls []call) {
	t.Helper()
	var firing, resolved strings.Builder
	for _, c := range calls {
		if strings.HasPrefix(c.Text, "[RESOLVED]") {
			resolved.Write(c.Blocks)
		} else {
			firing.Write(c.Blocks)
		}
	}
	for _, p := range ps {
		// As Slack receives it: escaped, inside JSON.
		name := strings.NewReplacer("&", `\u0026amp;`, "<", `\u0026lt;`, ">", `\u0026gt;`).Replace(p.name)
		if !strings.Contains(firing.String(), name) {
			t.Errorf("%s… is named in no message of the storm", p.name[:20])
		}
		if !strings.Contains(resolved.String(), name) {
			t.Errorf("%s… is named in no message of the resolves", p.name[:20])
		}
	}
}

// TestStormOf60LongNamesBot (issue 14 item 4): 60 attendees with long
// names storm and resolve. Slack (the fake, enforcing Block Kit's limits)
// takes every message, and every attendee is named: the lists that do not
// fit one message continue as replies in the storm's thread ("2/3").
func TestStormOf60LongNamesBot(t *testing.T) {
	clock := newClock()
	fs := newFakeSlack(t, clock)
	bot, err := slackapp.NewBot(testToken, slackapp.Options{APIURL: fs.url()})
	if err != nil {
		t.Fatal(err)
	}
	ps, calls := stormOf60(t, fs, clock, bot)
	everyoneNamed(t, ps, calls)
	root := calls[0]
	if root.ThreadTS != "" || !strings.HasPrefix(root.Text, "[STORM]") {
		t.Fatalf("first call %v, want the storm message", root)
	}
	cont := 0
	for _, c := range calls[1:] {
		if c.Method == "chat.update" && c.TS == root.TS && strings.Contains(c.Text, "storm of 60 participants over") {
			continue // the storm's message marked over
		}
		if c.Method != "chat.postMessage" || c.ThreadTS != root.TS {
			t.Errorf("%v: want a reply in the storm's thread %s", c, root.TS)
		}
		if strings.Contains(c.Text, "/3)") || strings.Contains(c.Text, "/2)") || strings.Contains(c.Text, "/4)") {
			cont++
		}
	}
	if cont == 0 {
		t.Errorf("no continuation messages; 60 long names should not fit one message:\n%v", calls)
	}
	t.Logf("%d calls, %d of them parts of a list (2/3...)", len(calls), cont)
}

// TestStormOf60LongNamesWebhook: the same through an incoming webhook,
// where continuations are plain messages after the first.
func TestStormOf60LongNamesWebhook(t *testing.T) {
	clock := newClock()
	fs := newFakeSlack(t, clock)
	wh, err := slackapp.NewWebhook(fs.WebhookURL(), slackapp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ps, calls := stormOf60(t, fs, clock, wh)
	everyoneNamed(t, ps, calls)
	if len(calls) < 3 {
		t.Errorf("%d webhook messages; the lists should continue in more", len(calls))
	}
	for _, c := range calls {
		if c.Method != "webhook" || c.ThreadTS != "" {
			t.Errorf("%v: want a plain webhook message", c)
		}
	}
}

// TestHostileNamesReachSlackEscaped (issue 15 item 14): names, places and
// topics that are Slack markup reach Slack escaped in the blocks and the
// fallback text, through the bot and the webhook alike.
func TestHostileNamesReachSlackEscaped(t *testing.T) {
	for _, mode := range []string{"bot", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			clock := newClock()
			fs := newFakeSlack(t, clock)
			var sender notifier.Sender
			var err error
			if mode == "bot" {
				sender, err = slackapp.NewBot(testToken, slackapp.Options{APIURL: fs.url()})
			} else {
				sender, err = slackapp.NewWebhook(fs.WebhookURL(), slackapp.Options{})
			}
			if err != nil {
				t.Fatal(err)
			}
			ob := memBox(t)
			d, err := notifier.New(notifier.Options{Outbox: ob.queue, Router: toChannel("#webinar-support"), Sender: sender, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			evil := person{"16778240", "<!channel> Mallory <@U123>", "<!everyone>@example.com", "<!here> Paris", "<#C123>", "<https://evil.example|5.17>", "&lt;", 3.5, 180}
			n := notif(engine.KindFiring, evil, rule, t0)
			n.Source.Topic, n.Source.Host = "<!everyone> All-Hands", "<@U999>"
			n.Summary = evil.name + " sends audio with 3.5% loss"
			n.Participant.DataCenter, n.Participant.Device = "<!channel>", "<!here>"
			res := notif(engine.KindResolved, evil, rule, t0.Add(time.Hour))
			res.Source, res.Participant = n.Source, n.Participant
			ob.add(n, res)
			if err := d.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			calls := fs.Calls()
			if len(calls) < 2 {
				t.Fatalf("%d calls", len(calls))
			}
			for _, c := range calls {
				for _, ping := range []string{"<!channel>", "<!everyone>", "<!here>", "<@U123>", "<@U999>", "<#C123>", "<https://evil"} {
					if strings.Contains(c.Text, ping) || strings.Contains(string(c.Blocks), ping) {
						t.Errorf("%s: %q reaches Slack as markup:\n%s\n%s", c.Method, ping, c.Text, c.Blocks)
					}
				}
				if !strings.Contains(c.Text, "&lt;!channel&gt; Mallory") {
					t.Errorf("%s: the fallback text does not name Mallory as written: %q", c.Method, c.Text)
				}
			}
		})
	}
}
