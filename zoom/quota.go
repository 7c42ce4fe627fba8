package zoom

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/qoswatch/qoswatch/engine"
)

// The quota: every Zoom call qoswatch makes is asked of one Quota. It
// knows the plan's per-second rates, the account's daily cap, qoswatch's
// share of it, the calls Zoom has counted today (retries included, across
// restarts), a Daily-limit pause Zoom imposed, and the day boundary. The
// client asks it before each call (pace, then a count against the share);
// the poller's planner reads its credit. Nothing else throttles or counts.

// Category is Zoom's rate-limit label of an API.
type Category uint8

const (
	Light Category = iota
	Medium
	Heavy
	ResourceIntensive
	numCategories
)

var categoryNames = [numCategories]string{"light", "medium", "heavy", "resource_intensive"}

func (c Category) String() string {
	if c < numCategories {
		return categoryNames[c]
	}
	return "unknown"
}

// daily reports whether calls of c count against Zoom's daily cap.
func (c Category) daily() bool { return c == Heavy || c == ResourceIntensive }

// The rate category of each call of the client (Zoom's labels in
// dashboard-metrics.openapi.json).
const (
	ListSourcesCategory     = ResourceIntensive
	ParticipantsCategory    = Heavy
	ParticipantsQoSCategory = Heavy
	ParticipantQoSCategory  = Heavy
)

// Limits are an account plan's rate limits.
// https://developers.zoom.us/docs/api/rest/rate-limits/
type Limits struct {
	Plan              string  // "pro" or "business"
	Light             float64 // requests per second
	Medium            float64 // requests per second
	Heavy             float64 // requests per second
	ResourceIntensive float64 // requests per MINUTE
	Daily             int     // Heavy + Resource-intensive requests per UTC day
}

// The plans' limits. Business covers Business, Education and Enterprise.
var (
	ProLimits      = Limits{Plan: "pro", Light: 30, Medium: 20, Heavy: 10, ResourceIntensive: 10, Daily: 30000}
	BusinessLimits = Limits{Plan: "business", Light: 80, Medium: 60, Heavy: 40, ResourceIntensive: 20, Daily: 60000}
)

// PlanLimits returns the limits of a plan name, case-insensitive.
func PlanLimits(plan string) (Limits, bool) {
	switch strings.ToLower(strings.TrimSpace(plan)) {
	case "pro":
		return ProLimits, true
	case "business", "education", "enterprise", "business+":
		return BusinessLimits, true
	}
	return Limits{}, false
}

// perSecond is the request rate of a category.
func (l Limits) perSecond(c Category) float64 {
	switch c {
	case Light:
		return l.Light
	case Medium:
		return l.Medium
	case Heavy:
		return l.Heavy
	case ResourceIntensive:
		return l.ResourceIntensive / 60
	}
	return 0
}

// rateMargin keeps the pace a little under Zoom's per-second limits, so
// clock skew and network jitter never make a 429.
const rateMargin = 0.95

// DayStart is 00:00 UTC of t's day: Zoom's daily cap resets then. It is
// the one place qoswatch computes the day boundary; the next reset is
// DayStart(t).AddDate(0, 0, 1).
func DayStart(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

// DefaultBudgetShare is the share of the account's daily cap qoswatch
// spends when QOSWATCH_BUDGET_SHARE is not set: half, leaving the other
// half to the account's other apps.
const DefaultBudgetShare = 0.5

// DefaultBudgetHorizon is how far ahead the budget spreads what is left
// of today's share above the reserve.
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
	days map[time.Time]int64
}

var _ SpendStore = (*MemorySpend)(nil)

func (m *MemorySpend) Spent(_ context.Context, day time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.days[DayStart(day)], nil
}

func (m *MemorySpend) AddSpent(_ context.Context, day time.Time, n int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.days == nil {
		m.days = map[time.Time]int64{}
	}
	m.days[DayStart(day)] += n
	return nil
}

