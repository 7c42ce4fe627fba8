package slackapp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
	"github.com/qoswatch/qoswatch/store"
)

// TestRoutingMentionsRedaction: the first matching route picks the channel,
// its mention leads the message, and its redactions leave no trace of the
// hidden fields in the blocks or the fallback text.
func TestRoutingMentionsRedaction(t *testing.T) {
	crit := rule
	crit.Name, crit.Severity = "no-audio", engine.SeverityCritical
	router := routerFunc(func(n *engine.Notification) engine.Route {
		switch {
		case n.Rule.Severity == engine.SeverityCritical:
			return engine.Route{Channel: "#av-oncall", Mention: "<!subteam^S0ONCALL>"}
		default:
			return engine.Route{Channel: "#webinar-support", Redact: []string{"ip_address", "email", "pc_name", "mac_addr"}}
		}
	})
	r := newRig(t, router)
	alice := people[0]
	warn := notif(engine.KindFiring, alice, rule, t0)
	warn.Summary = "Alice Example (alice@example.com, 203.0.113.7) sends audio with 3.5% loss"
	warn.Explain = append(warn.Explain, engine.Term{Field: "participant.ip_address", Value: alice.ip, Op: "startsWith", Threshold: `"203."`, Holds: true})
	r.ob.add(warn, notif(engine.KindFiring, alice, crit, t0))
	r.flush(t)

	calls := r.slack.Calls()
	if len(calls) != 2 {
		t.Fatalf("got %d calls, want 2", len(calls))
	}
	support, oncall := calls[0], calls[1]
	if support.Channel != "Cwebinar-support" || oncall.Channel != "Cav-oncall" {
		t.Fatalf("channels = %s, %s", support.Channel, oncall.Channel)
	}
	for _, leak := range []string{alice.ip, alice.email, "LAPTOP-", "00:1a:2b"} {
		if strings.Contains(string(support.Blocks), leak) || strings.Contains(support.Text, leak) {
			t.Errorf("#webinar-support message shows redacted %q", leak)
		}
	}
	if !strings.Contains(string(support.Blocks), notifier.Redacted) || strings.Contains(support.Text, "<!subteam") {
		t.Errorf("support message: want [redacted] in the summary and no mention:\n%s", support.Text)
	}
	// The on-call route redacts nothing and mentions its team first.
	if !strings.Contains(string(oncall.Blocks), alice.ip) || !strings.HasPrefix(oncall.Text, "<!subteam^S0ONCALL> ") {
		t.Errorf("on-call message: want the IP and the mention first:\n%s", oncall.Text)
	}
	if !strings.Contains(string(oncall.Blocks), `\u003c!subteam^S0ONCALL\u003e`) {
		t.Errorf("on-call blocks lack the mention: %s", oncall.Blocks)
	}
}

// Test429 obeys Retry-After per channel, and waits the default when a
// 429 has none; the other channel keeps going meanwhile. A Retry-After
// of 31 years parks the channel for the cap (an hour), said in the log
// and counted.
func Test429(t *testing.T) {
	for _, tc := range []struct {
		name, retryAfter string
		wait             time.Duration
		capped           bool
	}{
		{"with Retry-After", "7", 7 * time.Second, false},
		{"without Retry-After", "", 30 * time.Second, false},
		{"with a Retry-After of 31 years", "999999999", time.Hour, true},
		{"with a Retry-After past any duration", "99999999999999999", time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			router := routerFunc(func(n *engine.Notification) engine.Route {
				if n.Participant.UserName == people[0].name {
					return engine.Route{Channel: "#busy"}
				}
				return engine.Route{Channel: "#quiet"}
			})
			r := newRig(t, router)
			var once sync.Once
			r.slack.setFault(func(_ string, v url.Values) *fault {
				var f *fault
				if v.Get("channel") == "#busy" {
					once.Do(func() { f = &fault{status: http.StatusTooManyRequests, retryAfter: tc.retryAfter} })
				}
				return f
			})
			start := r.clock.Now()
			r.ob.add(notif(engine.KindFiring, people[0], rule, t0), notif(engine.KindFiring, people[1], rule, t0))
			r.flush(t)
			calls := r.slack.Calls()
			if len(calls) != 2 || calls[0].Channel != "Cquiet" || calls[1].Channel != "Cbusy" {
				t.Fatalf("calls = %v; want #quiet first (not held up), then #busy once", calls)
			}
			if got := calls[1].At.Sub(start); got < tc.wait || got > tc.wait+time.Minute {
				t.Errorf("#busy retried after %s, want %s", got, tc.wait)
			}
			capped := metric(t, r.reg, "qoswatch_slack_retry_after_capped_total")
			told := strings.Contains(r.logs.String(), "waiting the cap")
			if tc.capped != (capped == 1) || tc.capped != told {
				t.Errorf("capped counted %v, logged %v; want both %v:\n%s", capped, told, tc.capped, r.logs.String())
			}
			if rl, ok := metric(t, r.reg, "qoswatch_slack_rate_limited_total"), metric(t, r.reg, "qoswatch_notifications_total", "kind", "firing", "outcome", notifier.OutcomeDelivered); rl != 1 || ok != 2 {
				t.Errorf("rate limited = %v, delivered = %v; want 1 and 2", rl, ok)
			}
		})
	}
}

