package poll_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/poll"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// The learned plan's rig: a 1,000-attendee webinar from 14:00 for an
// hour, events flowing (no QSS), ratings off, on an account whose daily
// cap is 3,000 (qoswatch's half: 1,500 calls, the quarter reserve of the
// day's ten hours left: 156). A full sweep costs 100 calls: the budget
// binds, as it does for 10,000 attendees at Business's 60,000.
const (
	learnCap    = 3000
	learnBudget = learnCap / 2
)

func learnWebinar() *zoomtest.Scenario {
	return zoomtest.Generate(zoomtest.Gen{ID: 4242, Start: start, Duration: time.Hour, Participants: 1000, Churn: 0.1, Seed: 7})
}

func learnRig(t *testing.T, history poll.LiveHistory) (*pushRig, *poll.Poller) {
	t.Helper()
	sc := learnWebinar()
	r := newPushRig(t, zoomtest.PushOptions{}, sc)
	r.srv = zoomtest.NewServer(zoomtest.Options{Now: r.clock.Now, Plan: zoomtest.Business, Scenarios: []*zoomtest.Scenario{sc}, NoQualityScores: true})
	r.client(t, learnCap, zoom.QuotaConfig{})
	return r, r.poller(t, poll.Config{Push: r.events, LiveHistory: history})
}

