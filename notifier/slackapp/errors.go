package slackapp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/qoswatch/qoswatch/notifier"
)

// authCodes are Slack error codes that refuse the credentials themselves:
// nothing can be sent anywhere until the token is fixed, and no message is
// at fault, so the dispatcher pauses and keeps them all.
var authCodes = map[string]bool{
	"invalid_auth":       true,
	"not_authed":         true,
	"token_revoked":      true,
	"token_expired":      true,
	"account_inactive":   true,
	"missing_scope":      true,
	"no_permission":      true,
	"org_login_required": true,
	"ekm_access_denied":  true,
}

// transientCodes are Slack error codes (in an ok:false answer) that a
// retry can fix. Every other code means the request itself is wrong for
// this workspace (channel_not_found, not_in_channel, is_archived,
// msg_too_long, invalid_blocks...) and is permanent.
var transientCodes = map[string]bool{
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
	"ratelimited":         true,
	"rate_limited":        true,
	"team_added_to_org":   true,
}

// classify turns a slack-go error into a notifier.DeliveryError, with
// every secret (the token, the webhook URL and its path) cut out of the
// message.
func classify(err error, secrets ...string) error {
	de := &notifier.DeliveryError{Class: notifier.Transient, Code: "network"}
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		de.Class, de.Code, de.RetryAfter = notifier.RateLimited, "ratelimited", rl.RetryAfter
	case errors.As(err, &sc):
		de.Code = fmt.Sprintf("http_%d", sc.Code)
		switch {
		case sc.Code == http.StatusTooManyRequests:
			de.Class = notifier.RateLimited // no Retry-After: the dispatcher's default wait
		case sc.Code >= 500, sc.Code == http.StatusRequestTimeout:
			de.Class = notifier.Transient
		case sc.Code == http.StatusForbidden, sc.Code == http.StatusUnauthorized:
			// A webhook answers 403 action_prohibited when the app lost
			// its permission: the URL itself is refused.
			de.Class = notifier.Unauthorized
		default:
			// Webhooks answer 400 invalid_payload, 404
			// no_service/channel_not_found, 410 channel_is_archived.
			de.Class = notifier.Permanent
		}
	case errors.As(err, &se):
		de.Code = se.Err
		switch {
		case authCodes[se.Err]:
			de.Class = notifier.Unauthorized
		case !transientCodes[se.Err]:
			de.Class = notifier.Permanent
		}
	default:
		// No answer from Slack: a timeout, a connection closed, a body
		// that did not parse. Unless the connection was never made, the
		// request may have reached Slack and been posted.
		var op *net.OpError
		de.Unanswered = !(errors.As(err, &op) && op.Op == "dial")
		if de.Unanswered && isTimeout(err) {
			de.Code = "timeout"
		}
	}
	de.Err = errors.New(scrub(err.Error(), secrets))
	return de
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// scrub removes secrets from s: each whole, and for URLs their path and
// its long segments too, however the HTTP client printed them.
func scrub(s string, secrets []string) string {
	var parts []string
	add := func(v string) {
		if len(v) >= 6 {
			parts = append(parts, v)
		}
	}
	for _, sec := range secrets {
		add(sec)
		if u, err := url.Parse(sec); err == nil && u.Host != "" {
			add(u.EscapedPath())
			add(u.Path)
			for _, seg := range strings.Split(u.Path, "/") {
				if len(seg) >= 8 {
					add(seg)
				}
			}
		}
	}
	// Longest first, so a whole URL goes before its parts.
	slices.SortFunc(parts, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, p := range parts {
		s = strings.ReplaceAll(s, p, "[redacted]")
	}
	return s
}
