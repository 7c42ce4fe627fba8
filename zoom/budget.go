package zoom

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// The poller's API budget. Heavy and Resource-intensive calls share one
// daily cap per account (30,000 on Pro, 60,000 on Business and up), reset
// at 00:00 UTC, and every other app on the account spends from it too. So
// qoswatch spends a share of the cap, persists what it spent today (a
// restart must not reset it), and paces itself so that the day never ends
// early. A reserve (a share of the budget, shrinking linearly to 00:00
// UTC) is paced evenly to the reset, so there is always a floor; what is
// above the reserve may be spent over Horizon, so a webinar gets most of
// the day's budget when it needs it. Spending at that pace makes the part
// above the reserve decay exponentially: coverage thins out smoothly near
// the cap and never drops below the floor, instead of going blind at 3 p.m.

// DefaultBudgetShare is the share of the account's daily cap qoswatch
// spends when QOSWATCH_BUDGET_SHARE is not set: half, leaving the other
// half to the account's other apps.
const DefaultBudgetShare = 0.5

// DefaultBudgetHorizon is how far ahead the planner spreads what is left
// of today's budget above the reserve.
const DefaultBudgetHorizon = 2 * time.Hour

// DefaultBudgetReserve is the share of the budget paced evenly over the
// whole day (a quarter: with Business and half the cap, a floor of about
// five calls a minute that nothing can take away).
const DefaultBudgetReserve = 0.25

// SpendStore persists the calls spent per UTC day (the store package
// implements it in bbolt). day is any instant of that UTC day.
type SpendStore interface {
	Spent(ctx context.Context, day time.Time) (int64, error)
	AddSpent(ctx context.Context, day time.Time, n int64) error
}

// MemorySpend is a SpendStore in memory, for simulate and tests.
type MemorySpend struct {
	mu   sync.Mutex
	days map[string]int64
}

var _ SpendStore = (*MemorySpend)(nil)

func (m *MemorySpend) Spent(_ context.Context, day time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.days[day.UTC().Format(time.DateOnly)], nil
}

func (m *MemorySpend) AddSpent(_ context.Context, day time.Time, n int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.days == nil {
		m.days = map[string]int64{}
	}
	m.days[day.UTC().Format(time.DateOnly)] += n
	return nil
}

// BudgetConfig is the poller's budget. Zero values take the defaults.
type BudgetConfig struct {
	Plan       string  // ZOOM_PLAN: "pro" or "business"; default pro, as the client
	DailyLimit int64   // ZOOM_DAILY_LIMIT: overrides the plan's daily cap
	Share      float64 // QOSWATCH_BUDGET_SHARE: the share of the cap qoswatch spends, in (0, 1]
	// Horizon: what is above the reserve is spent at most at
	// (left-reserve)/Horizon. Shorter spends faster and thins out sooner.
	Horizon time.Duration
	// Reserve is the share of the budget, in [0, 1), paced evenly over the
	// day so the pace never drops below Total*Reserve/24h. 0 takes the
	// default; a negative value means none.
	Reserve float64
	// Spend persists today's spend; nil keeps it in memory only.
	Spend SpendStore
	// Unlimited ignores the budget: the naive full-sweep baseline of
	// simulate. Never use it against a real account.
	Unlimited bool
}

// resolve fills the defaults and validates.
func (c BudgetConfig) resolve() (BudgetConfig, Limits, error) {
	if c.Plan == "" {
		c.Plan = "pro" // as the client: the cautious limits
	}
	lim, ok := PlanLimits(c.Plan)
	if !ok {
		return c, lim, fmt.Errorf("zoom plan %q: want pro or business", c.Plan)
	}
	if c.DailyLimit < 0 {
		return c, lim, fmt.Errorf("ZOOM_DAILY_LIMIT %d: must not be negative", c.DailyLimit)
	}
	if c.DailyLimit > 0 {
		lim.Daily = int(c.DailyLimit)
	}
	if c.Share == 0 {
		c.Share = DefaultBudgetShare
	}
	if !(c.Share > 0 && c.Share <= 1) {
		return c, lim, fmt.Errorf("QOSWATCH_BUDGET_SHARE %v: must be in (0, 1]", c.Share)
	}
	if c.Horizon == 0 {
		c.Horizon = DefaultBudgetHorizon
	}
	if c.Horizon < time.Minute {
		return c, lim, fmt.Errorf("budget horizon %v: must be at least 1m", c.Horizon)
	}
	switch {
	case c.Reserve == 0:
		c.Reserve = DefaultBudgetReserve
	case c.Reserve < 0:
		c.Reserve = 0
	case !(c.Reserve < 1): // NaN too: it would make every rate NaN
		return c, lim, fmt.Errorf("budget reserve %v: must be below 1", c.Reserve)
	}
	if c.Spend == nil {
		c.Spend = &MemorySpend{}
	}
	return c, lim, nil
}

// untilReset is the time left before Zoom's daily cap resets at 00:00 UTC.
func untilReset(now time.Time) time.Duration {
	u := now.UTC()
	midnight := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
	return midnight.Sub(u)
}

