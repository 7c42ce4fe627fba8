package poll

import (
	"context"
	"fmt"
	"time"

	"github.com/qoswatch/qoswatch/zoom"
)

// The learned plan: how much of the day's share to spend on the webinar
// live now, and how much to hold back for those still to come today.
//
// Without events, qoswatch cannot tell idle time from live time before it
// pays a listing, so the quota spreads what is left over a fixed horizon
// (2h) as if a webinar could be live at any time. While started/ended
// events flow, idle time costs nothing: the share only needs to last the
// live time still to come today. The poller records, per UTC day, the
// live participant-seconds it polled (participants present in the
// sources it polls, QSS-fed ones excluded, times the time), and expects
// the rest of today to hold the busiest of the last HistoryDays days
// minus what today has had so far. It asks the quota to spread what is
// above the reserve over that time, at today's load:
//
//	span = (busiest day - today so far) / participants polled now
//
// never below MinLiveSpan. With no history or no events, the horizon
// applies as before. The quota's reserve (a quarter of the share, paced
// over the whole day) is never part of the span: a webinar that starts
// after the expected live time was spent still gets it.

// HistoryDays is how many past days the learned plan remembers: a week,
// so a weekly rhythm (a Tuesday webinar, quiet weekends) is in it.
const HistoryDays = 7

// MinLiveSpan is the least span the learned plan asks for: when today
// has already been as busy as the busiest day remembered, what is left
// above the reserve is spent over the next 10 minutes at most, not at
// once.
const MinLiveSpan = 10 * time.Minute

// LiveHistory keeps, per UTC day, the live participant-seconds the
// poller polled (day is any instant of that UTC day). The store
// implements it in bbolt, keeping HistoryDays and today.
type LiveHistory interface {
	LiveSeconds(ctx context.Context, day time.Time) (int64, error)
	AddLiveSeconds(ctx context.Context, day time.Time, n int64) error
}

// MemoryHistory is a LiveHistory in memory, for simulate and tests: a
// day counter like the quota's spend.
type MemoryHistory struct{ days zoom.MemorySpend }

var _ LiveHistory = (*MemoryHistory)(nil)

func (m *MemoryHistory) LiveSeconds(ctx context.Context, day time.Time) (int64, error) {
	return m.days.Spent(ctx, day)
}

func (m *MemoryHistory) AddLiveSeconds(ctx context.Context, day time.Time, n int64) error {
	return m.days.AddSpent(ctx, day, n)
}

// liveHistory is what the poller knows of live time per day. Guarded by
// the poll loop (one interval at a time).
type liveHistory struct {
	store    LiveHistory
	day      time.Time // DayStart of today, as loaded
	busiest  int64     // the busiest of the HistoryDays days before day
	today    int64
	recorded time.Time // when today's count was last added to
}

// load reads the days before day and today's count, once a day.
func (h *liveHistory) load(ctx context.Context, day time.Time) error {
	if h.day.Equal(day) {
		return nil
	}
	busiest := int64(0)
	for d := 1; d <= HistoryDays; d++ {
		n, err := h.store.LiveSeconds(ctx, day.AddDate(0, 0, -d))
		if err != nil {
			return fmt.Errorf("live history: %w", err)
		}
		busiest = max(busiest, n)
	}
	today, err := h.store.LiveSeconds(ctx, day)
	if err != nil {
		return fmt.Errorf("live history: %w", err)
	}
	h.day, h.busiest, h.today = day, busiest, today
	return nil
}

// record adds load participants polled since the last record (at most
// interval: an interval woken early counts its own time) to today.
func (h *liveHistory) record(ctx context.Context, now time.Time, load int, interval time.Duration) error {
	dt := interval
	if !h.recorded.IsZero() {
		dt = min(now.Sub(h.recorded), interval)
	}
	h.recorded = now
	n := int64(load) * int64(dt/time.Second)
	if n <= 0 {
		return nil
	}
	if err := h.store.AddLiveSeconds(ctx, now, n); err != nil {
		return fmt.Errorf("live history: %w", err)
	}
	h.today += n
	return nil
}

// span is how long what is above the reserve should last at load
// participants: the live time today is still expected to hold. 0 when
// nothing is learned (no day in the history had live time).
func (h *liveHistory) span(load int) time.Duration {
	if h.busiest <= 0 || load <= 0 {
		return 0
	}
	ahead := time.Duration(max(0, h.busiest-h.today)/int64(load)) * time.Second
	return max(ahead, MinLiveSpan)
}

// planSpend records this interval's live load and tells the quota how
// long what is above its reserve must last: the learned span while
// started/ended events say what is live, else the horizon (span 0). A
// history the store cannot read or write costs the plan, not the
// interval: the horizon applies, the error is logged and counted.
func (p *Poller) planSpend(ctx context.Context, now time.Time, srcs []*pollSource) {
	if p.history == nil {
		return
	}
	load := 0
	p.mu.Lock()
	for _, s := range srcs {
		load += s.present()
	}
	p.mu.Unlock()
	span, err := p.learnedSpan(ctx, now, load)
	if err != nil && ctx.Err() == nil {
		p.errs.Add(1)
		p.log.Error("the learned budget plan: spreading the budget over the horizon instead", "error", err)
	}
	p.quota.SpreadOver(span)
}

// learnedSpan records load and returns the span to spread the budget
// over (0: the horizon).
func (p *Poller) learnedSpan(ctx context.Context, now time.Time, load int) (time.Duration, error) {
	h := p.history
	if err := h.load(ctx, zoom.DayStart(now)); err != nil {
		return 0, err
	}
	if load == 0 {
		h.recorded = time.Time{}
		return 0, nil
	}
	if err := h.record(ctx, now, load, p.cfg.Interval); err != nil {
		return 0, err
	}
	if p.cfg.Push == nil {
		return 0, nil
	}
	if _, flowing := p.cfg.Push.Lifecycle(); !flowing || now.Before(p.distrustUntil) {
		return 0, nil
	}
	return h.span(load), nil
}
