package daemon

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/qoswatch/qoswatch/internal/scrub"
)

// outputHandler is what every log line of the daemon passes through on
// its way out: configured secrets are scrubbed (whole tokens), and an
// attribute with an empty value is left out ("source=" tells nothing and
// reads like a bug).
func outputHandler(next slog.Handler, s *scrub.Scrubber) slog.Handler {
	return dropEmpty{s.Handler(next)}
}

type dropEmpty struct{ next slog.Handler }

func (h dropEmpty) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h dropEmpty) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if !empty(a) {
			out.AddAttrs(a)
		}
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h dropEmpty) WithAttrs(as []slog.Attr) slog.Handler {
	kept := make([]slog.Attr, 0, len(as))
	for _, a := range as {
		if !empty(a) {
			kept = append(kept, a)
		}
	}
	return dropEmpty{h.next.WithAttrs(kept)}
}

func (h dropEmpty) WithGroup(name string) slog.Handler { return dropEmpty{h.next.WithGroup(name)} }

func empty(a slog.Attr) bool {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return v.String() == ""
	case slog.KindGroup:
		return len(v.Group()) == 0
	case slog.KindAny: // a named string type (engine.Reason), a Stringer
		if _, err := v.Any().(error); err {
			return false
		}
		return fmt.Sprint(v.Any()) == ""
	}
	return false
}
