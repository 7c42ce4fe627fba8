package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/httpapi"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/store"
)

// core is what run and demo share: rules, store, engine, dispatcher and
// the metrics fed from them.
type core struct {
	log      *slog.Logger
	rulesSrc string
	reloader *rules.Reloader
	db       *store.DB
	eng      *engine.Engine
	disp     *notifier.Dispatcher
	metrics  *httpapi.Metrics
	stats    *stats
}

// stats are the daemon's own counters, exported as metrics.
type stats struct {
	mu         sync.Mutex
	reloads    map[string]uint64    // outcome → count
	lastReload bool                 // the last reload succeeded
	newest     map[string]time.Time // Source.Key() → newest sample time
}

// Stats is the daemon's counters, for metrics (httpapi specs "daemon.*").
type Stats struct {
	RulesReloads    map[string]uint64    // by outcome: ok, error
	RulesLastReload bool                 // the last reload succeeded
	NewestSample    map[string]time.Time // by source
}

func (s *stats) snapshot() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{RulesReloads: maps.Clone(s.reloads), RulesLastReload: s.lastReload, NewestSample: maps.Clone(s.newest)}
}

type coreConfig struct {
	rules      string
	db         string
	staleAfter time.Duration
	clock      engine.Clock
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
	c := &core{log: cc.log, rulesSrc: cc.rules, stats: &stats{reloads: map[string]uint64{}, newest: map[string]time.Time{}}}
	var err error
	if _, err := os.Stat(cc.rules); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("QOSWATCH_RULES=%s: no such file (start from rules.example.yaml; qoswatch check tells what is wrong)", cc.rules)
	}
	c.reloader, err = rules.NewReloader(cc.rules)
	if err != nil {
		return nil, settingError("QOSWATCH_RULES", cc.rules, err)
	}
	c.stats.lastReload = true

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
	})
	if err != nil {
		return fail(fmt.Errorf("notifier: %w", err))
	}
	c.metrics = httpapi.NewMetrics(cc.clock.Now)
	c.metrics.Add(httpapi.StatsSource{Subsystem: "engine", Stats: func() any { return c.eng.Stats() }})
	c.metrics.Add(httpapi.StatsSource{Subsystem: "store", Stats: func() any { return c.db.Stats() }})
	c.metrics.Add(httpapi.StatsSource{Subsystem: "notifier", Stats: func() any { return c.disp.Stats() }})
	c.metrics.Add(httpapi.StatsSource{Subsystem: "daemon", Stats: func() any { return c.stats.snapshot() }})
	c.metrics.Alerts(c.eng.Alerts)
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
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	if err != nil {
		c.stats.reloads["error"]++
		c.stats.lastReload = false
		c.log.Error("rules reload failed; the running rules stay", "file", c.rulesSrc, "trigger", why, "error", err)
		return
	}
	c.stats.reloads["ok"]++
	c.stats.lastReload = true
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
	s.c.stats.mu.Lock()
	for i := range batch {
		k := batch[i].Source.Key()
		if batch[i].Time.After(s.c.stats.newest[k]) {
			s.c.stats.newest[k] = batch[i].Time
		}
	}
	s.c.stats.mu.Unlock()
	s.c.disp.Wake()
	return nil
}

func (s sink) EndSource(ctx context.Context, src engine.Source, at time.Time) error {
	if err := s.c.eng.EndSource(context.WithoutCancel(ctx), src, at); err != nil {
		return err
	}
	s.c.stats.mu.Lock()
	delete(s.c.stats.newest, src.Key())
	s.c.stats.mu.Unlock()
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
