// Package simulate is qoswatch's capacity planner: it runs the real poller
// and the real engine against zoomtest, the fake Zoom, with Zoom's rate
// limits enforced on a simulated clock, and scores the alerts against the
// scenario's ground truth. A two-hour, 10,000-attendee webinar runs in
// seconds of wall time: nothing sleeps; the clock jumps to the next call.
//
// Every run is scored side by side with a naive poller, which sweeps the
// participants QoS list of every source every minute with no budget.
package simulate

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	qoswatch "github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/poll"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// Config is one simulation. Zero values take the defaults.
type Config struct {
	Participants   int           // attendees, host and panelists included; default 10,000
	Duration       time.Duration // the webinar's length; default 2h
	Plan           string        // "pro" or "business"; default business
	BudgetShare    float64       // QOSWATCH_BUDGET_SHARE; default 0.5
	Degraded       float64       // share of participants who degrade once; default 0.02
	QualityRatings bool          // the account's participants list carries quality ratings
	Seed           int64
	// Start is when the webinar starts; default 14:00 UTC, so the budget
	// has ten hours to the reset to think about.
	Start time.Time
	// Late is how long after a degradation ends an alert still counts as
	// detecting it; default 5m.
	Late time.Duration
	// Rules default to rules.example.yaml (see also ImpairmentRules).
	Rules     []engine.Rule
	RulesName string // for the report: where Rules came from
	// Baselines run beside qoswatch's poller (default naive):
	//   naive: a full sweep of every source every minute, no budget;
	//   rotation: qoswatch's budget spent on rotation sweeps alone (no
	//     triage, no watch list): what the strategy mix adds;
	//   oracle: a full sweep every minute with no limits at all: the
	//     ceiling the rules themselves allow.
	Baselines []string
	// Push feeds qoswatch (not the baselines) the events Zoom would push
	// (push.go): "qss" (QSS on), "events" (no QSS), or "" (polling alone).
	Push   string
	Logger *slog.Logger // the poller's log; default discard
}

