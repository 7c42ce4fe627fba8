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
	mu sync.Mutex
	w  io.Writer
	n  int
}

var _ Sender = (*Console)(nil)

// NewConsole returns a console sender writing to w.
func NewConsole(w io.Writer) *Console { return &Console{w: w} }

// Post writes m and returns its number as the ts.
func (c *Console) Post(_ context.Context, channel, threadTS string, m Message) (engine.MessageRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	ts := fmt.Sprintf("%d", c.n)
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
	_, err := fmt.Fprintf(c.w, "\n── #%s in %s updated ──\n%s", ref.TS, ref.Channel, body(m))
	return err
}

func body(m Message) string {
	if len(m.Blocks) == 0 {
		return unescape(strings.TrimRight(m.Text, "\n")) + "\n"
	}
	return BlocksText(m.Blocks)
}
