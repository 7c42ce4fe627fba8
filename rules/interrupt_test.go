package rules

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fifo makes a named pipe: opening it for reading blocks until a writer
// comes, as a hung network mount would. The cleanup opens it for writing,
// so the reader left behind ends.
func fifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	})
	return path
}

// TestToolsStopWhenCancelled: check and test end when their context does
// (the CLI's is cancelled by SIGINT and SIGTERM), even while a file read
// blocks; issue 15 (check ignored signals).
func TestToolsStopWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	path := fifo(t)
	if code := Check(ctx, &out, path, "../rules.example.yaml"); code != ExitInterrupted || out.String() != path+": interrupted\n" {
		t.Errorf("check = %d %q", code, &out)
	}
	out.Reset()
	if code := RunTestFiles(ctx, &out, path, "../rules.example.test.yaml"); code != ExitInterrupted || !strings.HasSuffix(out.String(), path+": interrupted\n") {
		t.Errorf("test = %d %q", code, &out)
	}
	if _, err := LoadContext(ctx, path); err == nil || !strings.Contains(err.Error(), path+": context canceled") {
		t.Errorf("LoadContext = %v", err)
	}
}
