package crashtest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/store"
)

// The acknowledgement both phases submit: the same id, as Slack retries a
// click whose answer never came.
const crashAckID = "slack:1764320400.000100:U0ANA"

// TestCrashActionChild is the child of TestCrashAction. Phase "act":
// the scenario's first minutes are ingested and their firings delivered,
// the dispatcher is stopped, the first firing alert is acknowledged, and
// the process waits to be killed: the action is committed, its message
// update is not sent. Phase "resume": a new process submits the same
// action again and delivers what the outbox holds.
func TestCrashActionChild(t *testing.T) {
	phase := os.Getenv("CRASHTEST_ACTION")
	if phase == "" {
		t.Skip("the child of TestCrashAction")
	}
	ctx := context.Background()
	_, e, d := openChild(t, ctx, os.Getenv("CRASHTEST_DB"))
	if phase == "act" {
		for _, pg := range pages()[:4*8] { // 8 minutes of the scenario
			if err := e.Ingest(ctx, pg); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var key engine.AlertKey
	for _, a := range e.Alerts() {
		if a.State == engine.StateFiring {
			key = a.Key
			break
		}
	}
	if key.Rule == "" {
		t.Fatal("no firing alert to acknowledge")
	}
	res, err := e.Act(ctx, engine.Action{ID: crashAckID, Kind: engine.ActionAck, Alert: key, User: "U0ANA", UserName: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("acted %s applied=%v replay=%v\n", key, res.Applied, res.Replay)
	if phase == "act" {
		select {} // committed, not told: the parent kills us now
	}
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCrashAction: SIGKILL between an action's commit and its message
// update. After the restart the update and the thread reply are sent,
// once, and the same action submitted again is not applied twice.
func TestCrashAction(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: runs two child processes")
	}
	if os.Getenv("CRASHTEST_ACTION") != "" {
		t.Skip("in the child")
	}
	slackSrv := &fakeSlack{latency: 2 * time.Millisecond}
	srv := httptest.NewServer(slackSrv)
	defer srv.Close()
	dbPath := filepath.Join(t.TempDir(), "qoswatch.db")
	start := func(phase string, run int) (*exec.Cmd, *syncBuffer) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashActionChild$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "CRASHTEST_DB="+dbPath, "CRASHTEST_SLACK="+srv.URL+"/",
			"CRASHTEST_ACTION="+phase, fmt.Sprintf("CRASHTEST_RUN=%d", run))
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, out
	}

	cmd, out := start("act", 1)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute) // a hang guard
	for !strings.Contains(out.String(), "acted ") {
		select {
		case err := <-done:
			t.Fatalf("the first run ended before acting: %v\n%s", err, out)
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("the first run did not act within 2 minutes:\n%s", out)
		case <-time.After(time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	if !strings.Contains(out.String(), "applied=true replay=false") {
		t.Fatalf("the first run's ack was not applied:\n%s", out)
	}
	before := slackSrv.snapshot()
	for _, p := range before {
		if strings.Contains(p.Text, "cknowledged") {
			t.Fatalf("before the kill Slack got %+v: the action's update went before the kill", p)
		}
	}
	firings := len(before)

	cmd, out = start("resume", 2)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the second run: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "applied=false replay=true") {
		t.Fatalf("the same action after the restart was applied again:\n%s", out)
	}
	posts := slackSrv.snapshot()[firings:]
	var updates, replies []post
	for _, p := range posts {
		switch {
		case p.Method == "chat.update" && strings.Contains(p.Text, "Acknowledged by <@U0ANA>"):
			updates = append(updates, p)
		case p.Method == "chat.postMessage" && strings.Contains(p.Text, "acknowledged this alert"):
			replies = append(replies, p)
		default:
			t.Errorf("after the restart Slack got %+v", p)
		}
	}
	if len(updates) != 1 || len(replies) != 1 || replies[0].ThreadTS != updates[0].TS {
		t.Fatalf("after the restart: %d updates, %d replies (%+v); want the alert's message updated once and one reply in its thread", len(updates), len(replies), posts)
	}

	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log, err := db.Actions(context.Background(), engine.ActionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].ID != crashAckID || !log[0].Result.Applied {
		t.Fatalf("audit log: %+v; want the one action, applied", log)
	}
	if n, _ := db.Pending(context.Background(), 0); len(n) != 0 {
		t.Errorf("outbox not empty: %d", len(n))
	}
	t.Logf("killed after the action's commit; after the restart: 1 update, 1 reply, the action applied once (%d messages of the scenario before)", firings)
}

// snapshot returns what the fake Slack answered so far.
func (f *fakeSlack) snapshot() []post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]post(nil), f.posts...)
}

// syncBuffer is a child's output, read while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
