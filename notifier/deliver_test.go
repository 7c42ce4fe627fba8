package notifier

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
)

// The deliverer's own tests: a planned message built by hand (the
// renderer decides when content needs continuations), a recording sender
// with Slack's answers, the in-memory outbox and a manual clock. The
// Slack app's tests (notifier/slackapp) run the same paths against
// slack-go and a Slack-compatible server.

// post is one call the recording sender got.
type post struct {
	channel, thread, text, key string
	at                         time.Time
	outboxLeft                 int // entries in the outbox when the call came
}

// recSender answers like Slack: a ts per message, the channel's id; or
// like a webhook (no ts). fail, when set, fails the n-th call (0-based).
type recSender struct {
	mu      sync.Mutex
	clock   engine.Clock
	outbox  engine.Outbox
	webhook bool
	fail    func(n int) error
	posts   []post
	calls   int
}

func (s *recSender) Post(ctx context.Context, channel, thread string, m Message) (engine.MessageRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.calls
	s.calls++
	if s.fail != nil {
		if err := s.fail(n); err != nil {
			return engine.MessageRef{}, err
		}
	}
	left, _ := s.outbox.Pending(ctx, 0)
	s.posts = append(s.posts, post{channel: channel, thread: thread, text: m.Text, key: m.Key, at: s.clock.Now(), outboxLeft: len(left)})
	if s.webhook {
		return engine.MessageRef{Channel: channel}, nil
	}
	return engine.MessageRef{Channel: "C" + strings.TrimPrefix(channel, "#"), TS: fmt.Sprintf("100.%d", len(s.posts))}, nil
}

func (s *recSender) Update(context.Context, engine.MessageRef, Message) error { return nil }

// rig is a dispatcher on a manual clock with one entry in its outbox.
type delRig struct {
	d     *Dispatcher
	clock *fakeclock.Manual
	out   *engine.MemoryStore
	send  *recSender
	entry *pending
}

func newDelRig(t *testing.T, webhook bool, fail func(int) error) *delRig {
	t.Helper()
	clock := fakeclock.NewManual(pt0)
	out := engine.NewMemoryStore()
	send := &recSender{clock: clock, outbox: out, webhook: webhook, fail: fail}
	d, err := New(Options{Outbox: out, Router: routeTo("#av"), Sender: send, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	f := fire(0, "p1", 0)
	if err := out.Commit(context.Background(), engine.Changes{Notifications: []engine.Notification{f.n}}); err != nil {
		t.Fatal(err)
	}
	es, err := out.Pending(context.Background(), 0)
	if err != nil || len(es) != 1 {
		t.Fatalf("outbox: %v, %v", es, err)
	}
	f.n = es[0]
	return &delRig{d: d, clock: clock, out: out, send: send, entry: &f}
}

type routeTo string

func (r routeTo) Route(*engine.Notification) engine.Route { return engine.Route{Channel: string(r)} }

// deliver runs the planned message's flight to its end, moving the clock
// to each time the deliverer asks to be called again.
func (r *delRig) deliver(t *testing.T, p *planned) {
	t.Helper()
	f := r.d.del.start(p)
	for range 100 {
		_, next, err := r.d.del.step(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if f.acked && f.p.over == nil {
			return
		}
		if next.After(r.clock.Now()) {
			r.clock.Set(next)
		}
	}
	t.Fatal("the flight never finished")
}

func parts(texts ...string) Message {
	m := Message{Text: texts[0]}
	for _, x := range texts[1:] {
		m.More = append(m.More, Message{Text: x})
	}
	return m
}

// TestContinuations: a message that needs three parts is posted whole and
// in order, the continuations in the first part's thread (or in the
// thread the first part replies in; as plain messages through a webhook),
// each in its own channel slot, and its entries are acked only after the
// last part.
func TestContinuations(t *testing.T) {
	for _, tc := range []struct {
		name     string
		webhook  bool
		threadTS string
		want     []string // channel thread text
	}{
		{"a new message", false, "", []string{"#av - 1/3", "#av 100.1 2/3", "#av 100.1 3/3"}},
		{"a reply", false, "99.9", []string{"#av 99.9 1/3", "#av 99.9 2/3", "#av 99.9 3/3"}},
		{"through a webhook", true, "", []string{"#av - 1/3", "#av - 2/3", "#av - 3/3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newDelRig(t, tc.webhook, nil)
			r.deliver(t, &planned{kind: msgSingle, channel: "#av", threadTS: tc.threadTS, entries: []*pending{r.entry},
				ackPosted: tc.threadTS == "", outcome: OutcomeDelivered, msg: parts("1/3", "2/3", "3/3")})
			var got []string
			for i, p := range r.send.posts {
				th := p.thread
				if th == "" {
					th = "-"
				}
				got = append(got, p.channel+" "+th+" "+p.text)
				if p.outboxLeft != 1 {
					t.Errorf("part %d went out with %d entries left in the outbox; the entry must stay until the last part", i+1, p.outboxLeft)
				}
				if i > 0 && p.at.Sub(r.send.posts[i-1].at) < time.Second {
					t.Errorf("part %d came %s after the previous; Slack allows one message a second per channel", i+1, p.at.Sub(r.send.posts[i-1].at))
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("posts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if left, _ := r.out.Pending(context.Background(), 0); len(left) != 0 {
				t.Errorf("%d entries left after the last part", len(left))
			}
			ref, ok, _ := r.out.Ref(context.Background(), r.entry.n.Key)
			switch {
			case tc.webhook && ok && ref.TS != "":
				t.Errorf("a webhook message recorded a thread %v", ref)
			case !tc.webhook && tc.threadTS == "" && ref.TS != "100.1":
				t.Errorf("the alert's thread is %v, want the first part's ts 100.1", ref)
			}
		})
	}
}

// TestContinuationFailsThenResumes: Slack fails the second part (a 503);
// the retry posts the second and third parts, never the first again.
func TestContinuationFailsThenResumes(t *testing.T) {
	r := newDelRig(t, false, func(n int) error {
		if n == 1 || n == 2 {
			return &DeliveryError{Class: Transient, Code: "http_503", Err: fmt.Errorf("%d %s", http.StatusServiceUnavailable, "busy")}
		}
		return nil
	})
	r.deliver(t, &planned{kind: msgSingle, channel: "#av", entries: []*pending{r.entry}, ackPosted: true, outcome: OutcomeDelivered,
		msg: parts("1/3", "2/3", "3/3")})
	var texts []string
	for _, p := range r.send.posts {
		texts = append(texts, p.text)
	}
	if got := strings.Join(texts, ","); got != "1/3,2/3,3/3" {
		t.Errorf("posted %s; want each part once, in order", got)
	}
	if r.send.calls != 5 {
		t.Errorf("%d calls; want 5 (3 parts, 2 failed tries)", r.send.calls)
	}
}
