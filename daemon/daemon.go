package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/httpapi"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
	"github.com/qoswatch/qoswatch/poll"
	"github.com/qoswatch/qoswatch/zoom"
)

// Options are what a caller (main, a test) gives Run besides the Config.
type Options struct {
	Logger *slog.Logger
	// Console is where alerts go when neither a Slack token nor a webhook
	// is set (default os.Stdout).
	Console io.Writer
	// Listening is called with the HTTP address once it is bound (port 0
	// picks a free one).
	Listening func(addr string)
	// EventsListening is called with the public events listener's address
	// once it is bound (QOSWATCH_EVENTS_LISTEN).
	EventsListening func(addr string)
	// HUP delivers reload requests; nil listens for SIGHUP from the start
	// of Run.
	HUP <-chan os.Signal
	// Clock is the time of every part (Zoom client, poller, engine,
	// notifier, the rules watcher); the demo and tests run on simulated
	// time. Nil is the wall clock.
	Clock engine.Clock
	// Sender replaces the notifier the Slack settings choose (demo).
	Sender notifier.Sender
	// Version is the build's version, for the log and qoswatch_build_info.
	Version string
	// OneChannel sends every alert there, whatever the routes say (the
	// demo in a real workspace, where the example's channels do not exist).
	OneChannel string
	// Buttons puts the answer buttons on the messages of Sender (the
	// console demo, where they are typed). The Slack bot gets them when
	// an answering transport is configured (SLACK_APP_TOKEN or
	// SLACK_SIGNING_SECRET).
	Buttons bool
}

// sleeper adapts the clock to the parts that still take a Sleep function.
func sleeper(c engine.Clock) func(ctx context.Context, d time.Duration) error {
	return func(ctx context.Context, d time.Duration) error { return engine.Sleep(ctx, c, d) }
}

// ConfigError is a bad setting found at start: main exits non-zero with
// its one line.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Run is `qoswatch run`: it starts every part, runs until ctx ends, then
// stops polling, finishes the batch in hand, flushes the outbox for at most
// cfg.Grace and closes the store. A nil error is a clean stop.
func Run(ctx context.Context, cfg Config, opts Options) error {
	if opts.HUP == nil {
		// Listen before anything slow (the first Zoom call can take 30s):
		// an unhandled SIGHUP would kill the process. One that comes
		// during startup waits in the channel and reloads once watched.
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGHUP)
		defer signal.Stop(ch)
		opts.HUP = ch
	}
	if err := cfg.Validate(); err != nil {
		return &ConfigError{err}
	}
	opts, log := withDefaults(cfg, opts)
	r, err := start(ctx, cfg, opts, log)
	if err != nil {
		return &ConfigError{err}
	}
	defer r.ln.Close()
	defer r.pushed.close()
	r.announce(opts)
	return r.run(ctx)
}

