package zoom

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/internal/fakeclock"
)

func TestQuotaConfigDefaultsAndErrors(t *testing.T) {
	c, err := QuotaConfig{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Share != DefaultBudgetShare || c.Horizon != DefaultBudgetHorizon || c.Reserve != DefaultBudgetReserve || c.Spend == nil {
		t.Errorf("defaults: %+v", c)
	}
	for _, tc := range []struct {
		cfg  QuotaConfig
		want string
	}{
		{QuotaConfig{Share: 1.5}, "QOSWATCH_BUDGET_SHARE"},
		{QuotaConfig{Share: -0.1}, "QOSWATCH_BUDGET_SHARE"},
		{QuotaConfig{Share: math.NaN()}, "QOSWATCH_BUDGET_SHARE"},
		{QuotaConfig{Horizon: time.Second}, "horizon"},
		{QuotaConfig{Reserve: 1}, "reserve"},
		{QuotaConfig{Reserve: math.NaN()}, "reserve"},
	} {
		if _, err := tc.cfg.withDefaults(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: want an error naming %s, got %v", tc.cfg, tc.want, err)
		}
	}
}

func TestDayStart(t *testing.T) {
	for _, tc := range []struct{ now, want string }{
		{"2026-11-28T23:00:00Z", "2026-11-28T00:00:00Z"},
		{"2026-11-28T00:00:00Z", "2026-11-28T00:00:00Z"},
		{"2026-11-28T01:30:00+02:00", "2026-11-27T00:00:00Z"}, // 23:30 UTC the day before
		{"2026-12-31T23:59:59Z", "2026-12-31T00:00:00Z"},
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		if got := DayStart(now).Format(time.RFC3339); got != tc.want {
			t.Errorf("DayStart(%s) = %s, want %s", tc.now, got, tc.want)
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

// SpreadOver: the poller's learned plan spreads what is above the reserve
// over the live time it expects (an hour here) instead of the horizon;
// 0 goes back to the horizon, and the reset still bounds the span.
func TestQuotaSpreadOver(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	clock := fakeclock.NewManual(t0)
	q := newTestQuota(t, BusinessLimits, QuotaConfig{Share: 0.5, Reserve: -1}, clock, nil)
	for _, tc := range []struct {
		span time.Duration
		want int
	}{
		{time.Hour, 500},              // 30,000 over the hour
		{0, 250},                      // the 2h horizon
		{48 * time.Hour, 30000 / 600}, // never past the reset, 10h away
	} {
		q.SpreadOver(tc.span)
		q.Credit(time.Minute)
		if got := int(math.Round(q.Stats().AllowedPerMin)); got != tc.want {
			t.Errorf("SpreadOver(%v): %d calls/min, want %d", tc.span, got, tc.want)
		}
	}
}

func newTestQuota(t *testing.T, lim Limits, cfg QuotaConfig, clock *fakeclock.Manual, logs *bytes.Buffer) *Quota {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if logs != nil {
		log = slog.New(slog.NewTextHandler(logs, nil))
	}
	q, err := newQuota(context.Background(), lim, cfg, clock, log)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// spend makes n calls' worth of counts, as the client does before each
// Heavy call.
func spend(t *testing.T, q *Quota, n int) {
	t.Helper()
	for range n {
		if _, until, ok := q.take(); !ok {
			t.Fatalf("refused until %v", until)
		}
	}
}

func TestQuotaCreditAccruesAndCarries(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	clock := fakeclock.NewManual(t0)
	q := newTestQuota(t, BusinessLimits, QuotaConfig{Share: 0.5, Reserve: -1}, clock, nil)
	// The first poll has one interval's worth: 250 calls a minute.
	if n := q.Credit(time.Minute); n != 250 {
		t.Fatalf("credit at start: %d, want 250", n)
	}
	spend(t, q, 250)
	clock.Advance(time.Minute)
	if n := q.Credit(time.Minute); n != 29750/120 {
		t.Fatalf("after a minute: %d, want %d", n, 29750/120)
	}
	spend(t, q, 200)
	// Ten idle minutes carry at most two minutes' worth.
	clock.Advance(10 * time.Minute)
	n := q.Credit(time.Minute)
	if want := 2 * 29550 / 120; n < want-1 || n > want {
		t.Fatalf("carried credit %d, want about %d", n, want)
	}
	if s := q.Stats(); s.DailyUsed != 450 || s.Left != 29550 || s.Total != 30000 || s.DailyRemaining != 60000-450 {
		t.Errorf("stats %+v", s)
	}
}

// Spending every call the budget allows, all day, never spends more than
// the share and never goes blind: the last minute of the day still has
// calls, and the pace thins out smoothly (no minute drops by more than a
// few percent against the one before).
func TestQuotaNeverEndsTheDayEarly(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	clock := fakeclock.NewManual(t0)
	q := newTestQuota(t, BusinessLimits, QuotaConfig{Share: 0.5}, clock, nil)
	prev, total := -1, 0
	for m := 0; m < 24*60; m++ {
		clock.Set(t0.Add(time.Duration(m) * time.Minute))
		n := q.Credit(time.Minute)
		if n == 0 {
			t.Fatalf("minute %d: no calls left", m)
		}
		if prev > 0 && float64(n) < 0.95*float64(prev)-2 { // -2: whole calls from fractional credit
			t.Fatalf("minute %d: %d calls after %d: not smooth", m, n, prev)
		}
		prev = n
		spend(t, q, n)
		total += n
	}
	if total > 30000 {
		t.Fatalf("spent %d, over the share of 30000", total)
	}
	if total < 29000 {
		t.Errorf("spent %d of 30000: the day ended with most of the budget unused", total)
	}
}

// What was spent survives a restart the same day; at 00:00 UTC the count
// starts again, and what the old day spent is still saved to the old day.
func TestQuotaPersistsAcrossRestartAndRollsOver(t *testing.T) {
	ctx := context.Background()
	store := &MemorySpend{}
	t0 := time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC)
	clock := fakeclock.NewManual(t0)
	q := newTestQuota(t, ProLimits, QuotaConfig{Spend: store}, clock, nil)
	spend(t, q, 1234)
	if err := q.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	q2 := newTestQuota(t, ProLimits, QuotaConfig{Spend: store}, clock, nil)
	if s := q2.Stats(); s.DailyUsed != 1234 || s.Left != 15000-1234 || s.DailyRemaining != 30000-1234 {
		t.Fatalf("after restart: %+v", s)
	}
	spend(t, q2, 6)
	clock.Advance(time.Hour) // 00:00 UTC
	if s := q2.Stats(); s.DailyUsed != 0 || s.Left != 15000 {
		t.Fatalf("new day: %+v", s)
	}
	spend(t, q2, 2)
	if err := q2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Spent(ctx, t0); got != 1240 {
		t.Errorf("old day in the store: %d, want 1240", got)
	}
	if got, _ := store.Spent(ctx, clock.Now()); got != 2 {
		t.Errorf("new day in the store: %d, want 2", got)
	}
}

// Zoom's Daily-limit holds every call until it ends, and Health says so
// with the resume time; then calls resume.
func TestQuotaPausedByZoomsDailyLimit(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 20, 48, 0, 0, time.UTC)
	clock := fakeclock.NewManual(t0)
	q := newTestQuota(t, BusinessLimits, QuotaConfig{}, clock, nil)
	if err := q.Health(); err != nil {
		t.Fatalf("health before: %v", err)
	}
	if !q.pause(DayStart(t0).AddDate(0, 0, 1)) || q.pause(DayStart(t0).AddDate(0, 0, 1)) {
		t.Error("pause: want a new pause once, then the same one")
	}
	if n := q.Credit(time.Minute); n != 0 {
		t.Errorf("paused: credit %d", n)
	}
	if _, _, ok := q.take(); ok {
		t.Error("paused: a call was allowed")
	}
	err := q.Health()
	if want := "Zoom daily limit reached (a Daily-limit 429); paused until 00:00 UTC (in 3h12m)"; err == nil || err.Error() != want {
		t.Errorf("health: %v, want %q", err, want)
	}
	if s := q.Stats(); s.DailyRemaining != 0 || !s.PausedUntil.Equal(DayStart(t0).AddDate(0, 0, 1)) {
		t.Errorf("stats while paused: %+v", s)
	}
	clock.Set(DayStart(t0).AddDate(0, 0, 1).Add(time.Minute))
	if err := q.Health(); err != nil {
		t.Errorf("health after the reset: %v", err)
	}
	if n := q.Credit(time.Minute); n == 0 {
		t.Error("after the reset: no credit")
	}
	if s := q.Stats(); !s.PausedUntil.IsZero() {
		t.Errorf("pause still reported after it ended: %+v", s)
	}
}

// The share is a hard cap: no call beyond it whatever the caller planned
// (retries included), said once in the log and in Health until 00:00 UTC.
func TestQuotaShareIsAHardCap(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC)
	clock := fakeclock.NewManual(t0)
	logs := &bytes.Buffer{}
	lim := ProLimits
	lim.Daily = 10
	q := newTestQuota(t, lim, QuotaConfig{Share: 0.5}, clock, logs)
	spend(t, q, 5)
	for range 3 {
		if _, until, ok := q.take(); ok || !until.Equal(DayStart(t0).AddDate(0, 0, 1)) {
			t.Fatalf("a 6th call of a share of 5: ok %v until %v", ok, until)
		}
	}
	if n := strings.Count(logs.String(), "share of Zoom's daily cap is spent"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs)
	}
	if until, blocked := q.Blocked(); !blocked || !until.Equal(DayStart(t0).AddDate(0, 0, 1)) {
		t.Errorf("Blocked: %v %v", until, blocked)
	}
	want := "qoswatch's share of Zoom's daily cap (5 of 10 calls) is spent; paused until 00:00 UTC (in 1h)"
	if err := q.Health(); err == nil || err.Error() != want {
		t.Errorf("health: %v, want %q", err, want)
	}
	// A 429 is given back: Zoom did not count it.
	day := DayStart(t0)
	q.refund(day)
	if s := q.Stats(); s.DailyUsed != 4 {
		t.Errorf("after a refund: %+v", s)
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
	if _, ok := PlanLimits("free"); ok {
		t.Error("free plan: want not ok")
	}
}

// The pace is the plan's per-second limit less the margin: 38 Heavy calls
// a second on Business, one Resource-intensive call every 3.16 s.
func TestQuotaSpacing(t *testing.T) {
	q := newTestQuota(t, BusinessLimits, QuotaConfig{}, fakeclock.NewManual(time.Now()), nil)
	sec := float64(time.Second)
	if got, want := q.Spacing(Heavy), time.Duration(sec/38); got != want {
		t.Errorf("Heavy spacing %v, want %v", got, want)
	}
	if got, want := q.Spacing(ResourceIntensive), time.Duration(60*sec/19); got != want {
		t.Errorf("Resource-intensive spacing %v, want %v", got, want)
	}
}
