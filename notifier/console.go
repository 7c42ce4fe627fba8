package notifier

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/qoswatch/qoswatch/engine"
)

// Console is a Sender that writes messages as readable text, for `demo`
// and dry runs. It threads and updates like Slack does, by numbering its
// messages.
type Console struct {
	mu      sync.Mutex
	w       io.Writer
	n       int
	answers map[string]answerable // message number → what its buttons act on
}

var _ Sender = (*Console)(nil)

// NewConsole returns a console sender writing to w.
func NewConsole(w io.Writer) *Console { return &Console{w: w, answers: map[string]answerable{}} }

type answerable struct {
	key engine.AlertKey
	ref engine.MessageRef
}

// Answerable returns what the buttons of message #ts act on (the alert,
// or a storm's rule and source) and the message, as it is now: `qoswatch
// demo --interactive` turns "ack 3" into an action on it.
func (c *Console) Answerable(ts string) (engine.AlertKey, engine.MessageRef, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.answers[ts]
	return a.key, a.ref, ok
}

// noteButtons remembers what message ref's buttons act on; c.mu is held.
func (c *Console) noteButtons(ref engine.MessageRef, m Message) {
	if k, ok := ActionKey(m.Blocks); ok {
		c.answers[ref.TS] = answerable{k, ref}
	} else {
		delete(c.answers, ref.TS)
	}
}

// Post writes m and returns its number as the ts.
func (c *Console) Post(_ context.Context, channel, threadTS string, m Message) (engine.MessageRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	ts := fmt.Sprintf("%d", c.n)
	c.noteButtons(engine.MessageRef{Channel: channel, TS: ts}, m)
	b := body(m)
	var err error
	switch {
	case threadTS != "" && strings.Count(b, "\n") == 1:
		// A one-line reply (a resolve: the update above told it all).
		_, err = fmt.Fprintf(c.w, "   ↳ #%s in the thread of #%s: %s", ts, threadTS, b)
	case threadTS != "":
		_, err = fmt.Fprintf(c.w, "\n── #%s to %s ↳ thread of #%s ──\n%s", ts, channel, threadTS, b)
	default:
		_, err = fmt.Fprintf(c.w, "\n── #%s to %s ──\n%s", ts, channel, b)
	}
	return engine.MessageRef{Channel: channel, TS: ts}, err
}

// Update writes the replacement of message ref.
func (c *Console) Update(_ context.Context, ref engine.MessageRef, m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.noteButtons(ref, m)
	_, err := fmt.Fprintf(c.w, "\n── #%s in %s updated ──\n%s", ref.TS, ref.Channel, body(m))
	return err
}

func body(m Message) string {
	if len(m.Blocks) == 0 {
		return unescape(strings.TrimRight(m.Text, "\n")) + "\n"
	}
	return BlocksText(m.Blocks)
}
