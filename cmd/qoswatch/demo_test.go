package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/internal/syncbuf"
)

// TestDemoTryLineWorksAsPrinted: the banner's "try" command names the
// binary when it is on PATH, else `go run ./cmd/qoswatch`; and what it
// prints, run as printed, lists the demo's alerts.
func TestDemoTryLineWorksAsPrinted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	onPath := t.TempDir()
	if err := os.WriteFile(filepath.Join(onPath, "qoswatch"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tryLine := regexp.MustCompile(`\(try: QOSWATCH_LISTEN=(\S+) (.+) alerts\)`)
	for _, tc := range []struct{ path, want string }{
		{t.TempDir(), "go run ./cmd/qoswatch"},
		{onPath, "qoswatch"},
	} {
		t.Setenv("PATH", tc.path)
		var out, errOut syncbuf.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"qoswatch", "demo", "--speed", "60", "--duration", "20m", "--attendees", "140", "--listen", "127.0.0.1:0"}, &out, &errOut, envOf(nil))
		}()
		var m []string
		deadline := time.Now().Add(30 * time.Second)
		for m == nil && time.Now().Before(deadline) {
			m = tryLine.FindStringSubmatch(out.String())
			time.Sleep(20 * time.Millisecond)
		}
		if m == nil || m[2] != tc.want {
			cancel()
			<-done
			t.Fatalf("PATH=%s: the banner's try line is %q, want the command %q\n%s%s", tc.path, m, tc.want, out.String(), errOut.String())
		}
		// Run what it says (go run would build this same command).
		var got, gotErr bytes.Buffer
		code := run(context.Background(), []string{"qoswatch", "alerts"}, &got, &gotErr, envOf(map[string]string{"QOSWATCH_LISTEN": m[1]}))
		cancel()
		<-done
		if code != 0 || !strings.HasPrefix(got.String(), "#  RULE") {
			t.Errorf("QOSWATCH_LISTEN=%s qoswatch alerts = %d\n%s%s", m[1], code, got.String(), gotErr.String())
		}
	}
}

// TestDemoRefusalExitsTwo: flags the demo cannot honour are refused at
// once with exit 2, saying why.
func TestDemoRefusalExitsTwo(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"qoswatch", "demo", "--duration", "5m"}, &out, &errOut, envOf(nil))
	if code != 2 || !strings.Contains(errOut.String(), "qoswatch demo: --duration 5m0s: the story runs to minute 18") {
		t.Errorf("demo --duration 5m = %d %s", code, errOut.String())
	}
	// Beyond loopback without a token, as for run: the demo's API serves
	// its (fake) participants' data too.
	errOut.Reset()
	code = run(context.Background(), []string{"qoswatch", "demo", "--listen", ":0"}, &out, &errOut, envOf(nil))
	if code != 2 || !strings.Contains(errOut.String(), "QOSWATCH_API_TOKEN is not set") {
		t.Errorf("demo --listen :0 without a token = %d %s", code, errOut.String())
	}
}
