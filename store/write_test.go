package store

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
)

// A store whose file refuses writes (here: the kernel, through a
// read-only descriptor; a full disk takes the same path) answers every
// write with ErrWriteFailed naming the file, keeps reading, saves nothing
// of the failed writes, says so in WriteError and its metrics, and
// writes again once the file can be written.
func TestWriteFailureNamesTheFile(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db := openT(t, path)
	k := key("choppy-audio", "u1")
	if err := db.Commit(ctx, engine.Changes{Alerts: []engine.Alert{alert(k, engine.StateFiring, t0)},
		Notifications: []engine.Notification{note(engine.KindFiring, k, t0)}}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	reg := prometheus.NewRegistry()
	full, err := Open(path, Options{OpenFile: readOnlyFile, Registerer: reg})
	if err != nil {
		t.Fatalf("open on a file that refuses writes: %v", err)
	}
	pend, err := full.Pending(ctx, 0)
	if err != nil || len(pend) != 1 {
		t.Fatalf("pending on an unwritable store: %d entries, %v", len(pend), err)
	}
	ackErr := full.Ack(ctx, pend[0].ID, k, engine.MessageRef{Channel: "C1", TS: "1.1"})
	commitErr := full.Commit(ctx, engine.Changes{Cursors: []engine.Cursor{{Source: "webinar:42", Participant: "u2", Last: t0}}})
	silenceErr := full.PutSilence(ctx, engine.Silence{ID: "s1", EndsAt: t0})
	_, eventErr := full.EnqueueEvents(ctx, []engine.InboxEntry{{Key: "meeting.started:1", Received: t0, Body: []byte(`{}`)}})
	for name, err := range map[string]error{"ack": ackErr, "commit": commitErr, "silence": silenceErr, "event (a batch)": eventErr} {
		if !errors.Is(err, ErrWriteFailed) || !errors.Is(err, syscall.EBADF) || !strings.Contains(err.Error(), path+": write failed (is the disk full or read-only?)") {
			t.Errorf("%s: err = %v\nwant ErrWriteFailed naming %s and the kernel's error", name, err, path)
		}
	}
	if err := full.WriteError(); !errors.Is(err, ErrWriteFailed) {
		t.Errorf("WriteError = %v, want the last failure", err)
	}
	if got := metric(t, reg, "qoswatch_store_writable"); got != 0 {
		t.Errorf("qoswatch_store_writable = %v, want 0", got)
	}
	if got := metric(t, reg, "qoswatch_store_write_errors_total"); got != 4 {
		t.Errorf("qoswatch_store_write_errors_total = %v, want 4", got)
	}
	if d := full.Stats().OutboxDepth; d != 1 {
		t.Errorf("outbox depth after a failed ack = %d, want 1", d)
	}
	full.Close()

	// The disk is free again: nothing of the failed writes was saved,
	// and the ack goes through.
	db = openT(t, path)
	snap, _ := db.Load(ctx)
	pend, _ = db.Pending(ctx, 0)
	if n, _ := db.InboxDepth(ctx); len(pend) != 1 || len(snap.Cursors) != 0 || len(snap.Silences) != 0 || n != 0 {
		t.Errorf("after failed writes: %d pending, %d cursors, %d silences; want 1, 0, 0", len(pend), len(snap.Cursors), len(snap.Silences))
	}
	if err := db.Ack(ctx, pend[0].ID, k, engine.MessageRef{Channel: "C1", TS: "1.1"}); err != nil || db.WriteError() != nil {
		t.Errorf("ack once writable: %v (WriteError %v)", err, db.WriteError())
	}
}

// readOnlyFile is an OpenFile that opens the database read-only, whatever
// bbolt asks for: the store opens, checks and reads as usual, and every
// write fails in the kernel (EBADF) through bbolt's real write path, as on
// a full disk or a read-only mount, portably and without a child process.
// (notifier/slackapp's disk-full test uses RLIMIT_FSIZE instead, which it
// can switch on and off in one run.)
func readOnlyFile(name string, _ int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY, perm)
}

// metric is the value of a metric the registry gathers.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// The store's metrics keep their names; Close unregisters them, so the
// store can be opened again on the same registry; a registry that has
// them already is an error at Open, not a panic.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	path := tempPath(t)
	db, err := Open(path, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	k := key("choppy-audio", "u1")
	if err := db.Commit(ctx, engine.Changes{Notifications: []engine.Notification{note(engine.KindFiring, k, t0)}}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"qoswatch_outbox_depth": 1, "qoswatch_store_commits_total": 1, "qoswatch_store_write_transactions_total": 2,
		"qoswatch_store_writable": 1, "qoswatch_store_write_errors_total": 0,
	} {
		if got := metric(t, reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"qoswatch_store_file_size_bytes", "qoswatch_store_written_bytes_total", "qoswatch_store_page_writes_total"} {
		if got := metric(t, reg, name); got <= 0 {
			t.Errorf("%s = %v, want > 0", name, got)
		}
	}
	other := tempPath(t)
	if _, err := Open(other, Options{Registerer: reg}); err == nil || !strings.Contains(err.Error(), "metrics") {
		t.Errorf("a second store on one registry: err = %v", err)
	}
	db.Close()
	db2, err := Open(other, Options{Registerer: reg, LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open after the first store closed: %v", err)
	}
	db2.Close()
}