// withDefaults fills what opts leaves out and returns the logger every
// part logs through: the scrubber's, so no configured secret reaches a
// log line, whatever a server echoed or a client printed.
func withDefaults(cfg Config, opts Options) (Options, *slog.Logger) {
	log := opts.Logger
	if log == nil {
		log = NewLogger(os.Stderr, cfg.LogFormat, cfg.LogLevel)
	}
	log = slog.New(outputHandler(log.Handler(), cfg.Scrubber()))
	if opts.Console == nil {
		opts.Console = os.Stdout
	}
	if opts.Clock == nil {
		opts.Clock = engine.SystemClock{}
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	return opts, log
}

// started is the daemon once every part started: what its duties and its
// shutdown need.
type started struct {
	cfg     Config
	log     *slog.Logger
	clock   engine.Clock
	hup     <-chan os.Signal
	mode    string // the notifier: "slack bot", "webhook", "console", "custom"
	ln      net.Listener
	c       *core
	client  *zoom.Client
	poller  *poll.Poller
	pushed  *push
	answers *slackIn
	api     *http.Server
}

// start opens the listener and the store, checks the Zoom app and builds
// every part. An error (a configuration or credentials problem) leaves
// nothing open.
func start(ctx context.Context, cfg Config, opts Options, log *slog.Logger) (*started, error) {
	r := &started{cfg: cfg, log: log, clock: opts.Clock, hup: opts.HUP}
	sender, mode := opts.Sender, "custom"
	var err error
	if sender == nil {
		if sender, mode, err = newSender(cfg, opts.Console, log); err != nil {
			return nil, err
		}
	}
	r.mode = mode
	if r.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		if u := errors.Unwrap(err); u != nil {
			err = u // "bind: address already in use", without Go's "listen tcp" prefix
		}
		return nil, fmt.Errorf("QOSWATCH_LISTEN=%s: %w", cfg.Listen, err)
	}
	reg := newRegistry(opts.Version, runtime.Version())
	r.c, err = newCore(coreConfig{
		rules: cfg.Rules, db: cfg.DB, staleAfter: cfg.StaleAfter, silenceMax: cfg.SilenceMax,
		clock: r.clock, reg: reg, sender: sender, channel: cfg.Slack.Channel, force: opts.OneChannel, log: log,
		// Buttons where someone can answer them: the bot's messages when
		// Slack's answers reach qoswatch, the console demo's.
		actions: opts.Buttons || (mode == "slack bot" && cfg.Slack.answering()),
	})
	if err != nil {
		r.ln.Close()
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			r.ln.Close()
			r.c.close(time.Second)
		}
	}()
	log.Info("qoswatch starting", "version", opts.Version, "rules", cfg.Rules, "db", cfg.DB, "listen", cfg.Listen, "notifier", mode)
	r.client, err = zoom.NewClient(zoom.Config{
		APIURL: cfg.Zoom.APIURL, OAuthURL: cfg.Zoom.OAuthURL,
		AccountID: cfg.Zoom.AccountID, ClientID: cfg.Zoom.ClientID, ClientSecret: cfg.Zoom.ClientSecret.Reveal(),
		Plan: cfg.Zoom.Plan, DailyLimit: cfg.Zoom.DailyLimit, Quota: zoom.QuotaConfig{Share: cfg.BudgetShare, Spend: r.c.db},
		Logger: log, Clock: r.clock, Registerer: reg, HealthWindow: 3 * cfg.PollInterval, // the client names itself (component=zoom)
	})
	if err != nil {
		return nil, fmt.Errorf("zoom: %w", err)
	}
	// The first call can take a while (retries with back-off): say at
	// once what is being tried, so a silent terminal is never a mystery.
	log.Info("checking the Zoom app: getting a token and listing live "+firstWatch(cfg),
		"oauth_url", cfg.Zoom.OAuthURL, "zoom_api", cfg.Zoom.APIURL, "account_id", cfg.Zoom.AccountID, "timeout", credentialsTimeout)
	if err := checkCredentials(ctx, r.client, cfg, r.clock.Now(), log); err != nil {
		return nil, err
	}
	bot, _ := sender.(*slackapp.Bot)
	if r.answers, err = newSlackIn(cfg, r.c, bot, log); err != nil {
		return nil, err
	}
	if r.pushed, err = newPush(cfg, r.c, r.client, r.clock, log, r.answers); err != nil {
		return nil, err
	}
	kinds := make([]engine.SourceKind, 0, len(cfg.Watch)) // empty, not nil: "discover nothing"
	for _, w := range cfg.Watch {
		kinds = append(kinds, engine.SourceKind(strings.TrimSuffix(w, "s")))
	}
	r.poller, err = poll.New(r.client, poll.Config{
		Interval: cfg.PollInterval, Watch: kinds, Sources: cfg.Sources,
		Hot:         r.c.eng, // engine.Hot: the keys only, not a copy of every alert each poll
		Push:        r.pushed.view(),
		LiveHistory: r.c.db, // the learned plan's week of live time
		Logger:      log, Clock: r.clock, Registerer: reg,
	}, sink{r.c})
	if err != nil {
		r.pushed.close()
		return nil, fmt.Errorf("poller: %w", err)
	}
	r.pushed.usePoller(r.poller) // Zoom's alerts focus it; a WebSocket reconnect fills the gap
	r.api = r.newAPI(reg)
	ok = true
	return r, nil
}

