package slackapp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
)

// The inbound side of the Slack app: what responders answer. Button
// clicks (block_actions) and the /qoswatch slash command arrive over
// Socket Mode (socket.go) or signed HTTP (http.go); both hand them to
// one App, which checks who may act, applies the action through the
// engine (committed before Slack is answered) and tells the responder
// what it could not do in an ephemeral message. The message itself is
// updated by the notifier, from the outbox entry the action queued.

// Actor is what the App asks of the engine (*engine.Engine, through the
// daemon, which wakes the notifier after each action).
type Actor interface {
	Act(ctx context.Context, a engine.Action) (engine.ActionResult, error)
	Alerts() []engine.Alert
	AddSilence(ctx context.Context, s engine.Silence) (engine.Silence, error)
}

// AppOptions configure an App. Actor is required.
type AppOptions struct {
	Actor Actor
	// Responders are the Slack user IDs (U…, W…) and user group IDs
	// (S…) allowed to act (QOSWATCH_SLACK_RESPONDERS); empty: everyone
	// in the channel.
	Responders []string
	// Members looks up a user group's members (usergroups.users.list,
	// Bot.GroupMembers); needed when Responders names a group.
	Members func(ctx context.Context, group string) ([]string, error)
	// GroupTTL is how long a group's members are cached (default 5m).
	GroupTTL time.Duration
	// Rules names the rules, so `/qoswatch silence X` can tell a rule
	// from a participant.
	Rules func() []string
	// SilenceMax is the longest `/qoswatch silence` (the engine refuses
	// longer ones anyway); default 30 days, only for the help text.
	SilenceMax time.Duration
	// HTTPClient posts to response_urls (default: 10s timeout).
	HTTPClient *http.Client
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// App handles what responders send from Slack.
type App struct {
	o       AppOptions
	log     *slog.Logger
	metrics appMetrics
	users   map[string]bool // Responders' users
	groups  []string        // Responders' user groups

	mu     sync.Mutex
	cached map[string]groupCache

	replies sync.WaitGroup // ephemeral answers in flight
}

type groupCache struct {
	members map[string]bool
	at      time.Time
}

type appMetrics struct {
	interactions *prometheus.CounterVec // transport, type
	refused      *prometheus.CounterVec // reason
	connected    prometheus.Gauge       // Socket Mode
	connects     prometheus.Counter
}

// NewApp returns an App.
func NewApp(o AppOptions) (*App, error) {
	if o.Actor == nil {
		return nil, errors.New("slack app: AppOptions.Actor is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.GroupTTL <= 0 {
		o.GroupTTL = 5 * time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.SilenceMax <= 0 {
		o.SilenceMax = engine.DefaultSilenceLimits.MaxDuration
	}
	a := &App{o: o, log: o.Logger, users: map[string]bool{}, cached: map[string]groupCache{}}
	for _, id := range o.Responders {
		switch {
		case strings.HasPrefix(id, "S"):
			if o.Members == nil {
				return nil, fmt.Errorf("slack app: responder %s is a user group: looking up its members needs the bot token (SLACK_BOT_TOKEN, scope usergroups:read)", id)
			}
			a.groups = append(a.groups, id)
		case strings.HasPrefix(id, "U"), strings.HasPrefix(id, "W"):
			a.users[id] = true
		default:
			return nil, fmt.Errorf("slack app: responder %q is neither a user ID (U…, W…) nor a user group ID (S…)", id)
		}
	}
	a.metrics = appMetrics{
		interactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qoswatch_slack_interactions_total",
			Help: "Requests from Slack handled: button clicks (block_actions) and slash commands, by transport (socket, http).",
		}, []string{"transport", "type"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qoswatch_slack_interactions_refused_total",
			Help: "Requests from Slack refused: bad_signature (forged, stale or unsigned HTTP: 401, nothing applied), not_allowed (the user is not in QOSWATCH_SLACK_RESPONDERS), malformed.",
		}, []string{"reason"}),
	}
	a.metrics.connected = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "qoswatch_slack_socket_connected",
		Help: "1 while the Socket Mode connection to Slack is up (SLACK_APP_TOKEN), 0 otherwise.",
	})
	a.metrics.connects = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "qoswatch_slack_socket_connects_total",
		Help: "Socket Mode connections made: the first, and each reconnect (Slack refreshes connections every few hours).",
	})
	for _, tr := range []string{"socket", "http"} {
		for _, ty := range []string{string(slack.InteractionTypeBlockActions), "slash_command"} {
			a.metrics.interactions.WithLabelValues(tr, ty)
		}
	}
	for _, r := range []string{"bad_signature", "not_allowed", "malformed"} {
		a.metrics.refused.WithLabelValues(r)
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(a.metrics.interactions, a.metrics.refused, a.metrics.connected, a.metrics.connects)
	}
	return a, nil
}

// Wait waits for the ephemeral answers in flight (at shutdown, in tests).
func (a *App) Wait() { a.replies.Wait() }

// actTimeout bounds one action: Slack wants its answer within 3 s, and
// the action is committed before it is answered.
const actTimeout = 2 * time.Second

// allowed reports whether user may act. A group whose members cannot be
// looked up allows nobody (and is logged): closed, not open, on error.
func (a *App) allowed(ctx context.Context, user string) bool {
	if len(a.users) == 0 && len(a.groups) == 0 {
		return true
	}
	if a.users[user] {
		return true
	}
	for _, g := range a.groups {
		members, err := a.members(ctx, g)
		if err != nil {
			a.log.Warn("slack app: cannot look up a responders' user group; its members cannot act until it can", "group", g, "error", err)
			continue
		}
		if members[user] {
			return true
		}
	}
	return false
}

