package slackapp_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeslack"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
)

const appToken = "xapp-1-A0QOSWATCH-1234567890-SeCrEtAppToKeN"

// TestSocketMode: over Socket Mode (slack-go's socketmode client against
// fakeslack's server), a click is committed before its envelope is
// acknowledged, a slash command's answer rides in the acknowledgement,
// and after Slack asks for a new connection (disconnect:
// refresh_requested) or the connection drops, the app reconnects and
// answers again; a redelivered envelope applies once.
func TestSocketMode(t *testing.T) {
	r := newAppRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.app.RunSocketMode(ctx, slackapp.SocketOptions{AppToken: appToken, APIURL: r.fs.APIURL()}); err != nil {
			t.Errorf("RunSocketMode: %v", err)
		}
	})
	defer func() { cancel(); wg.Wait() }()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := r.fs.WaitSocketConnections(wctx, 1); err != nil {
		t.Fatalf("no Socket Mode connection: %v", err)
	}
	msg := r.fire(t, "1001")

	send := func(typ string, payload json.RawMessage) fakeslack.SocketAck {
		t.Helper()
		id, err := r.fs.SocketSend(typ, payload)
		if err != nil {
			t.Fatal(err)
		}
		ack, err := r.fs.WaitSocketAck(wctx, id)
		if err != nil {
			t.Fatalf("envelope %s not acknowledged: %v", id, err)
		}
		t.Logf("%s envelope acknowledged after %s", typ, ack.Took)
		return ack
	}
	click, _, err := r.fs.BlockActions(msg, fakeslack.Click{User: ana, ActionID: notifier.ActionAck})
	if err != nil {
		t.Fatal(err)
	}
	send("interactive", click)
	// Committed before the ack: the engine has it the moment Slack does.
	if a := r.alert(t, "1001"); a.AckedBy != ana.ID {
		t.Fatalf("acknowledged envelope, alert not acknowledged: %+v", a)
	}
	send("interactive", click) // Slack redelivers (retry_attempt 1)
	if recs := r.actions(t); len(recs) != 1 {
		t.Errorf("a redelivered click: %d actions, want 1", len(recs))
	}

	v, _ := r.fs.SlashCommand(bob, "C0SUPPORT", "/qoswatch", "alerts")
	ack := send("slash_commands", fakeslack.SocketPayload(v))
	var answer struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(ack.Payload, &answer); err != nil || answer.ResponseType != "ephemeral" || !strings.Contains(answer.Text, "lossy-audio/webinar:81234567890/1001") {
		t.Errorf("the slash command's answer in the ack: %s (%v)", ack.Payload, err)
	}

	for i, reason := range []string{"refresh_requested", ""} {
		r.fs.SocketDisconnect(reason)
		if err := r.fs.WaitSocketConnections(wctx, i+2); err != nil {
			t.Fatalf("after disconnect %q: no new connection: %v", reason, err)
		}
	}
	dismiss, _, err := r.fs.BlockActions(msg, fakeslack.Click{User: bob, ActionID: notifier.ActionDismiss})
	if err != nil {
		t.Fatal(err)
	}
	send("interactive", dismiss)
	if a := r.alert(t, "1001"); a.State != engine.StateResolved || a.Reason != engine.ReasonDismissed {
		t.Errorf("a click after two reconnects did not apply: %+v", a)
	}
	if got := metric(t, r.reg, "qoswatch_slack_socket_connects_total"); got != 3 {
		t.Errorf("qoswatch_slack_socket_connects_total = %g, want 3", got)
	}
	if got := metric(t, r.reg, "qoswatch_slack_interactions_total", "transport", "socket", "type", "block_actions"); got != 3 {
		t.Errorf("socket block_actions counted %g, want 3", got)
	}
	if r.fs.SawToken(appToken) && strings.Contains(r.logs.String(), appToken) {
		t.Error("the app token reached the log")
	}
}

// TestSocketModeNeedsAnAppToken: a bot token where the app token goes is
// refused at once, saying which token is needed.
func TestSocketModeNeedsAnAppToken(t *testing.T) {
	r := newAppRig(t)
	err := r.app.RunSocketMode(context.Background(), slackapp.SocketOptions{AppToken: testToken, APIURL: r.fs.APIURL()})
	if err == nil || !strings.Contains(err.Error(), "xapp-") || strings.Contains(err.Error(), testToken) {
		t.Errorf("RunSocketMode with a bot token: %v", err)
	}
}

// TestSocketModeRecoversFromARefusedToken: while Slack refuses the app
// token (invalid_auth: revoked, or not yet rotated in), RunSocketMode
// logs it, keeps running and tries again; once Slack takes it, the app
// connects and answers, without a restart.
func TestSocketModeRecoversFromARefusedToken(t *testing.T) {
	r := newAppRig(t)
	refuse := make(chan bool, 1)
	refuse <- true
	refusing := true
	r.fs.SetFault(func(method string, _ url.Values) *fakeslack.Fault {
		select {
		case refusing = <-refuse:
		default:
		}
		if method == "apps.connections.open" && refusing {
			return &fakeslack.Fault{SlackErr: "invalid_auth"}
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = r.app.RunSocketMode(ctx, slackapp.SocketOptions{AppToken: appToken, APIURL: r.fs.APIURL(), Retry: 20 * time.Millisecond})
	})
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, "the refusal logged", func() bool { return strings.Contains(r.logs.String(), "Slack refused the connection") })
	refuse <- false
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := r.fs.WaitSocketConnections(wctx, 1); err != nil {
		t.Fatalf("no connection once the token is taken: %v\n%s", err, r.logs.String())
	}
	v, _ := r.fs.SlashCommand(bob, "C0SUPPORT", "/qoswatch", "help")
	id, err := r.fs.SocketSend("slash_commands", fakeslack.SocketPayload(v))
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := r.fs.WaitSocketAck(wctx, id); err != nil || !strings.Contains(string(ack.Payload), "/qoswatch alerts") {
		t.Errorf("after recovering: %s, %v", ack.Payload, err)
	}
	if strings.Contains(r.logs.String(), appToken) {
		t.Error("the app token reached the log")
	}
}
