package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// ErrSilenceNotFound is returned for an unknown silence id.
var ErrSilenceNotFound = errors.New("silence not found")

// ErrInvalidSilence is in the error AddSilence returns when the silence
// itself is wrong (no matchers, a bad regex, an end in the past): the
// caller's mistake, not the store's. The message says what is wrong.
var ErrInvalidSilence = errors.New("invalid silence")

// invalidSilence marks err as ErrInvalidSilence without changing its text.
type invalidSilence struct{ err error }

func (e invalidSilence) Error() string   { return e.err.Error() }
func (e invalidSilence) Unwrap() []error { return []error{e.err, ErrInvalidSilence} }

// Matcher names with a meaning of their own; any other name is a label.
const (
	MatchRule        = "rule"        // the rule's name
	MatchSource      = "source"      // Source.Key() ("webinar:123") or the source id
	MatchParticipant = "participant" // Participant.Key(), user_name or email
)

// SilenceLimits bound what one caller can make the engine keep: every
// silence stays in memory and in the store, and is matched against every
// alert. A silence over a limit is refused with ErrInvalidSilence and a
// message naming the limit. Zero fields take the Default values.
type SilenceLimits struct {
	// MaxMatchers per silence (default 20).
	MaxMatchers int
	// MaxValueLen is the longest matcher name or value, a regex included,
	// and the longest created_by, in bytes (default 1024).
	MaxValueLen int
	// MaxCommentLen is the longest comment, in bytes (default 4096).
	MaxCommentLen int
	// MaxSilences is how many silences are kept at once: active, pending
	// and expired ones not yet collected (default 1000). At the limit, a
	// new silence first makes room by dropping expired ones.
	MaxSilences int
	// MaxDuration is how far from now a silence may end (default 30 days):
	// "rule=~.* until 9999" is refused unless the operator raises it.
	MaxDuration time.Duration
}

// DefaultSilenceLimits are the limits Options.Silences falls back to.
var DefaultSilenceLimits = SilenceLimits{MaxMatchers: 20, MaxValueLen: 1024, MaxCommentLen: 4096, MaxSilences: 1000, MaxDuration: 30 * 24 * time.Hour}

func (l SilenceLimits) withDefaults() SilenceLimits {
	d := DefaultSilenceLimits
	l.MaxMatchers = cmp.Or(max(l.MaxMatchers, 0), d.MaxMatchers)
	l.MaxValueLen = cmp.Or(max(l.MaxValueLen, 0), d.MaxValueLen)
	l.MaxCommentLen = cmp.Or(max(l.MaxCommentLen, 0), d.MaxCommentLen)
	l.MaxSilences = cmp.Or(max(l.MaxSilences, 0), d.MaxSilences)
	l.MaxDuration = cmp.Or(max(l.MaxDuration, 0), d.MaxDuration)
	return l
}

// silence is a Silence with its regexes compiled once.
type silence struct {
	Silence
	res []*regexp.Regexp // per matcher; nil for an equality matcher
}

func (s *silence) activeAt(now time.Time) bool {
	return !now.Before(s.StartsAt) && now.Before(s.EndsAt)
}

// compileSilence compiles a silence's regexes. It checks what matching
// needs; validate checks what a new silence must satisfy on top.
func compileSilence(s Silence) (silence, error) {
	c := silence{Silence: s, res: make([]*regexp.Regexp, len(s.Matchers))}
	for i, m := range s.Matchers {
		if m.Name == "" {
			return c, fmt.Errorf("%s: matcher %d has no name", silenceName(s), i+1)
		}
		if !m.IsRegex {
			continue
		}
		re, err := regexp.Compile("^(?:" + m.Value + ")$")
		if err != nil {
			return c, fmt.Errorf("%s: matcher %s=~%q: %w", silenceName(s), m.Name, m.Value, err)
		}
		c.res[i] = re
	}
	return c, nil
}

