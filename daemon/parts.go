package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/store"
)

// core is what run and demo share: rules, store, engine, dispatcher and
// the metrics registry they register on.
type core struct {
	log      *slog.Logger
	rulesSrc string
	rules    liveRules   // the running set; the routes of what it decided
	loading  atomic.Bool // a rules load is running (perhaps abandoned)
	db       *store.DB
	eng      *engine.Engine
	disp     *notifier.Dispatcher
	reporter *notifier.Reporter // posts the post-webinar reports the store queued
	reg      *prometheus.Registry
	metrics  *daemonMetrics
	// annotate adds Zoom's issue flags to samples before the engine sees
	// them; set when events are on, before any duty runs.
	annotate func([]engine.Sample)
}

type coreConfig struct {
	rules      string
	db         string
	staleAfter time.Duration
	silenceMax time.Duration // 0: the engine's default
	clock      engine.Clock
	reg        *prometheus.Registry // where every part registers its metrics
	sender     notifier.Sender
	channel    string // SLACK_CHANNEL: where an alert goes when no route names a channel
	force      string // every alert to this channel, whatever the routes say (demo --slack)
	actions    bool   // firing messages carry buttons: someone can answer them
	log        *slog.Logger
}

// settingError names the setting a startup failure is about, so the
// operator reads one line and knows what to fix.
func settingError(setting, value string, err error) error {
	msg := strings.TrimPrefix(err.Error(), value+": ")
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		n := strings.Count(msg, "\n")
		msg = msg[:i] + fmt.Sprintf(" (and %d more; run qoswatch check %s)", n, value)
	}
	return fmt.Errorf("%s=%s: %s", setting, value, msg)
}

func newCore(cc coreConfig) (*core, error) {
	c := &core{log: cc.log, rulesSrc: cc.rules, reg: cc.reg, metrics: newDaemonMetrics(cc.reg, cc.clock)}
	var err error
	if _, err := os.Stat(cc.rules); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("QOSWATCH_RULES=%s: no such file (start from rules.example.yaml; qoswatch check tells what is wrong)", cc.rules)
	}
	set, err := rules.Load(cc.rules)
	if err != nil {
		return nil, settingError("QOSWATCH_RULES", cc.rules, err)
	}
	c.rules.Store(set)

	c.db, err = store.Open(cc.db, store.Options{Logger: cc.log.With("component", "store"), Clock: cc.clock, Registerer: cc.reg})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, fmt.Errorf("QOSWATCH_DB=%s: locked by another qoswatch process (one daemon per database file)", cc.db)
		}
		return nil, fmt.Errorf("QOSWATCH_DB=%s: %w", cc.db, err)
	}
	fail := func(err error) (*core, error) {
		c.db.Close()
		return nil, err
	}
	c.eng, err = engine.New(c.db, engine.Options{Clock: cc.clock, StaleAfter: cc.staleAfter,
		Silences: engine.SilenceLimits{MaxDuration: cc.silenceMax}, Logger: cc.log.With("component", "engine")})
	if err != nil {
		return fail(fmt.Errorf("QOSWATCH_DB=%s: %w", cc.db, err))
	}
	if err := c.eng.SetRules(context.Background(), set.Rules()); err != nil {
		return fail(fmt.Errorf("rules: %w", err))
	}
	var router engine.Router = &c.rules
	if cc.force != "" {
		router = oneChannel{&c.rules, cc.force}
	}
	c.disp, err = notifier.New(notifier.Options{
		Outbox: c.db, Router: router, Sender: cc.sender, DefaultChannel: cc.channel,
		Logger: cc.log.With("component", "notifier"), Clock: cc.clock, Registerer: c.reg,
		Render: notifier.RenderOptions{Summarize: c.summarize, Actions: cc.actions},
	})
	if err != nil {
		return fail(fmt.Errorf("notifier: %w", err))
	}
	c.reporter, err = notifier.NewReporter(notifier.ReportOptions{
		Queue: c.db, Sender: cc.sender, Logger: cc.log.With("component", "report"), Clock: cc.clock, Registerer: c.reg,
		Channel: func() string {
			ch := c.rules.Load().ReportChannel()
			if ch != "" && cc.force != "" {
				return cc.force // demo --slack: everything to one channel
			}
			return ch
		},
	})
	if err != nil {
		return fail(fmt.Errorf("notifier: %w", err))
	}
	c.reg.MustRegister(engineCollector{stats: c.eng.Stats, alerts: c.eng.Alerts})
	return c, nil
}

// liveRules routes with the running rule set, swapped whole on reload.
type liveRules struct{ atomic.Pointer[rules.Set] }

func (l *liveRules) Route(n *engine.Notification) engine.Route { return l.Load().Route(n) }

