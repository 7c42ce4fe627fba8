package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/httpapi"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/store"
)

// core is what run and demo share: rules, store, engine, dispatcher and
// the metrics registry they register on.
type core struct {
	log      *slog.Logger
	rulesSrc string
	reloader *rules.Reloader
	db       *store.DB
	eng      *engine.Engine
	disp     *notifier.Dispatcher
	reg      *prometheus.Registry
	stats    *httpapi.Metrics // the Stats() of the parts that register no metrics yet
	metrics  *daemonMetrics
}

type coreConfig struct {
	rules      string
	db         string
	staleAfter time.Duration
	clock      engine.Clock
	reg        *prometheus.Registry // where every part registers its metrics
	sender     notifier.Sender
	channel    string // SLACK_CHANNEL: where an alert goes when no route names a channel
	force      string // every alert to this channel, whatever the routes say (demo --slack)
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
	c.reloader, err = rules.NewReloader(cc.rules)
	if err != nil {
		return nil, settingError("QOSWATCH_RULES", cc.rules, err)
	}

	c.db, err = store.Open(cc.db, store.Options{Logger: cc.log.With("component", "store"), Now: cc.clock.Now})
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
	c.eng, err = engine.New(c.db, engine.Options{Now: cc.clock.Now, StaleAfter: cc.staleAfter, Logger: cc.log.With("component", "engine")})
	if err != nil {
		return fail(fmt.Errorf("QOSWATCH_DB=%s: %w", cc.db, err))
	}
	if err := c.eng.SetRules(context.Background(), c.reloader.Current().Rules()); err != nil {
		return fail(fmt.Errorf("rules: %w", err))
	}
	var router engine.Router = c.reloader
	if cc.force != "" {
		router = oneChannel{c.reloader, cc.force}
	}
	c.disp, err = notifier.New(notifier.Options{
		Outbox: c.db, Router: router, Sender: cc.sender, DefaultChannel: cc.channel,
		Logger: cc.log.With("component", "notifier"), Now: cc.clock.Now, Sleep: sleeper(cc.clock),
		Render: notifier.RenderOptions{Summarize: c.summarize},
	})
	if err != nil {
		return fail(fmt.Errorf("notifier: %w", err))
	}
	c.reg.MustRegister(engineCollector{stats: c.eng.Stats, alerts: c.eng.Alerts})
	c.stats = httpapi.NewMetrics(cc.clock.Now)
	c.stats.Add(httpapi.StatsSource{Subsystem: "store", Stats: func() any { return c.db.Stats() }})
	c.stats.Add(httpapi.StatsSource{Subsystem: "notifier", Stats: func() any { return c.disp.Stats() }})
	c.reg.MustRegister(c.stats)
	return c, nil
}

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

// reload loads the rules file again. A bad file keeps the running rules:
// the error is logged and counted, nothing else changes.
func (c *core) reload(ctx context.Context, why string) {
	// The routes swap only once the engine took the rules: a failed
	// SetRules keeps the old rules and the old routes together.
	set, err := c.reloader.ReloadWith(func(s *rules.Set) error { return c.eng.SetRules(ctx, s.Rules()) })
	c.metrics.reloaded(err)
	if err != nil {
		c.log.Error("rules reload failed; the running rules stay", "file", c.rulesSrc, "trigger", why, "error", err)
		return
	}
	c.log.Info("rules reloaded", "file", c.rulesSrc, "trigger", why, "rules", len(set.Rules()))
}

// sink is the poller's way into the engine. A batch in hand is finished
// even when shutdown has begun (the poller stops asking for more), and
// the dispatcher is woken after every commit.
type sink struct{ c *core }

func (s sink) Ingest(ctx context.Context, batch []engine.Sample) error {
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
	return nil
}

// close flushes the outbox for at most grace, then closes the store.
func (c *core) close(grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := c.disp.Flush(ctx); err != nil {
		c.log.Warn("outbox not empty at shutdown; it is delivered at the next start", "error", err, "pending", c.db.Stats().OutboxDepth)
	}
	return c.db.Close()
}

// summarize writes a notification's summary again from its rule's
// template in the current rules, for a route that redacts fields (the
// renderer hands it the redacted notification).
func (c *core) summarize(n *engine.Notification) (string, error) {
	r, ok := c.reloader.Current().Rule(n.Rule.Name)
	if !ok || r.Summary == nil {
		return "", fmt.Errorf("rule %q: no summary template in the current rules", n.Rule.Name)
	}
	return r.Summary.Render(n)
}
