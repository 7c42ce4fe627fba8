package zoom

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

func TestBudgetConfigResolve(t *testing.T) {
	c, l, err := BudgetConfig{Plan: "pro", DailyLimit: 1000}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if l.Daily != 1000 || c.Share != DefaultBudgetShare || c.Horizon != DefaultBudgetHorizon || l.Heavy != 10 {
		t.Errorf("defaults: %+v %+v", c, l)
	}
	for _, tc := range []struct {
		cfg  BudgetConfig
		want string
	}{
		{BudgetConfig{Share: 1.5}, "QOSWATCH_BUDGET_SHARE"},
		{BudgetConfig{Share: -0.1}, "QOSWATCH_BUDGET_SHARE"},
		{BudgetConfig{DailyLimit: -1}, "ZOOM_DAILY_LIMIT"},
		{BudgetConfig{Plan: "basic"}, "basic"},
		{BudgetConfig{Horizon: time.Second}, "horizon"},
		{BudgetConfig{Reserve: 1}, "reserve"},
		{BudgetConfig{Reserve: math.NaN()}, "reserve"},
		{BudgetConfig{Share: math.NaN()}, "QOSWATCH_BUDGET_SHARE"},
	} {
		if _, _, err := tc.cfg.resolve(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: want an error naming %s, got %v", tc.cfg, tc.want, err)
		}
	}
}

func TestUntilReset(t *testing.T) {
	for _, tc := range []struct {
		now  string
		want time.Duration
	}{
		{"2026-11-28T23:00:00Z", time.Hour},
		{"2026-11-28T00:00:00Z", 24 * time.Hour},
		{"2026-11-28T10:30:00+02:00", 15*time.Hour + 30*time.Minute}, // 08:30 UTC
		{"2026-12-31T23:59:30Z", 30 * time.Second},
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		if got := untilReset(now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.now, got, tc.want)
		}
	}
}

func TestAllowedRate(t *testing.T) {
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	for _, tc := range []struct {
		name          string
		budget, spent int64
		now           time.Time
		reserve       float64
		perMinute     float64
	}{
		// Half of Business's 60,000, a morning webinar: spread over the 2h horizon.
		{"morning", 30000, 0, at("2026-11-28T10:00:00Z"), 0, 250},
		{"half spent", 30000, 15000, at("2026-11-28T10:00:00Z"), 0, 125},
		// A quarter reserve, 14h to the reset: 4375 kept for an even pace.
		{"morning, reserve", 30000, 0, at("2026-11-28T10:00:00Z"), 0.25, 25625.0/120 + 4375.0/840},
		// Only the reserve left: paced evenly to the reset.
		{"reserve only", 30000, 28000, at("2026-11-28T00:00:00Z"), 0.25, 2000.0 / 1440},
		// 30 minutes to the reset: what is left may go in those 30 minutes.
		{"before reset", 30000, 0, at("2026-11-28T23:30:00Z"), 0, 1000},
		{"before reset, reserve", 30000, 0, at("2026-11-28T23:30:00Z"), 0.25, 1000},
		// The last seconds count as a minute.
		{"last seconds", 30000, 29000, at("2026-11-28T23:59:50Z"), 0.25, 1000},
		{"spent", 30000, 30000, at("2026-11-28T10:00:00Z"), 0.25, 0},
		{"overspent", 30000, 31000, at("2026-11-28T10:00:00Z"), 0.25, 0},
	} {
		got := allowedRate(tc.budget, tc.spent, tc.now, 2*time.Hour, tc.reserve) * 60
		if math.Abs(got-tc.perMinute) > 1e-9 {
			t.Errorf("%s: %v calls/min, want %v", tc.name, got, tc.perMinute)
		}
	}
}

