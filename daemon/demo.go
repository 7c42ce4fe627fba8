package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/report"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// DemoConfig is `qoswatch demo`.
type DemoConfig struct {
	Speed     float64       // simulated seconds per wall second (60: a minute a second)
	Duration  time.Duration // simulated time to run
	Attendees int           // people in the webinar, host and panelists included
	Rules     []byte        // the rules file's content (the embedded example)
	Listen    string        // the HTTP API; "" picks 127.0.0.1:9797 or a free port
	APIToken  Secret        // QOSWATCH_API_TOKEN, needed to listen beyond loopback
	Slack     *SlackConfig  // send to Slack instead of the console
	// Push feeds the webinar by the events Zoom would push (QSS webhooks,
	// signed, to the events listener) besides the API the poller reads.
	Push bool
	// Interactive reads "ack 3", "silence 3", "dismiss 3" from Input and
	// acts on the console's message #3, as its buttons would in Slack.
	Interactive bool
	Input       io.Reader
	Seed        int64
	// Try is how the banner tells to run the CLI: "qoswatch" when it is
	// on PATH, else "go run ./cmd/qoswatch" (main knows which).
	Try string
}

// demoEvent is one turn of the demo's story: who degrades how, from and
// to which minute of the webinar, and the example rule that tells.
type demoEvent struct {
	first, n int // participants first .. first+n-1
	kinds    []zoomtest.Impairment
	from, to int // minutes; to 0 is the webinar's end
	rule     string
	story    string // for the banner; %s is the participant's name
}

// The story. Participant 0 is the host, 1 and 2 panelists.
const (
	stormFirst, stormSize = 100, 40
	stormLocation         = "Manchester (GB)" // the congested link's office
	demoLastMinute        = 18                // the storm's resolve (14 + keep_firing_for 2m) and the host's screen share firing (15 + for 1m) are told by then
	demoMaxSpeed          = 600
)

var demoStory = []demoEvent{
	{first: 1, n: 1, kinds: []zoomtest.Impairment{zoomtest.FrozenVideo}, from: 2, to: 9, rule: "frozen-video", story: "%s's video freezes"},
	{first: 2, n: 1, kinds: []zoomtest.Impairment{zoomtest.CPUHog}, from: 3, to: 11, rule: "zoom-cpu-hog", story: "%s's CPU is pegged"},
	{first: 40, n: 1, kinds: []zoomtest.Impairment{zoomtest.WeakWiFi}, from: 4, to: 14, rule: "weak-wifi", story: "%s's Wi-Fi weakens"},
	{first: stormFirst, n: stormSize, kinds: []zoomtest.Impairment{zoomtest.AudioLoss, zoomtest.HighLatency}, from: 8, to: 14, rule: "choppy-audio",
		story: "a storm: %d attendees behind one congested link break up (one grouped message)"},
	{first: 0, n: 1, kinds: []zoomtest.Impairment{zoomtest.ScreenShareStutter}, from: 15, rule: "stuttering-screen-share", story: "%s's screen share stutters until the end"},
}

// demoMaxAttendees is what the demo's budget can watch: qoswatch's half
// of a Business account's 60,000 daily calls is ~21 calls a minute, and
// the participants list (300 a call) may take half of them.
var demoMaxAttendees = int(60000*Defaults().BudgetShare/(24*60)) / 2 * 300

// check refuses what the demo cannot honour, saying why.
func (dc DemoConfig) check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if dc.Speed <= 0 || dc.Speed > demoMaxSpeed {
		bad("--speed %g: want above 0 and at most %d (faster, one simulated minute has under 0.1s of this machine to poll, evaluate and tell, and the story breaks up)", dc.Speed, demoMaxSpeed)
	}
	if minimum := time.Duration(demoLastMinute+2) * time.Minute; dc.Duration < minimum {
		bad("--duration %s: the story runs to minute %d (a storm at minute 8 that is over by 16, the host's screen share from 15) and the webinar ends 2m before --duration: use at least %s",
			dc.Duration, demoLastMinute, minimum)
	}
	if minimum := stormFirst + stormSize; dc.Attendees < minimum {
		bad("--attendees %d: the storm is %d attendees (numbers %d to %d): use at least %d", dc.Attendees, stormSize, stormFirst, minimum-1, minimum)
	}
	if dc.Attendees > demoMaxAttendees {
		bad("--attendees %d: qoswatch's budget in the demo (half of a Business account's 60,000 daily calls) lists at most about %d participants a minute, so most of the story would go unseen: use at most %d",
			dc.Attendees, demoMaxAttendees, demoMaxAttendees)
	}
	return joinLine(errs)
}

