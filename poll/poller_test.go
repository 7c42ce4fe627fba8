package poll_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
	"github.com/qoswatch/qoswatch/poll"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// recorder is a Sink that keeps what it was given.
type recorder struct {
	mu      sync.Mutex
	batches int
	seen    map[string]map[string]time.Time // source key -> participant key -> poll time of the last sample
	ended   []engine.Source
	past    int // samples of ended sources (type=past)
	now     func() time.Time
}

func (r *recorder) Ingest(_ context.Context, batch []engine.Sample) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches++
	if r.seen == nil {
		r.seen = map[string]map[string]time.Time{}
	}
	for _, s := range batch {
		if !s.Source.Live {
			r.past++
		}
		k := s.Source.Key()
		if r.seen[k] == nil {
			r.seen[k] = map[string]time.Time{}
		}
		r.seen[k][s.Participant.Key()] = r.now()
	}
	return nil
}

func (r *recorder) EndSource(_ context.Context, src engine.Source, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = append(r.ended, src)
	return nil
}

// rig is a fake Zoom, a client and the clock they share. Time moves only
// when the client or the poller waits, so an hour of polling takes
// milliseconds.
type rig struct {
	clock *fakeclock.Stepping
	plan  zoomtest.Plan
	srv   *zoomtest.Server
	c     *zoom.Client
	sink  *recorder
	logs  *syncbuf.Buffer // the client's and the poller's log
}

func newRig(t *testing.T, plan zoomtest.Plan, start time.Time, scs ...*zoomtest.Scenario) *rig {
	t.Helper()
	clock := fakeclock.NewStepping(start)
	srv := zoomtest.NewServer(zoomtest.Options{Now: clock.Now, Plan: plan, Scenarios: scs})
	r := &rig{clock: clock, plan: plan, srv: srv, sink: &recorder{now: clock.Now}, logs: &syncbuf.Buffer{}}
	r.client(t, 0, zoom.QuotaConfig{})
	return r
}