// QuotaConfig is qoswatch's share of the account's daily cap and how it
// is paced over the day. Zero values take the defaults.
type QuotaConfig struct {
	Share float64 // QOSWATCH_BUDGET_SHARE: the share of the daily cap qoswatch spends, in (0, 1]; default 0.5
	// Horizon: what is above the reserve is spent at most at
	// (left-reserve)/Horizon. Shorter spends faster and thins out sooner.
	Horizon time.Duration
	// Reserve is the share of the budget, in [0, 1), paced evenly over the
	// day so the pace never drops below Total*Reserve/24h. 0 takes the
	// default; a negative value means none.
	Reserve float64
	// Spend persists today's spend; nil keeps it in memory only.
	Spend SpendStore
}

func (c QuotaConfig) withDefaults() (QuotaConfig, error) {
	if c.Share == 0 {
		c.Share = DefaultBudgetShare
	}
	if !(c.Share > 0 && c.Share <= 1) { // NaN too
		return c, fmt.Errorf("QOSWATCH_BUDGET_SHARE %v: must be in (0, 1]", c.Share)
	}
	if c.Horizon == 0 {
		c.Horizon = DefaultBudgetHorizon
	}
	if c.Horizon < time.Minute {
		return c, fmt.Errorf("budget horizon %v: must be at least 1m", c.Horizon)
	}
	switch {
	case c.Reserve == 0:
		c.Reserve = DefaultBudgetReserve
	case c.Reserve < 0:
		c.Reserve = 0
	case !(c.Reserve < 1): // NaN too: it would make every rate NaN
		return c, fmt.Errorf("budget reserve %v: must be below 1", c.Reserve)
	}
	if c.Spend == nil {
		c.Spend = &MemorySpend{}
	}
	return c, nil
}

// Quota is the one account of Zoom calls (see the top of this file). Safe
// for concurrent use.
type Quota struct {
	lim   Limits
	cfg   QuotaConfig
	total int64 // our share of the daily cap
	clock engine.Clock
	log   *slog.Logger
	pace  [numCategories]*rate.Limiter

	mu        sync.Mutex
	day       time.Time           // DayStart of the day counted
	used      int64               // Heavy + Resource-intensive calls Zoom counted today, by us
	unsaved   map[time.Time]int64 // counted but not yet written to Spend, by day
	pausedTil time.Time           // Zoom answered Daily-limit: no calls before this
	credit    float64             // calls the budget allows now (see Credit)
	refilled  time.Time           // when credit last accrued; zero: a new day
	rate      float64             // the last allowed pace, calls per second
	toldShare time.Time           // the day the spent share was logged
	span      time.Duration       // SpreadOver: what is above the reserve is spread over it; 0: the horizon
}

// newQuota loads today's spend from cfg.Spend.
func newQuota(ctx context.Context, lim Limits, cfg QuotaConfig, clock engine.Clock, log *slog.Logger) (*Quota, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	q := &Quota{lim: lim, cfg: cfg, clock: clock, log: log, unsaved: map[time.Time]int64{},
		total: int64(math.Floor(float64(lim.Daily) * cfg.Share))}
	// A burst of 1 spaces the calls evenly: Zoom counts per second, and a
	// full bucket spent at once followed by the refill would send twice
	// the limit within one second.
	for c := range numCategories {
		q.pace[c] = rate.NewLimiter(rate.Limit(lim.perSecond(c)*rateMargin), 1)
	}
	q.day = DayStart(clock.Now())
	if q.used, err = cfg.Spend.Spent(ctx, q.day); err != nil {
		return nil, fmt.Errorf("budget: load the spend of %s: %w", q.day.Format(time.DateOnly), err)
	}
	return q, nil
}

// Limits are the account's limits: the plan's, with ZOOM_DAILY_LIMIT.
func (q *Quota) Limits() Limits { return q.lim }

// Total is qoswatch's share of the daily cap.
func (q *Quota) Total() int64 { return q.total }

// Spacing is the time between two calls of cat at the pace the quota
// keeps.
func (q *Quota) Spacing(cat Category) time.Duration {
	r := float64(q.pace[cat].Limit())
	if r <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / r)
}