func (c *Config) defaults() error {
	if c.Participants == 0 {
		c.Participants = 10000
	}
	if c.Participants < 1 {
		return fmt.Errorf("--participants %d: want at least 1", c.Participants)
	}
	if c.Duration == 0 {
		c.Duration = 2 * time.Hour
	}
	if c.Duration < 5*time.Minute {
		return fmt.Errorf("--duration %v: want at least 5m", c.Duration)
	}
	if c.Plan == "" {
		c.Plan = "business"
	}
	if _, ok := zoom.PlanLimits(c.Plan); !ok {
		return fmt.Errorf("--plan %q: want pro or business", c.Plan)
	}
	if c.BudgetShare == 0 {
		c.BudgetShare = zoom.DefaultBudgetShare
	}
	if !(c.BudgetShare > 0 && c.BudgetShare <= 1) {
		return fmt.Errorf("--budget-share %v: want a share in (0, 1]", c.BudgetShare)
	}
	if !(c.Degraded >= 0 && c.Degraded <= 1) { // NaN too
		return fmt.Errorf("--degraded %v: want a share in [0, 1]", c.Degraded)
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC)
	}
	if c.Late == 0 {
		c.Late = 5 * time.Minute
	}
	if c.Rules == nil {
		c.RulesName = "example"
		rs, err := LoadRules("example")
		if err != nil {
			return fmt.Errorf("the example rules: %w", err)
		}
		c.Rules = rs
	}
	if c.Baselines == nil {
		c.Baselines = []string{"naive"}
	}
	for _, b := range c.Baselines {
		if b != "naive" && b != "rotation" && b != "oracle" {
			return fmt.Errorf("--baselines %q: want naive, rotation or oracle", b)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Push != "" {
		if _, err := pushOptions(c.Push); err != nil {
			return err
		}
	}
	return nil
}

// impairmentRules is a rule for every impairment zoomtest simulates.
//
//go:embed impairments.yaml
var impairmentRules []byte

// LoadRules returns the rules a name stands for: "example" is
// rules.example.yaml, "impairments" a rule for every impairment the fake
// simulates (so the score measures the poller, not the rules); anything
// else is a rules file.
func LoadRules(name string) ([]engine.Rule, error) {
	var set *rules.Set
	var err error
	switch name {
	case "", "example":
		set, err = rules.Parse("rules.example.yaml", qoswatch.ExampleRules)
	case "impairments":
		set, err = rules.Parse("impairments.yaml", impairmentRules)
	default:
		set, err = rules.Load(name)
	}
	if err != nil {
		return nil, err
	}
	return set.Rules(), nil
}

// Result is how one poller did.
type Result struct {
	Poller string `json:"poller"` // "qoswatch", "naive", "rotation", "oracle"

	Calls        map[string]int   `json:"calls"`          // admitted by Zoom, by rate-limit category
	CallsFor     map[string]int64 `json:"calls_for"`      // the poller's calls by purpose
	QPS429       int              `json:"qps_429"`        // Zoom's 429 X-RateLimit-Type: QPS
	Daily429     int              `json:"daily_429"`      // Zoom's 429 X-RateLimit-Type: Daily-limit
	DailyRefused int64            `json:"daily_refused"`  // calls the client held back for the daily cap
	DailyUsed    int              `json:"daily_used"`     // Heavy + Resource-intensive calls counted today by Zoom
	DailyLeft    int              `json:"daily_left"`     // of the account's cap
	BudgetLeft   int64            `json:"budget_left"`    // of qoswatch's share (-1: no budget)
	PeakHeavyPS  int              `json:"peak_heavy_ps"`  // most Heavy calls Zoom admitted in one second
	SweepHeavyPS float64          `json:"sweep_heavy_ps"` // Heavy calls a second over the longest unbroken run of calls
	SweepCalls   int              `json:"sweep_calls"`    // calls in that run
	PlanHeavyPS  float64          `json:"plan_heavy_ps"`  // the plan's limit

	Degraded      int           `json:"degraded"` // degradations in the truth
	Detected      int           `json:"detected"` // with an alert from onset to Late after the end
	Within3m      int           `json:"detected_within_3m"`
	Within3mRate  float64       `json:"within_3m_rate"`
	Within5m      int           `json:"detected_within_5m"`
	DetectionRate float64       `json:"detection_rate"`
	Within5mRate  float64       `json:"within_5m_rate"`
	DelayMedian   time.Duration `json:"delay_median_ns"`
	DelayP95      time.Duration `json:"delay_p95_ns"`
	FalseAlerts   int           `json:"false_alerts"`

	// Coverage: the share of participants seen in the last 5 minutes,
	// sampled every minute from minute 10.
	CoverageMin  float64 `json:"coverage_min"`
	CoverageMean float64 `json:"coverage_mean"`
	DegradedMode bool    `json:"degraded_mode"` // the budget cut the watch list or detail calls at some point

	// Push is the events fed to this poller ("qss", "events", "": none);
	// IdleRICalls the Resource-intensive calls it made in the IdleTail
	// after the webinar (-1: not measured).
	Push        string `json:"push,omitempty"`
	IdleRICalls int    `json:"idle_ri_calls"`

	Wall time.Duration `json:"wall_ns"` // wall time of the run
}

// Report is a simulation's configuration and results.
type Report struct {
	Participants   int           `json:"participants"`
	Duration       time.Duration `json:"duration_ns"`
	Plan           string        `json:"plan"`
	BudgetShare    float64       `json:"budget_share"`
	Budget         int64         `json:"budget"` // qoswatch's share of the daily cap
	Degraded       float64       `json:"degraded"`
	QualityRatings bool          `json:"quality_ratings"`
	Seed           int64         `json:"seed"`
	Start          time.Time     `json:"start"`
	Rules          int           `json:"rules"`
	RulesName      string        `json:"rules_from"`
	Results        []Result      `json:"results"`
}

// Run simulates cfg with qoswatch's poller and the naive one.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.defaults(); err != nil {
		return Report{}, fmt.Errorf("simulate: %w", err)
	}
	lim, _ := zoom.PlanLimits(cfg.Plan)
	rep := Report{Participants: cfg.Participants, Duration: cfg.Duration, Plan: cfg.Plan, BudgetShare: cfg.BudgetShare,
		Budget: int64(float64(lim.Daily) * cfg.BudgetShare), Degraded: cfg.Degraded,
		QualityRatings: cfg.QualityRatings, Seed: cfg.Seed, Start: cfg.Start, Rules: len(cfg.Rules), RulesName: cfg.RulesName}
	runs := append([]string{"qoswatch"}, cfg.Baselines...)
	// The runs share nothing: each has its own clock, fake Zoom and
	// engine, so they run side by side.
	rep.Results = make([]Result, len(runs))
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, name := range runs {
		wg.Go(func() {
			rep.Results[i], errs[i] = runOne(ctx, cfg, name)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("simulate %s: %w", name, errs[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return rep, err
	}
	return rep, nil
}

// simClock is the one clock of a run: the fake Zoom, the client's
// limiter, the poller and the engine read it; sleeping advances it. The
// poller runs with one worker, so nothing else moves time meanwhile.
type simClock struct {
	*fakeclock.Manual
	end    time.Time
	cancel context.CancelFunc
}

// After advances the clock by d and fires at once; past the run's end it
// cancels the run and never fires, so the waiter sees the cancellation.
func (c *simClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	if d > 0 {
		c.Advance(d)
	}
	if !c.Now().Before(c.end) {
		c.cancel()
		return ch
	}
	ch <- c.Now()
	return ch
}

func runOne(ctx context.Context, cfg Config, name string) (Result, error) {
	wall := time.Now()
	sc := zoomtest.Generate(zoomtest.Gen{
		Participants: cfg.Participants, Start: cfg.Start, Duration: cfg.Duration, Degraded: cfg.Degraded,
		AudioOnly: 0.2, Guests: 0.1, Churn: 0.1, Seed: cfg.Seed,
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pushed := cfg.Push != "" && name == "qoswatch"
	webinarEnd := sc.Start.Add(cfg.Duration)
	clock := &simClock{Manual: fakeclock.NewManual(sc.Start), end: webinarEnd, cancel: cancel}
	if pushed {
		clock.end = webinarEnd.Add(IdleTail) // an idle day after it: what listing costs then
	}
	plan := zoomtest.Business
	if strings.EqualFold(cfg.Plan, "pro") {
		plan = zoomtest.Pro
	}
	srv := zoomtest.NewServer(zoomtest.Options{Now: clock.Now, Plan: plan, Scenarios: []*zoomtest.Scenario{sc},
		NoQualityScores: !cfg.QualityRatings, NoLimits: name == "oracle"})
	heavy := &burstMeter{now: clock.Now}
	zcfg := zoom.Config{
		APIURL: "https://api.zoom.sim/v2", OAuthURL: "https://zoom.sim/oauth/token",
		AccountID: srv.AccountID, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, Plan: cfg.Plan,
		HTTPClient: &http.Client{Transport: heavy.wrap(srv.Transport())},
		Clock:      clock,
		Quota:      zoom.QuotaConfig{Share: cfg.BudgetShare},
	}
	switch name {
	case "naive": // no budget: the account's whole cap
		zcfg.Quota.Share = 1
	case "oracle": // no limits at all
		zcfg.Quota.Share, zcfg.DailyLimit = 1, 1<<30
	}
	client, err := zoom.NewClient(zcfg)
	if err != nil {
		return Result{}, err
	}
	store := engine.NewMemoryStore()
	eng, err := engine.New(store, engine.Options{Clock: clock})
	if err != nil {
		return Result{}, err
	}
	if err := eng.SetRules(ctx, cfg.Rules); err != nil {
		return Result{}, err
	}
	sink := &detector{eng: eng, store: store, now: clock.Now, seen: map[string]time.Time{}}
	var p interface{ Poll(context.Context) error }
	var qoswatch *poll.Poller
	callsFor := func() map[string]int64 { return qoswatch.Stats().Calls }
	if name == "qoswatch" {
		var events *zoom.Events
		pcfg := poll.Config{Hot: eng, Workers: 1, Clock: clock, Logger: cfg.Logger.With("poller", name)}
		if pushed {
			events, err = zoom.NewEvents(zoom.EventsConfig{Queue: &memQueue{now: clock.Now}, Sink: sink, Clock: clock,
				Memory: pushHistory(cfg.Push, sc.Start), Logger: cfg.Logger.With("events", name)})
			if err != nil {
				return Result{}, err
			}
			pcfg.Push, pcfg.LiveHistory = events, liveHistory(sc)
		}
		qoswatch, err = poll.New(client, pcfg, sink)
		if err != nil {
			return Result{}, err
		}
		p = qoswatch
		if pushed {
			events.UsePoller(qoswatch)
			opts, _ := pushOptions(cfg.Push)
			p = &pushFeed{poller: qoswatch, events: events, srv: srv, clock: clock, opts: opts, fed: sc.Start}
		}
	} else {
		b := newBaseline(client, sink, clock, name == "rotation")
		p, callsFor = b, func() map[string]int64 { return b.calls }
	}

	// Sample the coverage after every poll (once a simulated minute).
	var cov []float64
	degradedMode := false
	riAtEnd := -1 // Resource-intensive calls when the webinar ended
	err = runPoller(ctx, p, clock, func() {
		if qoswatch != nil {
			degradedMode = degradedMode || qoswatch.Stats().Degraded
		}
		if !clock.Now().Before(webinarEnd) {
			if riAtEnd < 0 {
				riAtEnd = srv.Stats().Calls[zoom.ResourceIntensive]
			}
			return
		}
		if clock.Now().Sub(sc.Start) >= 10*time.Minute {
			cov = append(cov, coverage(sc, sink.seen, clock.Now()))
		}
	})
	if err != nil {
		return Result{}, err
	}
	if err := sink.err; err != nil {
		return Result{}, err
	}

	score := zoomtest.ScoreDetections(srv.Truth(), sink.dets, cfg.Late)
	zs := srv.Stats()
	cs := client.Stats()
	r := Result{
		Poller: name, Calls: map[string]int{}, CallsFor: callsFor(),
		QPS429: zs.Throttled[zoom.Heavy] + zs.Throttled[zoom.ResourceIntensive], Daily429: zs.DailyLimited,
		DailyUsed: zs.DailyUsed, DailyLeft: max(0, zs.DailyLimit-zs.DailyUsed), BudgetLeft: client.Quota().Stats().Left,
		PeakHeavyPS: zs.PeakPerWindow[zoom.Heavy], PlanHeavyPS: client.Limits().Heavy,
		Degraded: score.Degraded, Detected: score.Detected, Within3m: score.Within(3 * time.Minute), Within5m: score.Within(5 * time.Minute),
		DetectionRate: score.Rate(), DelayMedian: score.Quantile(0.5), DelayP95: score.Quantile(0.95),
		FalseAlerts: score.FalseAlerts, DegradedMode: degradedMode,
	}
	if name == "naive" || name == "oracle" {
		r.BudgetLeft = -1
	}
	if score.Degraded > 0 {
		r.Within5mRate = float64(r.Within5m) / float64(score.Degraded)
		r.Within3mRate = float64(r.Within3m) / float64(score.Degraded)
	}
	r.IdleRICalls = -1
	if pushed {
		r.Push = cfg.Push
		if riAtEnd >= 0 {
			r.IdleRICalls = zs.Calls[zoom.ResourceIntensive] - riAtEnd
		}
	}
	for c, n := range zs.Calls {
		r.Calls[zoomtest.CategoryName(c)] = n
	}
	for _, c := range cs.Calls {
		if c.Outcome == "daily_limit" {
			r.DailyRefused += c.N
		}
	}
	r.SweepCalls, r.SweepHeavyPS = heavy.best()
	if len(cov) > 0 {
		r.CoverageMin = 1
		sum := 0.0
		for _, c := range cov {
			r.CoverageMin = min(r.CoverageMin, c)
			sum += c
		}
		r.CoverageMean = sum / float64(len(cov))
	}
	r.Wall = time.Since(wall)
	return r, nil
}

// runPoller polls once a simulated minute until the clock passes the
// end, calling after between polls.
func runPoller(ctx context.Context, p interface{ Poll(context.Context) error }, clock *simClock, after func()) error {
	for ctx.Err() == nil {
		start := clock.Now()
		if err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		after()
		if err := engine.Sleep(ctx, clock, start.Add(time.Minute).Sub(clock.Now())); err != nil {
			break
		}
	}
	return nil
}

// detector is the sink: the engine, and every firing notification it
// decided, as a detection at the simulated time it was decided; and when
// each participant's QoS was last seen, for the coverage.
type detector struct {
	eng   *engine.Engine
	store *engine.MemoryStore
	now   func() time.Time
	dets  []zoomtest.Detection
	seen  map[string]time.Time // user_id → when a sample of theirs last came
	err   error
}

// coverage is the share of the participants present (per the scenario's
// truth, joined at least 2 minutes ago: a minute must be over before Zoom
// publishes it) whose QoS the poller saw in the last 5 minutes: the same
// measure for every poller.
func coverage(sc *zoomtest.Scenario, seen map[string]time.Time, now time.Time) float64 {
	off := now.Sub(sc.Start)
	present, saw := 0, 0
	for _, p := range sc.Participants {
		if p.Join > off-2*time.Minute || (p.Leave > 0 && off >= p.Leave) {
			continue
		}
		present++
		if t, ok := seen[p.UserID]; ok && now.Sub(t) <= 5*time.Minute {
			saw++
		}
	}
	if present == 0 {
		return 1
	}
	return float64(saw) / float64(present)
}

func (d *detector) Ingest(ctx context.Context, batch []engine.Sample) error {
	now := d.now()
	for i := range batch {
		d.seen[batch[i].Participant.UserID] = now
	}
	if err := d.eng.Ingest(ctx, batch); err != nil {
		if !errors.Is(err, context.Canceled) && d.err == nil {
			d.err = err
		}
		return err
	}
	d.collect()
	return nil
}

func (d *detector) EndSource(ctx context.Context, src engine.Source, at time.Time) error {
	err := d.eng.EndSource(ctx, src, at)
	d.collect()
	return err
}

func (d *detector) collect() {
	for _, n := range d.store.Drain() {
		if n.Kind == engine.KindFiring {
			d.dets = append(d.dets, zoomtest.Detection{SourceID: n.Source.ID, UserID: n.Participant.UserID, At: d.now()})
		}
	}
}

// burstMeter measures the Heavy calls a second of the longest unbroken
// run of Heavy calls (no gap of a second or more): a sweep.
type burstMeter struct {
	now func() time.Time

	mu          sync.Mutex
	first, last time.Time
	n           int
	bestN       int
	bestRate    float64
}

func (m *burstMeter) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if strings.Contains(r.URL.Path, "/participants") { // both participants lists and QoS: Heavy
			m.add(m.now())
		}
		return next.RoundTrip(r)
	})
}

func (m *burstMeter) add(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == 0 || t.Sub(m.last) >= time.Second {
		m.first, m.n = t, 0
	}
	m.last = t
	m.n++
	if m.n > m.bestN && m.n >= 2 {
		m.bestN = m.n
		m.bestRate = float64(m.n-1) / m.last.Sub(m.first).Seconds()
	}
}

func (m *burstMeter) best() (int, float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bestN, m.bestRate
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