// allowedRate is the calls per second the budget allows now. The reserve
// (reserve*budget, shrinking linearly to the reset) is spread evenly to
// the reset; what is left above it is spread over the shorter of the
// horizon and the time to the reset. Both spans count as at least a
// minute, so the last seconds of the day are no division by almost zero.
// Zero when nothing is left.
func allowedRate(budget, spent int64, now time.Time, horizon time.Duration, reserve float64) float64 {
	left := float64(budget - spent)
	if left <= 0 {
		return 0
	}
	t := max(untilReset(now), time.Minute)
	w := max(min(t, horizon), time.Minute)
	r := min(left, float64(budget)*reserve*t.Hours()/24)
	return (left-r)/w.Seconds() + r/t.Seconds()
}

// Budget tracks today's spend and hands out calls as credit that accrues
// at allowedRate. Unspent credit carries over up to two intervals' worth,
// so a triage that costs more than one minute's allowance still happens,
// every other minute. Safe for concurrent use.
type Budget struct {
	cfg      BudgetConfig
	lim      Limits
	interval time.Duration

	mu       sync.Mutex
	day      time.Time // the UTC day of spent
	spent    int64     // today's spend, including unflushed
	unsaved  int64     // spent but not yet written to the store
	credit   float64
	refilled time.Time
	rate     float64   // the last allowedRate, per second
	blocked  time.Time // Zoom said Daily-limit: no calls before this
}

// NewBudget loads today's spend from cfg.Spend.
func NewBudget(ctx context.Context, cfg BudgetConfig, interval time.Duration, now time.Time) (*Budget, error) {
	cfg, lim, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if interval <= 0 {
		interval = time.Minute
	}
	b := &Budget{cfg: cfg, lim: lim, interval: interval}
	if err := b.load(ctx, now); err != nil { // after interval: load uses it
		return nil, err
	}
	return b, nil
}

func utcDay(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

func (b *Budget) load(ctx context.Context, now time.Time) error {
	day := utcDay(now)
	spent, err := b.cfg.Spend.Spent(ctx, day)
	if err != nil {
		return fmt.Errorf("budget: load the spend of %s: %w", day.Format(time.DateOnly), err)
	}
	b.day, b.spent, b.unsaved = day, spent, 0
	// The first Refill accrues one interval, so the first poll has calls.
	b.credit, b.refilled = 0, now.Add(-b.interval)
	return nil
}

// Limits are the account limits the budget plans with.
func (b *Budget) Limits() Limits { return b.lim }

// Total is qoswatch's share of today's cap.
func (b *Budget) Total() int64 {
	return int64(math.Floor(float64(b.lim.Daily) * b.cfg.Share))
}

// Refill accrues credit up to now and rolls over to a new day at 00:00
// UTC. It returns the credit available: whole calls that may be made now.
func (b *Budget) Refill(ctx context.Context, now time.Time) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !utcDay(now).Equal(b.day) {
		if err := b.flushLocked(ctx); err != nil {
			return 0, err
		}
		if err := b.load(ctx, now); err != nil {
			return 0, err
		}
	}
	if b.cfg.Unlimited {
		b.rate = math.Inf(1)
		return math.MaxInt32, nil
	}
	if now.Before(b.blocked) {
		b.rate, b.credit, b.refilled = 0, 0, now
		return 0, nil
	}
	b.rate = allowedRate(b.Total(), b.spent, now, b.cfg.Horizon, b.cfg.Reserve)
	if dt := now.Sub(b.refilled); dt > 0 {
		b.credit += b.rate * dt.Seconds()
	}
	b.refilled = now
	// Carry at most two intervals, and never more than what is left.
	maxCredit := min(2*b.rate*b.interval.Seconds(), float64(b.Total()-b.spent))
	b.credit = max(0, min(b.credit, maxCredit))
	return int(b.credit), nil
}

// Spend records n calls made (or attempted: Zoom counts a call it
// answered with an error too).
func (b *Budget) Spend(n int) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spent += int64(n)
	b.unsaved += int64(n)
	b.credit -= float64(n)
}

// Block stops all spending until t: Zoom answered Daily-limit, so the
// account's cap is gone whatever our own count says.
func (b *Budget) Block(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.blocked) {
		b.blocked = until
	}
}

// Blocked reports whether Zoom's Daily-limit holds at now (see Block).
func (b *Budget) Blocked(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return now.Before(b.blocked)
}

// Flush writes the unsaved spend to the store.
func (b *Budget) Flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked(ctx)
}

func (b *Budget) flushLocked(ctx context.Context) error {
	if b.unsaved == 0 {
		return nil
	}
	if err := b.cfg.Spend.AddSpent(ctx, b.day, b.unsaved); err != nil {
		return fmt.Errorf("budget: save the spend of %s: %w", b.day.Format(time.DateOnly), err)
	}
	b.unsaved = 0
	return nil
}

// BudgetStats is the budget's state for metrics.
type BudgetStats struct {
	Total         int64   // qoswatch's share of today's cap
	Spent         int64   // spent today
	Left          int64   // Total - Spent, at least 0
	AllowedPerMin float64 // the pace the budget allows now
	Unlimited     bool
}

func (b *Budget) Stats() BudgetStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := BudgetStats{Total: b.Total(), Spent: b.spent, Unlimited: b.cfg.Unlimited}
	s.Left = max(0, s.Total-s.Spent)
	if !math.IsInf(b.rate, 0) {
		s.AllowedPerMin = b.rate * 60
	}
	return s
}
