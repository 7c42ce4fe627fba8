package slackapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeslack"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/store"
)

// The responders' side, end to end and real: a rules file, the engine on
// a bbolt file, the notifier posting through slack-go to fakeslack, and
// the App taking Slack's signed requests (real HMAC) or Socket Mode
// envelopes (slack-go's socketmode client against fakeslack's server).

const signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"

var (
	ana = fakeslack.User{ID: "U0ANA0001", Name: "ana"}
	bob = fakeslack.User{ID: "U0BOB0002", Name: "bob"}
	eve = fakeslack.User{ID: "U0EVE0003", Name: "eve"}
)

const appRules = `
defaults: {channel: "#webinar-support"}
rules:
  - name: lossy-audio
    when: audio_input.avg_loss > 2
    for: 0s
    keep_firing_for: 0s
`

// waking is the engine as the daemon hands it to the App: each action
// wakes the notifier, so the message is updated at once.
type waking struct {
	*engine.Engine
	wake func()
}

func (w waking) Act(ctx context.Context, a engine.Action) (engine.ActionResult, error) {
	res, err := w.Engine.Act(ctx, a)
	w.wake()
	return res, err
}

type appRig struct {
	fs   *fakeslack.Server
	db   *store.DB
	eng  *engine.Engine
	disp *notifier.Dispatcher
	app  *slackapp.App
	reg  *prometheus.Registry
	url  string // the HTTP endpoints
	logs *logBuffer
	// webinar is the source fire degrades (default 81234567890).
	webinar string
}

