package slackapp_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/store"
)

// TestDiskFullPausesDelivery: the disk fills right after Slack took a
// message, so the ack that records it cannot be written. Delivery stops
// (the store is unwritable: nothing else is posted, the message is not
// posted again and again), says so once in the log, in a metric and in
// Health (what /readyz shows), and backs off. Once space is free, the ack
// is written and delivery goes on: the message is never repeated.
//
// The store is the real bbolt file; its writes fail as on a full disk
// because the process may not write past the file's first two pages
// (RLIMIT_FSIZE: the kernel answers EFBIG, "file too large", to every
// page bbolt writes). The limit is the whole process's, so the test runs
// itself in a child process.
func TestDiskFullPausesDelivery(t *testing.T) {
	if os.Getenv("QOSWATCH_DISKFULL_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFullPausesDelivery$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "QOSWATCH_DISKFULL_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestDiskFullPausesDelivery") {
			t.Fatalf("the child failed (%v):\n%s", err, out)
		}
		return
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	full := func(on bool) {
		lim := old
		if on {
			lim.Cur = 8192 // bbolt's two meta pages; every other page write fails
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatal(err)
		}
	}
	defer full(false)

	storeReg := prometheus.NewRegistry() // the store's own metrics
	db, err := store.Open(filepath.Join(t.TempDir(), "qoswatch.db"), store.Options{Registerer: storeReg})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := newRigWith(t, box{db, t}, toChannel("#webinar-support"), func(o *notifier.Options) { o.StormThreshold = -1 })
	var once sync.Once
	r.slack.setFault(func(method string, _ url.Values) *fault {
		if method == "chat.postMessage" {
			once.Do(func() { full(true) }) // Slack takes the first message; then the disk is full
		}
		return nil
	})
	r.ob.add(notif(engine.KindFiring, people[0], rule, t0), notif(engine.KindFiring, people[1], rule, t0))

	// Ten minutes on the clock with the disk full.
	ctx := context.Background()
	start := r.clock.Now()
	for r.clock.Now().Sub(start) < 10*time.Minute {
		next, err := r.d.Drain(ctx)
		if err != nil {
			t.Fatalf("a pass failed: %v", err)
		}
		r.clock.Set(maxT(next, r.clock.Now().Add(time.Second)))
	}
	if calls := r.slack.Calls(); len(calls) != 1 {
		t.Fatalf("%d messages posted while the store could not record them, want the one before the disk filled: %v", len(calls), calls)
	}
	health := r.d.Health()
	if health == nil || !strings.Contains(health.Error(), "store unwritable since 14:00:00 UTC") ||
		!strings.Contains(health.Error(), "file too large") || !strings.Contains(health.Error(), "delivery paused") {
		t.Errorf("Health() = %v; want it to say since when the store is unwritable, why, and that delivery is paused", health)
	}
	fails := metric(t, r.reg, "qoswatch_notifier_store_write_failures_total")
	if fails < 3 || fails > 15 || metric(t, storeReg, "qoswatch_store_writable") != 0 {
		t.Errorf("store write failures = %v (want a few: backing off over 10 minutes), writable = %v (want 0)",
			fails, metric(t, storeReg, "qoswatch_store_writable"))
	}
	logs := r.logs.String()
	if n := strings.Count(logs, `"level":"ERROR"`); n != 1 || !strings.Contains(logs, "the store cannot record what was sent") {
		t.Errorf("%d error lines; want the unwritable store told once:\n%s", n, logs)
	}

	// Space is freed: the ack is written, the other alert goes, nothing twice.
	full(false)
	r.flush(t)
	calls := r.slack.Calls()
	if len(calls) != 2 || !strings.Contains(calls[0].Text, people[0].name) || !strings.Contains(calls[1].Text, people[1].name) {
		t.Fatalf("after recovery: %v; want each alert posted once", calls)
	}
	if h := r.d.Health(); h != nil || metric(t, storeReg, "qoswatch_store_writable") != 1 {
		t.Errorf("after recovery Health() = %v, writable = %v; want nil and 1", h, metric(t, storeReg, "qoswatch_store_writable"))
	}
	if !strings.Contains(r.logs.String(), "the store records again; delivery resumes") {
		t.Errorf("the recovery is not told:\n%s", r.logs.String())
	}
	// The ack recorded the thread: the resolve goes in it.
	r.ob.add(notif(engine.KindResolved, people[0], rule, t0.Add(time.Hour)))
	r.flush(t)
	calls = r.slack.Calls()
	if last := calls[len(calls)-1]; last.ThreadTS != calls[0].TS {
		t.Errorf("the resolve went to thread %q, want the firing's %q", last.ThreadTS, calls[0].TS)
	}
}

func maxT(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
