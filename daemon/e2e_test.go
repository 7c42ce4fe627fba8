package daemon

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/internal/fakeslack"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// slackPost is one message the fake Slack accepted.
type slackPost struct {
	Method, Channel, ThreadTS, TS, Text, Blocks string
}

// fakeSlack is internal/fakeslack (slacktest's server recording
// chat.postMessage and chat.update, and refusing what breaks Slack's Block
// Kit limits); the real slack-go client (inside the real notifier) talks to
// it over HTTP. Every first call of a method can be made to answer 429
// first, and the whole of it can be down.
type fakeSlack struct {
	*fakeslack.Server

	mu    sync.Mutex
	limit map[string]int // method → 429s still to answer
	down  bool           // answer 500 to everything (an outage)
}

func (fs *fakeSlack) setDown(down bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.down = down
}

func newFakeSlack(t *testing.T) *fakeSlack {
	fs := &fakeSlack{Server: fakeslack.New(t, nil), limit: map[string]int{}}
	fs.SetFault(func(method string, _ url.Values) *fakeslack.Fault {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		if fs.down {
			return &fakeslack.Fault{Status: http.StatusInternalServerError}
		}
		if fs.limit[method] > 0 {
			fs.limit[method]--
			return &fakeslack.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}
		}
		return nil
	})
	return fs
}

// Posts returns the messages Slack accepted, in order.
func (fs *fakeSlack) Posts() []slackPost {
	var out []slackPost
	for _, c := range fs.Calls() {
		out = append(out, slackPost{Method: c.Method, Channel: c.Channel, ThreadTS: c.ThreadTS, TS: c.TS, Text: c.Text, Blocks: string(c.Blocks)})
	}
	return out
}