func newTestBudget(t *testing.T, cfg BudgetConfig, now time.Time) *Budget {
	t.Helper()
	b, err := NewBudget(context.Background(), cfg, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBudgetCreditAccruesAndCarries(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	b := newTestBudget(t, BudgetConfig{Plan: "business", Share: 0.5, Reserve: -1}, t0)
	// The first poll has one interval's worth: 250 calls a minute.
	if n, _ := b.Refill(ctx, t0); n != 250 {
		t.Fatalf("credit at start: %d, want 250", n)
	}
	b.Spend(250)
	if n, _ := b.Refill(ctx, t0.Add(time.Minute)); n != 29750/120 {
		t.Fatalf("after a minute: %d, want %d", n, 29750/120)
	}
	b.Spend(200)
	// Ten idle minutes carry at most two minutes' worth.
	n, _ := b.Refill(ctx, t0.Add(11*time.Minute))
	if want := 2 * 29550 / 120; n < want-1 || n > want {
		t.Fatalf("carried credit %d, want about %d", n, want)
	}
	if s := b.Stats(); s.Spent != 450 || s.Left != 29550 || s.Total != 30000 {
		t.Errorf("stats %+v", s)
	}
}

// Spending every call the budget allows, all day, never spends more than
// the share and never goes blind: the last minute of the day still has
// calls, and the pace thins out smoothly (no minute drops by more than a
// few percent against the one before).
func TestBudgetNeverEndsTheDayEarly(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	b := newTestBudget(t, BudgetConfig{Plan: "business", Share: 0.5}, t0)
	prev, total := -1, 0
	for m := 0; m < 24*60; m++ {
		n, err := b.Refill(ctx, t0.Add(time.Duration(m)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("minute %d: no calls left", m)
		}
		if prev > 0 && float64(n) < 0.95*float64(prev)-2 { // -2: whole calls from fractional credit
			t.Fatalf("minute %d: %d calls after %d: not smooth", m, n, prev)
		}
		prev = n
		b.Spend(n)
		total += n
	}
	if total > 30000 {
		t.Fatalf("spent %d, over the share of 30000", total)
	}
	if total < 29000 {
		t.Errorf("spent %d of 30000: the day ended with most of the budget unused", total)
	}
}

func TestBudgetPersistsAcrossRestartAndRollsOver(t *testing.T) {
	ctx := context.Background()
	store := &MemorySpend{}
	t0 := time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC)
	b := newTestBudget(t, BudgetConfig{Plan: "pro", Spend: store}, t0)
	b.Spend(1234)
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// A restart the same day starts from what was spent.
	b2 := newTestBudget(t, BudgetConfig{Plan: "pro", Spend: store}, t0.Add(time.Hour))
	if s := b2.Stats(); s.Spent != 1234 || s.Left != 15000-1234 {
		t.Fatalf("after restart: %+v", s)
	}
	b2.Spend(6)
	// Midnight UTC: the unsaved spend goes to the old day, the new day starts at 0.
	if _, err := b2.Refill(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s := b2.Stats(); s.Spent != 0 {
		t.Fatalf("new day: %+v", s)
	}
	if got, _ := store.Spent(ctx, t0); got != 1240 {
		t.Errorf("old day in the store: %d, want 1240", got)
	}
}

func TestBudgetBlockedByDailyLimit(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	b := newTestBudget(t, BudgetConfig{}, t0)
	b.Refill(ctx, t0)
	b.Block(t0.Add(5 * time.Minute))
	if n, _ := b.Refill(ctx, t0.Add(4*time.Minute)); n != 0 {
		t.Fatalf("blocked: %d calls", n)
	}
	if n, _ := b.Refill(ctx, t0.Add(6*time.Minute)); n == 0 {
		t.Fatalf("after the block: no calls")
	}
}

func TestPlanLimits(t *testing.T) {
	for _, tc := range []struct {
		plan  string
		daily int
		heavy float64
		res   float64
	}{
		{"pro", 30000, 10, 10},
		{"Business", 60000, 40, 20},
		{"enterprise", 60000, 40, 20},
		{"education", 60000, 40, 20},
	} {
		l, ok := PlanLimits(tc.plan)
		if !ok || l.Daily != tc.daily || l.Heavy != tc.heavy || l.ResourceIntensive != tc.res {
			t.Errorf("%s: got %+v, %v", tc.plan, l, ok)
		}
	}
	if _, _, err := (BudgetConfig{Plan: "free"}).resolve(); err == nil || !strings.Contains(err.Error(), `"free"`) {
		t.Errorf("free plan: want an error naming it, got %v", err)
	}
}
