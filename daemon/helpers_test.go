package daemon

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// zoomConfig points the daemon at a fake Zoom account (Business limits).
func zoomConfig(fake *zoomtest.Server) ZoomConfig {
	return ZoomConfig{AccountID: fake.AccountID, ClientID: fake.ClientID, ClientSecret: Secret(fake.ClientSecret),
		APIURL: fake.APIURL(), OAuthURL: fake.TokenURL(), Plan: "business"}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// cpuHogWebinar starts a fake Zoom account with one live webinar of 10 at
// 300x simulated time, where participant 1's CPU is pegged from minute 1
// to minute hogUntil (the example's zoom-cpu-hog fires at minute 4), and
// returns a Config for it (the example rules, a database in a temp dir,
// any free port) and the clock.
func cpuHogWebinar(t *testing.T, id int64, webinarLen, hogUntil time.Duration) (Config, *fakeclock.Scaled, time.Time) {
	t.Helper()
	return cpuHogWebinarWith(t, id, webinarLen, hogUntil, nil)
}

// cpuHogWebinarWith is cpuHogWebinar with the fake's options changed by
// opt (limits, faults).
func cpuHogWebinarWith(t *testing.T, id int64, webinarLen, hogUntil time.Duration, opt func(*zoomtest.Options)) (Config, *fakeclock.Scaled, time.Time) {
	t.Helper()
	start := time.Now().UTC().Truncate(time.Minute)
	clock := fakeclock.NewScaled(start, 300)
	sc := zoomtest.Generate(zoomtest.Gen{ID: id, Topic: "CPU hog webinar", Start: start, Duration: webinarLen, Participants: 10, Seed: 5})
	sc.Participants[1].Join, sc.Participants[1].Leave = 0, 0
	sc.Participants[1].Degradations = []zoomtest.Degradation{{Kind: zoomtest.CPUHog, From: time.Minute, To: hogUntil}}
	o := zoomtest.Options{Now: clock.Now, Scenarios: []*zoomtest.Scenario{sc}}
	if opt != nil {
		opt(&o)
	}
	fake := zoomtest.NewServer(o)
	fake.Start()
	t.Cleanup(fake.Close)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	writeFile(t, rules, qoswatch.ExampleRules)
	cfg := Defaults()
	cfg.Zoom = zoomConfig(fake)
	cfg.Rules, cfg.DB, cfg.Listen, cfg.Watch = rules, filepath.Join(dir, "db"), "127.0.0.1:0", []string{"webinars"}
	return cfg, clock, start
}

// running is a daemon started by startRun.
type running struct {
	addr   string
	logs   *syncbuf.Buffer
	cancel context.CancelFunc
	done   chan error
}

// startRun starts Run in the background with a text logger into a buffer
// (unless opts has one) and waits until it listens; it fails the test if
// Run returns first. stop ends it and returns Run's error.
func startRun(t *testing.T, cfg Config, opts Options) *running {
	t.Helper()
	r := &running{logs: &syncbuf.Buffer{}, done: make(chan error, 1)}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.Console == nil {
		opts.Console = io.Discard
	}
	if opts.HUP == nil {
		opts.HUP = make(chan os.Signal) // never: tests do not share the process's SIGHUP
	}
	addrc := make(chan string, 1)
	opts.Listening = func(a string) { addrc <- a }
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- Run(ctx, cfg, opts) }()
	select {
	case r.addr = <-addrc:
	case err := <-r.done:
		cancel()
		t.Fatalf("Run: %v\n%s", err, r.logs.String())
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(time.Minute):
		}
	})
	return r
}

// stop cancels Run and waits for it, at most wait.
func (r *running) stop(t *testing.T, wait time.Duration) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(wait):
		t.Fatalf("Run did not return %s after its context ended\n%s", wait, r.logs.String())
		return nil
	}
}