// oneChannel sends every notification to one channel, keeping the
// route's mention and redactions.
type oneChannel struct {
	engine.Router
	channel string
}

func (o oneChannel) Route(n *engine.Notification) engine.Route {
	r := o.Router.Route(n)
	r.Channel = o.channel
	return r
}

// reloadTimeout bounds a rules reload in wall time: reading and
// compiling a file is work on this machine, whatever the daemon's clock
// says (the demo's runs 60 times faster). A file that takes longer (a
// FIFO, a hung network mount, a pathological file) is given up, and the
// running rules stay. A variable so that a test can shorten it.
var reloadTimeout = 30 * time.Second

// reload loads the rules file again. A bad file keeps the running rules:
// the error is logged and counted, nothing else changes. The load runs
// under reloadTimeout and is given up when shutdown begins (ctx), so a
// stuck file never holds the daemon.
func (c *core) reload(ctx context.Context, why string) {
	log := c.log.With("file", c.rulesSrc, "trigger", why)
	if !c.loading.CompareAndSwap(false, true) {
		log.Warn("rules reload skipped: an earlier one is still reading the file")
		return
	}
	type loaded struct {
		set *rules.Set
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		// rules.Load takes no context: a load given up finishes (or
		// hangs) here, alone; the next reload waits for it. Done before
		// the answer, so the next trigger after it is never skipped.
		set, err := rules.Load(c.rulesSrc)
		c.loading.Store(false)
		done <- loaded{set, err}
	}()
	var l loaded
	timeout := time.NewTimer(reloadTimeout)
	defer timeout.Stop()
	select {
	case l = <-done:
	case <-ctx.Done():
		log.Warn("rules reload given up: shutting down; the running rules stay")
		return
	case <-timeout.C:
		l.err = fmt.Errorf("still loading after %s (is the file a pipe, or on a mount that hangs?)", reloadTimeout)
	}
	// The routes swap only once the engine took the rules: a failed
	// SetRules keeps the old rules and the old routes together.
	if l.err == nil {
		l.err = c.eng.SetRules(ctx, l.set.Rules())
	}
	c.metrics.reloaded(l.err)
	if l.err != nil {
		log.Error("rules reload failed; the running rules stay", "error", l.err)
		return
	}
	c.rules.Store(l.set)
	log.Info("rules reloaded", "rules", len(l.set.Rules()))
}

// sink is the poller's way into the engine. A batch in hand is finished
// even when shutdown has begun (the poller stops asking for more), and
// the dispatcher is woken after every commit.
type sink struct{ c *core }

func (s sink) Ingest(ctx context.Context, batch []engine.Sample) error {
	if s.c.annotate != nil {
		s.c.annotate(batch) // Zoom's own issue flags, from its alert events
	}
	if err := s.c.eng.Ingest(context.WithoutCancel(ctx), batch); err != nil {
		return err
	}
	s.c.metrics.newest.saw(batch)
	s.c.disp.Wake()
	return nil
}

func (s sink) EndSource(ctx context.Context, src engine.Source, at time.Time) error {
	if err := s.c.eng.EndSource(context.WithoutCancel(ctx), src, at); err != nil {
		return err
	}
	s.c.metrics.newest.ended(src)
	s.c.disp.Wake()
	s.c.reporter.Wake() // its report was queued with the end
	return nil
}

// LeaveParticipant is a leave Zoom announced (push): the leaver's alerts
// resolve now.
func (s sink) LeaveParticipant(ctx context.Context, src engine.Source, participant string, at time.Time) error {
	if err := s.c.eng.LeaveParticipant(context.WithoutCancel(ctx), src, participant, at); err != nil {
		return err
	}
	s.c.disp.Wake()
	return nil
}

// close flushes the outbox and the due reports for at most grace, then
// closes the store.
func (c *core) close(grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := c.disp.Flush(ctx); err != nil {
		c.log.Warn("outbox not empty at shutdown; it is delivered at the next start", "error", err, "pending", c.db.Stats().OutboxDepth)
	}
	if _, err := c.reporter.Pass(ctx); err != nil {
		c.log.Warn("a post-webinar report is not posted yet; it is at the next start", "error", err)
	}
	return c.db.Close()
}

// summarize writes a notification's summary again from its rule's
// template in the current rules, for a route that redacts fields (the
// renderer hands it the redacted notification).
func (c *core) summarize(n *engine.Notification) (string, error) {
	r, ok := c.rules.Load().Rule(n.Rule.Name)
	if !ok || r.Summary == nil {
		return "", fmt.Errorf("rule %q: no summary template in the current rules", n.Rule.Name)
	}
	return r.Summary.Render(n)
}
