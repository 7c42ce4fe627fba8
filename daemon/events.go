package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/httpapi"
	"github.com/qoswatch/qoswatch/poll"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom"
)

// The push side: what Zoom sends rather than what qoswatch asks. One
// handler (zoom.Events) takes webhooks from the public listener and
// events from the Zoom WebSocket, stores them, and applies them to the
// engine.

// maxInboxBacklog is the number of stored, unapplied events above which
// /readyz says not ready: the engine is not keeping up, or failing.
const maxInboxBacklog = 10000

// push is the running push side; nil fields are transports not configured.
type push struct {
	events *zoom.Events
	ln     net.Listener // QOSWATCH_EVENTS_LISTEN
	srv    *http.Server
	ws     *zoom.WSConfig
	// webhook: Zoom's webhooks arrive on the listener (its secret is set;
	// the listener may serve only Slack's requests).
	webhook bool
	client  *zoom.Client
	log     *slog.Logger
}

// newPush builds the push side when cfg.Events configures a transport;
// nil otherwise. The public listener is bound here, so a port in use is a
// configuration error at start.
func newPush(cfg Config, c *core, client *zoom.Client, clock engine.Clock, log *slog.Logger, slackIn *slackIn) (*push, error) {
	if !cfg.Events.on() {
		return nil, nil
	}
	ev, err := zoom.NewEvents(zoom.EventsConfig{
		Queue: c.db, Sink: sink{c}, Resolver: client, Wanted: wanted(cfg), Memory: c.db,
		Clock: clock, Logger: log, Registerer: c.reg,
	})
	if err != nil {
		return nil, err
	}
	p := &push{events: ev, client: client, log: log, webhook: cfg.Events.Listen != "" && cfg.Events.WebhookSecret != ""}
	c.annotate = ev.Annotate
	if cfg.Events.WSSubscription != "" {
		p.ws = &zoom.WSConfig{URL: cfg.Events.WSURL, SubscriptionID: cfg.Events.WSSubscription}
	}
	if cfg.Events.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Events.Listen)
		if err != nil {
			if u := errors.Unwrap(err); u != nil {
				err = u
			}
			return nil, fmt.Errorf("QOSWATCH_EVENTS_LISTEN=%s: %w", cfg.Events.Listen, err)
		}
		p.ln = ln
		p.srv = eventsServer(publicMux(ev, cfg.Events.WebhookSecret.Reveal(), slackIn))
	}
	return p, nil
}

// publicMux routes the public listener: only signed endpoints, each
// verifying its own signature: Zoom's webhooks (with its secret token)
// and the Slack app's interactions and commands (with its signing
// secret), each only when its secret is set.
func publicMux(ev *zoom.Events, secret string, slackIn *slackIn) *http.ServeMux {
	mux := http.NewServeMux()
	if secret != "" {
		mux.Handle(zoom.WebhookPath, ev.Webhook(secret)) // it answers 405 to other methods, counted
	}
	slackIn.mount(mux)
	return mux
}

// eventsServer bounds what one client of the public listener may hold.
// Zoom wants an answer within 3 s; a request that trickles in longer is
// not Zoom's and is cut off.
func eventsServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// wanted says which sources qoswatch watches: the kinds QOSWATCH_WATCH
// discovers and the ids QOSWATCH_SOURCES names.
func wanted(cfg Config) func(engine.Source) bool {
	kinds := map[engine.SourceKind]bool{}
	for _, w := range cfg.Watch {
		kinds[engine.SourceKind(strings.TrimSuffix(w, "s"))] = true
	}
	ids := map[string]bool{}
	for _, s := range cfg.Sources {
		if kind, id, err := ParseSource(s); err == nil {
			ids[engine.Source{Kind: engine.SourceKind(kind), ID: id}.Key()] = true
		}
	}
	return func(s engine.Source) bool { return kinds[s.Kind] || ids[s.Key()] }
}

// view is what the poller reads of the events (nil: polling alone).
func (p *push) view() poll.Push {
	if p == nil {
		return nil // an untyped nil: the poller checks for nil
	}
	return p.events
}

// usePoller lets the events ask the poller for focused polls and gap
// fills.
func (p *push) usePoller(poller *poll.Poller) {
	if p != nil {
		p.events.UsePoller(poller)
	}
}

// readyChecks are the push side's parts of /readyz.
func (p *push) readyChecks(db *store.DB) []httpapi.Check {
	if p == nil {
		return nil
	}
	return []httpapi.Check{{Name: "zoom_events", Check: func(ctx context.Context) error {
		if n, err := db.InboxDepth(ctx); err != nil {
			return err
		} else if n > maxInboxBacklog {
			return fmt.Errorf("%d Zoom events stored and not applied yet", n)
		}
		return nil
	}}}
}

// addr is the public listener's address ("" when off).
func (p *push) addr() string {
	if p == nil || p.ln == nil {
		return ""
	}
	return p.ln.Addr().String()
}

// start runs the push duties in g: the applier, the listener, the
// WebSocket.
func (p *push) start(ctx context.Context, g *errgroup.Group) {
	if p == nil {
		return
	}
	g.Go(func() error { return p.events.Run(ctx) })
	if p.srv != nil {
		g.Go(func() error {
			if err := p.srv.Serve(p.ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("events listener: %w", err)
			}
			return nil
		})
	}
	if p.ws != nil {
		g.Go(func() error { return p.events.RunWebSocket(ctx, p.client, *p.ws) })
	}
}

// shutdown stops the listener: a request in flight gets 2 s to finish
// (its event is stored or Zoom retries it).
func (p *push) shutdown() {
	if p == nil || p.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p.srv.Shutdown(ctx)
}

// close releases the listener when Run fails before serving.
func (p *push) close() {
	if p != nil && p.ln != nil {
		p.ln.Close()
	}
}