// demoScenario is a live webinar where the story's people degrade and
// recover, around everyone else's ordinary noise.
func demoScenario(start time.Time, attendees int, length time.Duration, seed int64) *zoomtest.Scenario {
	sc := zoomtest.Generate(zoomtest.Gen{
		ID: 81234567890, Topic: "Quarterly all-hands (demo)", Start: start, Duration: length,
		Participants: attendees, AudioOnly: 0.1, Guests: 0.05, Churn: 0.05, Seed: seed,
	})
	min := func(m int) time.Duration { return time.Duration(m) * time.Minute }
	for _, ev := range demoStory {
		to := ev.to
		if to == 0 {
			to = int(length / time.Minute)
		}
		for i := ev.first; i < ev.first+ev.n; i++ {
			p := sc.Participants[i]
			p.Join, p.Leave = 0, 0 // present throughout, so the story is told
			for _, k := range ev.kinds {
				switch k {
				case zoomtest.FrozenVideo:
					p.AudioOnly = false
				case zoomtest.ScreenShareStutter:
					p.SharesScreen = true
				}
				p.Degradations = append(p.Degradations, zoomtest.Degradation{Kind: k, From: min(ev.from), To: min(to)})
			}
		}
	}
	// The storm's attendees sit behind one congested link, in one office:
	// one location Zoom reports for all of them and for nobody else, which
	// the storm message's shared-cause hint names.
	for i := stormFirst; i < stormFirst+stormSize; i++ {
		sc.Participants[i].Location = stormLocation
	}
	return sc
}

// banner is what the demo promises, from the scenario it built.
func banner(sc *zoomtest.Scenario, webinarLen time.Duration) string {
	var b strings.Builder
	for _, ev := range demoStory {
		what := fmt.Sprintf(ev.story, sc.Participants[ev.first].UserName)
		if ev.n > 1 {
			what = fmt.Sprintf(ev.story, ev.n)
		}
		fmt.Fprintf(&b, "  minute %2d  %s (%s)\n", ev.from, what, ev.rule)
	}
	fmt.Fprintf(&b, "  minute %2d  the webinar ends: what still fires is resolved\n", int(webinarLen/time.Minute))
	return b.String()
}