// wait blocks until a call of cat fits the plan's per-second rate.
func (q *Quota) wait(ctx context.Context, cat Category) error {
	now := q.clock.Now()
	r := q.pace[cat].ReserveN(now, 1)
	if !r.OK() {
		return context.DeadlineExceeded // a zero rate: never allowed
	}
	if d := r.DelayFrom(now); d > 0 {
		if err := engine.Sleep(ctx, q.clock, d); err != nil {
			r.CancelAt(q.clock.Now())
			return err
		}
	}
	return nil
}

// roll starts a new count at 00:00 UTC; what the old day counted stays
// unsaved until Flush writes it. Callers hold mu.
func (q *Quota) roll(now time.Time) {
	if day := DayStart(now); !day.Equal(q.day) {
		q.day, q.used = day, 0
		q.credit, q.refilled = 0, time.Time{}
	}
}

// blockedLocked says until when no daily call may be made: Zoom's pause,
// or the share spent (until the reset, said once a day in the log).
// Callers hold mu, after roll.
func (q *Quota) blockedLocked(now time.Time) (until time.Time, zoom, share bool) {
	if now.Before(q.pausedTil) {
		return q.pausedTil, true, false
	}
	if q.used < q.total {
		return time.Time{}, false, false
	}
	until = q.day.AddDate(0, 0, 1)
	if !q.toldShare.Equal(q.day) {
		q.toldShare = q.day
		q.log.Error("qoswatch's share of Zoom's daily cap is spent: Heavy and Resource-intensive calls paused until 00:00 UTC",
			"share", q.total, "daily_limit", q.lim.Daily, "until", until.Format(time.RFC3339))
	}
	return until, false, true
}

// Blocked reports whether Heavy and Resource-intensive calls are held
// now, and until when: Zoom answered Daily-limit, or qoswatch's share of
// today's cap is spent.
func (q *Quota) Blocked() (until time.Time, blocked bool) {
	now := q.clock.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	until, z, s := q.blockedLocked(now)
	return until, z || s
}

// take counts one call of a daily category about to be sent, or says
// until when none may be. It returns the day the call counts on, for
// refund.
func (q *Quota) take() (day, until time.Time, ok bool) {
	now := q.clock.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	if until, _, _ := q.blockedLocked(now); !until.IsZero() {
		return q.day, until, false
	}
	q.used++
	q.unsaved[q.day]++
	q.credit--
	return q.day, time.Time{}, true
}

// refund gives back a call Zoom refused with a 429: Zoom did not count it.
func (q *Quota) refund(day time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if day.Equal(q.day) {
		q.used--
		q.credit++
	}
	q.unsaved[day]--
}

// pause holds every daily call until `until`: Zoom answered Daily-limit.
// It reports whether this started a new pause (to log it once).
func (q *Quota) pause(until time.Time) bool {
	now := q.clock.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	started := !now.Before(q.pausedTil)
	if until.After(q.pausedTil) {
		q.pausedTil = until
	}
	return started
}

// SpreadOver spreads what is left above the reserve over span from now
// on (at most to the reset) instead of the horizon; 0 goes back to the
// horizon. The poller sets it from the live time it expects for the rest
// of the day (poll's learned plan): while events say what is live, idle
// time costs nothing and needs no share.
func (q *Quota) SpreadOver(span time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.span = max(0, span)
}

// allowedRate is the calls per second the budget allows now. The reserve
// (reserve*budget, shrinking linearly to the reset) is spread evenly to
// the reset; what is left above it is spread over the shorter of the
// span (the horizon, or SpreadOver's) and the time to the reset. Both spans count as at least a
// minute, so the last seconds of the day are no division by almost zero.
// Zero when nothing is left.
func allowedRate(budget, spent int64, now time.Time, span time.Duration, reserve float64) float64 {
	left := float64(budget - spent)
	if left <= 0 {
		return 0
	}
	t := max(DayStart(now).AddDate(0, 0, 1).Sub(now), time.Minute)
	w := max(min(t, span), time.Minute)
	r := min(left, float64(budget)*reserve*t.Hours()/24)
	return (left-r)/w.Seconds() + r/t.Seconds()
}

