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
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/notifier"
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
	Slack     *SlackConfig  // send to Slack instead of the console
	Seed      int64
}

// demoScenario is a live webinar where a few people degrade one by one,
// a block of attendees behind one bad network degrades together (a
// storm), and everyone recovers or the webinar ends.
func demoScenario(start time.Time, attendees int, length time.Duration, seed int64) *zoomtest.Scenario {
	sc := zoomtest.Generate(zoomtest.Gen{
		ID: 81234567890, Topic: "Quarterly all-hands (demo)", Start: start, Duration: length,
		Participants: attendees, AudioOnly: 0.1, Guests: 0.05, Churn: 0.05, Seed: seed,
	})
	min := func(m int) time.Duration { return time.Duration(m) * time.Minute }
	bad := func(i int, kind zoomtest.Impairment, from, to int) {
		if i >= len(sc.Participants) {
			return
		}
		p := sc.Participants[i]
		p.Join, p.Leave = 0, 0 // present throughout, so the story is told
		if kind == zoomtest.FrozenVideo {
			p.AudioOnly = false
		}
		if kind == zoomtest.ScreenShareStutter {
			p.SharesScreen = true
		}
		p.Degradations = append(p.Degradations, zoomtest.Degradation{Kind: kind, From: min(from), To: min(to)})
	}
	bad(1, zoomtest.FrozenVideo, 2, 9) // a panelist: attendees send no video
	bad(2, zoomtest.CPUHog, 3, 11)     // a panelist: the critical rule
	bad(40, zoomtest.WeakWiFi, 4, 14)
	// The storm: 40 attendees behind one congested link.
	for i := 100; i < 140; i++ {
		bad(i, zoomtest.AudioLoss, 8, 14)
		bad(i, zoomtest.HighLatency, 8, 14)
	}
	bad(0, zoomtest.ScreenShareStutter, 15, 30) // the host, until the webinar ends
	return sc
}

// Demo runs the real daemon against an in-process fake Zoom account on
// simulated time, with the console notifier (or Slack), and prints a
// summary at the end.
func Demo(ctx context.Context, dc DemoConfig, out io.Writer, log *slog.Logger) error {
	if dc.Speed <= 0 {
		return fmt.Errorf("--speed %g: must be positive", dc.Speed)
	}
	if dc.Duration < 5*time.Minute {
		return fmt.Errorf("--duration %s: at least 5m of simulated time", dc.Duration)
	}
	if dc.Attendees < 10 {
		return fmt.Errorf("--attendees %d: at least 10", dc.Attendees)
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

	cfg := Defaults()
	cfg.Zoom.AccountID, cfg.Zoom.ClientID, cfg.Zoom.ClientSecret = fake.AccountID, fake.ClientID, Secret(fake.ClientSecret)
	cfg.Zoom.APIURL, cfg.Zoom.OAuthURL, cfg.Zoom.Plan = fake.APIURL(), fake.TokenURL(), "business"
	cfg.Rules, cfg.DB = rulesPath, filepath.Join(dir, "qoswatch.db")
	cfg.Watch = []string{"webinars"}
	cfg.Listen = dc.Listen
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:9797"
		if ln, err := net.Listen("tcp", cfg.Listen); err != nil {
			cfg.Listen = "127.0.0.1:0" // someone has 9797: any free port
		} else {
			ln.Close()
		}
	}
	opts := Options{Logger: log, Console: out, Clock: clock}
	mode := "this terminal (the console notifier)"
	if dc.Slack != nil {
		cfg.Slack = *dc.Slack
		opts.OneChannel = dc.Slack.Channel
		mode = "Slack"
		if dc.Slack.Channel != "" {
			mode += " channel " + dc.Slack.Channel
		}
	} else {
		opts.Sender = notifier.NewConsole(out)
	}
	opts.Listening = func(addr string) {
		fmt.Fprintf(out, `qoswatch demo: a simulated Zoom webinar, %q, with %d people.
Simulated time runs %gx (%s of webinar in %s). Alerts go to %s.
Watch for: frozen video, a panelist's CPU, weak Wi-Fi, then a storm of 40
attendees with choppy audio at minute 8 (one grouped message), recoveries,
and the webinar's end. The HTTP API is on http://%s
(try: QOSWATCH_LISTEN=%s qoswatch alerts). Database: %s (removed at exit).
`, sc.Topic, len(sc.Participants), dc.Speed, webinarLen, time.Duration(float64(dc.Duration)/dc.Speed).Round(time.Second), mode, addr, addr, cfg.DB)
	}

	runCtx, cancel := context.WithTimeout(ctx, time.Duration(float64(dc.Duration)/dc.Speed))
	defer cancel()
	go func() { // minute markers, so the story has a time line
		for m := 1; ; m++ {
			if engine.Sleep(runCtx, clock, start.Add(time.Duration(m)*time.Minute).Sub(clock.Now())) != nil {
				return
			}
			if m%5 == 0 {
				fmt.Fprintf(out, "\n······ minute %d of the webinar (%s UTC) ······\n", m, start.Add(time.Duration(m)*time.Minute).Format("15:04"))
			}
		}
	}()
	if err := Run(runCtx, cfg, opts); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil // interrupted: no summary
	}
	return demoSummary(out, cfg.DB, fake.Truth())
}

// demoSummary reads the database the run left and scores it against the
// fake's ground truth.
func demoSummary(out io.Writer, dbPath string, truth []zoomtest.Truth) error {
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
	for _, a := range snap.Alerts {
		if !a.FiredAt.IsZero() { // fired (notified or held back by a silence)
			byRule[a.Key.Rule]++
			alerted[a.Key.Participant] = true
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
	fmt.Fprintf(out, "\nDemo over. Alerts that fired: %s.\n%d of the %d participants the fake degraded were alerted; outbox left: %d.\n",
		strings.Join(rules, ", "), caught, len(degraded), db.Stats().OutboxDepth)
	return nil
}