// Demo runs the real daemon against an in-process fake Zoom account on
// simulated time, with the console notifier (or Slack), prints a summary
// at the end and checks that the story it promised was told: an error
// when not.
func Demo(ctx context.Context, dc DemoConfig, out io.Writer, log *slog.Logger) error {
	if err := dc.check(); err != nil {
		return &ConfigError{err}
	}
	if dc.Try == "" {
		dc.Try = "qoswatch"
	}
	dir, err := os.MkdirTemp("", "qoswatch-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rulesPath := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesPath, dc.Rules, 0o600); err != nil {
		return err
	}

	start := time.Now().UTC().Truncate(time.Minute)
	clock := fakeclock.NewScaled(start, dc.Speed)
	webinarLen := dc.Duration - 2*time.Minute
	sc := demoScenario(start, dc.Attendees, webinarLen, dc.Seed)
	fake := zoomtest.NewServer(zoomtest.Options{Now: clock.Now, Scenarios: []*zoomtest.Scenario{sc}, Plan: zoomtest.Business})
	fake.Start()
	defer fake.Close()

	cfg := demoConfig(fake, rulesPath, filepath.Join(dir, "qoswatch.db"), dc)
	// The console shows the buttons a Slack message would carry.
	opts := Options{Logger: log, Console: out, Clock: clock, Buttons: dc.Slack == nil}
	mode := "this terminal (the console notifier)"
	console := notifier.NewConsole(out)
	var inner notifier.Sender = console
	if dc.Slack != nil {
		cfg.Slack = *dc.Slack
		opts.OneChannel = dc.Slack.Channel
		mode = "Slack"
		if dc.Slack.Channel != "" {
			mode += " channel " + dc.Slack.Channel
		}
		var err error
		if inner, _, err = newSender(cfg, out, log); err != nil {
			return &ConfigError{err}
		}
	}
	timed := &timedSender{Sender: inner, clock: clock}
	opts.Sender = timed
	feed := "Zoom's API, polled"
	eventsAddr := make(chan string, 1)
	if dc.Push {
		cfg.Events = EventsConfig{Listen: "127.0.0.1:0", WebhookSecret: Secret(randomSecret())}
		opts.EventsListening = func(a string) { eventsAddr <- a }
		feed = "Zoom's API, polled, and the events Zoom pushes (QSS webhooks, signed, to POST /zoom/events)"
	}
	var typed chan string
	if dc.Interactive && dc.Slack == nil && dc.Input != nil {
		typed = make(chan string, 1)
	}
	opts.Listening = func(addr string) {
		try := fmt.Sprintf("QOSWATCH_LISTEN=%s %s alerts", addr, dc.Try)
		if dc.APIToken != "" {
			try = "QOSWATCH_API_TOKEN=… " + try
		}
		fmt.Fprintf(out, `qoswatch demo: a simulated Zoom webinar, %q, with %d people.
Simulated time runs %gx (%s of webinar in %s). Alerts go to %s.
qoswatch hears the webinar through %s.
What happens:
%sThe HTTP API is on http://%s (try: %s).
Database: %s (removed at exit).
`, sc.Topic, len(sc.Participants), dc.Speed, webinarLen, time.Duration(float64(dc.Duration)/dc.Speed).Round(time.Second), mode, feed,
			banner(sc, webinarLen), addr, try, cfg.DB)
		if typed != nil {
			fmt.Fprint(out, interactiveHelp)
			typed <- addr
		}
	}

	runCtx, cancel := context.WithTimeout(ctx, time.Duration(float64(dc.Duration)/dc.Speed))
	defer cancel()
	go minuteMarkers(runCtx, out, clock, start)
	if typed != nil {
		go func() {
			select {
			case a := <-typed:
				answerTyped(runCtx, dc.Input, out, console, a, dc.APIToken.Reveal())
			case <-runCtx.Done():
			}
		}()
	}
	pushed := make(chan int64, 1)
	go func() {
		select {
		case a := <-eventsAddr:
			pushed <- pushDemoEvents(runCtx, fake, clock, start, a, cfg.Events.WebhookSecret.Reveal(), log)
		case <-runCtx.Done():
			pushed <- 0
		}
	}()
	err = Run(runCtx, cfg, opts)
	cancel()
	nPushed := <-pushed
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil // interrupted: no summary
	}
	fmt.Fprintln(out)
	latencies(out, timed, sc, start, nPushed)
	if err := demoSummary(out, cfg.DB, sc, fake.Truth(), dc.Speed); err != nil {
		return err
	}
	return demoReport(out, cfg.DB, engine.Source{Kind: engine.Webinar, ID: strconv.FormatInt(sc.ID, 10)}.Key())
}

// demoConfig is the daemon's configuration in the demo: the fake Zoom
// (a Business account), the demo's rules and database, webinars only.
func demoConfig(fake *zoomtest.Server, rulesPath, dbPath string, dc DemoConfig) Config {
	cfg := Defaults()
	cfg.Zoom.AccountID, cfg.Zoom.ClientID, cfg.Zoom.ClientSecret = fake.AccountID, fake.ClientID, Secret(fake.ClientSecret)
	cfg.Zoom.APIURL, cfg.Zoom.OAuthURL, cfg.Zoom.Plan = fake.APIURL(), fake.TokenURL(), "business"
	cfg.Rules, cfg.DB = rulesPath, dbPath
	cfg.Watch = []string{"webinars"}
	cfg.APIToken = dc.APIToken
	cfg.Listen = demoListen(dc.Listen)
	return cfg
}