// yesterday is a history whose day before start had a webinar of 1,000
// for an hour.
func yesterday(t *testing.T) *poll.MemoryHistory {
	t.Helper()
	h := &poll.MemoryHistory{}
	if err := h.AddLiveSeconds(context.Background(), start.AddDate(0, 0, -1), 1000*3600); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestLearnedPlanSpendsTheShareOnTheLiveHour: with yesterday's webinar in
// the history and events saying when nothing is live, the hour's webinar
// gets what is above the reserve; with no history the budget spreads over
// the 2h horizon as before and keeps most of it for a day that stays idle.
func TestLearnedPlanSpendsTheShareOnTheLiveHour(t *testing.T) {
	spent := map[string]int64{}
	for _, tc := range []struct {
		name    string
		history poll.LiveHistory
	}{{"history", yesterday(t)}, {"no history", &poll.MemoryHistory{}}, {"no store", nil}} {
		r, p := learnRig(t, tc.history)
		r.run(t, p, time.Hour)
		st := p.Stats()
		spent[tc.name] = st.Quota.DailyUsed
		if st.Quota.DailyUsed > learnBudget {
			t.Errorf("%s: %d calls, over the share of %d", tc.name, st.Quota.DailyUsed, learnBudget)
		}
	}
	// What is above the reserve at 14:00 is 1,500-156. The first 15
	// minutes spend less: the poller learns the head count as its sweep
	// meets the joiners (the live list is asked every 30 minutes), so it
	// plans over fewer participants than there are. At least 60% of it.
	if got, want := spent["history"], int64(6*(learnBudget-156)/10); got < want {
		t.Errorf("with yesterday's webinar learned: %d calls in the live hour, want at least %d", got, want)
	}
	// The horizon spends 1-1/e^(1/2) of it in an hour: about 530.
	for _, name := range []string{"no history", "no store"} {
		if got := spent[name]; got < 450 || got > 650 {
			t.Errorf("%s: %d calls in the live hour, want about 530 (the 2h horizon, as before)", name, got)
		}
	}
}

// TestLearnedPlanKeepsTheReserveForALateWebinar: after the learned hour
// the share is down to its reserve; a second webinar at 20:00, which no
// history foresaw, still gets calls: what the reserve freed since (spent
// over MinLiveSpan), then the reserve's even pace to 00:00 UTC. Its hosts
// and panelists (the watch list) are seen, and the share is never
// exceeded.
func TestLearnedPlanKeepsTheReserveForALateWebinar(t *testing.T) {
	r, p := learnRig(t, yesterday(t))
	late := zoomtest.Generate(zoomtest.Gen{ID: 4343, Start: start.Add(6 * time.Hour), Duration: 30 * time.Minute, Participants: 500, Seed: 8})
	r.srv.Add(late)
	r.run(t, p, 6*time.Hour) // the learned hour, then idle to 20:00
	at20 := p.Stats().Quota
	// The reserve at 20:00: a quarter of the share for the 4 hours left.
	reserve := float64(learnBudget) / 4 * 4 / 24
	if float64(at20.Left) < reserve {
		t.Fatalf("%d calls left at 20:00, want the reserve's %.0f", at20.Left, reserve)
	}
	r.run(t, p, 30*time.Minute)
	used := p.Stats().Quota.DailyUsed
	if used > learnBudget {
		t.Errorf("%d calls today, over the share of %d", used, learnBudget)
	}
	// At least the reserve's pace for the half hour.
	if got, want := used-at20.DailyUsed, int64(reserve/8); got < want {
		t.Errorf("the late webinar got %d calls in its half hour, want at least %d", got, want)
	}
	r.sink.mu.Lock()
	seen := len(r.sink.seen["webinar:4343"])
	r.sink.mu.Unlock()
	if seen == 0 {
		t.Error("nobody of the late webinar seen")
	}
}

// TestLearnedPlanNeedsEvents: without started/ended events the poller
// cannot tell idle time from live time, so the history changes nothing:
// the horizon applies.
func TestLearnedPlanNeedsEvents(t *testing.T) {
	spent := map[bool]int64{}
	for _, history := range []bool{true, false} {
		sc := learnWebinar()
		r := newRig(t, zoomtest.Business, start, sc)
		r.srv = zoomtest.NewServer(zoomtest.Options{Now: r.clock.Now, Plan: zoomtest.Business, Scenarios: []*zoomtest.Scenario{sc}, NoQualityScores: true})
		r.client(t, learnCap, zoom.QuotaConfig{})
		cfg := poll.Config{}
		if history {
			cfg.LiveHistory = yesterday(t)
		}
		p := r.poller(t, cfg)
		r.runFor(t, p, 30*time.Minute, nil)
		spent[history] = p.Stats().Quota.DailyUsed
	}
	if spent[true] != spent[false] {
		t.Errorf("polling alone: %d calls with a history, %d without; want the same", spent[true], spent[false])
	}
}

// TestLearnedPlanRecordsTheLiveTime: the history gets today's live
// participant-seconds, so tomorrow's plan learns from today.
func TestLearnedPlanRecordsTheLiveTime(t *testing.T) {
	h := &poll.MemoryHistory{}
	r, p := learnRig(t, h)
	r.run(t, p, 90*time.Minute)
	got, _ := h.LiveSeconds(context.Background(), start)
	// 1,000 participants for an hour, joins and leaves spread out.
	if got < 750*3600 || got > 1050*3600 {
		t.Errorf("recorded %d participant-seconds for a 1,000-attendee hour", got)
	}
}

// brokenHistory is a LiveHistory whose store fails.
type brokenHistory struct{}

func (brokenHistory) LiveSeconds(context.Context, time.Time) (int64, error) {
	return 0, errors.New("disk on fire")
}

func (brokenHistory) AddLiveSeconds(context.Context, time.Time, int64) error {
	return errors.New("disk on fire")
}

// TestLearnedPlanWithABrokenHistoryStillPolls: a history the store cannot
// read costs the learned plan, not the polling: the horizon applies (the
// same calls as without a history) and the log says why.
func TestLearnedPlanWithABrokenHistoryStillPolls(t *testing.T) {
	spent := map[string]int64{}
	for name, h := range map[string]poll.LiveHistory{"broken": brokenHistory{}, "none": nil} {
		r, p := learnRig(t, h)
		r.run(t, p, 10*time.Minute)
		spent[name] = p.Stats().Quota.DailyUsed
		if name == "broken" && !strings.Contains(r.logs.String(), "disk on fire") {
			t.Error("the log does not say the history failed")
		}
	}
	if spent["broken"] == 0 || spent["broken"] != spent["none"] {
		t.Errorf("a broken history: %d calls in 10 minutes, without one %d; want the same", spent["broken"], spent["none"])
	}
}
