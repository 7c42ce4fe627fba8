// Package slackapp is the Slack app: it delivers notifier messages to Slack with
// github.com/slack-go/slack: a bot token (chat.postMessage in threads,
// chat.update) or an incoming webhook (no threads, no updates). It
// classifies Slack's errors for the dispatcher and keeps the token and the
// webhook URL out of every error it returns.
package slackapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
)

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Options configure a Bot or a Webhook.
type Options struct {
	// APIURL is the Web API base (bot mode), default DefaultAPIURL; tests
	// point it at a fake.
	APIURL string
	// Timeout bounds every call (default 10s). It applies to HTTPClient
	// too when that has none.
	Timeout time.Duration
	// HTTPClient, when set, is used instead of a new client (never
	// http.DefaultClient, which has no timeout).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

func (o *Options) defaults() {
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(o.APIURL, "/") {
		o.APIURL += "/"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.Timeout}
	} else if o.HTTPClient.Timeout == 0 {
		c := *o.HTTPClient
		c.Timeout = o.Timeout
		o.HTTPClient = &c
	}
	// Normalise Retry-After so slack-go reports every 429 as one.
	c := *o.HTTPClient
	c.Transport = retryAfterTransport{next: c.Transport}
	o.HTTPClient = &c
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// maxRetryAfterSecs is the longest Retry-After passed on to slack-go: 31
// years, far inside a time.Duration.
const maxRetryAfterSecs = 1_000_000_000

// retryAfterTransport rewrites a 429's Retry-After given as an HTTP date
// into seconds, the only form slack-go parses; otherwise slack-go would
// fail to parse it and the 429 would look like a network error.
type retryAfterTransport struct{ next http.RoundTripper }

func (t retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	ra := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if ra == "" {
		return resp, nil
	}
	if n, perr := strconv.ParseUint(ra, 10, 64); perr == nil || errors.Is(perr, strconv.ErrRange) {
		// slack-go multiplies by a second: a value past ~292 years would
		// wrap into a short or negative wait. The notifier caps what it
		// honours anyway; keep the value long but whole.
		if n > maxRetryAfterSecs || perr != nil {
			resp.Header.Set("Retry-After", strconv.Itoa(maxRetryAfterSecs))
		}
		return resp, nil
	}
	secs := "0" // unparseable: the dispatcher's default wait
	if at, perr := http.ParseTime(ra); perr == nil {
		secs = strconv.Itoa(max(int(time.Until(at).Seconds()+0.999), 0))
	} else if f, perr := strconv.ParseFloat(ra, 64); perr == nil && f > 0 {
		secs = strconv.Itoa(int(f + 0.999))
	}
	resp.Header.Set("Retry-After", secs)
	return resp, nil
}

// Bot sends with a bot token (scope chat:write): new messages, replies in
// threads, and updates.
type Bot struct {
	api     *slack.Client
	token   string
	timeout time.Duration
	log     *slog.Logger
}

var _ notifier.Sender = (*Bot)(nil)

// NewBot returns a bot-token sender.
func NewBot(token string, o Options) (*Bot, error) {
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("slack: bot token is empty (SLACK_BOT_TOKEN)")
	}
	o.defaults()
	api := slack.New(token, slack.OptionAPIURL(o.APIURL), slack.OptionHTTPClient(o.HTTPClient))
	return &Bot{api: api, token: token, timeout: o.Timeout, log: o.Logger}, nil
}

// Post sends m with chat.postMessage, in the thread of threadTS when set.
// The ref carries the channel id Slack answered with, which chat.update
// needs.
func (b *Bot) Post(ctx context.Context, channel, threadTS string, m notifier.Message) (engine.MessageRef, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	opts := []slack.MsgOption{
		slack.MsgOptionText(m.Text, false),
		slack.MsgOptionBlocks(m.Blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
	}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	if m.Key != "" {
		// The key travels with the message, so Find can tell whether a
		// post Slack did not answer arrived after all.
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: MetadataEventType, EventPayload: map[string]any{"key": m.Key}}))
	}
	ch, ts, err := b.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return engine.MessageRef{}, fmt.Errorf("slack: chat.postMessage to %s: %w", channel, classify(err, b.token))
	}
	if ch == "" {
		ch = channel
	}
	b.log.Debug("slack: posted", "channel", ch, "ts", ts, "thread_ts", threadTS)
	return engine.MessageRef{Channel: ch, TS: ts}, nil
}

// MetadataEventType is the event_type of the metadata qoswatch's messages
// carry; its payload is {"key": Message.Key}, and names no participant.
const MetadataEventType = "qoswatch_message"

var _ notifier.Finder = (*Bot)(nil)