// client (re)makes the rig's client with a daily limit (0: the plan's)
// and a quota, as a restart would.
func (r *rig) client(t *testing.T, dailyLimit int, q zoom.QuotaConfig) {
	t.Helper()
	c, err := zoom.NewClient(zoom.Config{
		APIURL: "https://api.zoom.test/v2", OAuthURL: "https://zoom.test/oauth/token",
		AccountID: r.srv.AccountID, ClientID: r.srv.ClientID, ClientSecret: r.srv.ClientSecret,
		Plan: string(r.plan), DailyLimit: dailyLimit, Quota: q, HTTPClient: r.srv.HTTPClient(), Clock: r.clock,
		Logger: slog.New(slog.NewTextHandler(r.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.c = c
}

func (r *rig) poller(t *testing.T, cfg poll.Config) *poll.Poller {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = r.clock
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	cfg.Logger = slog.New(slog.NewTextHandler(r.logs, nil))
	p, err := poll.New(r.c, cfg, r.sink)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runFor polls once an interval until the clock passes end.
func (r *rig) runFor(t *testing.T, p *poll.Poller, d time.Duration, each func(poll.Stats)) {
	t.Helper()
	ctx := context.Background()
	end := r.clock.Now().Add(d)
	for r.clock.Now().Before(end) {
		start := r.clock.Now()
		if err := p.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		if each != nil {
			each(p.Stats())
		}
		if next := start.Add(time.Minute); r.clock.Now().Before(next) {
			r.clock.Set(next)
		}
	}
}

var start = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

// 100 attendees on Pro: every participant present is seen every minute,
// within Zoom's limits.
func TestPollerSeesEveryoneOfASmallWebinarEveryMinute(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 100, Start: start, Duration: time.Hour, Degraded: 0.05, Churn: 0.1, Seed: 1})
	r := newRig(t, zoomtest.Pro, start, sc)
	p := r.poller(t, poll.Config{CoverageWindow: time.Minute})
	key := "webinar:" + itoa(sc.ID)
	minute := 0
	r.runFor(t, p, 40*time.Minute, func(st poll.Stats) {
		minute++
		if minute < 6 { // attendees join over the first five minutes
			return
		}
		if st.Mode != "full" {
			t.Errorf("minute %d: mode %q, want full", minute, st.Mode)
		}
		if len(st.Sources) != 1 || st.Sources[0].Share != 1 || st.Sources[0].OldestView > time.Minute {
			t.Errorf("minute %d: coverage %+v, want everyone seen within the minute", minute, st.Sources)
		}
		// What the sink got, against the scenario: everyone present now.
		now := r.clock.Now()
		r.sink.mu.Lock()
		for _, pt := range sc.Participants {
			off := now.Sub(start)
			if off < pt.Join+2*time.Minute || (pt.Leave > 0 && off >= pt.Leave) {
				continue
			}
			if last := r.sink.seen[key][pt.UserID]; now.Sub(last) > time.Minute {
				t.Errorf("minute %d: %s last seen %v ago", minute, pt.UserID, now.Sub(last))
			}
		}
		r.sink.mu.Unlock()
	})
	zs := r.srv.Stats()
	if zs.Throttled[zoom.Heavy] != 0 || zs.DailyLimited != 0 {
		t.Errorf("429s: %+v daily %d", zs.Throttled, zs.DailyLimited)
	}
}

// A budget far too small for the webinar: the poller degrades (once, with
// a log line), keeps looking at the watch list every minute, never spends
// more than its share, and is still calling in the last minute.
func TestPollerDegradesNearTheCap(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 3000, Start: start, Duration: 3 * time.Hour, Degraded: 0.02, Seed: 2})
	r := newRig(t, zoomtest.Business, start, sc)
	// 2,000 calls a day, half of it ours, from 14:00: about 0.7 a minute of reserve.
	r.client(t, 2000, zoom.QuotaConfig{Share: 0.5})
	p := r.poller(t, poll.Config{})
	var last poll.Stats
	lastCalls := int64(0)
	r.runFor(t, p, 3*time.Hour, func(st poll.Stats) {
		if st.Quota.DailyUsed > st.Quota.Total {
			t.Fatalf("spent %d of %d", st.Quota.DailyUsed, st.Quota.Total)
		}
		last = st
	})
	if !last.Degraded || last.Mode != "degraded" {
		t.Errorf("mode %q degraded %v, want degraded", last.Mode, last.Degraded)
	}
	if n := strings.Count(r.logs.String(), "coverage degraded"); n != 1 {
		t.Errorf("%d degraded log lines, want 1:\n%s", n, r.logs.String())
	}
	if last.Quota.Left == 0 {
		t.Errorf("budget used up before the day ended: %+v", last.Quota)
	}
	for _, n := range last.Calls {
		lastCalls += n
	}
	// Still polling near the end: one more hour costs something.
	r.runFor(t, p, time.Hour, nil)
	more := int64(0)
	for _, n := range p.Stats().Calls {
		more += n
	}
	if more == lastCalls {
		t.Errorf("no call in the last hour: blind")
	}
	if zs := r.srv.Stats(); zs.Throttled[zoom.Heavy] != 0 || zs.DailyLimited != 0 {
		t.Errorf("429s: %+v daily %d", zs.Throttled, zs.DailyLimited)
	}
}

// A source that ends answers 3001 and leaves the live list: with budget
// to spare, its past QoS is read once more (to close alerts on their last
// minutes), then the sink hears EndSource once.
func TestPollerEndsASourceThatEnds(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 50, Start: start, Duration: 10 * time.Minute, Seed: 3})
	r := newRig(t, zoomtest.Pro, start, sc)
	p := r.poller(t, poll.Config{Sources: []string{"webinar:" + itoa(sc.ID)}})
	// Long enough for the ended source to be probed again (every 10m).
	r.runFor(t, p, 45*time.Minute, nil)
	if len(r.sink.ended) != 1 || r.sink.ended[0].ID != itoa(sc.ID) || r.sink.ended[0].Live {
		t.Fatalf("ended %+v, want webinar %d once", r.sink.ended, sc.ID)
	}
	st := p.Stats()
	if len(st.Sources) != 0 || st.Mode != "idle" {
		t.Errorf("still watching %+v (mode %q)", st.Sources, st.Mode)
	}
	if _, ok := r.sink.seen["webinar:"]; ok {
		t.Errorf("samples without the source's id: %v", r.sink.seen)
	}
	if st.Calls["past"] != 5 || r.sink.past == 0 {
		t.Errorf("past sweep: %d calls, %d samples; want 5 pages of 50 participants", st.Calls["past"], r.sink.past)
	}
}

