package slackapp_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/internal/fakeslack"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
)

// updateAfter waits for the first chat.update of the message at ts after
// click, and returns it with the time from the click to Slack receiving
// it.
func (r *appRig) updateAfter(t *testing.T, ts string, click time.Time) (fakeslack.Call, time.Duration) {
	t.Helper()
	var up fakeslack.Call
	waitFor(t, "the message's update", func() bool {
		for _, c := range r.fs.Calls() {
			if c.Method == "chat.update" && c.TS == ts && !c.At.Before(click) {
				up = c
				return true
			}
		}
		return false
	})
	return up, up.At.Sub(click)
}

// TestClickToUpdatedMessage: a click, through Slack's signed HTTP request
// or a Socket Mode envelope, ends in the message updated for everyone
// (Acknowledged by the clicker, Silenced, Dismissed), posted by the
// notifier from the outbox after the action committed; a click on the
// updated (acknowledged) message changes nothing and is told who acked.
// It logs the time from each click to Slack receiving the update: the
// figure docs/slack.md reports (no assertion on it: the machine is
// shared).
func TestClickToUpdatedMessage(t *testing.T) {
	r := newAppRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.app.RunSocketMode(ctx, slackapp.SocketOptions{AppToken: appToken, APIURL: r.fs.APIURL()})
	}()
	defer func() { cancel(); <-done }()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := r.fs.WaitSocketConnections(wctx, 1); err != nil {
		t.Fatal(err)
	}

	var took []time.Duration
	for i, tc := range []struct {
		transport string
		click     fakeslack.Click
		want      string
	}{
		{"http", fakeslack.Click{User: ana, ActionID: notifier.ActionAck}, "Acknowledged by <@" + ana.ID + ">"},
		{"socket", fakeslack.Click{User: bob, ActionID: notifier.ActionAck}, "Acknowledged by <@" + bob.ID + ">"},
		{"http", fakeslack.Click{User: ana, ActionID: notifier.ActionSilence, Option: "until_resolved"}, "<@" + ana.ID + ">"},
		{"socket", fakeslack.Click{User: bob, ActionID: notifier.ActionDismiss}, "<@" + bob.ID + ">"},
		{"http", fakeslack.Click{User: ana, ActionID: notifier.ActionDismiss}, "<@" + ana.ID + ">"},
	} {
		r.webinar = fmt.Sprint(81234567000 + i) // one alert per webinar: no storm
		msg := r.fire(t, "4001")
		payload, _, err := r.fs.BlockActions(msg, tc.click)
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		switch tc.transport {
		case "http":
			body := fakeslack.InteractionBody(payload)
			if d, err := fakeslack.Post(ctx, r.url+slackapp.InteractionsPath, fakeslack.Sign(signingSecret, began, body), body); err != nil || d.Status != http.StatusOK {
				t.Fatalf("click %d: %+v %v", i, d, err)
			}
		case "socket":
			id, err := r.fs.SocketSend("interactive", payload)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.fs.WaitSocketAck(wctx, id); err != nil {
				t.Fatal(err)
			}
		}
		up, d := r.updateAfter(t, msg.TS, began)
		took = append(took, d)
		if !strings.Contains(string(up.Blocks)+up.Text, tc.want) {
			t.Errorf("click %d (%s %s %s): the update does not say %q:\n%s", i, tc.transport, tc.click.ActionID, tc.click.Option, tc.want, up.Text)
		}
		t.Logf("%s %-16s %-14s → message updated after %s", tc.transport, tc.click.ActionID, tc.click.Option, d.Round(10*time.Microsecond))
		if tc.click.ActionID == notifier.ActionAck {
			// The updated message keeps its buttons; a second click on them is told.
			now, _ := r.fs.Message(msg.TS)
			_, key := r.click(t, now, fakeslack.Click{User: eve, ActionID: notifier.ActionAck})
			if got := r.ephemeral(key); !strings.Contains(got, "Already acknowledged by <@"+tc.click.User.ID+">") {
				t.Errorf("a click on the acknowledged message was told %q", got)
			}
		}
	}
	slices.Sort(took)
	t.Logf("click → updated message, %d clicks: min %s, median %s, max %s", len(took), took[0].Round(10*time.Microsecond),
		took[len(took)/2].Round(10*time.Microsecond), took[len(took)-1].Round(10*time.Microsecond))
}