// validate checks a silence being added or updated, sizes first (before
// any regex is compiled). (A stored silence may legitimately end when it
// starts: one expired before it began.)
func (l SilenceLimits) validate(s Silence, now time.Time) error {
	name := silenceName(s)
	if len(s.Matchers) == 0 {
		return fmt.Errorf("%s: needs at least one matcher", name)
	}
	if len(s.Matchers) > l.MaxMatchers {
		return fmt.Errorf("%s: %d matchers, more than the maximum of %d", name, len(s.Matchers), l.MaxMatchers)
	}
	for i, m := range s.Matchers {
		if n := max(len(m.Name), len(m.Value)); n > l.MaxValueLen {
			return fmt.Errorf("%s: matcher %d has a name or value of %d bytes, longer than the maximum of %d", name, i+1, n, l.MaxValueLen)
		}
	}
	if len(s.CreatedBy) > l.MaxValueLen {
		return fmt.Errorf("%s: created_by of %d bytes, longer than the maximum of %d", name, len(s.CreatedBy), l.MaxValueLen)
	}
	if len(s.Comment) > l.MaxCommentLen {
		return fmt.Errorf("%s: comment of %d bytes, longer than the maximum of %d", name, len(s.Comment), l.MaxCommentLen)
	}
	if d := s.EndsAt.Sub(now); d > l.MaxDuration {
		return fmt.Errorf("%s: ends_at %s is %s from now, later than the maximum of %s: end it sooner "+
			"(to stop a rule for good, change the rules file), or raise the maximum if that is what you mean",
			name, s.EndsAt.Format(time.RFC3339), d.Round(time.Minute), l.MaxDuration)
	}
	if !s.EndsAt.After(s.StartsAt) {
		return fmt.Errorf("%s: ends_at %s is not after starts_at %s",
			silenceName(s), s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339))
	}
	if !s.EndsAt.After(now) {
		return fmt.Errorf("%s: ends_at %s is in the past", silenceName(s), s.EndsAt.Format(time.RFC3339))
	}
	return nil
}

// silenceName names a silence in errors; a new one has no id yet.
func silenceName(s Silence) string {
	if s.ID == "" {
		return "silence"
	}
	return fmt.Sprintf("silence %q", s.ID)
}

// matches reports whether every matcher matches the alert.
func (s *silence) matches(a *Alert) bool {
	for i, m := range s.Matchers {
		var ok bool
		match := func(v string) bool {
			if s.res[i] != nil {
				return s.res[i].MatchString(v)
			}
			return v == m.Value
		}
		switch m.Name {
		case MatchRule:
			ok = match(a.Key.Rule)
		case MatchSource:
			ok = match(a.Key.Source) || match(a.Source.ID)
		case MatchParticipant:
			ok = match(a.Key.Participant) ||
				(a.Participant.UserName != "" && match(a.Participant.UserName)) ||
				(a.Participant.Email != "" && match(a.Participant.Email))
		default:
			v, has := a.Labels[m.Name]
			ok = has && match(v)
		}
		if !ok {
			return false
		}
	}
	return true
}

// silenced reports whether an active silence matches the alert now.
func (e *Engine) silenced(a *Alert, now time.Time) bool {
	for i := range e.silences {
		s := &e.silences[i]
		if s.activeAt(now) && s.matches(a) {
			return true
		}
	}
	return false
}

// AddSilence validates a silence, assigns its ID (when blank), persists it
// and applies it from now on. An ID that exists replaces that silence.
// A zero StartsAt means now.
func (e *Engine) AddSilence(ctx context.Context, s Silence) (Silence, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	if s.StartsAt.IsZero() {
		s.StartsAt = now
	}
	at := -1
	if s.ID != "" {
		at = slices.IndexFunc(e.silences, func(x silence) bool { return x.ID == s.ID })
		if at < 0 {
			return Silence{}, fmt.Errorf("silence %q: %w", s.ID, ErrSilenceNotFound)
		}
	}
	s.Matchers = slices.Clone(s.Matchers)
	if err := e.limit.validate(s, now); err != nil {
		return Silence{}, invalidSilence{err}
	}
	c, err := compileSilence(s)
	if err != nil {
		return Silence{}, invalidSilence{err}
	}
	if at < 0 && len(e.silences) >= e.limit.MaxSilences {
		if err := e.makeRoom(ctx, now); err != nil {
			return Silence{}, err
		}
	}
	if s.ID == "" { // new: named only once it is valid
		s.ID = rand.Text()
		c.ID = s.ID
	}
	if err := e.store.PutSilence(ctx, s); err != nil {
		return Silence{}, fmt.Errorf("silence %q: save: %w", s.ID, err)
	}
	if at >= 0 {
		e.silences[at] = c
	} else {
		e.silences = append(e.silences, c)
	}
	e.log.Info("silence set", "silence", s.ID, "ends_at", s.EndsAt, "created_by", s.CreatedBy)
	return cloneSilence(s), nil
}