// An explicit source the live list does not show is polled, and its
// 3001 ends it.
func TestPollerExplicitSourceNotFound(t *testing.T) {
	r := newRig(t, zoomtest.Pro, start)
	p := r.poller(t, poll.Config{Sources: []string{"meeting:123"}})
	// Probed again every 10 minutes (it may start), told once.
	r.runFor(t, p, 25*time.Minute, nil)
	if st := p.Stats(); st.Calls["triage"] != 3 {
		t.Errorf("%d probes in 25 minutes, want 3", st.Calls["triage"])
	}
	if len(r.sink.ended) != 1 || r.sink.ended[0].Key() != "meeting:123" {
		t.Fatalf("ended %+v, want meeting:123", r.sink.ended)
	}
}

// The day's spend is persisted after every poll: a new client on the
// same store (a restart) starts from it, and it is what Zoom counted.
func TestPollerSpendSurvivesRestart(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 200, Start: start, Duration: time.Hour, Seed: 4})
	r := newRig(t, zoomtest.Pro, start, sc)
	store := &zoom.MemorySpend{}
	r.client(t, 0, zoom.QuotaConfig{Spend: store})
	p := r.poller(t, poll.Config{})
	r.runFor(t, p, 5*time.Minute, nil)
	spent := p.Stats().Quota.DailyUsed
	if zs := r.srv.Stats(); spent == 0 || spent != int64(zs.Calls[zoom.Heavy]+zs.Calls[zoom.ResourceIntensive]) {
		t.Fatalf("spent %d, Zoom counted %v", spent, zs.Calls)
	}
	if got, _ := store.Spent(context.Background(), r.clock.Now()); got != spent {
		t.Fatalf("store has %d, poller spent %d", got, spent)
	}
	r.client(t, 0, zoom.QuotaConfig{Spend: store})
	p2 := r.poller(t, poll.Config{})
	if got := p2.Stats().Quota; got.DailyUsed != spent || got.DailyRemaining != 30000-spent || got.Left != 15000-spent {
		t.Errorf("after restart %+v, want %d spent", got, spent)
	}
}

// Run polls until its context ends, then saves the day's spend.
func TestPollerRunStopsAndSaves(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 100, Start: start, Duration: time.Hour, Seed: 5})
	r := newRig(t, zoomtest.Pro, start, sc)
	store := &zoom.MemorySpend{}
	r.client(t, 0, zoom.QuotaConfig{Spend: store})
	ctx, cancel := context.WithCancel(context.Background())
	stop := &stopAt{Stepping: r.clock, at: start.Add(10 * time.Minute), stop: cancel}
	p2 := r.poller(t, poll.Config{Clock: stop})
	if err := p2.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	spent := p2.Stats().Quota.DailyUsed
	if got, _ := store.Spent(context.Background(), start); spent == 0 || got != spent {
		t.Errorf("store has %d, the poller spent %d", got, spent)
	}
	if st := p2.Stats(); st.Intervals < 9 || st.Intervals > 11 {
		t.Errorf("%d intervals in 10 minutes", st.Intervals)
	}
}

// stopAt is a stepping clock that cancels a run once a wait reaches at;
// that wait never fires, so the waiter sees the cancellation.
type stopAt struct {
	*fakeclock.Stepping
	at   time.Time
	stop context.CancelFunc
}

func (c *stopAt) After(d time.Duration) <-chan time.Time {
	if !c.Now().Add(d).Before(c.at) {
		c.Set(c.at)
		c.stop()
		return make(chan time.Time)
	}
	return c.Stepping.After(d)
}

// What the poller logs never carries the client secret or an access token.
func TestPollerLogsNoSecrets(t *testing.T) {
	r := newRig(t, zoomtest.Pro, start)
	r.srv.RevokeAccessTokens()
	p := r.poller(t, poll.Config{Sources: []string{"webinar:1", "meeting:2"}})
	r.srv.Inject(zoomtest.Fault{Status: 500})
	r.runFor(t, p, 3*time.Minute, nil)
	logs := r.logs.String()
	if !strings.Contains(logs, "level=WARN") {
		t.Fatalf("expected failures in the log:\n%s", logs)
	}
	for _, secret := range []string{r.srv.ClientSecret, "fake-access-"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log carries %q:\n%s", secret, logs)
		}
	}
}

