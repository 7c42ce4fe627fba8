package slackapp

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/slack-go/slack"
)

// The HTTP transport: Slack POSTs interactions and slash commands to the
// app's Request URLs, each signed with the app's signing secret
// (X-Slack-Signature: v0= hex HMAC-SHA256 of "v0:{timestamp}:{body}",
// X-Slack-Request-Timestamp within 5 minutes, checked with slack-go's
// SecretsVerifier). Anything unsigned, forged or stale is answered 401
// and nothing is applied.

// Paths on the public listener (QOSWATCH_EVENTS_LISTEN).
const (
	InteractionsPath = "/slack/interactions"
	CommandsPath     = "/slack/commands"
)

// maxBody bounds a request from Slack: a block_actions payload carries
// the whole message (at most ~12,000 characters of text in 50 blocks,
// escaped as JSON, then form-encoded), far below 1 MiB.
const maxBody = 1 << 20

// verified reads r's body (at most maxBody) and checks its signature; on
// failure it has answered (401, 405, 413) and returns false.
func (a *App) verified(w http.ResponseWriter, r *http.Request, secret string) (url.Values, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.metrics.refused.WithLabelValues("malformed").Inc()
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "cannot read the request", http.StatusBadRequest)
		}
		return nil, false
	}
	sv, err := slack.NewSecretsVerifier(r.Header, secret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		a.metrics.refused.WithLabelValues("bad_signature").Inc()
		a.log.Warn("slack app: request refused: signature", "path", r.URL.Path, "remote", r.RemoteAddr, "error", err)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil, false
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		a.metrics.refused.WithLabelValues("malformed").Inc()
		http.Error(w, "the body is not a form", http.StatusBadRequest)
		return nil, false
	}
	return v, true
}

// Interactions serves POST /slack/interactions: block_actions. The
// action is committed before the 200; what the clicker should read goes
// to the payload's response_url after.
func (a *App) Interactions(signingSecret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := a.verified(w, r, signingSecret)
		if !ok {
			return
		}
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(v.Get("payload")), &cb); err != nil {
			a.metrics.refused.WithLabelValues("malformed").Inc()
			http.Error(w, "the payload is not an interaction", http.StatusBadRequest)
			return
		}
		answer := a.interaction(r.Context(), "http", &cb)
		w.WriteHeader(http.StatusOK)
		a.reply(cb.ResponseURL, answer)
	})
}

// Commands serves POST /slack/commands: /qoswatch. The answer is the
// response body (ephemeral).
func (a *App) Commands(signingSecret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := a.verified(w, r, signingSecret)
		if !ok {
			return
		}
		cmd := slack.SlashCommand{
			TeamID: v.Get("team_id"), ChannelID: v.Get("channel_id"), UserID: v.Get("user_id"), UserName: v.Get("user_name"),
			Command: v.Get("command"), Text: v.Get("text"), ResponseURL: v.Get("response_url"), TriggerID: v.Get("trigger_id"),
		}
		msg := a.command(r.Context(), "http", cmd)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(msg)
	})
}
