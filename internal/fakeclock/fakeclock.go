// Package fakeclock holds the clocks tests, the demo and simulate run on
// instead of the wall clock. Each implements engine.Clock.
package fakeclock

import (
	"sync"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// Manual is a clock that moves only when told: After's channels fire as
// Advance or Set passes their deadline. Safe for concurrent use.
type Manual struct {
	mu      sync.Mutex
	t       time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	c  chan time.Time
}

var _ engine.Clock = (*Manual)(nil)

// NewManual returns a clock reading t.
func NewManual(t time.Time) *Manual { return &Manual{t: t} }

func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *Manual) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.t.Add(d), c: ch})
	return ch
}

// Advance moves the clock forward by d, fires what is due, and returns the
// new time.
func (c *Manual) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(c.t.Add(d))
	return c.t
}

// Set moves the clock to t (backwards too) and fires what is due.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(t)
}

// Waiters is how many After channels have not fired yet, so a test can
// wait until the code under test is asleep before it advances.
func (c *Manual) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

func (c *Manual) set(t time.Time) {
	c.t = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.c <- t
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
}

// Stepping is a clock whose waits take no wall time: After moves the
// clock forward by d and fires at once. It suits one goroutine that owns
// time (simulate, a poller test with one worker).
type Stepping struct{ Manual }

var _ engine.Clock = (*Stepping)(nil)

// NewStepping returns a stepping clock reading t.
func NewStepping(t time.Time) *Stepping { return &Stepping{Manual{t: t}} }

func (c *Stepping) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	if d > 0 {
		ch <- c.Advance(d)
	} else {
		ch <- c.Now()
	}
	return ch
}

// Scaled is simulated time running Speed times faster than the wall
// clock, from Start: the demo's clock.
type Scaled struct {
	start, wall time.Time
	speed       float64
}

var _ engine.Clock = (*Scaled)(nil)

// NewScaled starts a scaled clock at start.
func NewScaled(start time.Time, speed float64) *Scaled {
	return &Scaled{start: start, wall: time.Now(), speed: speed}
}

func (c *Scaled) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.wall)) * c.speed))
}

func (c *Scaled) After(d time.Duration) <-chan time.Time {
	return time.After(time.Duration(float64(d) / c.speed))
}