// Calls in flight at once (as the daemon runs): the triage chain, the
// watch list and the detail calls share the pace; with -race this proves
// the poller's state is guarded. (Every sleeping worker advances the
// shared fake clock, so time runs faster than the calls: only the code
// path is under test here, not the pace.)
func TestPollerConcurrentWorkers(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 3000, Start: start, Duration: time.Hour, Degraded: 0.05, Seed: 6})
	r := newRig(t, zoomtest.Business, start, sc)
	r.client(t, 20000, zoom.QuotaConfig{})
	p := r.poller(t, poll.Config{Workers: 8})
	r.runFor(t, p, 15*time.Minute, nil)
	st := p.Stats()
	if st.Calls["triage"] == 0 || st.Calls["detail"]+st.Calls["watch"] == 0 || st.Calls["sweep"] == 0 {
		t.Errorf("calls %v: want triage, watch/detail and sweep", st.Calls)
	}
	if len(st.Sources) != 1 || st.Sources[0].Seen == 0 || !st.Sources[0].Ratings {
		t.Errorf("coverage %+v", st.Sources)
	}
	// The workers' sleeps all advance one fake clock, so calls can bunch
	// into one simulated second and draw a rare 429 QPS (pace is tested
	// with one worker above): it must be retried, never end a call.
	if zs := r.srv.Stats(); zs.DailyLimited != 0 {
		t.Errorf("%d Daily-limit 429s", zs.DailyLimited)
	}
	for _, c := range r.c.Stats().Calls {
		if c.Outcome != "ok" && c.Outcome != "not_found" {
			t.Errorf("%d %s calls ended %s", c.N, c.Category, c.Outcome)
		}
	}
}

// hotList is a WatchList of fixed participant keys.
type hotList []string

func (h hotList) Hot(string) []string { return h }

// A participant with an alert is looked at every minute, by one
// single-participant QoS call with its user_id (Zoom's participantId),
// also once the triage has told the poller its Zoom user id.
func TestPollerWatchListIsSeenEveryMinute(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 1500, Start: start, Duration: time.Hour, Seed: 11})
	hot := sc.Participants[100]
	if hot.ID == "" || hot.ID == hot.UserID {
		t.Fatalf("participant %+v: want a logged-in user (id apart from user_id)", hot)
	}
	r := newRig(t, zoomtest.Business, start, sc)
	r.client(t, 20000, zoom.QuotaConfig{})
	p := r.poller(t, poll.Config{Hot: hotList{hot.UserID}})
	key := "webinar:" + itoa(sc.ID)
	minute := 0
	r.runFor(t, p, 15*time.Minute, func(st poll.Stats) {
		minute++
		if minute < 6 { // attendees join over the first five minutes
			return
		}
		if st.Mode == "full" {
			t.Fatalf("minute %d: a full sweep; the test needs the watch list", minute)
		}
		r.sink.mu.Lock()
		seen := r.sink.seen[key][hot.UserID]
		r.sink.mu.Unlock()
		if r.clock.Now().Sub(seen) >= time.Minute {
			t.Errorf("minute %d: the watched participant was last seen at %v (now %v)", minute, seen, r.clock.Now())
		}
	})
	st, zs := p.Stats(), r.srv.Stats()
	if st.Calls["watch"] < 10 {
		t.Errorf("%d watch calls in 15 minutes, want one a minute at least", st.Calls["watch"])
	}
	if n := zs.ByStatus[http.StatusNotFound]; n != 0 {
		t.Errorf("%d calls answered 404: the poller asked for a participant Zoom does not know", n)
	}
}

// Other apps ate the account's daily cap: Zoom answers 429 Daily-limit.
// The poller stops calling (one 429, not one per call) until Zoom's reset
// at 00:00 UTC, then polls again.
func TestPollerStopsAtZoomsDailyLimitUntilTheReset(t *testing.T) {
	late := time.Date(2026, 11, 28, 23, 50, 0, 0, time.UTC)
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 500, Start: late.Add(-30 * time.Minute), Duration: 2 * time.Hour, Seed: 10})
	r := newRig(t, zoomtest.Business, late, sc)
	r.srv.SpendDaily(60000)
	p := r.poller(t, poll.Config{})
	r.runFor(t, p, 9*time.Minute, nil)
	before := p.Stats()
	if zs := r.srv.Stats(); zs.DailyLimited != 1 {
		t.Errorf("%d Daily-limit 429s before the reset, want 1", zs.DailyLimited)
	}
	r.runFor(t, p, 5*time.Minute, nil) // past 00:00 UTC
	after := p.Stats()
	if after.Calls["full_sweep"]+after.Calls["sweep"]+after.Calls["triage"] <= before.Calls["full_sweep"]+before.Calls["sweep"]+before.Calls["triage"] {
		t.Errorf("no QoS calls after the reset: before %v after %v", before.Calls, after.Calls)
	}
	if len(after.Sources) != 1 || after.Sources[0].Seen == 0 {
		t.Errorf("coverage after the reset %+v", after.Sources)
	}
}

