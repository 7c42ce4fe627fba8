package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
	"github.com/qoswatch/qoswatch/notifier"
)

// flushOnlySender delivers only during the shutdown flush: the running
// dispatcher's context has no deadline, the flush's has the grace period.
// So what it receives was delivered by the flush, nothing else.
type flushOnlySender struct {
	mu      sync.Mutex
	refused int
	got     []string // "kind rule" of each delivered message
}

var _ notifier.Sender = (*flushOnlySender)(nil)

func (s *flushOnlySender) Post(ctx context.Context, channel, _ string, m notifier.Message) (engine.MessageRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, inFlush := ctx.Deadline(); !inFlush {
		s.refused++
		return engine.MessageRef{}, &notifier.DeliveryError{Class: notifier.Transient, Code: "http_503", Err: errors.New("down until shutdown")}
	}
	s.got = append(s.got, m.Text)
	return engine.MessageRef{Channel: channel}, nil
}

func (s *flushOnlySender) Update(context.Context, engine.MessageRef, notifier.Message) error {
	return errors.ErrUnsupported
}

// TestShutdownFlushesTheOutbox: what the last batches decided but could
// not deliver while running is delivered in the grace period after
// polling stops, before the store closes; the outbox is empty after.
func TestShutdownFlushesTheOutbox(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a simulated webinar")
	}
	cfg, clock, start := cpuHogWebinar(t, 5151, 30*time.Minute, 30*time.Minute)
	cfg.Grace = 30 * time.Second

	sender := &flushOnlySender{}
	var logs syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Console: io.Discard, Clock: clock, Sender: sender})
	}()
	// The CPU hog fires at minute 4 (held 3m from minute 1); by minute 8
	// the dispatcher has tried and failed.
	engine.Sleep(context.Background(), clock, start.Add(8*time.Minute).Sub(clock.Now()))
	sender.mu.Lock()
	refused, early := sender.refused, len(sender.got)
	sender.mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v\n%s", err, logs.String())
	}
	if refused == 0 || early != 0 {
		t.Fatalf("before shutdown: %d refused, %d delivered; want the firing tried and refused\n%s", refused, early, logs.String())
	}
	fired := false
	for _, text := range sender.got {
		fired = fired || strings.HasPrefix(text, "[FIRING]") && strings.Contains(text, "zoom-cpu-hog")
	}
	if !fired {
		t.Errorf("the shutdown flush delivered %q; want the zoom-cpu-hog firing\n%s", sender.got, logs.String())
	}
	if n := outboxLen(t, cfg.DB); n != 0 {
		t.Errorf("%d notifications left in the outbox after a flush with time to spare", n)
	}
}
