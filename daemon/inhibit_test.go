package daemon

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/httpapi"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// TestPresenterUplinkFoldsTheAttendees (issue 13 §2): the host's uplink
// breaks up and the 200 attendees hear it. With the example rules (their
// `inhibit:` folds choppy-incoming-audio and the webinar-level
// audience-hears-breakup into speaker-degraded), Slack gets one alert,
// about the host, saying 200 attendees receive it degraded; the
// attendees' 200 alerts (and the webinar's) are recorded, inhibited by
// the host's, visible in the API with the reason, and not posted. Everything
// real: the Zoom client and poller against zoomtest, the engine, bbolt,
// the notifier and slack-go against fakeslack.
func TestPresenterUplinkFoldsTheAttendees(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 7 simulated minutes")
	}
	// 3 s a simulated minute: a -race build on two busy cores must sweep
	// all 201 every minute, or the poller rotates and sees the host late.
	const speed = 20
	start := time.Now().UTC().Truncate(time.Minute)
	clock := fakeclock.NewScaled(start, speed)
	sc := zoomtest.Generate(zoomtest.Gen{ID: 88800013013, Topic: "Uplink webinar", Start: start, Duration: time.Hour,
		Participants: 201, Panelists: -1, Seed: 13})
	const from, to = 2 * time.Minute, 40 * time.Minute
	attendees := 0
	for i, p := range sc.Participants {
		p.Join, p.Leave, p.AudioOnly, p.Degradations = 0, 0, false, nil
		kind := zoomtest.ReceivedAudioLoss
		if i == 0 {
			p.Role, kind = "host", zoomtest.AudioLoss
		} else {
			p.Role = "attendee"
			attendees++
		}
		p.Degradations = []zoomtest.Degradation{{Kind: kind, From: from, To: to}}
	}
	host := sc.Participants[0]
	fake := zoomtest.NewServer(zoomtest.Options{Now: clock.Now, Scenarios: []*zoomtest.Scenario{sc}, Plan: zoomtest.Business})
	fake.Start()
	defer fake.Close()
	slack := newFakeSlack(t)

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rules.yaml"), qoswatch.ExampleRules)
	cfg := Defaults()
	cfg.Zoom = zoomConfig(fake)
	cfg.Slack = SlackConfig{BotToken: "xoxb-inhibit-bot-token-0123456789", APIURL: slack.APIURL()}
	cfg.Rules, cfg.DB, cfg.Listen, cfg.Watch = filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "db"), "127.0.0.1:0", []string{"webinars"}
	cfg.APIToken = "an-api-token-for-the-inhibit-test-0123"
	d := startRun(t, cfg, Options{Clock: clock})

	// The host fires one minute after the uplink fails (for: 1m), the
	// attendees a minute later (for: 2m); wait until all of them fire.
	waitMetric(t, d.addr, d.logs,
		`qoswatch_alerts{rule="speaker-degraded",severity="critical",state="firing"} 1`,
		`qoswatch_alerts{rule="choppy-incoming-audio",severity="warning",state="firing"} 200`)
	// The host's message may still be on its way to Slack.
	deadline := time.Now().Add(30 * time.Second)
	for len(slack.Posts()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	engine.Sleep(t.Context(), clock, time.Minute) // and nothing else follows

	posts := slack.Posts()
	if len(posts) != 1 {
		for _, p := range posts {
			t.Logf("%s %s %q", p.Method, p.Channel, firstLine(p.Text))
		}
		t.Fatalf("%d Slack calls, want 1: the host's alert alone", len(posts))
	}
	p := posts[0]
	if p.Method != "chat.postMessage" || !strings.Contains(p.Text, "speaker-degraded") || !strings.Contains(p.Text, host.UserName) {
		t.Errorf("the one message is not the host's speaker-degraded alert: %s %q", p.Method, firstLine(p.Text))
	}
	if want := "200 attendees receive it degraded"; !strings.Contains(p.Text, want) || !strings.Contains(p.Blocks, want) {
		t.Errorf("the host's message does not say %q:\n%s", want, p.Text)
	}

	// The API lists the attendees' alerts, firing, not told, each
	// inhibited by the host's with the reason.
	req, _ := http.NewRequest("GET", "http://"+d.addr+"/api/v1/alerts?rule=choppy-incoming-audio&limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+cfg.APIToken.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var list struct {
		Alerts []httpapi.AlertJSON `json:"alerts"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("/api/v1/alerts: %v\n%s", err, body)
	}
	inhibited := 0
	for _, a := range list.Alerts {
		if a.State == "firing" && !a.Told && a.InhibitedBy != nil && a.InhibitedBy.Rule == "speaker-degraded" &&
			a.InhibitedBy.Participant == host.UserID && strings.Contains(a.InhibitedBy.Reason, "folded into speaker-degraded") {
			inhibited++
		}
	}
	if inhibited != attendees {
		t.Errorf("%d of %d attendees' alerts listed as firing, not told, inhibited by the host's (%d listed)", inhibited, attendees, len(list.Alerts))
	}
	// The webinar-level alert fired too (every attendee hears it), folded
	// into the host's as well.
	waitMetric(t, d.addr, d.logs, `qoswatch_alerts{rule="audience-hears-breakup",severity="critical",state="firing"} 1`)
	if n := metricSum(t, d.addr, "qoswatch_alerts_inhibited_total"); n != float64(attendees+1) {
		t.Errorf("qoswatch_alerts_inhibited_total = %v, want %d: the attendees' and the webinar's", n, attendees+1)
	}
	if len(slack.Posts()) != 1 {
		t.Errorf("%d Slack calls at the end, want the host's one", len(slack.Posts()))
	}
}
