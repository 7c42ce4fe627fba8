package slackapp_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/notifier"
)

// TestClassify: what Slack answers, through the real client, becomes the
// class the dispatcher acts on.
func TestClassify(t *testing.T) {
	r := newRig(t, toChannel("#c"))
	for _, tc := range []struct {
		f     fault
		class notifier.ErrorClass
		code  string
		after time.Duration
	}{
		{fault{slackErr: "channel_not_found"}, notifier.Permanent, "channel_not_found", 0},
		{fault{slackErr: "not_in_channel"}, notifier.Permanent, "not_in_channel", 0},
		{fault{slackErr: "invalid_auth"}, notifier.Unauthorized, "invalid_auth", 0},
		{fault{slackErr: "token_revoked"}, notifier.Unauthorized, "token_revoked", 0},
		{fault{slackErr: "is_archived"}, notifier.Permanent, "is_archived", 0},
		{fault{slackErr: "msg_too_long"}, notifier.Permanent, "msg_too_long", 0},
		{fault{slackErr: "invalid_blocks"}, notifier.Permanent, "invalid_blocks", 0},
		{fault{slackErr: "internal_error"}, notifier.Transient, "internal_error", 0},
		{fault{slackErr: "ratelimited"}, notifier.Transient, "ratelimited", 0},
		{fault{status: 503}, notifier.Transient, "http_503", 0},
		{fault{status: 500}, notifier.Transient, "http_500", 0},
		{fault{hangup: true}, notifier.Transient, "network", 0},
		{fault{status: 429, retryAfter: "12"}, notifier.RateLimited, "ratelimited", 12 * time.Second},
		{fault{status: 429}, notifier.RateLimited, "http_429", 0},
		// An HTTP-date Retry-After is turned into seconds for slack-go.
		{fault{status: 429, retryAfter: time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)}, notifier.RateLimited, "ratelimited", 2 * time.Minute},
		{fault{status: 429, retryAfter: "soon"}, notifier.RateLimited, "ratelimited", 0},
	} {
		f := tc.f
		r.slack.setFault(func(string, url.Values) *fault { return &f })
		_, err := r.bot.Post(context.Background(), "#c", "", notifier.Message{Text: "x"})
		var de *notifier.DeliveryError
		if !errors.As(err, &de) {
			t.Errorf("%+v: error %v is not a DeliveryError", tc.f, err)
			continue
		}
		if de.Class != tc.class || de.Code != tc.code {
			t.Errorf("%+v: class %s code %s, want %s %s", tc.f, de.Class, de.Code, tc.class, tc.code)
		}
		// Whole seconds, rounded up; allow for the test's own run time.
		if de.RetryAfter > tc.after || de.RetryAfter < tc.after-5*time.Second {
			t.Errorf("%+v: RetryAfter %s, want about %s", tc.f, de.RetryAfter, tc.after)
		}
	}
	// chat.update is classified the same way.
	r.slack.setFault(func(string, url.Values) *fault { return &fault{slackErr: "message_not_found"} })
	err := r.bot.Update(context.Background(), notifierRef("C1", "1.2"), notifier.Message{Text: "x"})
	if notifier.Classify(err).Class != notifier.Permanent {
		t.Errorf("update: %v", err)
	}
}