func newAppRig(t *testing.T, responders ...string) *appRig {
	t.Helper()
	r := &appRig{fs: fakeslack.New(t, nil), reg: prometheus.NewRegistry(), logs: &logBuffer{}}
	db, err := store.Open(filepath.Join(t.TempDir(), "qoswatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.db = db
	set, err := rules.Parse("rules.yaml", []byte(appRules))
	if err != nil {
		t.Fatal(err)
	}
	if r.eng, err = engine.New(db, engine.Options{Logger: r.logs.logger()}); err != nil {
		t.Fatal(err)
	}
	if err := r.eng.SetRules(context.Background(), set.Rules()); err != nil {
		t.Fatal(err)
	}
	bot, err := slackapp.NewBot(testToken, slackapp.Options{APIURL: r.fs.APIURL(), Logger: r.logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	r.disp, err = notifier.New(notifier.Options{Outbox: db, Router: set, Sender: bot, Logger: r.logs.logger(),
		Render: notifier.RenderOptions{Actions: true}, ChannelInterval: -1, PollInterval: 20 * time.Millisecond, StormThreshold: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.disp.Run(ctx) })
	r.app, err = slackapp.NewApp(slackapp.AppOptions{
		Actor: waking{r.eng, r.disp.Wake}, Responders: responders, Members: bot.GroupMembers,
		Rules: func() []string { return []string{"lossy-audio"} }, Logger: r.logs.logger(), Registerer: r.reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(slackapp.InteractionsPath, r.app.Interactions(signingSecret))
	mux.Handle(slackapp.CommandsPath, r.app.Commands(signingSecret))
	srv := httptest.NewServer(mux)
	r.url = srv.URL
	t.Cleanup(func() {
		srv.Close()
		r.app.Wait()
		cancel()
		wg.Wait()
		db.Close()
		if strings.Contains(r.logs.String(), testToken) || strings.Contains(r.logs.String(), signingSecret) {
			t.Error("a secret reached the log")
		}
	})
	return r
}

// fire makes participants (user ids) of webinar 81234567890 lose audio
// and waits until their firing message (or the storm's) is in Slack.
func (r *appRig) fire(t *testing.T, users ...string) fakeslack.Call {
	t.Helper()
	var batch []engine.Sample
	for _, u := range users {
		s := engine.NewSample()
		s.Source = engine.Source{Kind: engine.Webinar, ID: cmpOr(r.webinar, "81234567890"), Topic: "All-hands", Live: true}
		s.Participant = engine.Participant{UserID: u, UserName: "Attendee " + u}
		s.Time = time.Now().UTC().Truncate(time.Minute)
		s.AudioInput.AvgLoss = 6
		batch = append(batch, s)
	}
	if err := r.eng.Ingest(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	r.disp.Wake()
	var msg fakeslack.Call
	waitFor(t, "the firing message", func() bool {
		for _, c := range r.fs.Calls() {
			if c.Method == "chat.postMessage" && c.ThreadTS == "" && strings.Contains(string(c.Blocks), `"qoswatch_ack"`) &&
				strings.Contains(string(c.Blocks), "webinar:"+cmpOr(r.webinar, "81234567890")) {
				msg = c
				return true
			}
		}
		return false
	})
	return msg
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// click sends Slack's signed block_actions request for c on msg and
// returns the app's answer.
func (r *appRig) click(t *testing.T, msg fakeslack.Call, c fakeslack.Click) (fakeslack.Delivery, string) {
	t.Helper()
	payload, key, err := r.fs.BlockActions(msg, c)
	if err != nil {
		t.Fatal(err)
	}
	body := fakeslack.InteractionBody(payload)
	d, err := fakeslack.Post(context.Background(), r.url+slackapp.InteractionsPath, fakeslack.Sign(signingSecret, time.Now(), body), body)
	if err != nil {
		t.Fatal(err)
	}
	return d, key
}

// ephemeral is what the app told the clicker through the payload's
// response_url ("" when nothing), once the answers in flight are sent.
func (r *appRig) ephemeral(key string) string {
	r.app.Wait()
	var out []string
	for _, x := range r.fs.Responses() {
		if x.Key == key {
			if x.ResponseType != "ephemeral" || x.ReplaceOriginal {
				return fmt.Sprintf("NOT EPHEMERAL (%s, replace %v): %s", x.ResponseType, x.ReplaceOriginal, x.Text)
			}
			out = append(out, x.Text)
		}
	}
	return strings.Join(out, "\n")
}

func (r *appRig) alert(t *testing.T, user string) engine.Alert {
	t.Helper()
	for _, a := range r.eng.Alerts() {
		if a.Key.Participant == user {
			return a
		}
	}
	t.Fatalf("no alert of %s", user)
	return engine.Alert{}
}

func (r *appRig) actions(t *testing.T) []engine.ActionRecord {
	t.Helper()
	recs, err := r.eng.Actions(context.Background(), engine.ActionQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestButtonsAct: each button and each Silence option, clicked in Slack
// (a signed request, as Slack sends it), is committed before Slack gets
// its 200: Acknowledge records who, Not an issue resolves the alert as
// dismissed, each Silence option sets its silence; every one is in the
// audit log with the message it came from. The Zoom link does nothing.
func TestButtonsAct(t *testing.T) {
	for _, tc := range []struct {
		name   string
		click  fakeslack.Click
		check  func(t *testing.T, r *appRig, a engine.Alert)
		action engine.ActionKind
	}{
		{"acknowledge", fakeslack.Click{User: ana, ActionID: notifier.ActionAck}, func(t *testing.T, r *appRig, a engine.Alert) {
			if a.AckedBy != ana.ID || a.AckedByName != ana.Name || a.AckedAt.IsZero() || a.State != engine.StateFiring {
				t.Errorf("after Acknowledge: %s, acked by %q (%q) at %v", a.State, a.AckedBy, a.AckedByName, a.AckedAt)
			}
		}, engine.ActionAck},
		{"not an issue", fakeslack.Click{User: ana, ActionID: notifier.ActionDismiss}, func(t *testing.T, r *appRig, a engine.Alert) {
			if a.State != engine.StateResolved || a.Reason != engine.ReasonDismissed {
				t.Errorf("after Not an issue: %s (%s), want resolved as dismissed", a.State, a.Reason)
			}
		}, engine.ActionDismiss},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newAppRig(t)
			msg := r.fire(t, "1001")
			d, key := r.click(t, msg, tc.click)
			if d.Status != http.StatusOK {
				t.Fatalf("Slack got %d %s", d.Status, d.Body)
			}
			tc.check(t, r, r.alert(t, "1001"))
			recs := r.actions(t)
			if len(recs) != 1 || recs[0].Kind != tc.action || recs[0].User != ana.ID || recs[0].Message.TS != msg.TS || recs[0].Message.Channel != msg.Channel || !recs[0].Result.Applied {
				t.Errorf("audit log: %+v", recs)
			}
			if e := r.ephemeral(key); e != "" {
				t.Errorf("an applied action told the clicker %q (the message update tells everyone)", e)
			}
		})
	}

	for _, scope := range []engine.SilenceScope{engine.ScopeParticipant, engine.ScopeRuleSource, engine.ScopeRule1h, engine.ScopeUntilResolved} {
		t.Run("silence "+string(scope), func(t *testing.T) {
			r := newAppRig(t)
			msg := r.fire(t, "1001")
			d, _ := r.click(t, msg, fakeslack.Click{User: bob, ActionID: notifier.ActionSilence, Option: string(scope)})
			if d.Status != http.StatusOK {
				t.Fatalf("Slack got %d %s", d.Status, d.Body)
			}
			recs := r.actions(t)
			if len(recs) != 1 || recs[0].Kind != engine.ActionSilence || recs[0].Scope != scope || recs[0].Result.Silence == nil {
				t.Fatalf("audit log: %+v", recs)
			}
			var found bool
			for _, s := range r.eng.Silences() {
				if s.ID == recs[0].Result.Silence.ID && strings.Contains(s.CreatedBy, bob.ID) && s.EndsAt.After(time.Now()) {
					found = true
				}
			}
			if !found {
				t.Errorf("silence %+v is not among the engine's active silences %+v", recs[0].Result.Silence, r.eng.Silences())
			}
		})
	}

	t.Run("zoom link", func(t *testing.T) {
		r := newAppRig(t)
		msg := r.fire(t, "1001")
		d, key := r.click(t, msg, fakeslack.Click{User: ana, ActionID: notifier.ActionZoom})
		if d.Status != http.StatusOK || len(r.actions(t)) != 0 || r.ephemeral(key) != "" {
			t.Errorf("the link button: %d, actions %+v, told %q", d.Status, r.actions(t), r.ephemeral(key))
		}
	})
}

// TestStormButtonsActOnEveryMember: the storm message's Acknowledge
// acknowledges all its members in one action.
func TestStormButtonsActOnEveryMember(t *testing.T) {
	r := newAppRig(t)
	users := []string{"2001", "2002", "2003", "2004"}
	msg := r.fire(t, users...)
	if !strings.Contains(string(msg.Blocks), `"qw1:[\"lossy-audio\",\"webinar:81234567890\",\"\"]"`) {
		t.Fatalf("the first message with buttons is not the storm's: %s", msg.Blocks)
	}
	if d, _ := r.click(t, msg, fakeslack.Click{User: ana, ActionID: notifier.ActionAck}); d.Status != http.StatusOK {
		t.Fatalf("Slack got %d", d.Status)
	}
	for _, u := range users {
		if a := r.alert(t, u); a.AckedBy != ana.ID {
			t.Errorf("storm member %s is not acknowledged: %+v", u, a)
		}
	}
	if recs := r.actions(t); len(recs) != 1 || recs[0].Result.Alerts != len(users) {
		t.Errorf("audit log: %+v", recs)
	}
}

// TestSecondClickIsTold: a second click on Acknowledge (another person,
// or a stale message) changes nothing and tells the clicker who
// acknowledged it; a click on a message whose alert is over, or gone
// (an expired message), tells that and changes nothing.
func TestSecondClickIsTold(t *testing.T) {
	r := newAppRig(t)
	msg := r.fire(t, "1001")
	r.click(t, msg, fakeslack.Click{User: ana, ActionID: notifier.ActionAck})
	_, key := r.click(t, msg, fakeslack.Click{User: bob, ActionID: notifier.ActionAck})
	if got := r.ephemeral(key); !strings.Contains(got, "Already acknowledged by <@"+ana.ID+">") {
		t.Errorf("the second click was told %q, want who acknowledged it", got)
	}
	if a := r.alert(t, "1001"); a.AckedBy != ana.ID {
		t.Errorf("the second click changed the ack: %+v", a)
	}

	r.click(t, msg, fakeslack.Click{User: ana, ActionID: notifier.ActionDismiss})
	_, key = r.click(t, msg, fakeslack.Click{User: bob, ActionID: notifier.ActionDismiss})
	if got := r.ephemeral(key); !strings.Contains(got, "not firing any more") {
		t.Errorf("a click on an alert that is over was told %q", got)
	}
	if n := len(r.actions(t)); n != 4 {
		t.Errorf("%d actions audited, want 4 (every click, applied or not)", n)
	}

	// An expired message: its alert is long gone from the store (collected).
	gone := msg
	blocks, err := json.Marshal([]slack.Block{notifier.ActionsBlock(engine.AlertKey{Rule: "lossy-audio", Source: "webinar:1", Participant: "999"},
		engine.Source{Kind: engine.Webinar, ID: "1"}, "https://zoom.us/account/metrics/dashboard")})
	if err != nil {
		t.Fatal(err)
	}
	gone.Blocks = blocks
	d, key := r.click(t, gone, fakeslack.Click{User: bob, ActionID: notifier.ActionSilence, Option: string(engine.ScopeRule1h)})
	if got := r.ephemeral(key); d.Status != http.StatusOK || !strings.Contains(got, "not firing any more") {
		t.Errorf("a click on an expired message: %d, told %q", d.Status, got)
	}
	if len(r.eng.Silences()) != 0 {
		t.Errorf("a click on an expired message set a silence: %+v", r.eng.Silences())
	}
}

// TestForgedStaleAndReplayedRequests: a forged signature, a wrong
// secret, no signature, a timestamp outside Slack's 5 minutes (even
// correctly signed) are 401 and apply nothing; a replay of a genuine
// request (Slack's retry, or an attacker's copy within the 5 minutes)
// is answered 200 and applies once.
func TestForgedStaleAndReplayedRequests(t *testing.T) {
	r := newAppRig(t)
	msg := r.fire(t, "1001")
	payload, _, err := r.fs.BlockActions(msg, fakeslack.Click{User: eve, ActionID: notifier.ActionDismiss})
	if err != nil {
		t.Fatal(err)
	}
	body := fakeslack.InteractionBody(payload)
	now := time.Now()
	forged := fakeslack.Sign(signingSecret, now, body)
	forged.Set("X-Slack-Signature", "v0="+strings.Repeat("ab", 32))
	unsigned := fakeslack.Sign(signingSecret, now, body)
	unsigned.Del("X-Slack-Signature")
	tampered := fakeslack.Sign(signingSecret, now, body)
	for name, h := range map[string]http.Header{
		"forged signature": forged,
		"wrong secret":     fakeslack.Sign("not-the-signing-secret-0000000000", now, body),
		"unsigned":         unsigned,
		"stale timestamp":  fakeslack.Sign(signingSecret, now.Add(-6*time.Minute), body),
		"future timestamp": fakeslack.Sign(signingSecret, now.Add(6*time.Minute), body),
	} {
		d, err := fakeslack.Post(context.Background(), r.url+slackapp.InteractionsPath, h, body)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != http.StatusUnauthorized {
			t.Errorf("%s: answered %d, want 401", name, d.Status)
		}
	}
	// The right signature on another body.
	other := fakeslack.InteractionBody(json.RawMessage(strings.Replace(string(payload), notifier.ActionDismiss, notifier.ActionAck, 1)))
	if d, _ := fakeslack.Post(context.Background(), r.url+slackapp.InteractionsPath, tampered, other); d.Status != http.StatusUnauthorized {
		t.Errorf("a tampered body: answered %d, want 401", d.Status)
	}
	if len(r.actions(t)) != 0 || r.alert(t, "1001").State != engine.StateFiring {
		t.Fatalf("a refused request changed something: %+v", r.actions(t))
	}
	if got := metric(t, r.reg, "qoswatch_slack_interactions_refused_total", "reason", "bad_signature"); got != 6 {
		t.Errorf("qoswatch_slack_interactions_refused_total{reason=bad_signature} = %g, want 6", got)
	}

	big := append(fakeslack.InteractionBody(payload), []byte("&pad="+strings.Repeat("x", 1<<20))...)
	if d, _ := fakeslack.Post(context.Background(), r.url+slackapp.InteractionsPath, fakeslack.Sign(signingSecret, now, big), big); d.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over 1 MiB, signed: answered %d, want 413", d.Status)
	}

	genuine := fakeslack.Sign(signingSecret, now, body)
	for i := range 3 {
		if d, _ := fakeslack.Post(context.Background(), r.url+slackapp.InteractionsPath, genuine, body); d.Status != http.StatusOK {
			t.Errorf("delivery %d of the genuine request: %d", i+1, d.Status)
		}
	}
	recs := r.actions(t)
	if len(recs) != 1 || !recs[0].Result.Applied {
		t.Errorf("a request delivered 3 times: audit log %+v, want one applied action", recs)
	}
	if a := r.alert(t, "1001"); a.State != engine.StateResolved {
		t.Errorf("the genuine dismiss did not apply: %+v", a)
	}
}

// TestRespondersOnly: with QOSWATCH_SLACK_RESPONDERS, a listed user and
// a member of a listed user group act; anyone else is told they are not
// allowed, nothing is applied, and the refusal is counted. The group's
// members are looked up once (cached), with the bot token.
func TestRespondersOnly(t *testing.T) {
	r := newAppRig(t, ana.ID, "S0ONCALL")
	r.fs.SetUserGroup("S0ONCALL", bob.ID)
	msg := r.fire(t, "1001")

	_, key := r.click(t, msg, fakeslack.Click{User: eve, ActionID: notifier.ActionDismiss})
	if got := r.ephemeral(key); !strings.Contains(got, "not among the responders") {
		t.Errorf("eve was told %q", got)
	}
	if len(r.actions(t)) != 0 || r.alert(t, "1001").State != engine.StateFiring {
		t.Fatalf("eve's click applied: %+v", r.actions(t))
	}
	if got := metric(t, r.reg, "qoswatch_slack_interactions_refused_total", "reason", "not_allowed"); got != 1 {
		t.Errorf("not_allowed counted %g, want 1", got)
	}
	r.click(t, msg, fakeslack.Click{User: bob, ActionID: notifier.ActionAck})
	if a := r.alert(t, "1001"); a.AckedBy != bob.ID {
		t.Errorf("bob (in the group) could not acknowledge: %+v", a)
	}
	r.click(t, msg, fakeslack.Click{User: ana, ActionID: notifier.ActionSilence, Option: string(engine.ScopeRule1h)})
	r.click(t, msg, fakeslack.Click{User: bob, ActionID: notifier.ActionSilence, Option: string(engine.ScopeRuleSource)})
	if n := len(r.actions(t)); n != 3 {
		t.Errorf("%d actions by responders, want 3", n)
	}
	if n := r.fs.UserGroupLookups(); n != 1 {
		t.Errorf("the group was looked up %d times, want once (cached)", n)
	}
}

// command sends Slack's signed /qoswatch request and returns the
// ephemeral answer.
func (r *appRig) command(t *testing.T, u fakeslack.User, text string) string {
	t.Helper()
	v, _ := r.fs.SlashCommand(u, "C0SUPPORT", "/qoswatch", text)
	body := []byte(v.Encode())
	d, err := fakeslack.Post(context.Background(), r.url+slackapp.CommandsPath, fakeslack.Sign(signingSecret, time.Now(), body), body)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if d.Status != http.StatusOK || json.Unmarshal(d.Body, &msg) != nil || msg.ResponseType != "ephemeral" {
		t.Fatalf("/qoswatch %s: %d %s", text, d.Status, d.Body)
	}
	if lerr := fakeslack.Validate(nil, msg.Text); lerr != nil {
		t.Errorf("/qoswatch %s: Slack would refuse the answer: %v", text, lerr)
	}
	return msg.Text
}

// TestSlashCommand: /qoswatch help, alerts (within limits, however many
// fire), ack <alert>, silence <rule|participant> <duration> [reason],
// each answered ephemerally; ack and silence only for responders; bad
// input is told what is wrong and changes nothing.
func TestSlashCommand(t *testing.T) {
	r := newAppRig(t, ana.ID)
	if got := r.command(t, ana, "help"); !strings.Contains(got, "/qoswatch silence <rule or participant> <duration> [reason]") {
		t.Errorf("help: %q", got)
	}
	if got := r.command(t, bob, "alerts"); got != "Nothing is firing." {
		t.Errorf("alerts with nothing firing: %q", got)
	}
	var users []string
	for i := range 45 {
		users = append(users, fmt.Sprint(3000+i))
	}
	r.fire(t, users...)
	list := r.command(t, bob, "alerts")
	if !strings.Contains(list, "*45 alerts are firing:*") || strings.Count(list, "\n• ") != 30 || !strings.Contains(list, "…and 15 more") ||
		!strings.Contains(list, "`lossy-audio/webinar:81234567890/3000`") {
		t.Errorf("alerts: %q", list)
	}

	if got := r.command(t, bob, "ack lossy-audio/webinar:81234567890/3001"); !strings.Contains(got, "not among the responders") {
		t.Errorf("bob's ack: %q", got)
	}
	if got := r.command(t, ana, "ack lossy-audio/webinar:81234567890/3001"); !strings.Contains(got, "Acknowledged") {
		t.Errorf("ana's ack: %q", got)
	}
	if a := r.alert(t, "3001"); a.AckedBy != ana.ID {
		t.Errorf("after /qoswatch ack: %+v", a)
	}
	if got := r.command(t, ana, "ack 3001"); !strings.Contains(got, "no alert #3001") {
		t.Errorf("ack of a number no alert has: %q", got)
	}
	if got := r.command(t, ana, "ack webinar:81234567890"); !strings.Contains(got, "is not an alert") {
		t.Errorf("ack of no key: %q", got)
	}
	// The number `alerts` lists acknowledges that alert.
	n := r.alert(t, "3002").Number
	if !strings.Contains(list, fmt.Sprintf("• #%d *lossy-audio*", n)) {
		t.Errorf("alerts does not number 3002's alert #%d: %q", n, list)
	}
	if got := r.command(t, ana, fmt.Sprintf("ack #%d", n)); !strings.Contains(got, "Acknowledged") {
		t.Errorf("ack #%d: %q", n, got)
	}
	if a := r.alert(t, "3002"); a.AckedBy != ana.ID {
		t.Errorf("after /qoswatch ack #%d: %+v", n, a)
	}
	if got := r.command(t, bob, "alerts"); !strings.Contains(got, "acknowledged by @ana") {
		t.Errorf("alerts after the ack does not show it: %q", got)
	}

	if got := r.command(t, ana, "silence lossy-audio 2h network work"); !strings.Contains(got, "Silenced rule lossy-audio for 2h") {
		t.Errorf("silence a rule: %q", got)
	}
	if got := r.command(t, ana, "silence 3007 1d on stage"); !strings.Contains(got, "Silenced participant 3007 for 1d") {
		t.Errorf("silence a participant: %q", got)
	}
	for _, bad := range []string{"silence lossy-audio", "silence lossy-audio soon", "silence lossy-audio 400d", "silence Attendee 3007 30m", "frobnicate"} {
		before := len(r.eng.Silences())
		if got := r.command(t, ana, bad); got == "" || strings.HasPrefix(got, "Silenced") {
			t.Errorf("%q: %q", bad, got)
		}
		if len(r.eng.Silences()) != before {
			t.Errorf("%q set a silence", bad)
		}
	}
	var rule, participant bool
	for _, s := range r.eng.Silences() {
		rule = rule || (s.Matchers[0].Name == engine.MatchRule && s.Comment == "network work" && strings.HasPrefix(s.CreatedBy, ana.ID))
		participant = participant || (s.Matchers[0].Name == engine.MatchParticipant && s.Matchers[0].Value == "3007" && s.Comment == "on stage")
	}
	if !rule || !participant {
		t.Errorf("silences: %+v", r.eng.Silences())
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
