package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/internal/syncbuf"
)

// TestBinaryCheckStopsOnSignal: `qoswatch check` on a file whose read
// blocks (a FIFO here; a hung mount in life) ends on SIGINT and on SIGTERM
// with "interrupted" and exit 130; before, it ignored both (issue 15).
func TestBinaryCheckStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildLikeDocker(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rules.yaml")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
			var out syncbuf.Buffer
			cmd := exec.Command(bin, "check", path)
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			// Wait until check has the FIFO open (it holds it, reading),
			// so the signal reaches a process that is in its read.
			var w *os.File
			for give := time.Now().Add(time.Minute); w == nil; time.Sleep(10 * time.Millisecond) {
				w, _ = os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
				if time.Now().After(give) {
					t.Fatalf("check never opened the file\n%s", out.String())
				}
			}
			defer w.Close()
			cmd.Process.Signal(sig)
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			var err error
			select {
			case err = <-exited:
			case <-time.After(time.Minute): // a guard against a hang, not a speed check
				t.Fatalf("check still runs a minute after %v", sig)
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 130 || !strings.Contains(out.String(), path+": interrupted") {
				t.Errorf("check after %v: %v\n%s", sig, err, out.String())
			}
		})
	}
}

// TestExplainStopsWhenInterrupted: explain's reads block where no context
// reaches (a FIFO here, a hung mount in life); an interrupt ends the
// command at once with "interrupted" and exit 130, without the reads.
func TestExplainStopsWhenInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	// Let the blocked read finish once the test is over: open the FIFO's
	// other end (O_RDWR never blocks on Linux).
	t.Cleanup(func() {
		if w, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
			w.Close()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"qoswatch", "explain", "--rules", path, "../../rules/testdata/explain/webinar-qos.json"}, &out, &errOut, envOf(nil))
	if code != 130 || errOut.String() != "qoswatch explain: interrupted\n" || out.Len() != 0 {
		t.Errorf("explain interrupted = %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
