package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// waitMetric waits until /metrics has every line, or fails with the log.
func waitMetric(t *testing.T, addr string, logs *syncbuf.Buffer, lines ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		body := scrape(t, addr)
		missing := ""
		for _, l := range lines {
			if !strings.Contains(body, l+"\n") {
				missing = l
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never had %q\nlog:\n%s", missing, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRulesReload: a bad rules file keeps the running rules (logged, and
// in a metric); a good one replaces them, on change and on SIGHUP.
func TestRulesReload(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Minute)
	sc := zoomtest.Generate(zoomtest.Gen{ID: 555, Start: start, Duration: time.Hour, Participants: 5, Seed: 1})
	fake := zoomtest.NewServer(zoomtest.Options{Scenarios: []*zoomtest.Scenario{sc}})
	fake.Start()
	defer fake.Close()

	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	writeFile(t, rules, qoswatch.ExampleRules)
	cfg := Defaults()
	cfg.Zoom = zoomConfig(fake)
	cfg.Rules, cfg.DB, cfg.Listen, cfg.RulesCheck = rules, filepath.Join(dir, "db"), "127.0.0.1:0", 10*time.Millisecond

	hup := make(chan os.Signal, 1)
	d := startRun(t, cfg, Options{HUP: hup})
	defer func() {
		if err := d.stop(t, time.Minute); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	addr, logs := d.addr, d.logs
	waitMetric(t, addr, logs, "qoswatch_rules_loaded 11", "qoswatch_rules_last_reload_success 1",
		"qoswatch_store_writable 1", "qoswatch_store_write_errors_total 0") // the store registers its own

	// A typo: the running rules stay, the log and the metric say why.
	bad := bytes.Replace(qoswatch.ExampleRules, []byte("audio_input.avg_loss > 2 && latency > 150"), []byte("audio_input.avg_loss > 2 && lantecy > 150"), 1)
	writeFile(t, rules, bad)
	waitMetric(t, addr, logs, `qoswatch_rules_reloads_total{outcome="error"} 1`, "qoswatch_rules_last_reload_success 0", "qoswatch_rules_loaded 11")
	if !strings.Contains(logs.String(), "rules reload failed; the running rules stay") || !strings.Contains(logs.String(), "unknown name lantecy") {
		t.Errorf("the log does not say why the reload failed:\n%s", logs.String())
	}

	// A good file with one rule, on SIGHUP (the file watcher sees it too;
	// either way it loads once more).
	one := []byte("rules:\n  - name: only-rule\n    when: latency > 300\n")
	writeFile(t, rules, one)
	hup <- syscall.SIGHUP
	waitMetric(t, addr, logs, "qoswatch_rules_loaded 1", "qoswatch_rules_last_reload_success 1")
}

// TestDemoShowsFiringStormAndResolutions runs the demo as a user would
// watch it (at the default 60x: faster runs can outpace a -race build on
// two busy cores, and the fake Zoom, like Zoom, serves only recent minutes) and checks the terminal shows what the README's demo excerpt says.
func TestDemoShowsFiringStormAndResolutions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	var out syncbuf.Buffer
	dc := DemoConfig{Speed: demoSpeed, Duration: 26 * time.Minute, Attendees: 150, Rules: qoswatch.ExampleRules, Listen: "127.0.0.1:0", Seed: 1}
	if err := Demo(context.Background(), dc, &out, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"Firing: frozen-video — Panelist 1", "Firing: zoom-cpu-hog — Panelist 2", "Firing: weak-wifi — Attendee 40",
		"Storm: choppy-audio", "more participants match choppy-audio", "Storm over after", "Resolved after",
		"Demo over.", "outbox left: 0", "Check: every turn of the story was told.",
		// The banner, from the scenario built: names and minutes.
		"minute  2  Panelist 1's video freezes (frozen-video)", "minute  8  a storm: 40 attendees",
		"minute 24  the webinar ends",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo never printed %q", want)
		}
	}
	if n := strings.Count(text, "Firing: choppy-audio"); n > 5 {
		t.Errorf("%d single choppy-audio messages: the storm was not grouped", n)
	}
	// The last beat: the post-webinar report, and its chart on disk.
	for _, want := range []string{
		"# Post-webinar report: Quarterly all-hands (demo) (webinar:81234567890)",
		"- **Attendees:** 150 participants", "| choppy-audio | ", "## Worst minutes", "location Manchester (GB)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's report lacks %q", want)
		}
	}
	if m := regexp.MustCompile(`Its chart: (\S+\.png)`).FindStringSubmatch(text); m == nil {
		t.Error("the demo never said where its chart is")
	} else {
		defer os.Remove(m[1])
		b, err := os.ReadFile(m[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("the demo's chart %s: %v", m[1], err)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

// TestWrongCredentialsStopTheStart: credentials Zoom refuses are one
// clear error at start, without the secret in it.
func TestWrongCredentialsStopTheStart(t *testing.T) {
	fake := zoomtest.NewServer(zoomtest.Options{})
	fake.Start()
	defer fake.Close()
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	writeFile(t, rules, qoswatch.ExampleRules)
	const wrong = "not-the-client-secret-31337"
	cfg := Defaults()
	cfg.Zoom = zoomConfig(fake)
	cfg.Zoom.ClientSecret = wrong
	cfg.Rules, cfg.DB, cfg.Listen = rules, filepath.Join(dir, "db"), "127.0.0.1:0"
	var logs syncbuf.Buffer
	err := Run(context.Background(), cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Console: io.Discard})
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "Zoom refused them") {
		t.Fatalf("Run = %v, want a ConfigError saying Zoom refused the credentials\n%s", err, logs.String())
	}
	if strings.Contains(err.Error()+logs.String(), wrong) {
		t.Errorf("the secret shows: %v\n%s", err, logs.String())
	}
	// The database was closed: a new daemon can open it.
	if n := outboxLen(t, cfg.DB); n != 0 {
		t.Errorf("outbox %d", n)
	}
}

// TestDemoToSlack: --slack sends the demo's messages to a workspace (here
// a Slack-compatible server) instead of the terminal.
func TestDemoToSlack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	slack := newFakeSlack(t)
	var out syncbuf.Buffer
	dc := DemoConfig{Speed: demoSpeed, Duration: 20 * time.Minute, Attendees: 140, Rules: qoswatch.ExampleRules, Listen: "127.0.0.1:0", Seed: 2,
		Slack: &SlackConfig{BotToken: "xoxb-demo-token-0123456789", APIURL: slack.APIURL(), Channel: "#qoswatch-demo"}}
	if err := Demo(context.Background(), dc, &out, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	posts := slack.Posts()
	if len(posts) == 0 || !strings.Contains(posts[0].Text, "[FIRING]") {
		t.Fatalf("Slack got %d messages; want the demo's alerts\n%s", len(posts), out.String())
	}
	for _, p := range posts {
		if p.Method == "chat.postMessage" && p.Channel != "Cqoswatch-demo" { // the id Slack answers for #qoswatch-demo
			t.Errorf("a demo message went to %s, not SLACK_CHANNEL", p.Channel)
			break
		}
	}
	if strings.Contains(out.String(), "Firing:") {
		t.Error("with --slack the alerts still went to the terminal")
	}
}

// TestTakenPortStopsTheStart: a listen address in use is one line naming
// QOSWATCH_LISTEN.
func TestTakenPortStopsTheStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	cfg := Defaults()
	cfg.Zoom = ZoomConfig{AccountID: "a", ClientID: "b", ClientSecret: "a-client-secret-of-32-characters", APIURL: "http://127.0.0.1:1/v2", OAuthURL: "http://127.0.0.1:1/oauth/token", Plan: "pro"}
	cfg.Rules, cfg.DB, cfg.Listen = filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "db"), ln.Addr().String()
	err = Run(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "QOSWATCH_LISTEN="+cfg.Listen+": bind: address already in use") {
		t.Errorf("Run on a taken port = %v", err)
	}
}