// newAPI is the admin HTTP server: the API, metrics, and /readyz's checks.
func (r *started) newAPI(reg *prometheus.Registry) *http.Server {
	c, poller, client := r.c, r.poller, r.client
	return &http.Server{
		Handler: httpapi.New(httpapi.Options{
			Engine: c.eng, Token: r.cfg.APIToken.Reveal(), Hosts: r.cfg.AllowedHosts, Metrics: reg, Logger: r.log.With("component", "http"),
			Backup: c.db.Backup, Minutes: c.db.Minutes, Status: status(poller.Mode, r.pushed, r.cfg.Events.WSSubscription != ""),
			Ready: append([]httpapi.Check{
				// The store is open and its last write went through.
				{Name: "store", Check: func(context.Context) error { return c.db.WriteError() }},
				{Name: "rules", Check: func(context.Context) error {
					if c.rules.Load() == nil {
						return errors.New("no rules loaded")
					}
					return nil
				}},
				// Delivery is not paused (an unwritable store, Slack refusing
				// the credentials).
				{Name: "notifier", Check: func(context.Context) error { return c.disp.Health() }},
				// Calls may be made: not paused by Zoom's Daily-limit nor by
				// qoswatch's spent share; says until when.
				{Name: "zoom_quota", Check: func(context.Context) error { return poller.Health() }, Degraded: true},
				{Name: "zoom_token", Check: func(context.Context) error { return client.Health() }},
			}, r.pushed.readyChecks(c.db)...),
		}),
		// Bounds on what one client may hold: slow headers or bodies, idle
		// connections, huge headers. The backup is the longest answer.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// announce says the daemon runs, and where (the tests and the demo learn
// the addresses from opts' callbacks).
func (r *started) announce(opts Options) {
	cfg, addr := r.cfg, r.ln.Addr().String()
	r.log.Info("qoswatch running", "listen", addr, "poll_interval", cfg.PollInterval,
		"watch", strings.Join(cfg.Watch, ","), "sources", strings.Join(cfg.Sources, ","), "plan", cfg.Zoom.Plan, "budget_share", cfg.BudgetShare,
		"events_listen", r.pushed.addr(), "zoom_websocket", cfg.Events.WSSubscription != "")
	if r.mode == "console" {
		r.log.Warn("neither SLACK_BOT_TOKEN nor SLACK_WEBHOOK_URL is set: alerts go to the console (stdout)")
	}
	if r.mode == "slack bot" && !cfg.Slack.answering() {
		r.log.Info("messages carry no buttons: set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP) to answer alerts from Slack (docs/slack.md)")
	}
	if opts.Listening != nil {
		opts.Listening(addr)
	}
	if a := r.pushed.addr(); a != "" && opts.EventsListening != nil {
		opts.EventsListening(a)
	}
}

// run runs every duty until ctx ends or one fails, then shuts down in the
// one order: the duties stop (no new batch, no reload, no request); then
// the dispatcher; then the outbox is flushed and the store closed.
func (r *started) run(ctx context.Context) error {
	c, cfg := r.c, r.cfg
	// The dispatcher outlives the other duties: on shutdown it keeps
	// delivering until they have stopped, then close flushes for the
	// grace period what the last batch decided.
	dispCtx, stopDisp := context.WithCancel(context.WithoutCancel(ctx))
	dispDone := make(chan struct{})
	go func() {
		defer close(dispDone)
		c.disp.Run(dispCtx)
	}()

	// Every other duty runs until ctx ends or one of them fails; the
	// first failure stops the rest.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.poller.Run(gctx) })
	g.Go(func() error { c.watchRules(gctx, cfg.Rules, cfg.RulesCheck, r.hup, r.clock); return nil })
	g.Go(func() error { c.housekeeping(gctx, cfg.PollInterval, r.clock); return nil })
	g.Go(func() error { return c.reporter.Run(gctx) })
	r.pushed.start(gctx, g)
	r.answers.start(gctx, g)
	g.Go(func() error {
		if err := r.api.Serve(r.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		if ctx.Err() != nil {
			r.log.Info("stopping: polling stops, the batch in hand is finished, the outbox is flushed", "grace", cfg.Grace)
		}
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		r.api.Shutdown(shut) // a client still reading after 2s is cut off
		r.pushed.shutdown()
		return nil
	})

	runErr := g.Wait()
	r.answers.wait()
	stopDisp()
	<-dispDone
	if err := c.close(cfg.Grace); err != nil && runErr == nil {
		runErr = fmt.Errorf("close store: %w", err)
	}
	if runErr == nil {
		r.log.Info("stopped cleanly")
	}
	return runErr
}

// newSender picks the notifier: bot token, webhook, or the console.
func newSender(cfg Config, console io.Writer, log *slog.Logger) (notifier.Sender, string, error) {
	o := slackapp.Options{APIURL: cfg.Slack.APIURL, Logger: log.With("component", "slack")}
	switch {
	case cfg.Slack.BotToken != "":
		b, err := slackapp.NewBot(cfg.Slack.BotToken.Reveal(), o)
		if err != nil {
			return nil, "", fmt.Errorf("SLACK_BOT_TOKEN: %w", err)
		}
		return b, "slack bot", nil
	case cfg.Slack.WebhookURL != "":
		w, err := slackapp.NewWebhook(cfg.Slack.WebhookURL.Reveal(), o)
		if err != nil {
			return nil, "", fmt.Errorf("SLACK_WEBHOOK_URL: %w", err)
		}
		return w, "slack webhook", nil
	}
	return notifier.NewConsole(console), "console", nil
}

// credentialsTimeout bounds the start's first Zoom call.
const credentialsTimeout = 30 * time.Second

// firstWatch is what the credentials check lists: the first of
// QOSWATCH_WATCH, else webinars.
func firstWatch(cfg Config) string {
	if len(cfg.Watch) > 0 {
		return cfg.Watch[0]
	}
	return "webinars"
}

// checkCredentials makes one listing call so that credentials Zoom
// rejects stop the start with one clear line, instead of an error logged
// every poll. Other failures (Zoom down) are logged; polling retries them.
func checkCredentials(ctx context.Context, c *zoom.Client, cfg Config, now time.Time, log *slog.Logger) error {
	kind := engine.Webinar
	if firstWatch(cfg) == "meetings" {
		kind = engine.Meeting
	}
	ctx, cancel := context.WithTimeout(ctx, credentialsTimeout)
	defer cancel()
	now = now.UTC()
	_, err := c.ListSources(ctx, kind, zoom.Live, now.Add(-24*time.Hour), now)
	switch {
	case err != nil && zoom.IsAuth(err):
		return fmt.Errorf("ZOOM_ACCOUNT_ID/ZOOM_CLIENT_ID/ZOOM_CLIENT_SECRET: Zoom refused them: %w", err)
	case err != nil && ctx.Err() == nil:
		log.Warn("the first Zoom call failed; polling retries every interval", "error", err)
	}
	return nil
}

// watchRules reloads the rules file when its modification time or size
// changes and then holds still for one check (so a file caught half
// written is not loaded), and at once on SIGHUP.
func (c *core) watchRules(ctx context.Context, path string, every time.Duration, hup <-chan os.Signal, clock engine.Clock) {
	stamp := func() string {
		fi, err := os.Stat(path)
		if err != nil {
			return "missing"
		}
		return fmt.Sprint(fi.ModTime().UnixNano(), fi.Size())
	}
	last, changed := stamp(), ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			last, changed = stamp(), ""
			c.reload(ctx, "SIGHUP")
		case <-clock.After(every):
			switch s := stamp(); {
			case s == last:
				changed = ""
			case s != changed:
				changed = s // seen moving: look again next tick
			default:
				last, changed = s, ""
				c.reload(ctx, "file changed")
			}
		}
	}
}

// housekeeping runs the engine's wall-clock work (repeats, silence ends)
// every poll interval and collects the store hourly.
func (c *core) housekeeping(ctx context.Context, every time.Duration, clock engine.Clock) {
	lastGC := clock.Now()
	for {
		if engine.Sleep(ctx, clock, every) != nil {
			return
		}
		if err := c.eng.Tick(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("engine tick", "error", err)
		}
		c.disp.Wake()
		if clock.Now().Sub(lastGC) > time.Hour {
			lastGC = clock.Now()
			got, err := c.db.Collect(ctx, lastGC.Add(-engine.DefaultResolvedRetention))
			if err != nil && ctx.Err() == nil {
				c.log.Error("store collect", "error", err)
			} else {
				c.log.Debug("store collected", "collected", got)
			}
		}
	}
}
