// Package scrub removes configured secrets from text on its way out of
// the process: every log line (Handler) and the top-level error print.
// Secrets are replaced as whole tokens only, so a secret cannot turn
// "dial tcp" into "dial t[redacted]p"; and secrets shorter than MinLen
// are refused at start (they would be neither safe nor scrubbable).
package scrub

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
)

// MinLen is the shortest secret qoswatch accepts: real Zoom client
// secrets, Slack tokens and webhook URLs are longer, and an API token
// this long (16 random characters) cannot be guessed.
const MinLen = 16

// Redacted replaces a secret.
const Redacted = "[redacted]"

// Scrubber replaces secrets in text. The zero value and nil scrub nothing.
type Scrubber struct {
	forms []string // every form a secret may be printed in, longest first
}

// New returns a scrubber of secrets (empty ones are ignored). A secret
// that is a URL (a Slack webhook) is scrubbed whole, and also its path
// and the path's long segments, however a client prints them; every
// secret also in its URL-query-escaped form.
func New(secrets ...string) *Scrubber {
	s := &Scrubber{}
	add := func(v string) {
		if v != "" && !slices.Contains(s.forms, v) {
			s.forms = append(s.forms, v)
		}
	}
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		add(sec)
		add(url.QueryEscape(sec))
		if u, err := url.Parse(sec); err == nil && u.Host != "" {
			if len(u.Path) >= MinLen {
				add(u.Path)
				add(u.EscapedPath())
			}
			for _, seg := range strings.Split(u.Path, "/") {
				if len(seg) >= MinLen {
					add(seg)
				}
			}
		}
	}
	// Longest first, so a whole URL goes before its parts.
	slices.SortFunc(s.forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return s
}

// word reports whether b can be part of a token: a secret is replaced
// only where it is not glued to more of them.
func word(b byte) bool {
	return b == '_' || b == '-' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

// String returns in with every secret that stands as a whole token
// replaced by [redacted].
func (s *Scrubber) String(in string) string {
	if s == nil {
		return in
	}
	for _, f := range s.forms {
		in = replaceWhole(in, f)
	}
	return in
}

func replaceWhole(in, secret string) string {
	var b strings.Builder
	rest := in
	for {
		i := strings.Index(rest, secret)
		if i < 0 {
			break
		}
		j := i + len(secret)
		glued := word(secret[0]) && i > 0 && word(rest[i-1]) ||
			word(secret[len(secret)-1]) && j < len(rest) && word(rest[j])
		if glued {
			b.WriteString(rest[:i+1])
			rest = rest[i+1:]
			continue
		}
		b.WriteString(rest[:i])
		b.WriteString(Redacted)
		rest = rest[j:]
	}
	if b.Len() == 0 {
		return in
	}
	b.WriteString(rest)
	return b.String()
}

// Handler wraps next so that no record it writes carries a secret: the
// message and every attribute (errors and other values by their printed
// form) are scrubbed.
func (s *Scrubber) Handler(next slog.Handler) slog.Handler {
	if s == nil || len(s.forms) == 0 {
		return next
	}
	return &handler{next: next, s: s}
}

type handler struct {
	next slog.Handler
	s    *Scrubber
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.s.String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = h.attr(a)
	}
	return &handler{next: h.next.WithAttrs(clean), s: h.s}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), s: h.s}
}

func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.s.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]any, len(g))
		for i, ga := range g {
			clean[i] = h.attr(ga)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.s.String(err.Error()))
		}
		// Keep the value (JSON logs print its structure) unless its
		// printed form holds a secret.
		printed := fmt.Sprint(v.Any())
		if clean := h.s.String(printed); clean != printed {
			return slog.String(a.Key, clean)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
