package daemon

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
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
	const from, to = 2 * time.Minute, 8 * time.Minute
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

	// The host fires on its first bad minute (for: 1m), the attendees on
	// their second (for: 2m); wait until all of them fire.
	waitMetric(t, d.addr, d.logs,
		`qoswatch_alerts{rule="speaker-degraded",severity="critical",state="firing"} 1`,
		`qoswatch_alerts{rule="choppy-incoming-audio",severity="warning",state="firing"} 200`)
	deadline := time.Now().Add(30 * time.Second) // a bound, not a pace: the message may be on its way
	for len(slack.Posts()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	posts := slack.Posts()
	if len(posts) == 0 {
		t.Fatal("nothing reached Slack")
	}
	p := posts[0]
	if p.Method != "chat.postMessage" || !strings.Contains(p.Text, "speaker-degraded") || !strings.Contains(p.Text, host.UserName) {
		t.Errorf("the first message is not the host's speaker-degraded alert: %s %q", p.Method, firstLine(p.Text))
	}
	// It fires on the first pages of its first bad minute: it counts the
	// attendees seen degraded by then ("so far"); its update counts all.
	if !regexp.MustCompile(`\d+ attendees? receives? it degraded so far`).MatchString(p.Text) {
		t.Errorf("the host's message does not say how many attendees receive it degraded:\n%s", p.Text)
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

	// The host recovers (minute 8; keep_firing_for 3m): its first message
	// is updated to say it is over, with everyone it folded.
	want := fmt.Sprintf("%d attendees received it degraded", attendees)
	deadline = time.Now().Add(60 * time.Second)
	updated := false
	for !updated && time.Now().Before(deadline) {
		for _, p := range slack.Posts() {
			updated = updated || (p.Method == "chat.update" && strings.Contains(p.Blocks, want))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !updated {
		t.Errorf("the host's message was never updated to say %q", want)
	}
	// And still nothing about the attendees or the webinar reached Slack:
	// one message, its update and its thread.
	posts = slack.Posts()
	first := posts[0]
	for _, p := range posts {
		if p.Method == "chat.postMessage" && p.ThreadTS == "" && p != first {
			t.Errorf("a second message: %q", firstLine(p.Text))
		}
		if strings.Contains(p.Text, "choppy-incoming-audio") || strings.Contains(p.Text, "audience-hears-breakup") {
			t.Errorf("a folded alert reached Slack: %s %q", p.Method, firstLine(p.Text))
		}
	}
}