// Zoom's Daily-limit in the middle of an interval: the calls planned
// after it are not made, the quota counts what Zoom counted (not the
// refused call), and readiness says when calls resume.
func TestPollerDailyLimitMidIntervalSpendsNothingMore(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 500, Start: start, Duration: time.Hour, Seed: 12})
	r := newRig(t, zoomtest.Business, start.Add(10*time.Minute), sc)
	r.srv.SpendDaily(60000 - 5) // other apps left 5 calls today
	p := r.poller(t, poll.Config{})
	r.runFor(t, p, 3*time.Minute, nil)
	zs, st := r.srv.Stats(), p.Stats()
	if zs.DailyLimited != 1 {
		t.Fatalf("%d Daily-limit 429s, want 1", zs.DailyLimited)
	}
	counted := zs.Calls[zoom.Heavy] + zs.Calls[zoom.ResourceIntensive]
	if st.Quota.DailyUsed != int64(counted) {
		t.Errorf("the quota counts %d calls spent, Zoom counted %d", st.Quota.DailyUsed, counted)
	}
	made := int64(0)
	for _, n := range st.Calls {
		made += n
	}
	if made != int64(counted+zs.DailyLimited) {
		t.Errorf("the poller counts %d calls (%v), Zoom got %d", made, st.Calls, counted+zs.DailyLimited)
	}
	if err := p.Health(); err == nil || !strings.Contains(err.Error(), "Zoom daily limit reached") || !strings.Contains(err.Error(), "paused until 00:00 UTC (in 9h47m)") {
		t.Errorf("health: %v", err)
	}
}

// Zoom counts every attempt it answers against the daily cap, retries of
// a 5xx too: so does the budget.
func TestPollerBudgetCountsRetries(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 500, Start: start, Duration: time.Hour, Seed: 13})
	r := newRig(t, zoomtest.Business, start.Add(10*time.Minute), sc)
	p := r.poller(t, poll.Config{})
	r.srv.Inject(zoomtest.Fault{Path: "/participants/qos", Status: 503, Times: 7})
	r.runFor(t, p, 3*time.Minute, nil)
	zs, st, cs := r.srv.Stats(), p.Stats(), r.c.Stats()
	if cs.Retries < 6 { // 4 attempts a call: 3 + 3
		t.Fatalf("%d retries; the faults were not retried", cs.Retries)
	}
	got := zs.Calls[zoom.Heavy] + zs.Calls[zoom.ResourceIntensive] + zs.DailyLimited
	if st.Quota.DailyUsed != int64(got) {
		t.Errorf("the budget counts %d calls spent, Zoom counted %d", st.Quota.DailyUsed, got)
	}
}

