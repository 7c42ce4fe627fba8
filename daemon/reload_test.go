package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// stuckRules replaces the rules file with a FIFO nobody writes: reading
// it blocks, as a file on a hung network mount does. The cleanup opens
// it for writing, so the reader abandoned by the daemon finishes.
func stuckRules(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
}

func reloadConfig(t *testing.T, clock interface{ Now() time.Time }) Config {
	t.Helper()
	start := clock.Now().UTC().Truncate(time.Minute)
	sc := zoomtest.Generate(zoomtest.Gen{ID: 557, Start: start, Duration: time.Hour, Participants: 3, Seed: 1})
	fake := zoomtest.NewServer(zoomtest.Options{Now: clock.Now, Scenarios: []*zoomtest.Scenario{sc}})
	fake.Start()
	t.Cleanup(fake.Close)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	writeFile(t, rules, qoswatch.ExampleRules)
	cfg := Defaults()
	cfg.Zoom = zoomConfig(fake)
	cfg.Rules, cfg.DB, cfg.Listen, cfg.RulesCheck = rules, filepath.Join(dir, "db"), "127.0.0.1:0", 24*time.Hour
	return cfg
}

// TestStuckReloadIsGivenUp: a reload that cannot finish is given up
// after its timeout: the running rules stay, the log says why, the
// failure is counted; a second trigger meanwhile is skipped, not piled
// up.
func TestStuckReloadIsGivenUp(t *testing.T) {
	defer func(d time.Duration) { reloadTimeout = d }(reloadTimeout)
	reloadTimeout = 300 * time.Millisecond
	clock := fakeclock.NewScaled(time.Now(), 60)
	cfg := reloadConfig(t, clock)
	hup := make(chan os.Signal, 1)
	d := startRun(t, cfg, Options{Clock: clock, HUP: hup})
	waitMetric(t, d.addr, d.logs, "qoswatch_rules_loaded 11")

	stuckRules(t, cfg.Rules)
	hup <- syscall.SIGHUP
	waitMetric(t, d.addr, d.logs, `qoswatch_rules_reloads_total{outcome="error"} 1`, "qoswatch_rules_last_reload_success 0", "qoswatch_rules_loaded 11")
	if !strings.Contains(d.logs.String(), "still loading after 300ms") {
		t.Errorf("the log does not say the reload was given up:\n%s", d.logs.String())
	}
	hup <- syscall.SIGHUP
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(d.logs.String(), "rules reload skipped: an earlier one is still reading the file") {
		if time.Now().After(deadline) {
			t.Fatalf("a second reload during a stuck one was not skipped:\n%s", d.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := d.stop(t, 30*time.Second); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestShutdownCancelsAStuckReload: SIGTERM during a reload that cannot
// finish stops the daemon at once (it waited for the reload before),
// well before the reload's own 30s timeout.
func TestShutdownCancelsAStuckReload(t *testing.T) {
	clock := fakeclock.NewManual(time.Now())
	cfg := reloadConfig(t, clock)
	hup := make(chan os.Signal, 1)
	d := startRun(t, cfg, Options{Clock: clock, HUP: hup})
	waitMetric(t, d.addr, d.logs, "qoswatch_rules_loaded 11")
	stuckRules(t, cfg.Rules)
	hup <- syscall.SIGHUP
	for len(hup) > 0 { // taken by the watcher: the reload is under way
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // into the blocked read
	if err := d.stop(t, 20*time.Second); err != nil {
		t.Errorf("Run: %v", err)
	}
	if !strings.Contains(d.logs.String(), "rules reload given up: shutting down") {
		t.Errorf("the log does not say the reload was given up at shutdown:\n%s", d.logs.String())
	}
}
