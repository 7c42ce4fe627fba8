package daemon

import (
	"context"
	"log/slog"
	"net/http"

	"golang.org/x/sync/errgroup"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
)

// slackIn is the responders' side of Slack: the App that applies their
// buttons and /qoswatch, over Socket Mode (SLACK_APP_TOKEN) and signed
// HTTP on the public listener (SLACK_SIGNING_SECRET). Nil when neither
// is set.
type slackIn struct {
	app    *slackapp.App
	secret string                  // signing secret: HTTP endpoints mounted
	socket *slackapp.SocketOptions // Socket Mode
}

// newSlackIn builds the App when answering from Slack is configured; bot
// looks up responders' user groups (nil: a custom sender).
func newSlackIn(cfg Config, c *core, bot *slackapp.Bot, log *slog.Logger) (*slackIn, error) {
	if !cfg.Slack.answering() {
		return nil, nil
	}
	o := slackapp.AppOptions{
		Actor: responder{c}, Responders: cfg.Slack.Responders, Rules: c.ruleNames, SilenceMax: cfg.SilenceMax,
		Logger: log.With("component", "slack-app"), Registerer: c.reg,
	}
	if bot != nil {
		o.Members = bot.GroupMembers
	}
	app, err := slackapp.NewApp(o)
	if err != nil {
		return nil, err
	}
	s := &slackIn{app: app, secret: cfg.Slack.SigningSecret.Reveal()}
	if cfg.Slack.AppToken != "" {
		s.socket = &slackapp.SocketOptions{AppToken: cfg.Slack.AppToken.Reveal(), APIURL: cfg.Slack.APIURL}
	}
	return s, nil
}

// mount adds the HTTP endpoints to the public listener's mux.
func (s *slackIn) mount(mux *http.ServeMux) {
	if s == nil || s.secret == "" {
		return
	}
	mux.Handle(slackapp.InteractionsPath, s.app.Interactions(s.secret))
	mux.Handle(slackapp.CommandsPath, s.app.Commands(s.secret))
}

// start runs Socket Mode in g until ctx ends.
func (s *slackIn) start(ctx context.Context, g *errgroup.Group) {
	if s == nil || s.socket == nil {
		return
	}
	g.Go(func() error { return s.app.RunSocketMode(ctx, *s.socket) })
}

// wait lets the ephemeral answers in flight finish (at shutdown).
func (s *slackIn) wait() {
	if s != nil {
		s.app.Wait()
	}
}

// responder is the engine as the App acts on it: every action and
// silence wakes the notifier, so the message is updated at once.
type responder struct{ c *core }

func (r responder) Act(ctx context.Context, a engine.Action) (engine.ActionResult, error) {
	res, err := r.c.eng.Act(ctx, a)
	r.c.disp.Wake()
	return res, err
}

func (r responder) Alerts() []engine.Alert { return r.c.eng.Alerts() }

func (r responder) AddSilence(ctx context.Context, s engine.Silence) (engine.Silence, error) {
	return r.c.eng.AddSilence(ctx, s)
}

// ruleNames are the running rules' names.
func (c *core) ruleNames() []string {
	var out []string
	for _, r := range c.rules.Load().Rules() {
		out = append(out, r.Name)
	}
	return out
}
