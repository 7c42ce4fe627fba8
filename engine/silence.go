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

// validate checks a silence being added or updated. (A stored silence may
// legitimately end when it starts: one expired before it began.)
func validate(s Silence, now time.Time) error {
	if len(s.Matchers) == 0 {
		return fmt.Errorf("%s: needs at least one matcher", silenceName(s))
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
	if err := validate(s, now); err != nil {
		return Silence{}, invalidSilence{err}
	}
	c, err := compileSilence(s)
	if err != nil {
		return Silence{}, invalidSilence{err}
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
	return s
}
