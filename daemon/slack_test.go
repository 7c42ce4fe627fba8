package daemon

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/internal/fakeslack"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
	"github.com/qoswatch/qoswatch/store"
)

const (
	testSigningSecret = "slack-signing-secret-0123456789ab"
	testAppToken      = "xapp-1-A0QOSWATCH-42-daemonAppTokenSecret"
	testBotToken      = "xoxb-1111-2222-daemonBotTokenSecret"
)

// TestSlackSettings: every mistake in the settings of answering from
// Slack is named, and no secret is quoted.
func TestSlackSettings(t *testing.T) {
	base := Defaults()
	base.Zoom = ZoomConfig{AccountID: "a", ClientID: "c", ClientSecret: "client-secret-123456", APIURL: "https://api.zoom.us/v2", OAuthURL: "https://zoom.us/oauth/token", Plan: "pro"}
	bot := SlackConfig{BotToken: testBotToken, APIURL: "https://slack.com/api/"}
	with := func(f func(*Config)) Config { c := base; c.Slack = bot; f(&c); return c }
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"app token without the bot", with(func(c *Config) { c.Slack.BotToken, c.Slack.AppToken = "", testAppToken }), "SLACK_BOT_TOKEN is not"},
		{"a bot token as the app token", with(func(c *Config) { c.Slack.AppToken = testBotToken }), "SLACK_APP_TOKEN is not an app-level token"},
		{"signing secret without a listener", with(func(c *Config) { c.Slack.SigningSecret = testSigningSecret }), "QOSWATCH_EVENTS_LISTEN is not"},
		{"responders without a transport", with(func(c *Config) { c.Slack.Responders = []string{"U123"} }), "nobody can answer"},
		{"a responder that is no id", with(func(c *Config) { c.Slack.AppToken, c.Slack.Responders = testAppToken, []string{"@ana"} }), `"@ana" is neither`},
		{"short signing secret", with(func(c *Config) {
			c.Slack.SigningSecret, c.Events.Listen = "short", "127.0.0.1:8080"
		}), "SLACK_SIGNING_SECRET is 5 characters"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		for _, s := range []string{testSigningSecret, testAppToken, testBotToken} {
			if err != nil && strings.Contains(err.Error(), s) {
				t.Errorf("%s: the error quotes a secret: %v", c.name, err)
			}
		}
	}
	ok := with(func(c *Config) {
		c.Slack.AppToken, c.Slack.SigningSecret, c.Slack.Responders = testAppToken, testSigningSecret, []string{"U0ANA", "S0ONCALL"}
		c.Events.Listen = "127.0.0.1:8080" // Slack alone on the public listener: no Zoom webhook secret needed
	})
	if err := ok.Validate(); err != nil {
		t.Errorf("good settings: %v", err)
	}
}

// TestAnswerFromSlack runs the daemon with the bot, Socket Mode and the
// signed HTTP endpoints on the public listener: its firing message
// carries the buttons, a click posted to /slack/interactions is applied
// (the store holds the alert acknowledged), /qoswatch answers over Socket
// Mode, a forged request is refused, and the status claims no Zoom
// event transport (the public listener serves Slack alone).
func TestAnswerFromSlack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a simulated webinar")
	}
	cfg, _, _ := cpuHogWebinar(t, 7272, 30*time.Minute, 20*time.Minute)
	fs := fakeslack.New(t, nil)
	cfg.Slack = SlackConfig{BotToken: testBotToken, APIURL: fs.APIURL(), AppToken: testAppToken, SigningSecret: testSigningSecret, Channel: "#alerts"}
	cfg.Events = EventsConfig{Listen: "127.0.0.1:0", WSURL: cfg.Events.WSURL}
	events := make(chan string, 1)
	r := startRun(t, cfg, Options{EventsListening: func(a string) { events <- a }})
	var public string
	select {
	case public = <-events:
	case <-time.After(10 * time.Second):
		t.Fatal("the public listener did not start")
	}

	var msg fakeslack.Call
	deadline := time.Now().Add(time.Minute)
	for msg.TS == "" {
		for _, c := range fs.Calls() {
			if c.Method == "chat.postMessage" && strings.Contains(string(c.Blocks), `"`+notifier.ActionAck+`"`) && strings.Contains(c.Text, "zoom-cpu-hog") {
				msg = c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no firing message with buttons: %v\n%s", fs.Calls(), r.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	payload, _, err := fs.BlockActions(msg, fakeslack.Click{User: fakeslack.User{ID: "U0ANA0001", Name: "ana"}, ActionID: notifier.ActionAck})
	if err != nil {
		t.Fatal(err)
	}
	body := fakeslack.InteractionBody(payload)
	forged := fakeslack.Sign("not-the-secret-0123456789abcdef", time.Now(), body)
	if d, err := fakeslack.Post(context.Background(), "http://"+public+slackapp.InteractionsPath, forged, body); err != nil || d.Status != http.StatusUnauthorized {
		t.Errorf("a forged click: %+v, %v; want 401", d, err)
	}
	if d, err := fakeslack.Post(context.Background(), "http://"+public+slackapp.InteractionsPath, fakeslack.Sign(testSigningSecret, time.Now(), body), body); err != nil || d.Status != http.StatusOK {
		t.Fatalf("the click: %+v, %v", d, err)
	}
	// The listener serves Slack alone: the status claims no Zoom event transport.
	resp, err := http.Get("http://" + r.addr + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	status, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(status), `"push"`) {
		t.Errorf("/api/v1/status claims a Zoom event transport: %s", status)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fs.WaitSocketConnections(ctx, 1); err != nil {
		t.Fatalf("no Socket Mode connection: %v\n%s", err, r.logs.String())
	}
	v, _ := fs.SlashCommand(fakeslack.User{ID: "U0BOB0002", Name: "bob"}, "C0ALERTS", "/qoswatch", "alerts")
	id, err := fs.SocketSend("slash_commands", fakeslack.SocketPayload(v))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := fs.WaitSocketAck(ctx, id)
	if err != nil || !strings.Contains(string(ack.Payload), "zoom-cpu-hog") || !strings.Contains(string(ack.Payload), "acknowledged by @ana") {
		t.Errorf("/qoswatch alerts over Socket Mode: %s (%v)", ack.Payload, err)
	}
	if err := r.stop(t, 30*time.Second); err != nil {
		t.Errorf("Run: %v", err)
	}
	db, err := store.Open(cfg.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	snap, err := db.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	acked := false
	for _, a := range snap.Alerts {
		acked = acked || (a.Key.Rule == "zoom-cpu-hog" && a.AckedBy == "U0ANA0001")
	}
	if !acked {
		t.Error("after the click, the store holds no zoom-cpu-hog acknowledged by U0ANA0001")
	}
	for _, s := range []string{testSigningSecret, testAppToken, testBotToken} {
		if strings.Contains(r.logs.String(), s) {
			t.Error("a Slack secret reached the log")
		}
	}
}