// A Zoom whose paging never ends (issue 15 item 9: before, a planned full
// sweep followed an endless or repeated next_page_token, and restarted on
// every code 300, for up to 10,000 pages: ~1,000 calls in 30 s against a
// budget of ~250 a minute). Every walk is bounded by what the plan paid
// for, a repeated token and one restart: the poller spends no more than
// its budget, says so once per reason, counts it, and keeps polling.
func TestPollerPagingFaultsStayInTheBudget(t *testing.T) {
	for _, tf := range []struct {
		name  string
		fault zoomtest.TokenFault
		why   zoom.StopReason
	}{
		{"endless tokens without counts", zoomtest.TokenEndless, zoom.StopMaxPages},
		{"a repeated token", zoomtest.TokenRepeat, zoom.StopRepeatedToken},
		{"tokens that always expire", zoomtest.TokenExpired, zoom.StopRestarts},
	} {
		t.Run(tf.name, func(t *testing.T) {
			sc := zoomtest.Generate(zoomtest.Gen{Participants: 1500, Start: start, Duration: time.Hour, Seed: 14})
			r := newRig(t, zoomtest.Business, start.Add(10*time.Minute), sc)
			r.srv.Inject(zoomtest.Fault{Path: "/participants", Token: tf.fault}) // the QoS list and the participants list
			p := r.poller(t, poll.Config{})
			var firstMinute int
			r.runFor(t, p, 5*time.Minute, func(st poll.Stats) {
				if firstMinute == 0 {
					firstMinute = r.srv.Stats().Calls[zoom.Heavy]
				}
			})
			st, zs := p.Stats(), r.srv.Stats()
			// Business at half the cap, 13:50 UTC: about 265 calls a
			// minute, and credit carries at most two minutes' worth.
			perMinute := st.Quota.AllowedPerMin
			if limit := int(2 * perMinute); firstMinute > limit {
				t.Errorf("first minute: %d Heavy calls, over two minutes' budget (%d)", firstMinute, limit)
			}
			if limit := int(6 * perMinute); zs.Calls[zoom.Heavy] > limit {
				t.Errorf("5 minutes: %d Heavy calls, over the budget's %d", zs.Calls[zoom.Heavy], limit)
			}
			if st.Intervals < 5 || r.c.PagingStops()[tf.why] == 0 {
				t.Errorf("%d intervals, paging stops %v; want every minute polled and %s counted", st.Intervals, r.c.PagingStops(), tf.why)
			}
			if n := strings.Count(r.logs.String(), "level=WARN msg=\"zoom paging did not end"); n < 1 || n > 2 {
				t.Errorf("%d warnings of paging that did not end, want one per reason seen:\n%s", n, r.logs.String())
			}
			if len(st.Sources) != 1 || st.Sources[0].Seen == 0 {
				t.Errorf("coverage %+v: the first pages were still read", st.Sources)
			}
		})
	}
}

func TestPollerConfigErrors(t *testing.T) {
	r := newRig(t, zoomtest.Pro, start)
	for _, tc := range []struct {
		cfg  poll.Config
		want string
	}{
		{poll.Config{Sources: []string{"room:1"}}, `QOSWATCH_SOURCES "room:1"`},
		{poll.Config{Interval: time.Millisecond}, "QOSWATCH_POLL_INTERVAL"},
		{poll.Config{Watch: []engine.SourceKind{"rooms"}}, "QOSWATCH_WATCH"},
	} {
		_, err := poll.New(r.c, tc.cfg, r.sink)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: want an error naming %s, got %v", tc.cfg, tc.want, err)
		}
	}
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// One poll interval of a 10,000-attendee webinar on Business with half the
// cap (watch list, triage, details, rotation sweep: about 150 calls against
// the in-process fake Zoom), per simulated minute: the poller's CPU cost
// beside the fake's and the decoder's.
func BenchmarkPollerInterval10k(b *testing.B) {
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 10000, Start: start, Duration: 24 * time.Hour, Degraded: 0.02, Seed: 8})
	clock := fakeclock.NewStepping(start)
	srv := zoomtest.NewServer(zoomtest.Options{Now: clock.Now, Plan: zoomtest.Business, Scenarios: []*zoomtest.Scenario{sc}})
	c, err := zoom.NewClient(zoom.Config{
		APIURL: "https://api.zoom.test/v2", OAuthURL: "https://zoom.test/oauth/token",
		AccountID: srv.AccountID, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret,
		Plan: "business", HTTPClient: srv.HTTPClient(), Clock: clock,
	})
	if err != nil {
		b.Fatal(err)
	}
	sink := &recorder{now: clock.Now}
	p, err := poll.New(c, poll.Config{Workers: 1, Clock: clock}, sink)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	poll := func() {
		next := clock.Now().Add(time.Minute)
		if err := p.Poll(ctx); err != nil {
			b.Fatal(err)
		}
		if clock.Now().Before(next) {
			clock.Set(next)
		}
	}
	for range 6 { // everyone has joined
		poll()
	}
	calls := func() (n int64) {
		for _, v := range p.Stats().Calls {
			n += v
		}
		return n
	}
	before := calls()
	b.ResetTimer()
	for b.Loop() {
		poll()
	}
	b.ReportMetric(float64(calls()-before)/float64(b.N), "calls/op")
}