// metricSum adds up the series of name on /metrics that have every label
// given as name, value pairs.
func metricSum(t *testing.T, addr, name string, labels ...string) float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(scrape(t, addr)))
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	sum := 0.0
	for _, m := range mfs[name].GetMetric() {
		has := map[string]string{}
		for _, l := range m.GetLabel() {
			has[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && has[labels[i]] == labels[i+1]
		}
		if match {
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return sum
}

// e2eScenario: a webinar of 40 where one attendee's audio breaks up, a
// panelist's CPU is pegged, and then 8 attendees behind one link break up
// together (a storm).
func e2eScenario(start time.Time) *zoomtest.Scenario {
	sc := zoomtest.Generate(zoomtest.Gen{ID: 88800011122, Topic: "E2E webinar", Start: start, Duration: 24 * time.Minute, Participants: 40, Seed: 7})
	m := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	bad := func(i int, from, to int, kinds ...zoomtest.Impairment) {
		p := sc.Participants[i]
		p.Join, p.Leave, p.AudioOnly = 0, 0, false
		for _, k := range kinds {
			p.Degradations = append(p.Degradations, zoomtest.Degradation{Kind: k, From: m(from), To: m(to)})
		}
	}
	bad(5, 3, 9, zoomtest.AudioLoss, zoomtest.HighLatency)
	bad(2, 2, 8, zoomtest.CPUHog)
	for i := 20; i < 28; i++ {
		bad(i, 10, 16, zoomtest.AudioLoss, zoomtest.HighLatency)
	}
	return sc
}

// TestEndToEnd runs the daemon in process (real Zoom client and poller
// against zoomtest over HTTP, real rules, engine, bbolt store, notifier and
// slack-go against a Slack-compatible server), on simulated time, with a
// restart in the middle, a revoked Zoom token, Zoom 429s and a Slack 429.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 26 simulated minutes")
	}
	const speed = 150 // a simulated minute every 400ms: slack for a loaded CI machine
	start := time.Now().UTC().Truncate(time.Minute)
	clock := fakeclock.NewScaled(start, speed)
	sc := e2eScenario(start)
	fake := zoomtest.NewServer(zoomtest.Options{Now: clock.Now, Scenarios: []*zoomtest.Scenario{sc}, Plan: zoomtest.Business})
	fake.Start()
	defer fake.Close()
	slack := newFakeSlack(t)
	slack.limit["chat.postMessage"] = 1 // Slack's first answer is a 429

	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	// The example rules, with the post-webinar report on.
	writeFile(t, rulesPath, append(append([]byte{}, qoswatch.ExampleRules...), "\nreport:\n  channel: \"#webinar-reports\"\n"...))
	const botToken = "xoxb-e2e-bot-token-0123456789"
	cfg := Defaults()
	cfg.Zoom = zoomConfig(fake)
	cfg.Slack = SlackConfig{BotToken: botToken, APIURL: slack.APIURL()}
	cfg.Rules, cfg.DB, cfg.Listen, cfg.Watch = rulesPath, filepath.Join(dir, "qoswatch.db"), "127.0.0.1:0", []string{"webinars"}

	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	addrc := make(chan string, 1)
	run := func(until time.Duration, during func()) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, cfg, Options{Logger: log, Clock: clock, Listening: func(a string) {
				select {
				case addrc <- a: // the first life's, read during it
				default:
				}
			}})
		}()
		if during != nil {
			during()
		}
		engine.Sleep(context.Background(), clock, start.Add(until).Sub(clock.Now()))
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v\n%s", err, logs.String())
		}
	}

	// First life: to minute 13, the storm has fired. Zoom revokes the
	// token at minute 4 and answers 429 to three QoS pages at minute 6;
	// Slack is down from minute 11, so the storm's messages cannot go
	// out and the shutdown's short grace period cannot flush them.
	cfg.Grace = 200 * time.Millisecond
	run(13*time.Minute, func() {
		engine.Sleep(context.Background(), clock, start.Add(4*time.Minute).Sub(clock.Now()))
		fake.RevokeAccessTokens()
		engine.Sleep(context.Background(), clock, start.Add(6*time.Minute).Sub(clock.Now()))
		fake.Inject(zoomtest.Fault{Path: "/participants/qos", Status: http.StatusTooManyRequests, Times: 3})
		engine.Sleep(context.Background(), clock, start.Add(11*time.Minute).Sub(clock.Now()))
		slack.setDown(true)
		// Shut down only once notifications wait in the outbox during the
		// outage: on a loaded machine the poller lags simulated time, and
		// minute 13 alone may come before anything fired after minute 11.
		addr := <-addrc
		deadline := time.Now().Add(3 * time.Minute) // a bound, not a pace
		for metricSum(t, addr, "qoswatch_outbox_depth") == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("nothing waited in the outbox during the Slack outage\n%s", logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	firstLife := len(slack.Posts())
	if n := outboxLen(t, cfg.DB); n == 0 {
		t.Error("the outbox is empty after a shutdown during a Slack outage; want the undelivered notifications kept")
	} else {
		t.Logf("%d notifications kept in the outbox across the restart", n)
	}
	slack.setDown(false)
	// Second life, same database: to minute 27 (the webinar ended at 24),
	// and until its report is posted (the chart takes a while under -race).
	run(27*time.Minute, func() {
		deadline := time.Now().Add(3 * time.Minute) // a bound, not a pace
		for len(slack.Uploads()) < 2 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	})

	// The faults happened: the revoked token was answered 401 and a new
	// one issued; three QoS pages were answered 429 (and fetched again).
	zs := fake.Stats()
	if zs.Unauthorized == 0 || zs.TokensIssued < 2 || zs.Faults != 3 {
		t.Errorf("Zoom faults not exercised: %d 401s, %d tokens issued, %d injected 429s", zs.Unauthorized, zs.TokensIssued, zs.Faults)
	}

	slack.mu.Lock()
	if slack.limit["chat.postMessage"] != 0 {
		t.Error("Slack's 429 was never answered")
	}
	slack.mu.Unlock()

	posts := slack.Posts()
	if firstLife == 0 || len(posts) == firstLife {
		t.Fatalf("posts before the restart: %d, after: %d; want some in each life", firstLife, len(posts)-firstLife)
	}
	// Nothing twice: no two identical messages in one place.
	seen := map[string]int{}
	for i, p := range posts {
		k := p.Method + "|" + p.Channel + "|" + p.ThreadTS + "|" + p.TS + "|" + p.Text + "|" + p.Blocks
		if p.Method == "chat.postMessage" {
			k = p.Method + "|" + p.Channel + "|" + p.ThreadTS + "|" + p.Text + "|" + p.Blocks
		}
		if j, dup := seen[k]; dup {
			t.Errorf("message %d repeats message %d: %s %s thread=%s %q", i, j, p.Method, p.Channel, p.ThreadTS, firstLine(p.Text))
		}
		seen[k] = i
	}
	// Follow-ups thread: every resolve is a reply in its alert's (or its
	// storm's) thread, and first messages are updated to say it is over.
	updates := 0
	for _, p := range posts {
		switch {
		case p.Method == "chat.update":
			updates++
		case strings.HasPrefix(p.Text, "[RESOLVED]") && p.ThreadTS == "":
			t.Errorf("a resolve outside any thread: %q", firstLine(p.Text))
		}
	}
	if updates == 0 {
		t.Error("no first message was updated on resolve")
	}
	// Everyone degraded was told, and told over.
	all := ""
	for _, p := range posts {
		all += p.Text + "\n" + p.Blocks + "\n"
	}
	for _, tr := range fake.Truth() {
		name := regexp.MustCompile(regexp.QuoteMeta(tr.UserName) + `\b`)
		if !name.MatchString(all) {
			t.Errorf("%s (%s from minute %d) never reached Slack", tr.UserName, tr.What, int(tr.From.Sub(start).Minutes()))
		}
	}
	// Every route of the example rules redacts pc_name, which zoomtest
	// fills in: the summaries are written again without it, not dropped.
	if !regexp.MustCompile(`Attendee \d+ sends audio with [0-9.]+% loss at`).MatchString(all) {
		t.Error("no choppy-audio summary reached Slack; the redacting routes lost their summaries")
	}
	if len(posts) > 40 {
		t.Errorf("%d Slack calls for 10 degraded participants: storm control failed", len(posts))
		for _, p := range posts {
			t.Logf("%s %s thread=%s %q", p.Method, p.Channel, p.ThreadTS, firstLine(p.Text))
		}
	}

	// The store agrees: every alert resolved and told, the outbox empty.
	db, err := store.Open(cfg.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	snap, err := db.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	alerted := map[string]bool{}
	for _, a := range snap.Alerts {
		if a.State != engine.StateResolved {
			t.Errorf("alert %s is %s at the end, want resolved", a.Key, a.State)
		}
		alerted[a.Key.Participant] = true
	}
	for _, tr := range fake.Truth() {
		if !alerted[tr.UserID] {
			t.Errorf("no alert for %s (%s)", tr.UserName, tr.What)
		}
	}
	if pending, _ := db.Pending(context.Background(), 0); len(pending) != 0 {
		t.Errorf("%d notifications left in the outbox", len(pending))
	}
	// The webinar ended: its report was posted once to report.channel,
	// naming the storm, with the chart and the whole report in its thread.
	var reports []slackPost
	for _, p := range posts {
		if p.Channel == "Cwebinar-reports" {
			reports = append(reports, p)
		}
	}
	if len(reports) != 1 || !strings.Contains(reports[0].Text, "Post-webinar report: E2E webinar") || !strings.Contains(reports[0].Text, "choppy-audio") {
		t.Errorf("reports posted: %v", reports)
	} else {
		ups := slack.Uploads()
		if len(ups) != 2 || ups[0].ThreadTS != reports[0].TS || !strings.HasSuffix(ups[0].Filename, ".png") || !strings.HasSuffix(ups[1].Filename, ".md") {
			t.Errorf("files shared in the report's thread: %+v", ups)
		}
	}
	if due, _ := db.DueReports(context.Background()); len(due) != 0 {
		t.Errorf("reports still due: %+v", due)
	}
	// Secrets never reach the log.
	for _, secret := range []string{botToken, fake.ClientSecret} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains a secret %q", secret[:6])
		}
	}
	if !slack.SawToken(botToken) {
		t.Error("the fake Slack never saw the bot token")
	}
}

func outboxLen(t *testing.T, path string) int {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.Pending(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(p)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
