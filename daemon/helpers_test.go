package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
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