// ExpireSilence ends a silence now. Alerts it held back are told at the
// next Ingest or Tick that sees them still firing. The expired silence is
// kept for ResolvedRetention, then collected.
func (e *Engine) ExpireSilence(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := slices.IndexFunc(e.silences, func(x silence) bool { return x.ID == id })
	if i < 0 {
		return fmt.Errorf("silence %q: %w", id, ErrSilenceNotFound)
	}
	now := e.now()
	s := e.silences[i].Silence
	if !s.EndsAt.After(now) {
		return nil // already over
	}
	s.EndsAt = now
	if s.StartsAt.After(now) {
		s.StartsAt = now // a silence that never started
	}
	if err := e.store.PutSilence(ctx, s); err != nil {
		return fmt.Errorf("silence %q: save: %w", id, err)
	}
	e.silences[i].Silence = s
	e.log.Info("silence expired", "silence", id)
	return nil
}

// Silences returns every silence (active, pending and expired but not yet
// collected), sorted by start then id.
func (e *Engine) Silences() []Silence {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Silence, len(e.silences))
	for i := range e.silences {
		out[i] = cloneSilence(e.silences[i].Silence)
	}
	slices.SortFunc(out, func(a, b Silence) int {
		return cmp.Or(a.StartsAt.Compare(b.StartsAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// makeRoom drops expired silences, the longest-ended first, until a new
// one fits under MaxSilences; when none has expired it refuses.
func (e *Engine) makeRoom(ctx context.Context, now time.Time) error {
	expired := []int{}
	for i := range e.silences {
		if !e.silences[i].EndsAt.After(now) {
			expired = append(expired, i)
		}
	}
	slices.SortFunc(expired, func(a, b int) int { return e.silences[a].EndsAt.Compare(e.silences[b].EndsAt) })
	need := len(e.silences) - e.limit.MaxSilences + 1
	if len(expired) < need {
		return invalidSilence{fmt.Errorf("silence: %d silences are active or pending, the maximum is %d: expire one first",
			len(e.silences)-len(expired), e.limit.MaxSilences)}
	}
	drop := map[string]bool{}
	for _, i := range expired[:need] {
		id := e.silences[i].ID
		if err := e.store.DeleteSilence(ctx, id); err != nil {
			return fmt.Errorf("silence %q: delete to make room: %w", id, err)
		}
		drop[id] = true
	}
	e.silences = slices.DeleteFunc(e.silences, func(s silence) bool { return drop[s.ID] })
	return nil
}

// collectSilences deletes silences that ended more than the retention ago.
func (e *Engine) collectSilences(ctx context.Context) error {
	horizon := e.now().Add(-e.keep)
	kept := e.silences[:0]
	var err error
	for _, s := range e.silences {
		if err == nil && s.EndsAt.Before(horizon) {
			if err = e.store.DeleteSilence(ctx, s.ID); err == nil {
				continue
			}
			err = fmt.Errorf("silence %q: delete: %w", s.ID, err)
		}
		kept = append(kept, s)
	}
	clear(e.silences[len(kept):])
	e.silences = kept
	return err
}

func cloneSilence(s Silence) Silence {
	s.Matchers = slices.Clone(s.Matchers)
	if s.EndsWith != nil {
		w := *s.EndsWith
		s.EndsWith = &w
	}
	return s
}