func (a *App) members(ctx context.Context, group string) (map[string]bool, error) {
	now := a.o.Now()
	a.mu.Lock()
	c, ok := a.cached[group]
	a.mu.Unlock()
	if ok && now.Sub(c.at) < a.o.GroupTTL {
		return c.members, nil
	}
	list, err := a.o.Members(ctx, group)
	if err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(list))
	for _, u := range list {
		m[u] = true
	}
	a.mu.Lock()
	a.cached[group] = groupCache{members: m, at: now}
	a.mu.Unlock()
	return m, nil
}

const notAllowed = "You are not among the responders allowed to act on qoswatch alerts (QOSWATCH_SLACK_RESPONDERS). Ask whoever runs qoswatch to add you or your user group."

// interaction handles one interaction payload. It returns once every
// action it carries is committed; answer is what to tell the clicker
// ephemerally ("" when the updated message says it all).
func (a *App) interaction(ctx context.Context, transport string, cb *slack.InteractionCallback) (answer string) {
	if cb.Type != slack.InteractionTypeBlockActions {
		a.metrics.interactions.WithLabelValues(transport, "other").Inc()
		return "" // nothing else is offered
	}
	a.metrics.interactions.WithLabelValues(transport, string(cb.Type)).Inc()
	var answers []string
	for _, act := range cb.ActionCallback.BlockActions {
		if s := a.blockAction(ctx, cb, act); s != "" {
			answers = append(answers, s)
		}
	}
	return strings.Join(answers, "\n")
}

func (a *App) blockAction(ctx context.Context, cb *slack.InteractionCallback, act *slack.BlockAction) string {
	var kind engine.ActionKind
	var scope engine.SilenceScope
	switch act.ActionID {
	case notifier.ActionZoom:
		return "" // a link: Slack opened it
	case notifier.ActionAck:
		kind = engine.ActionAck
	case notifier.ActionDismiss:
		kind = engine.ActionDismiss
	case notifier.ActionSilence:
		kind, scope = engine.ActionSilence, engine.SilenceScope(act.SelectedOption.Value)
	default:
		a.metrics.refused.WithLabelValues("malformed").Inc()
		a.log.Warn("slack app: a click on an element qoswatch did not send", "action_id", clipText(act.ActionID, 80))
		return ""
	}
	key, err := notifier.ParseActionBlockID(act.BlockID)
	if err != nil {
		a.metrics.refused.WithLabelValues("malformed").Inc()
		a.log.Warn("slack app: a click qoswatch cannot place", "error", err)
		return "qoswatch cannot tell which alert this button is about (the message is not one of its own, or older than this version)."
	}
	if !a.allowed(ctx, cb.User.ID) {
		a.metrics.refused.WithLabelValues("not_allowed").Inc()
		a.log.Info("slack app: action refused: not a responder", "user", cb.User.ID, "action", kind, "alert", key.String())
		return notAllowed
	}
	ch := cmp.Or(cb.Container.ChannelID, cb.Channel.ID)
	name := cmp.Or(cb.User.Name, cb.User.Username)
	ts := cmp.Or(act.ActionTs, cb.ActionTs)
	return a.act(ctx, engine.Action{
		// One click, one ID: Slack's retries and Socket Mode's
		// redeliveries carry the same action_ts, so they apply once.
		ID:   "slack:" + ts + ":" + cb.User.ID + ":" + act.ActionID,
		Kind: kind, Scope: scope, Alert: key, User: cb.User.ID, UserName: name,
		Message: engine.MessageRef{Channel: ch, TS: cb.Container.MessageTs},
	})
}

// act applies one action and says what to tell the responder: nothing
// when it applied (the message is updated for everyone) or when it is a
// replay (the first submission was answered), Act's words when it
// changed nothing ("Already acknowledged by <@U1> at 14:03 UTC."), the
// mistake or "try again" on an error.
func (a *App) act(ctx context.Context, x engine.Action) string {
	// Once begun, the action finishes even if Slack hangs up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), actTimeout)
	defer cancel()
	res, err := a.o.Actor.Act(ctx, x)
	switch {
	case errors.Is(err, engine.ErrInvalidAction):
		return "qoswatch cannot do that: " + escapeText(strings.TrimPrefix(err.Error(), engine.ErrInvalidAction.Error()+": "))
	case err != nil:
		a.log.Error("slack app: action failed", "action", x.Kind, "alert", x.Alert.String(), "user", x.User, "error", err)
		return "qoswatch could not record that just now (see its log); please try again."
	case res.Replay, res.Applied:
		return ""
	}
	return res.Text
}

// reply posts text to a response_url as an ephemeral message (only the
// responder sees it), after Slack was answered; it runs on its own.
func (a *App) reply(responseURL, text string) {
	if responseURL == "" || text == "" {
		return
	}
	a.replies.Add(1)
	go func() {
		defer a.replies.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: false, Text: clipText(text, maxEphemeral)}
		if err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, a.o.HTTPClient, msg); err != nil {
			// The URL is a capability (it posts into the channel): never logged.
			a.log.Warn("slack app: the ephemeral answer was not delivered", "error", classify(err, responseURL))
		}
	}()
}

// maxEphemeral bounds an answer's text: a Socket Mode response must stay
// under 20 KB, and a person reads a screenful.
const maxEphemeral = 8000

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escapeText escapes &, < and > so Slack shows them as written.
func escapeText(s string) string { return textEscaper.Replace(s) }

// clipText cuts s to at most max runes, marking the cut.
func clipText(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-1]) + "…"
}

// ruleNames is the current rules' names, sorted.
func (a *App) ruleNames() []string {
	if a.o.Rules == nil {
		return nil
	}
	names := slices.Clone(a.o.Rules())
	slices.Sort(names)
	return names
}