// TestWebhookMode: with SLACK_WEBHOOK_URL only, alerts arrive at the
// webhook (JSON with text and blocks), without threads or updates.
func TestWebhookMode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a simulated webinar")
	}
	var mu sync.Mutex
	var bodies []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		mu.Lock()
		bodies = append(bodies, m)
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer hook.Close()

	cfg, clock, start := cpuHogWebinar(t, 4242, 12*time.Minute, 6*time.Minute)
	cfg.Slack = SlackConfig{WebhookURL: Secret(hook.URL + "/services/T0/B0/secretpart")}
	var logs syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Clock: clock})
	}()
	engine.Sleep(context.Background(), clock, start.Add(14*time.Minute).Sub(clock.Now()))
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v\n%s", err, logs.String())
	}
	mu.Lock()
	defer mu.Unlock()
	var fired, resolved bool
	for _, b := range bodies {
		text, _ := b["text"].(string)
		fired = fired || strings.HasPrefix(text, "[FIRING]") && strings.Contains(text, "zoom-cpu-hog")
		resolved = resolved || strings.HasPrefix(text, "[RESOLVED]") && strings.Contains(text, "zoom-cpu-hog")
		if _, ok := b["thread_ts"]; ok {
			t.Errorf("a webhook message with thread_ts: %v", b)
		}
	}
	if !fired || !resolved {
		t.Errorf("webhook got %d messages; fired %v, resolved %v\n%s", len(bodies), fired, resolved, logs.String())
	}
	if strings.Contains(logs.String(), "secretpart") {
		t.Error("the log shows the webhook URL")
	}
}

