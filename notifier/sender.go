package notifier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/slack-go/slack"
)

// Message is one rendered notification: Block Kit blocks and the plain-text
// fallback Slack shows in notifications and to screen readers. Redaction
// and escaping have been applied to both, and both are within Slack's
// limits (see render.go).
type Message struct {
	Blocks []slack.Block
	Text   string
	// More are continuation messages ("2/3", "3/3") for what did not fit
	// in one message within Slack's limits, such as a storm's list of
	// participants. Each is within the limits and has no More of its own.
	// The deliverer posts them after this message, in order: as replies
	// in this message's thread (in the same thread when this message is
	// itself a reply), or as plain messages where there are no threads
	// (webhooks). An update (chat.update) never has More. Senders ignore
	// the field: they are handed one message at a time.
	More []Message
	// Key identifies this message across retries (the deliverer sets it;
	// it names no participant). A sender that can carries it with the
	// message (the bot: in the message's metadata), so that a Finder can
	// tell whether a post Slack never answered arrived after all.
	Key string
}

// Sender delivers rendered messages: notifier/slackapp (bot token or
// webhook) and the Console implement it.
type Sender interface {
	// Post sends m to channel, as a reply in the thread of threadTS when it
	// is not empty. The returned ref has an empty TS when the sender cannot
	// thread or update (webhooks).
	Post(ctx context.Context, channel, threadTS string, m Message) (engine.MessageRef, error)
	// Update replaces the message at ref with m.
	Update(ctx context.Context, ref engine.MessageRef, m Message) error
}

// Finder is a Sender that can look for a message it posted. The deliverer
// asks it before posting again a message whose earlier post went
// unanswered (DeliveryError.Unanswered): Slack may have posted it and
// answered after the client gave up.
type Finder interface {
	// Find looks in channel (an id), or in the thread of threadTS when it
	// is not empty, among the messages posted since since, for the one
	// carrying key. It returns that message's ref and true when found.
	// An error means it cannot tell (classified like a delivery error).
	Find(ctx context.Context, channel, threadTS, key string, since time.Time) (engine.MessageRef, bool, error)
}

// ErrorClass says what the dispatcher does with a failed delivery.
type ErrorClass int

const (
	// Transient: a 5xx, a timeout, a network error. Retried with back-off,
	// for as long as it takes; the entry stays in the outbox.
	Transient ErrorClass = iota
	// RateLimited: Slack said 429. The channel waits RetryAfter.
	RateLimited
	// Permanent: retrying cannot help this message in this channel
	// (channel_not_found, not_in_channel, msg_too_long...). The entry is
	// dead-lettered: logged once per channel and code, counted, and removed
	// from the outbox.
	Permanent
	// Unauthorized: Slack refuses the credentials themselves (invalid_auth,
	// token_revoked, a deleted webhook). No message can go anywhere, but
	// none is at fault either: all delivery pauses for AuthRetry and the
	// outbox keeps every entry, so a rotated token loses nothing.
	Unauthorized
)

func (c ErrorClass) String() string {
	switch c {
	case RateLimited:
		return "rate_limited"
	case Permanent:
		return "permanent"
	case Unauthorized:
		return "unauthorized"
	default:
		return "transient"
	}
}

// DeliveryError is a classified delivery failure. Senders return it so the
// dispatcher knows whether to wait, retry or give up. Its message never
// carries a token or a webhook URL.
type DeliveryError struct {
	Class      ErrorClass
	Code       string        // Slack's error code ("channel_not_found") or "http_503"
	RetryAfter time.Duration // for RateLimited; 0 means "use the default"
	// Unanswered: the request was sent (or may have been) and no answer
	// came: a timeout, or a connection closed after the request went.
	// Slack may have posted the message; the deliverer looks before it
	// posts it again.
	Unanswered bool
	Err        error
}

func (e *DeliveryError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%s (%s)", e.Code, e.Class)
	}
	return fmt.Sprintf("%s (%s): %v", e.Code, e.Class, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Classify returns err's class; an error a sender did not classify is
// transient, so nothing is dropped by mistake.
func Classify(err error) *DeliveryError {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de
	}
	return &DeliveryError{Class: Transient, Code: "error", Err: err}
}