// demoListen is where the demo's HTTP API listens: the address asked
// for, else 127.0.0.1:9797 when it is free, else any free port.
func demoListen(asked string) string {
	if asked != "" {
		return asked
	}
	ln, err := net.Listen("tcp", "127.0.0.1:9797")
	if err != nil {
		return "127.0.0.1:0" // someone has 9797: any free port
	}
	ln.Close()
	return "127.0.0.1:9797"
}

// minuteMarkers prints a line every five simulated minutes of the
// webinar until ctx ends, so the story has a time line.
func minuteMarkers(ctx context.Context, out io.Writer, clock engine.Clock, start time.Time) {
	for m := 1; ; m++ {
		at := start.Add(time.Duration(m) * time.Minute)
		if engine.Sleep(ctx, clock, at.Sub(clock.Now())) != nil {
			return
		}
		if m%5 == 0 {
			fmt.Fprintf(out, "\n······ minute %d of the webinar (%s UTC) ······\n", m, at.Format("15:04"))
		}
	}
}

// demoReport is the last beat: the post-webinar report of the demo's
// webinar as `qoswatch report` prints it, from what the store kept, and
// its chart written to a file that outlives the demo.
func demoReport(out io.Writer, dbPath, source string) error {
	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	minutes, err := db.Minutes(context.Background(), source)
	if err != nil {
		return err
	}
	r, err := report.Build(source, minutes, time.Time{})
	if err != nil {
		return err
	}
	png, err := r.ChartPNG()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "qoswatch-demo-report-*.png")
	if err != nil {
		return err
	}
	if _, err := f.Write(png); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThe post-webinar report (qoswatch report --source %s; with report.channel in the rules it goes to Slack, the chart in its thread):\n\n%s\nIts chart: %s\n", source, r.Markdown(), f.Name())
	return nil
}

// demoSummary reads the database the run left, scores it against the
// fake's ground truth, and checks the story: every single person's turn
// told by its rule, most of the storm (it is one grouped message), and an
// empty outbox. A failed check is an error: the demo exits non-zero.
func demoSummary(out io.Writer, dbPath string, sc *zoomtest.Scenario, truth []zoomtest.Truth, speed float64) error {
	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	snap, err := db.Load(context.Background())
	if err != nil {
		return err
	}
	byRule := map[string]int{}
	alerted := map[string]bool{}
	fired := map[string]bool{} // rule + "/" + user_id
	for _, a := range snap.Alerts {
		if !a.FiredAt.IsZero() { // fired (notified or held back by a silence)
			byRule[a.Key.Rule]++
			alerted[a.Key.Participant] = true
			fired[a.Key.Rule+"/"+a.Key.Participant] = true
		}
	}
	degraded := map[string]bool{}
	for _, t := range truth {
		degraded[t.UserID] = true
	}
	caught := 0
	for p := range degraded {
		if alerted[p] {
			caught++
		}
	}
	rules := make([]string, 0, len(byRule))
	for r, n := range byRule {
		rules = append(rules, fmt.Sprintf("%s ×%d", r, n))
	}
	sort.Strings(rules)
	pending := db.Stats().OutboxDepth
	fmt.Fprintf(out, "\nDemo over. Alerts that fired: %s.\n%d of the %d participants the fake degraded were alerted; outbox left: %d.\n",
		strings.Join(rules, ", "), caught, len(degraded), pending)

	var missed []string
	for _, ev := range demoStory {
		told := 0
		for i := ev.first; i < ev.first+ev.n; i++ {
			if fired[ev.rule+"/"+sc.Participants[i].UserID] {
				told++
			}
		}
		if told < ev.n/2+1 { // one person: told; the storm: most of it
			missed = append(missed, fmt.Sprintf("%s told for %d of %d", ev.rule, told, ev.n))
		}
	}
	if pending > 0 {
		missed = append(missed, fmt.Sprintf("%d notifications never delivered", pending))
	}
	if len(missed) > 0 {
		return fmt.Errorf("the demo's check failed: %s (at --speed %g this machine may not keep up: try a lower --speed)", strings.Join(missed, "; "), speed)
	}
	fmt.Fprintln(out, "Check: every turn of the story was told.")
	return nil
}
