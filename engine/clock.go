package engine

import (
	"context"
	"time"
)

// Clock is the one source of wall time for every part that stamps or
// waits: the Zoom client and poller, the notifier, the daemon. Tests,
// the demo and simulate pass their own (internal/fakeclock). The engine
// itself runs on sample time and reads the clock only for silences,
// repeats and notification stamps.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed on this
	// clock. Implementations need no goroutine per call.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time                         { return time.Now() }
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

var _ Clock = SystemClock{}

// Sleep waits d on c, or until ctx is done (then it returns ctx's error).
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}
