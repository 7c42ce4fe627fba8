package notifier_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
)

// TestActionMessagesWithinSlackLimits: the messages an action makes (the
// update of the alert's or storm's message, the thread reply, the message
// of its own without a thread, the repeat when an ack expired) stay within
// Slack's limits with hostile names and comments, let no text become
// markup but the acting user's mention, and a storm's reply names every
// member.
func TestActionMessagesWithinSlackLimits(t *testing.T) {
	runs := 30
	if testing.Short() {
		runs = 10
	}
	at := time.Date(2026, 3, 12, 14, 3, 0, 0, time.UTC)
	for seed := range runs {
		g := gen{rand.New(rand.NewPCG(uint64(seed), 12))}
		n := 1 + g.r.IntN(20)
		if seed%3 == 0 {
			n = 1 + g.r.IntN(500)
		}
		rd := notifier.NewRenderer(notifier.RenderOptions{Actions: seed%2 == 0})
		firing := g.alertSet(n)
		route := g.route()
		user, mention := "U0ANA", "<@U0ANA>"
		if seed%4 == 1 { // from the CLI: the name is shown, escaped
			user, mention = "cli:"+g.str(100), ""
		}
		for _, kind := range []engine.ActionKind{engine.ActionAck, engine.ActionSilence, engine.ActionDismiss} {
			note := &engine.ActionNote{ID: g.str(60), Kind: kind, User: user, UserName: g.str(200), At: at,
				Comment: g.maybe(g.str(1000)), Expires: at.Add(time.Hour)}
			if kind == engine.ActionSilence {
				note.Scope = []engine.SilenceScope{engine.ScopeParticipant, engine.ScopeRuleSource, engine.ScopeRule1h, engine.ScopeUntilResolved}[g.r.IntN(4)]
				note.Silence = &engine.Silence{ID: "act-" + note.ID, StartsAt: at, EndsAt: at.Add(24 * time.Hour)}
				if note.Scope != engine.ScopeRule1h {
					note.Silence.EndsWith = &engine.AlertKey{Source: firing[0].Key.Source}
				}
			}
			single := *firing[0]
			single.Kind, single.Action = engine.KindAction, note
			one := *note
			one.Count = 1
			single.Action = &one
			storm := *firing[0]
			storm.Kind, storm.Key.Participant, storm.Participant = engine.KindAction, "", engine.Participant{}
			many := *note
			many.Count = n
			for _, f := range firing {
				many.Members = append(many.Members, f.Participant.UserName)
			}
			storm.Action = &many
			for what, m := range map[string]notifier.Message{
				"update":              rd.RenderActionUpdate(&single, route),
				"reply":               rd.RenderActionReply(&single, route),
				"standalone":          rd.Render(&single, route),
				"storm update":        rd.RenderActionUpdate(&storm, route),
				"storm reply":         rd.RenderActionReply(&storm, route),
				"storm standalone":    rd.Render(&storm, route),
				"thread reply (plan)": rd.RenderReply(&single, route),
			} {
				all := checkMessage(t, fmt.Sprintf("seed %d, %s %s", seed, kind, what), m, mention)
				if strings.HasPrefix(what, "storm") && what != "storm update" {
					for _, f := range firing {
						if !strings.Contains(all, slackEscape(f.Participant.UserName)) {
							t.Errorf("seed %d, %s %s of %d: %q is not named", seed, kind, what, n, f.Participant.UserName)
							break
						}
					}
				}
			}
		}
		// The ack expired while the alert kept firing.
		rep := g.as(firing[:1], engine.KindRepeat)[0]
		rep.Action = &engine.ActionNote{Kind: engine.ActionAck, User: "cli:" + g.str(100), UserName: g.str(200), At: at, Expires: at.Add(time.Hour), Count: 1}
		checkMessage(t, fmt.Sprintf("seed %d, ack expired reply", seed), rd.RenderReply(rep, route), route.Mention) // a repeat pages again
		checkMessage(t, fmt.Sprintf("seed %d, ack expired update", seed), rd.RenderActionUpdate(rep, route), "")
	}
}

// TestConsolePrintsActions: the console (demo, dry runs) shows an action
// as Slack does: the alert's message updated with who acknowledged it,
// buttons and all, and the reply in its thread.
func TestConsolePrintsActions(t *testing.T) {
	var out bytes.Buffer
	st := engine.NewMemoryStore()
	d, err := notifier.New(notifier.Options{
		Outbox: st, Router: routerFunc(func(*engine.Notification) engine.Route { return engine.Route{Channel: "#demo"} }),
		Sender: notifier.NewConsole(&out), ChannelInterval: -1, Clock: noWaiting{t0},
		Render: notifier.RenderOptions{Actions: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := firing()
	ack := f
	ack.Kind = engine.KindAction
	ack.Action = &engine.ActionNote{ID: "a1", Kind: engine.ActionAck, User: "cli:ana", UserName: "ana", At: t0.Add(2 * time.Minute), Expires: t0.Add(62 * time.Minute), Count: 1}
	if err := st.Commit(context.Background(), engine.Changes{Notifications: []engine.Notification{f, ack}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"── #1 in #demo updated ──\n🔴 Firing: low-fps",
		"👀 Acknowledged by ana at 13:43:00 UTC · told again at 14:43:00 UTC if still firing",
		"[Acknowledge] [Silence ▾] [Not an issue]",
		"↳ #2 in the thread of #1: 👀 ana acknowledged this alert at 13:43:00 UTC: no repeats until 14:43:00 UTC; still firing then, it is told again.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
}
