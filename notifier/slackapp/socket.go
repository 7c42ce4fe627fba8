package slackapp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// The Socket Mode transport: qoswatch dials out to Slack (no public
// URL). slack-go's socketmode client opens the connection with the
// app-level token (apps.connections.open, scope connections:write),
// answers Slack's pings and moves to a new connection when Slack asks
// (disconnect: refresh_requested, warning) or the connection drops. Every
// envelope is acknowledged once its action is committed, well within
// Slack's 3 s; a slash command's answer rides in the acknowledgement.

// SocketOptions configure RunSocketMode.
type SocketOptions struct {
	AppToken   string // SLACK_APP_TOKEN: xapp-…
	APIURL     string // default DefaultAPIURL
	HTTPClient *http.Client
	// Retry is how long to wait after Slack refused the connection for
	// good (a revoked or wrong token) before trying again (default 1m).
	Retry time.Duration
}

// RunSocketMode receives interactions and slash commands over Socket
// Mode until ctx ends. It only returns an error for a token that can
// never work (not an app-level token); Slack refusing it is logged and
// retried, so a rotated token recovers without a restart.
func (a *App) RunSocketMode(ctx context.Context, o SocketOptions) error {
	if !strings.HasPrefix(o.AppToken, "xapp-") {
		return errors.New("slack socket mode: SLACK_APP_TOKEN is not an app-level token (xapp-…; Basic Information → App-Level Tokens, scope connections:write)")
	}
	oo := Options{APIURL: o.APIURL, HTTPClient: o.HTTPClient}
	oo.defaults()
	if o.Retry <= 0 {
		o.Retry = time.Minute
	}
	api := slack.New("", slack.OptionAppLevelToken(o.AppToken), slack.OptionAPIURL(oo.APIURL), slack.OptionHTTPClient(oo.HTTPClient))
	for {
		client := socketmode.New(api, socketmode.OptionLog(debugLog{a}))
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- client.RunContext(runCtx) }()
		err := a.serveSocket(runCtx, client, done)
		cancel()
		a.metrics.connected.Set(0)
		if ctx.Err() != nil {
			return nil
		}
		a.log.Error("slack socket mode: Slack refused the connection; retrying", "error", classify(err, o.AppToken), "retry_in", o.Retry)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.Retry):
		}
	}
}

// serveSocket handles the client's events until its run ends.
func (a *App) serveSocket(ctx context.Context, c *socketmode.Client, done <-chan error) error {
	for {
		var evt socketmode.Event
		select {
		case err := <-done:
			return err
		case evt = <-c.Events:
		}
		switch evt.Type {
		case socketmode.EventTypeConnecting:
			a.log.Debug("slack socket mode: connecting")
		case socketmode.EventTypeConnected:
			a.metrics.connected.Set(1)
			a.metrics.connects.Inc()
			a.log.Info("slack socket mode: connected")
		case socketmode.EventTypeConnectionError:
			a.metrics.connected.Set(0)
			a.log.Warn("slack socket mode: connection failed; slack-go retries with back-off", "error", evt.Data)
		case socketmode.EventTypeInvalidAuth:
			a.log.Error("slack socket mode: Slack refused SLACK_APP_TOKEN")
		case socketmode.EventTypeInteractive:
			cb, ok := evt.Data.(slack.InteractionCallback)
			answer := ""
			if ok {
				answer = a.interaction(ctx, "socket", &cb)
			} else {
				a.metrics.refused.WithLabelValues("malformed").Inc()
			}
			a.ack(ctx, c, evt.Request, nil)
			if ok {
				a.reply(cb.ResponseURL, answer)
			}
		case socketmode.EventTypeSlashCommand:
			cmd, ok := evt.Data.(slack.SlashCommand)
			if !ok {
				a.metrics.refused.WithLabelValues("malformed").Inc()
				a.ack(ctx, c, evt.Request, nil)
				continue
			}
			a.ack(ctx, c, evt.Request, a.command(ctx, "socket", cmd))
		case socketmode.EventTypeEventsAPI:
			a.ack(ctx, c, evt.Request, nil) // none subscribed; acknowledged so Slack does not resend
		}
	}
}

// ack acknowledges an envelope, with the slash command's answer.
func (a *App) ack(ctx context.Context, c *socketmode.Client, req *socketmode.Request, payload any) {
	if req == nil {
		return
	}
	if err := c.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		a.log.Warn("slack socket mode: acknowledgement not sent", "envelope", req.EnvelopeID, "error", err)
	}
}

// debugLog routes slack-go's own lines to the app's logger, at debug.
type debugLog struct{ a *App }

func (d debugLog) Output(_ int, s string) error {
	d.a.log.Debug("slack-go socketmode: " + strings.TrimSpace(s))
	return nil
}
