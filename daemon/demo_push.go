package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// demo --push: the same webinar, fed by the events Zoom would push (QSS
// on: every participant's QoS each minute, joins, leaves, Zoom's alerts),
// signed and posted to the events listener as Zoom's webhooks are, while
// the fake keeps serving the API. The summary prints, for each turn of the
// story, the time from its first bad minute to the message.

// pushSenders is how many webhooks the fake Zoom has in flight at once.
const pushSenders = 8

// pushDemoEvents posts the scenario's events at their times (on the
// demo's clock) from the webinar's start (those due while qoswatch was
// starting go at once) until ctx ends, and returns how many were
// answered 200.
func pushDemoEvents(ctx context.Context, fake *zoomtest.Server, clock engine.Clock, start time.Time, addr, secret string, log *slog.Logger) int64 {
	sender := &zoomtest.WebhookSender{URL: "http://" + addr + zoom.WebhookPath, Secret: secret, Now: clock.Now}
	var ok atomic.Int64
	queue := make(chan []byte, 1024)
	var wg sync.WaitGroup
	for range pushSenders {
		wg.Go(func() {
			for body := range queue {
				_, status, err := sender.Deliver(body)
				switch {
				case err == nil && status == 200:
					ok.Add(1)
				case ctx.Err() == nil:
					log.Warn("demo: a pushed event was refused", "status", status, "error", err)
				}
			}
		})
	}
	feed(ctx, fake, clock, start, queue)
	close(queue)
	wg.Wait()
	return ok.Load()
}

// feed puts each event in queue at its time, until ctx ends.
func feed(ctx context.Context, fake *zoomtest.Server, clock engine.Clock, from time.Time, queue chan<- []byte) {
	for ctx.Err() == nil {
		to := from.Add(10 * time.Second)
		for _, ev := range fake.PushEvents(from, to, zoomtest.PushOptions{QSS: true}) {
			if engine.Sleep(ctx, clock, ev.At.Sub(clock.Now())) != nil {
				return
			}
			select {
			case queue <- ev.Body:
			case <-ctx.Done():
				return
			}
		}
		if engine.Sleep(ctx, clock, to.Sub(clock.Now())) != nil {
			return
		}
		from = to
	}
}

func randomSecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// timedSender notes when (on the demo's clock) each message went out, for
// the summary's "bad minute to message" times.
type timedSender struct {
	notifier.Sender
	clock engine.Clock

	mu    sync.Mutex
	posts []timedPost
}

type timedPost struct {
	at   time.Time
	text string
}

func (s *timedSender) Post(ctx context.Context, channel, threadTS string, m notifier.Message) (engine.MessageRef, error) {
	ref, err := s.Sender.Post(ctx, channel, threadTS, m)
	if err == nil {
		s.mu.Lock()
		s.posts = append(s.posts, timedPost{at: s.clock.Now(), text: m.Text})
		s.mu.Unlock()
	}
	return ref, err
}

// firstPost is when the first message naming all of words went out.
func (s *timedSender) firstPost(words ...string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
post:
	for _, p := range s.posts {
		for _, w := range words {
			if !strings.Contains(p.text, w) {
				continue post
			}
		}
		return p.at, true
	}
	return time.Time{}, false
}

// latencies prints, per turn of the story, the time from its first bad
// minute to the first message about it.
func latencies(out io.Writer, s *timedSender, sc *zoomtest.Scenario, start time.Time, pushed int64) {
	how := "polled"
	if pushed > 0 {
		how = fmt.Sprintf("polled and pushed: Zoom's fake posted %d signed webhooks, QSS on", pushed)
	}
	fmt.Fprintf(out, "From the first bad minute to the message (%s; the rule's `for` included):\n", how)
	for _, ev := range demoStory {
		words := []string{"[FIRING]", ev.rule, sc.Participants[ev.first].UserName}
		if ev.n > 1 {
			words = []string{ev.rule}
		}
		onset := start.Add(time.Duration(ev.from) * time.Minute)
		if at, ok := s.firstPost(words...); ok {
			fmt.Fprintf(out, "  %-24s bad from minute %2d, told %s later\n", ev.rule, ev.from, at.Sub(onset).Round(time.Second))
		} else {
			fmt.Fprintf(out, "  %-24s bad from minute %2d, not told\n", ev.rule, ev.from)
		}
	}
}