// Credit is the whole calls the budget allows now: credit accrues at the
// budget's pace (see allowedRate) and every call counted spends it.
// Unspent credit carries over up to two windows' worth (never more than
// what is left of the share), so a triage that costs more than one
// window's allowance still happens, every other window. The first Credit
// of a day accrues one window. Zero while Blocked.
func (q *Quota) Credit(window time.Duration) int {
	now := q.clock.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	if until, _, _ := q.blockedLocked(now); !until.IsZero() {
		q.rate, q.credit, q.refilled = 0, 0, now
		return 0
	}
	if q.refilled.IsZero() {
		q.refilled = now.Add(-window)
	}
	span := q.cfg.Horizon
	if q.span > 0 {
		span = q.span
	}
	q.rate = allowedRate(q.total, q.used, now, span, q.cfg.Reserve)
	if dt := now.Sub(q.refilled); dt > 0 {
		q.credit += q.rate * dt.Seconds()
	}
	q.refilled = now
	q.credit = max(0, min(q.credit, 2*q.rate*window.Seconds(), float64(q.total-q.used)))
	return int(q.credit)
}

// Flush writes what was counted and not yet saved to the spend store.
func (q *Quota) Flush(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for day, n := range q.unsaved {
		if n != 0 {
			if err := q.cfg.Spend.AddSpent(ctx, day, n); err != nil {
				return fmt.Errorf("budget: save the spend of %s: %w", day.Format(time.DateOnly), err)
			}
		}
		delete(q.unsaved, day)
	}
	return nil
}

// Health is nil while calls may be made, or says why none are and when
// they resume: for /readyz.
func (q *Quota) Health() error {
	now := q.clock.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	until, zoom, share := q.blockedLocked(now)
	when := fmt.Sprintf("paused until %s (in %s)", untilText(until), roughly(until.Sub(now)))
	switch {
	case zoom:
		return fmt.Errorf("Zoom daily limit reached (a Daily-limit 429); %s", when)
	case share:
		return fmt.Errorf("qoswatch's share of Zoom's daily cap (%d of %d calls) is spent; %s", q.total, q.lim.Daily, when)
	}
	return nil
}

// untilText is "00:00 UTC" for a reset, else the RFC 3339 time.
func untilText(t time.Time) string {
	if t.Equal(DayStart(t)) {
		return "00:00 UTC"
	}
	return t.UTC().Format(time.RFC3339)
}

// roughly is d to the minute: "3h12m".
func roughly(d time.Duration) string {
	if d < time.Minute {
		return "under a minute"
	}
	s := strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// QuotaStats is the quota's state for metrics.
type QuotaStats struct {
	DailyLimit     int       // the account's daily cap (ZOOM_PLAN, ZOOM_DAILY_LIMIT)
	DailyUsed      int64     // Heavy + Resource-intensive calls Zoom counted today (UTC), ours
	DailyRemaining int64     // DailyLimit - DailyUsed, at least 0; 0 while Zoom's pause holds
	PausedUntil    time.Time // end of Zoom's Daily-limit pause; zero when none holds now

	Total         int64   // qoswatch's share of today's cap
	Left          int64   // Total - DailyUsed, at least 0
	AllowedPerMin float64 // the pace the budget allows now (as of the last Credit)
}

func (q *Quota) Stats() QuotaStats {
	now := q.clock.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	s := QuotaStats{DailyLimit: q.lim.Daily, DailyUsed: q.used, Total: q.total, AllowedPerMin: q.rate * 60}
	s.DailyRemaining = max(0, int64(q.lim.Daily)-q.used)
	s.Left = max(0, q.total-q.used)
	if now.Before(q.pausedTil) {
		s.PausedUntil, s.DailyRemaining = q.pausedTil, 0
	}
	return s
}