// TestRulesWatcherRunsOnTheDaemonClock: the rules file is checked every
// QOSWATCH_RULES_CHECK of the daemon's clock, like every other duty, so a
// simulated clock (the demo's) sees a changed file within simulated
// minutes, not wall minutes.
func TestRulesWatcherRunsOnTheDaemonClock(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Minute)
	clock := fakeclock.NewScaled(start, 600) // 5 simulated minutes in 0.5s
	sc := zoomtest.Generate(zoomtest.Gen{ID: 556, Start: start, Duration: time.Hour, Participants: 3, Seed: 1})
	fake := zoomtest.NewServer(zoomtest.Options{Now: clock.Now, Scenarios: []*zoomtest.Scenario{sc}})
	fake.Start()
	defer fake.Close()
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	writeFile(t, rules, qoswatch.ExampleRules)
	cfg := Defaults()
	cfg.Zoom = zoomConfig(fake)
	cfg.Rules, cfg.DB, cfg.Listen, cfg.RulesCheck = rules, filepath.Join(dir, "db"), "127.0.0.1:0", 5*time.Minute

	d := startRun(t, cfg, Options{Clock: clock})
	defer func() {
		if err := d.stop(t, time.Minute); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	addr, logs := d.addr, d.logs
	waitMetric(t, addr, logs, "qoswatch_rules_loaded 11")
	writeFile(t, rules, []byte("rules:\n  - name: only-rule\n    when: latency > 300\n"))
	// Two checks (seen moving, then still): 10 simulated minutes, a
	// second of wall time; a wall-clock ticker would take 10 minutes.
	waitMetric(t, addr, logs, "qoswatch_rules_loaded 1", `qoswatch_rules_reloads_total{outcome="ok"} 1`)
}

// TestDemoPush: `qoswatch demo --push` feeds the same webinar by signed
// QSS webhooks besides the API, tells every turn of the story, and prints
// the time from each turn's first bad minute to its message.
func TestDemoPush(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	var out syncbuf.Buffer
	dc := DemoConfig{Speed: demoSpeed, Duration: 20 * time.Minute, Attendees: 140, Rules: qoswatch.ExampleRules, Listen: "127.0.0.1:0", Seed: 3, Push: true}
	if err := Demo(context.Background(), dc, &out, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"and the events Zoom pushes (QSS webhooks, signed, to POST /zoom/events)",
		"polled and pushed: Zoom's fake posted",
		"frozen-video             bad from minute  2, told ", "choppy-audio             bad from minute  8, told ",
		"Check: every turn of the story was told.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo never printed %q", want)
		}
	}
	if strings.Contains(text, "not told") || strings.Contains(text, "posted 0 signed") {
		t.Errorf("a turn was not told, or nothing was pushed")
	}
	if t.Failed() {
		t.Log(text)
	}
}