// Find looks for the message carrying key among those posted in channel
// (an id) since since (a minute earlier, for the clocks' skew), or in the
// thread of threadTS: conversations.history or conversations.replies with
// include_all_metadata (scopes channels:history and groups:history). Slack
// allows an app outside its Marketplace one such call a minute and 15
// messages a call; when the window holds more and the key is not among
// them, Find cannot tell and says so.
func (b *Bot) Find(ctx context.Context, channel, threadTS, key string, since time.Time) (engine.MessageRef, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	oldest := since.Add(-time.Minute)
	oldestTS := strconv.FormatInt(oldest.Unix(), 10) + "." + fmt.Sprintf("%06d", oldest.Nanosecond()/1000)
	var (
		msgs []slack.Message
		more bool
		err  error
		what = "conversations.history"
	)
	if threadTS == "" {
		var h *slack.GetConversationHistoryResponse
		h, err = b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Oldest: oldestTS, Inclusive: true, Limit: 100, IncludeAllMetadata: true})
		if h != nil {
			msgs, more = h.Messages, h.HasMore
		}
	} else {
		what = "conversations.replies"
		msgs, more, _, err = b.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: threadTS, Oldest: oldestTS, Inclusive: true, Limit: 100, IncludeAllMetadata: true})
	}
	if err != nil {
		return engine.MessageRef{}, false, fmt.Errorf("slack: %s of %s: %w", what, channel, classify(err, b.token))
	}
	for _, m := range msgs {
		if m.Metadata.EventType == MetadataEventType && m.Metadata.EventPayload["key"] == key {
			return engine.MessageRef{Channel: channel, TS: m.Timestamp}, true, nil
		}
	}
	if more {
		return engine.MessageRef{}, false, fmt.Errorf("slack: %s of %s: %w", what, channel,
			&notifier.DeliveryError{Class: notifier.Permanent, Code: "window_too_busy", Err: errors.New("more messages since the post than one call returns")})
	}
	return engine.MessageRef{}, false, nil
}

// Update replaces the message at ref with chat.update.
func (b *Bot) Update(ctx context.Context, ref engine.MessageRef, m notifier.Message) error {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	_, _, _, err := b.api.UpdateMessageContext(ctx, ref.Channel, ref.TS,
		slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...))
	if err != nil {
		return fmt.Errorf("slack: chat.update %s in %s: %w", ref.TS, ref.Channel, classify(err, b.token))
	}
	b.log.Debug("slack: updated", "channel", ref.Channel, "ts", ref.TS)
	return nil
}

// Webhook sends through an incoming webhook: the same content, but the
// webhook's channel is fixed by Slack, and there are no threads and no
// updates.
type Webhook struct {
	url     string
	client  *http.Client
	timeout time.Duration
	log     *slog.Logger
}

var _ notifier.Sender = (*Webhook)(nil)

// NewWebhook returns a webhook sender for url (SLACK_WEBHOOK_URL).
func NewWebhook(url string, o Options) (*Webhook, error) {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return nil, errors.New("slack: webhook URL must start with https:// (SLACK_WEBHOOK_URL)")
	}
	o.defaults()
	return &Webhook{url: url, client: o.HTTPClient, timeout: o.Timeout, log: o.Logger}, nil
}

// Post sends m; threadTS is ignored (webhooks cannot thread), and the ref
// has no TS, so the dispatcher never threads or updates.
func (w *Webhook) Post(ctx context.Context, channel, _ string, m notifier.Message) (engine.MessageRef, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	msg := &slack.WebhookMessage{Text: m.Text, Blocks: &slack.Blocks{BlockSet: m.Blocks}}
	if err := slack.PostWebhookCustomHTTPContext(ctx, w.url, w.client, msg); err != nil {
		return engine.MessageRef{}, fmt.Errorf("slack: webhook post (route %s): %w", channel, classify(err, w.url))
	}
	w.log.Debug("slack: posted through webhook", "route", channel)
	return engine.MessageRef{Channel: channel}, nil
}

// Update is not possible through a webhook.
func (w *Webhook) Update(context.Context, engine.MessageRef, notifier.Message) error {
	return fmt.Errorf("slack: webhook cannot update messages: %w", errors.ErrUnsupported)
}

// GroupMembers lists the members of a user group (usergroups.users.list,
// scope usergroups:read), for QOSWATCH_SLACK_RESPONDERS.
func (b *Bot) GroupMembers(ctx context.Context, group string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	members, err := b.api.GetUserGroupMembersContext(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("slack: usergroups.users.list of %s: %w", group, classify(err, b.token))
	}
	return members, nil
}

var _ notifier.Uploader = (*Bot)(nil)

// Upload shares f in the thread of a message the bot posted, with
// Slack's files upload v2 (files.getUploadURLExternal, the bytes to the
// URL it answers, files.completeUploadExternal with channel_id and
// thread_ts): scope files:write.
func (b *Bot) Upload(ctx context.Context, thread engine.MessageRef, f notifier.File) error {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	_, err := b.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Filename: f.Name, Title: f.Title, FileSize: len(f.Content), Reader: bytes.NewReader(f.Content),
		Channel: thread.Channel, ThreadTimestamp: thread.TS,
	})
	if err != nil {
		return fmt.Errorf("slack: files upload of %s to %s: %w", f.Name, thread.Channel, classify(err, b.token))
	}
	b.log.Debug("slack: file shared", "channel", thread.Channel, "thread_ts", thread.TS, "file", f.Name, "bytes", len(f.Content))
	return nil
}
