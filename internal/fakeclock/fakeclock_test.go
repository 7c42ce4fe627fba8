package fakeclock

import (
	"context"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

var t0 = time.Date(2026, 3, 4, 14, 0, 0, 0, time.UTC)

func TestManualFiresWhenAdvancedPastTheDeadline(t *testing.T) {
	c := NewManual(t0)
	a, b := c.After(time.Minute), c.After(2*time.Minute)
	c.Advance(90 * time.Second)
	select {
	case got := <-a:
		if !got.Equal(t0.Add(90 * time.Second)) {
			t.Fatalf("fired at %v", got)
		}
	default:
		t.Fatal("a one-minute wait did not fire after 90s")
	}
	select {
	case <-b:
		t.Fatal("a two-minute wait fired after 90s")
	default:
	}
	if c.Waiters() != 1 {
		t.Fatalf("waiters = %d, want 1", c.Waiters())
	}
}

func TestSteppingSleepMovesTime(t *testing.T) {
	c := NewStepping(t0)
	if err := engine.Sleep(context.Background(), c, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); !got.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("now = %v", got)
	}
}

func TestSleepReturnsOnCancel(t *testing.T) {
	c := NewManual(t0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := engine.Sleep(ctx, c, time.Hour); err == nil {
		t.Fatal("a cancelled sleep returned nil")
	}
}