// TestServerErrorsRetried: 5xx and dropped connections are retried with
// back-off and delivered once.
func TestServerErrorsRetried(t *testing.T) {
	r := newRig(t, toChannel("#webinar-support"))
	n := 0
	r.slack.setFault(func(string, url.Values) *fault {
		n++
		switch n {
		case 1:
			return &fault{status: http.StatusServiceUnavailable}
		case 2:
			return &fault{hangup: true}
		case 3:
			return &fault{slackErr: "internal_error"}
		}
		return nil
	})
	r.ob.add(notif(engine.KindFiring, people[0], rule, t0))
	r.flush(t)
	if calls := r.slack.Calls(); len(calls) != 1 {
		t.Fatalf("delivered %d times, want once", len(calls))
	}
	att := r.slack.Attempts()
	// Back-off doubles: 1s, 2s, 4s between the four attempts.
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if got := att[i+1].Sub(att[i]); got < want {
			t.Errorf("attempt %d came %s after the previous, want >= %s", i+2, got, want)
		}
	}
	if n := metric(t, r.reg, "qoswatch_slack_retries_total"); n != 3 {
		t.Errorf("qoswatch_slack_retries_total = %v, want 3", n)
	}
}

// TestOutageTenMinutes: Slack is down for ten minutes (on the injected
// clock) while the engine keeps deciding; afterwards everything queued is
// delivered, once each, in order per alert, threaded right.
func TestOutageTenMinutes(t *testing.T) {
	r := newRig(t, toChannel("#webinar-support"), func(o *notifier.Options) { o.StormThreshold = -1 })
	start := r.clock.Now()
	end := start.Add(10 * time.Minute)
	r.slack.setFault(func(string, url.Values) *fault {
		if r.clock.Now().Before(end) {
			if r.clock.Now().Sub(start) < 5*time.Minute {
				return &fault{status: http.StatusBadGateway}
			}
			return &fault{hangup: true}
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.d.Run(ctx) }()

	// The engine enqueues during the outage: three alerts, each firing,
	// repeating and resolving, interleaved.
	for step, kind := range []engine.NotificationKind{engine.KindFiring, engine.KindRepeat, engine.KindResolved} {
		for _, p := range people[:3] {
			r.ob.add(notif(kind, p, rule, t0.Add(time.Duration(step)*time.Hour)))
		}
		r.d.Wake()
	}
	// Wait (in wall time) until the dispatcher drained everything; the
	// fake clock makes its waits instant.
	deadline := time.Now().Add(20 * time.Second)
	for r.ob.len() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if n := r.ob.len(); n != 0 {
		t.Fatalf("%d entries still queued after the outage", n)
	}
	calls := r.slack.Calls()
	if got := byMethod(calls); got["chat.postMessage"] != 9 || got["chat.update"] != 3 {
		t.Fatalf("calls by method = %v, want 9 posts and 3 updates (each notification once)", got)
	}
	for _, c := range calls {
		if c.At.Before(end) {
			t.Fatalf("a call got through during the outage at %s", c.At)
		}
	}
	// Per alert: firing, then a repeat in its thread, then the update and
	// the resolve in its thread.
	for _, p := range people[:3] {
		var seq []string
		var root string
		for _, c := range calls {
			var blocks []map[string]any
			_ = json.Unmarshal(c.Blocks, &blocks)
			if !strings.Contains(string(c.Blocks), p.name) {
				continue
			}
			switch {
			case c.Method == "chat.postMessage" && c.ThreadTS == "":
				root = c.TS
				seq = append(seq, "firing")
			case c.Method == "chat.update" && c.TS == root:
				seq = append(seq, "update")
			case c.ThreadTS == root && strings.HasPrefix(c.Text, "[FIRING (repeat)]"):
				seq = append(seq, "repeat")
			case c.ThreadTS == root && strings.HasPrefix(c.Text, "[RESOLVED]"):
				seq = append(seq, "resolved")
			default:
				seq = append(seq, "unexpected:"+c.Method+":"+firstLine(c.Text))
			}
		}
		if got := strings.Join(seq, ","); got != "firing,repeat,update,resolved" {
			t.Errorf("%s: %s, want firing,repeat,update,resolved", p.name, got)
		}
	}
	// Back-off keeps the attempts few: not one a second for ten minutes.
	if a := len(r.slack.Attempts()); a > 60 {
		t.Errorf("%d attempts for a 10-minute outage; back-off should keep it far lower", a)
	}
}

// TestPermanentErrors: a channel Slack refuses is logged once, counted by
// channel, and its entries dead-lettered; other channels are unaffected.
func TestPermanentErrors(t *testing.T) {
	router := routerFunc(func(n *engine.Notification) engine.Route {
		if n.Participant.UserName == people[1].name {
			return engine.Route{Channel: "#good"}
		}
		return engine.Route{Channel: "#gone"}
	})
	r := newRig(t, router, func(o *notifier.Options) { o.StormThreshold = -1 })
	r.slack.setFault(func(_ string, v url.Values) *fault {
		if v.Get("channel") == "#gone" {
			return &fault{slackErr: "channel_not_found"}
		}
		return nil
	})
	r.ob.add(notif(engine.KindFiring, people[0], rule, t0), notif(engine.KindFiring, people[1], rule, t0),
		notif(engine.KindFiring, people[2], rule, t0), notif(engine.KindResolved, people[0], rule, t0.Add(time.Hour)))
	r.flush(t)
	if calls := r.slack.Calls(); len(calls) != 1 || calls[0].Channel != "Cgood" {
		t.Fatalf("calls = %v, want one to #good", calls)
	}
	if p, f, res := metric(t, r.reg, "qoswatch_slack_permanent_failures_total", "channel", "#gone"),
		metric(t, r.reg, "qoswatch_notifications_total", "kind", "firing", "outcome", notifier.OutcomeDeadLettered),
		metric(t, r.reg, "qoswatch_notifications_total", "kind", "resolved", "outcome", notifier.OutcomeDeadLettered); p != 3 || f != 2 || res != 1 {
		t.Errorf("permanent failures in #gone = %v, dead-lettered firings = %v, resolves = %v; want 3, 2, 1", p, f, res)
	}
	if n := strings.Count(r.logs.String(), `"level":"ERROR"`); n != 1 {
		t.Errorf("%d error lines, want the refused channel logged once:\n%s", n, r.logs.String())
	}
	if !strings.Contains(r.logs.String(), `"channel":"#gone"`) || !strings.Contains(r.logs.String(), "channel_not_found") {
		t.Errorf("the error line should name the channel and the code:\n%s", r.logs.String())
	}
}

// TestFailingAlertDoesNotBlockOthers: an alert whose channel keeps failing
// waits with back-off, its own messages stay in order, and the others go.
func TestFailingAlertDoesNotBlockOthers(t *testing.T) {
	router := routerFunc(func(n *engine.Notification) engine.Route {
		if n.Participant.UserName == people[0].name {
			return engine.Route{Channel: "#flaky"}
		}
		return engine.Route{Channel: "#ok"}
	})
	r := newRig(t, router, func(o *notifier.Options) { o.StormThreshold = -1 })
	failures := 0
	r.slack.setFault(func(_ string, v url.Values) *fault {
		if v.Get("channel") == "#flaky" && failures < 4 {
			failures++
			return &fault{status: http.StatusInternalServerError}
		}
		return nil
	})
	r.ob.add(notif(engine.KindFiring, people[0], rule, t0), notif(engine.KindFiring, people[1], rule, t0),
		notif(engine.KindRepeat, people[0], rule, t0.Add(time.Hour)), notif(engine.KindFiring, people[2], rule, t0))
	ctx := context.Background()
	if _, err := r.d.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	// #flaky failed; #ok still got its first message in the same pass
	// (its second waits for the channel's one-second slot).
	calls := r.slack.Calls()
	if len(calls) != 1 || calls[0].Channel != "Cok" {
		t.Fatalf("first pass: %v; want #ok delivered past the failing alert", calls)
	}
	r.flush(t)
	calls = r.slack.Calls()
	if len(calls) != 4 || calls[2].ThreadTS != "" || calls[3].ThreadTS != calls[2].TS {
		t.Fatalf("the failing alert's firing must come before its repeat, in its thread: %v", calls)
	}
}

// TestRestartKeepsThreading: refs live in the outbox's store, so a new
// dispatcher (a restarted process) threads and updates as the old one did.
func TestRestartKeepsThreading(t *testing.T) {
	r := newRigWith(t, boltBox(t), toChannel("#webinar-support"))
	r.ob.add(notif(engine.KindFiring, people[0], rule, t0))
	r.flush(t)
	d2, err := notifier.New(notifier.Options{Outbox: r.ob.queue, Router: toChannel("#webinar-support"), Sender: r.bot, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	r.ob.add(notif(engine.KindResolved, people[0], rule, t0.Add(time.Hour)))
	if err := d2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := r.slack.Calls()
	if len(calls) != 3 || calls[1].Method != "chat.update" || calls[1].TS != calls[0].TS || calls[2].ThreadTS != calls[0].TS {
		t.Fatalf("after restart: %v; want the update of the first message and a reply in its thread", calls)
	}
	if calls[1].Channel != "Cwebinar-support" {
		t.Errorf("update went to %q; chat.update needs the channel id Slack answered with", calls[1].Channel)
	}
}

// TestStormJoinsThread: firings of an open storm's rule and source that
// come later join its thread in one reply instead of flooding the channel;
// after a restart, members' resolves still go to the storm's thread and
// never update the storm message as if it were theirs.
func TestStormJoinsThread(t *testing.T) {
	r := newRigWith(t, boltBox(t), toChannel("#webinar-support"), func(o *notifier.Options) { o.StormThreshold = 3 })
	for _, p := range people[:3] {
		r.ob.add(notif(engine.KindFiring, p, rule, t0))
	}
	r.flush(t)
	for _, p := range people[3:] {
		r.ob.add(notif(engine.KindFiring, p, rule, t0.Add(time.Minute)))
	}
	r.flush(t)
	calls := r.slack.Calls()
	if len(calls) != 2 || calls[1].ThreadTS != calls[0].TS || !strings.Contains(calls[1].Text, "3 more participants") {
		t.Fatalf("calls = %v; want the storm message and one reply with the 3 joiners", calls)
	}
	// A restarted dispatcher knows the storm only from the store.
	d2, err := notifier.New(notifier.Options{Outbox: r.ob.queue, Router: toChannel("#webinar-support"), Sender: r.bot, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	r.ob.add(notif(engine.KindResolved, people[4], rule, t0.Add(time.Hour)))
	if err := d2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls = r.slack.Calls()
	last := calls[len(calls)-1]
	if len(calls) != 3 || last.Method != "chat.postMessage" || last.ThreadTS != calls[0].TS {
		t.Fatalf("calls = %v; want the resolve as a reply in the storm's thread, no update", calls)
	}
}

// TestWebhook: the same content through an incoming webhook, without
// threads or updates; a burst of resolves is one message.
func TestWebhook(t *testing.T) {
	clock := newClock()
	fs := newFakeSlack(t, clock)
	wh, err := slackapp.NewWebhook(fs.WebhookURL(), slackapp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ob := memBox(t)
	d, err := notifier.New(notifier.Options{Outbox: ob.queue, Router: toChannel("#webinar-support"), Sender: wh, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ob.add(notif(engine.KindFiring, people[0], rule, t0), notif(engine.KindResolved, people[0], rule, t0.Add(time.Hour)))
	for _, p := range people[1:] {
		ob.add(notif(engine.KindResolved, p, rule, t0.Add(time.Hour)))
	}
	if err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := fs.Calls()
	if len(got) != 2 {
		t.Fatalf("webhook got %d messages, want the firing and one message for the burst of 6 resolves", len(got))
	}
	for i, m := range got {
		if m.Method != "webhook" || m.ThreadTS != "" {
			t.Errorf("message %d: %s thread_ts=%q; webhooks cannot thread", i, m.Method, m.ThreadTS)
		}
		if m.Text == "" || len(m.Blocks) == 0 {
			t.Errorf("message %d lacks blocks or text: %v", i, m)
		}
	}
	if !strings.HasPrefix(got[0].Text, "[FIRING]") || !strings.HasPrefix(got[1].Text, "[RESOLVED]") || !strings.Contains(got[1].Text, "6 participants") {
		t.Errorf("texts = %q / %q", got[0].Text, got[1].Text)
	}
	if _, ok, _ := ob.Ref(context.Background(), notif(engine.KindFiring, people[0], rule, t0).Key); ok {
		t.Error("a webhook message has no ts; nothing should be recorded to thread under")
	}
}

// TestStormTrickle: a storm whose firings arrive one at a time still gets
// at most threshold-1 messages of its own; then one storm message, then
// replies in its thread.
func TestStormTrickle(t *testing.T) {
	r := newRig(t, toChannel("#webinar-support"), func(o *notifier.Options) { o.StormThreshold = 3 })
	for i, p := range people {
		r.ob.add(notif(engine.KindFiring, p, rule, t0.Add(time.Duration(i)*10*time.Second)))
		r.flush(t)
	}
	calls := r.slack.Calls()
	var top []string
	for _, c := range calls {
		if c.ThreadTS == "" {
			top = append(top, firstLine(c.Text))
		} else if c.ThreadTS != calls[2].TS {
			t.Errorf("reply %v is not in the storm's thread", c)
		}
	}
	if len(top) != 3 || !strings.HasPrefix(top[2], "[STORM] warning choppy-audio: 3 participants") {
		t.Fatalf("channel messages = %q; want 2 alerts, then the storm of 3", top)
	}
	if len(calls) != 6 {
		t.Errorf("calls = %v; want the 3 later firings as replies in the storm's thread", calls)
	}
}

// TestStormWindowEnds: once a storm has been quiet for its window, a new
// firing of the same rule and webinar is its own message again.
func TestStormWindowEnds(t *testing.T) {
	r := newRig(t, toChannel("#webinar-support"), func(o *notifier.Options) { o.StormThreshold = 3 })
	for _, p := range people[:3] {
		r.ob.add(notif(engine.KindFiring, p, rule, t0))
	}
	r.flush(t)
	r.ob.add(notif(engine.KindFiring, people[3], rule, t0.Add(time.Minute)))    // joins
	r.ob.add(notif(engine.KindFiring, people[4], rule, t0.Add(10*time.Minute))) // window over
	r.flush(t)
	calls := r.slack.Calls()
	if len(calls) != 3 || calls[1].ThreadTS != calls[0].TS || calls[2].ThreadTS != "" || !strings.HasPrefix(calls[2].Text, "[FIRING]") {
		t.Fatalf("calls = %v; want storm, a joiner in its thread, then a message of its own", calls)
	}
}

// TestStormAckedInOneTransaction: a storm's members leave the outbox
// together, so a kill after Slack's ok re-sends at most the storm message,
// never a trickle of the members not yet acked.
func TestStormAckedInOneTransaction(t *testing.T) {
	b := boltBox(t)
	db := b.queue.(*store.DB)
	r := newRigWith(t, b, toChannel("#webinar-support"), func(o *notifier.Options) { o.StormThreshold = 3 })
	for _, p := range people[:5] {
		r.ob.add(notif(engine.KindFiring, p, rule, t0))
	}
	before := db.Stats().WriteTxs
	r.flush(t)
	calls := r.slack.Calls()
	if len(calls) != 1 || !strings.Contains(calls[0].Text, "5") {
		t.Fatalf("calls = %v; want one storm message for 5 participants", calls)
	}
	// One write records the storm's message ref, one acks all five members.
	if got := db.Stats().WriteTxs - before; got != 2 {
		t.Errorf("the storm took %d write transactions; want 2 (group ref, then one ack of all members)", got)
	}
	if r.ob.len() != 0 {
		t.Errorf("outbox still holds %d entries", r.ob.len())
	}
}

// TestRevokedTokenKeepsEverything: Slack refusing the token is no fault of
// any message. Delivery pauses (one error line, a metric), every
// notification decided meanwhile is kept, and once the token works again
// all of them arrive, in order, threaded: nothing is dropped.
func TestRevokedTokenKeepsEverything(t *testing.T) {
	r := newRig(t, toChannel("#webinar-support"), func(o *notifier.Options) { o.StormThreshold = -1 })
	fixed := r.clock.Now().Add(30 * time.Minute) // the operator rotates the token
	r.slack.setFault(func(string, url.Values) *fault {
		if r.clock.Now().Before(fixed) {
			return &fault{slackErr: "token_revoked"}
		}
		return nil
	})
	for _, kind := range []engine.NotificationKind{engine.KindFiring, engine.KindResolved} {
		for _, p := range people[:3] {
			r.ob.add(notif(kind, p, rule, t0))
		}
	}
	r.flush(t)
	calls := r.slack.Calls()
	if got := byMethod(calls); got["chat.postMessage"] != 6 || got["chat.update"] != 3 {
		t.Fatalf("calls by method = %v, want every notification once: 6 posts and 3 updates", got)
	}
	for _, c := range calls {
		if c.At.Before(fixed) {
			t.Fatalf("a call got through while the token was refused, at %s", c.At)
		}
	}
	if a, dl := metric(t, r.reg, "qoswatch_slack_auth_failures_total"), metric(t, r.reg, "qoswatch_notifications_total", "kind", "firing", "outcome", notifier.OutcomeDeadLettered); a == 0 || dl != 0 {
		t.Errorf("auth failures = %v, dead-lettered = %v; want auth failures counted and nothing dead-lettered", a, dl)
	}
	// Paused, not hammering: one try per AuthRetry (5m) over 30 minutes.
	if a := len(r.slack.Attempts()); a > 6+3+8 {
		t.Errorf("%d attempts; a refused token should be tried about every 5 minutes", a)
	}
	logs := r.logs.String()
	if n := strings.Count(logs, `"level":"ERROR"`); n != 1 || !strings.Contains(logs, "token_revoked") {
		t.Errorf("%d error lines; want the refused token told once, naming the code:\n%s", n, logs)
	}
}

// TestStopFinishesTheCallInFlight: a stop (SIGTERM) while Slack is still
// answering a post lets that post finish and be acked. Cutting it off
// would leave the entry in the outbox after Slack showed the message, and
// the shutdown flush (or the next start) would post it a second time.
func TestStopFinishesTheCallInFlight(t *testing.T) {
	r := newRig(t, toChannel("#webinar-support"), func(o *notifier.Options) { o.StormThreshold = -1 })
	inFlight, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	r.slack.setFault(func(string, url.Values) *fault {
		once.Do(func() { close(inFlight); <-release }) // Slack is slow to answer the first post
		return nil
	})
	r.ob.add(notif(engine.KindFiring, people[0], rule, t0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.d.Run(ctx) }()
	<-inFlight
	cancel()       // the stop comes while the post is on its way
	close(release) // and Slack then says ok
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := r.ob.len(); n != 0 {
		t.Fatalf("%d entries left after the stop; the post Slack accepted must be acked", n)
	}
	r.flush(t) // the daemon's shutdown flush
	if calls := r.slack.Calls(); len(calls) != 1 {
		t.Fatalf("calls = %v; want the firing posted exactly once", calls)
	}
}
