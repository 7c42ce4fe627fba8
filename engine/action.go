package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Responders answer an alert where they read it (Slack buttons, the
// slash command, `qoswatch ack`): acknowledge it, silence it, or dismiss
// it as not an issue. Each answer is an Action. Act applies it and
// commits, in one store transaction, the alerts it changed, the silence it
// set, its audit record and the outbox entry that updates the alert's
// message, so a crash anywhere neither loses it nor applies it twice.

// ActionKind is what a responder does.
type ActionKind string

const (
	ActionAck     ActionKind = "ack"     // acknowledge: repeats stop until the ack expires
	ActionSilence ActionKind = "silence" // set a silence (Scope says which)
	ActionDismiss ActionKind = "dismiss" // not an issue: resolve as dismissed, count a false positive
)

// SilenceScope is what a silence action silences.
type SilenceScope string

const (
	// ScopeParticipant: this participant, every rule, for the rest of
	// this webinar or meeting (it ends when the source ends).
	ScopeParticipant SilenceScope = "participant"
	// ScopeRuleSource: this rule in this webinar or meeting, every
	// participant, until the source ends.
	ScopeRuleSource SilenceScope = "rule_source"
	// ScopeRule1h: this rule everywhere for an hour.
	ScopeRule1h SilenceScope = "rule_1h"
	// ScopeUntilResolved: this alert (or, on a storm, this rule in this
	// source) until it resolves.
	ScopeUntilResolved SilenceScope = "until_resolved"
)

// Bounds of the silences actions set. A silence that ends itself (when
// its source ends, when its alert resolves) still gets an end: a source
// whose end is never seen must not stay silenced for good.
const (
	SourceSilenceMax        = 24 * time.Hour     // ScopeParticipant, ScopeRuleSource
	RuleSilenceFor          = time.Hour          // ScopeRule1h
	UntilResolvedSilenceMax = 7 * 24 * time.Hour // ScopeUntilResolved
)

// Action is one responder's answer to an alert.
type Action struct {
	// ID is the idempotency key: an ID applies once, however often it is
	// submitted (Slack retries, double submits, a restart in between).
	// Later submissions get the first one's answer with Applied false.
	ID   string     `json:"id"`
	Kind ActionKind `json:"kind"`
	// Alert is the alert acted on. Participant "" means a storm: every
	// open alert of Rule in Source.
	Alert AlertKey     `json:"alert"`
	Scope SilenceScope `json:"scope,omitempty"` // for ActionSilence
	// User is who acted: a Slack user ID ("U123") or "cli:<name>".
	User     string    `json:"user"`
	UserName string    `json:"user_name,omitempty"`
	At       time.Time `json:"at"` // wall clock; zero: now
	// Message is the Slack message the button was on, if any: the one
	// the action's update edits.
	Message MessageRef `json:"message,omitzero"`
	Comment string     `json:"comment,omitempty"`
}

// ActionResult is what Act tells the responder.
type ActionResult struct {
	// Applied is false when nothing changed: the alert was already
	// acknowledged, resolved or gone, or the ID was applied before.
	Applied bool `json:"applied"`
	// Replay is true when the ID was applied before: Text is then that
	// first answer.
	Replay bool `json:"replay,omitempty"`
	// Text is what to tell the responder, in Slack mrkdwn: "Acknowledged
	// 14 alerts", "Already acknowledged by <@U1> at 14:03 UTC".
	Text string `json:"text"`
	// Alerts is how many alerts the action changed.
	Alerts int `json:"alerts"`
	// Silence is the silence the action set, for ActionSilence.
	Silence *Silence `json:"silence,omitempty"`
}

// ActionRecord is one action as the audit log keeps it.
type ActionRecord struct {
	Action
	Seq    uint64       `json:"seq"` // assigned by the store; newer is larger
	Result ActionResult `json:"result"`
}

// ActionNote is what a message needs to show an action: on a
// KindAction notification, the action; on a KindRepeat, the
// acknowledgement that expired while the alert kept firing.
type ActionNote struct {
	ID       string       `json:"id"`
	Kind     ActionKind   `json:"kind"`
	Scope    SilenceScope `json:"scope,omitempty"`
	User     string       `json:"user"`
	UserName string       `json:"user_name,omitempty"`
	At       time.Time    `json:"at"`
	Comment  string       `json:"comment,omitempty"`
	// Message is the message the button was on (zero from the CLI): the
	// message to update.
	Message MessageRef `json:"message,omitzero"`
	// Count is how many alerts the action changed; Members their
	// participants' names (a storm's), for "Acknowledged 14: ana, bob…".
	Count   int      `json:"count"`
	Members []string `json:"members,omitempty"`
	// Silence is the silence set, for ActionSilence.
	Silence *Silence `json:"silence,omitempty"`
	// Expires, for an ack, is when it expires if the alert still fires
	// (zero: when the alert resolves).
	Expires time.Time `json:"expires,omitzero"`
}

// Retention of the audit log: a store keeps at most MaxActionRecords
// actions, and none older than ActionRetention (wall clock). An ID is
// applied once while its record is kept: Slack retries within seconds,
// so a month is ample.
const (
	MaxActionRecords = 10000
	ActionRetention  = 30 * 24 * time.Hour
)

// ActionQuery pages through the audit log, newest first.
type ActionQuery struct {
	Before uint64 // only records with Seq < Before; 0: from the newest
	Limit  int
}

// ActionLog is the audit log of actions the store keeps (bounded: see the
// store's retention). Act reads it to apply an ID once.
type ActionLog interface {
	// Action returns the record of an action ID, if it is still kept.
	Action(ctx context.Context, id string) (ActionRecord, bool, error)
	// Actions returns records newest first.
	Actions(ctx context.Context, q ActionQuery) ([]ActionRecord, error)
}

// ErrInvalidAction is in the error Act returns for an action that cannot
// be applied as asked (no ID, an unknown kind or scope, no alert): the
// caller's mistake. The message says what is wrong.
var ErrInvalidAction = errors.New("invalid action")

func invalidAction(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidAction}, args...)...)
}

// MaxActionText bounds an action's free text (comment, user name), in
// bytes: it is kept in the audit log and shown in Slack.
const MaxActionText = 1000

func (a *Action) validate() error {
	switch {
	case a.ID == "":
		return invalidAction("no id")
	case len(a.ID) > 200:
		return invalidAction("id of %d bytes, more than 200", len(a.ID))
	case a.User == "":
		return invalidAction("no user")
	case a.Alert.Rule == "" || a.Alert.Source == "":
		return invalidAction("no alert (rule and source are needed)")
	case len(a.Comment) > MaxActionText || len(a.UserName) > MaxActionText || len(a.User) > 200:
		return invalidAction("comment or user name longer than %d bytes", MaxActionText)
	}
	switch a.Kind {
	case ActionAck, ActionDismiss:
	case ActionSilence:
		switch a.Scope {
		case ScopeParticipant:
			if a.Alert.Participant == "" {
				return invalidAction("a storm has no single participant to silence: silence the rule in this webinar")
			}
		case ScopeRuleSource, ScopeRule1h, ScopeUntilResolved:
		default:
			return invalidAction("unknown silence scope %q (participant, rule_source, rule_1h, until_resolved)", a.Scope)
		}
	default:
		return invalidAction("unknown kind %q (ack, silence, dismiss)", a.Kind)
	}
	return nil
}

// Act applies a responder's action. An ID already applied is not applied
// again: its first answer comes back with Applied false and Replay true.
// An action on an alert that is not open (resolved, gone) or already in
// the state asked for changes nothing and says so. Every action that
// passes validation is recorded in the audit log, applied or not.
func (e *Engine) Act(ctx context.Context, a Action) (ActionResult, error) {
	if err := a.validate(); err != nil {
		return ActionResult{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rec, seen, err := e.store.Action(ctx, a.ID)
	if err != nil {
		return ActionResult{}, fmt.Errorf("engine: action %q: %w", a.ID, err)
	}
	if seen {
		res := rec.Result
		res.Applied, res.Replay = false, true
		return res, nil
	}
	t := e.begin(0)
	if a.At.IsZero() {
		a.At = t.now
	}
	targets := e.targets(a.Alert)
	var res ActionResult
	switch a.Kind {
	case ActionAck:
		res = e.ack(t, &a, targets)
	case ActionSilence:
		res, err = e.silenceAction(ctx, t, &a, targets)
	case ActionDismiss:
		res = e.dismiss(t, &a, targets)
	}
	if err != nil {
		return ActionResult{}, err
	}
	t.changes.Actions = append(t.changes.Actions, ActionRecord{Action: a, Result: res})
	if err := e.commit(ctx, t); err != nil {
		return ActionResult{}, fmt.Errorf("engine: action %q: %w", a.ID, err)
	}
	e.log.Info("action", "id", a.ID, "kind", a.Kind, "scope", a.Scope, "alert", a.Alert.String(), "user", a.User,
		"applied", res.Applied, "alerts", res.Alerts)
	return res, nil
}

// Actions returns the audit log, newest first.
func (e *Engine) Actions(ctx context.Context, q ActionQuery) ([]ActionRecord, error) {
	recs, err := e.store.Actions(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("engine: actions: %w", err)
	}
	return recs, nil
}

// targets returns the keys an action on k is about: the alert itself, or
// for a storm (no participant) every open alert of the rule in the
// source, sorted.
func (e *Engine) targets(k AlertKey) []AlertKey {
	if k.Participant != "" {
		if _, ok := e.alerts[k]; ok {
			return []AlertKey{k}
		}
		return nil
	}
	return e.sortedKeys(func(a *Alert) bool {
		return a.Key.Rule == k.Rule && a.Key.Source == k.Source && a.State != StatePending
	})
}

// open reports whether an alert is firing or resolving: what a responder
// can act on. (A pending alert was never told.)
func open(a *Alert) bool { return a.State == StateFiring || a.State == StateResolving }

// ack acknowledges the open, unacknowledged targets.
func (e *Engine) ack(t *tx, a *Action, targets []AlertKey) ActionResult {
	var done []*Alert
	var prior *Alert // an earlier ack, for "already acknowledged by"
	for _, k := range targets {
		cur := t.get(e, k)
		if !open(cur) {
			continue
		}
		if !cur.AckedAt.IsZero() {
			if prior == nil {
				prior = cur
			}
			continue
		}
		m := t.mutable(e, k)
		m.AckedBy, m.AckedByName, m.AckedAt = a.User, a.UserName, a.At
		done = append(done, m)
	}
	if len(done) == 0 {
		if prior != nil {
			return ActionResult{Text: fmt.Sprintf("Already acknowledged by %s at %s.", mention(prior.AckedBy, prior.AckedByName), hhmm(prior.AckedAt))}
		}
		return ActionResult{Text: notOpenText(a.Alert)}
	}
	e.notifyAction(t, a, done, nil)
	return ActionResult{Applied: true, Alerts: len(done), Text: "Acknowledged " + countText(a.Alert, done) + "."}
}

// dismiss resolves the open targets as dismissed and counts each as a
// false positive of its rule.
func (e *Engine) dismiss(t *tx, a *Action, targets []AlertKey) ActionResult {
	var done []*Alert
	for _, k := range targets {
		if !open(t.get(e, k)) {
			continue
		}
		m := t.mutable(e, k)
		// Resolved without a resolve notification: the action's own
		// notification updates the message to "dismissed".
		at := laterOf(m.LastSample, m.FiredAt)
		m.State, m.ResolvedAt, m.Reason, m.ClearSince = StateResolved, at, ReasonDismissed, time.Time{}
		t.changes.Dismissals = append(t.changes.Dismissals, k.Rule)
		done = append(done, m)
	}
	if len(done) == 0 {
		return ActionResult{Text: notOpenText(a.Alert)}
	}
	e.notifyAction(t, a, done, nil)
	return ActionResult{Applied: true, Alerts: len(done), Text: "Dismissed " + countText(a.Alert, done) + " as not an issue."}
}

// silenceAction sets the silence the scope names.
func (e *Engine) silenceAction(ctx context.Context, t *tx, a *Action, targets []AlertKey) (ActionResult, error) {
	var first *Alert
	var opened []*Alert
	for _, k := range targets {
		if cur := t.get(e, k); open(cur) {
			opened = append(opened, cur)
			if first == nil {
				first = cur
			}
		}
	}
	if first == nil {
		return ActionResult{Text: notOpenText(a.Alert)}, nil
	}
	k := a.Alert
	s := Silence{StartsAt: a.At, CreatedBy: actionUser(a), Comment: a.Comment}
	var what string
	switch a.Scope {
	case ScopeParticipant:
		s.Matchers = []Matcher{{Name: MatchSource, Value: k.Source}, {Name: MatchParticipant, Value: k.Participant}}
		s.EndsAt = a.At.Add(SourceSilenceMax)
		s.EndsWith = &AlertKey{Source: k.Source}
		what = fmt.Sprintf("every alert of %s in this %s", participantName(first), sourceWord(first))
	case ScopeRuleSource:
		s.Matchers = []Matcher{{Name: MatchRule, Value: k.Rule}, {Name: MatchSource, Value: k.Source}}
		s.EndsAt = a.At.Add(SourceSilenceMax)
		s.EndsWith = &AlertKey{Source: k.Source}
		what = fmt.Sprintf("rule %s in this %s", k.Rule, sourceWord(first))
	case ScopeRule1h:
		s.Matchers = []Matcher{{Name: MatchRule, Value: k.Rule}}
		s.EndsAt = a.At.Add(RuleSilenceFor)
		what = fmt.Sprintf("rule %s everywhere", k.Rule)
	case ScopeUntilResolved:
		s.Matchers = []Matcher{{Name: MatchRule, Value: k.Rule}, {Name: MatchSource, Value: k.Source}}
		if k.Participant != "" {
			s.Matchers = append(s.Matchers, Matcher{Name: MatchParticipant, Value: k.Participant})
			what = fmt.Sprintf("%s for %s", k.Rule, participantName(first))
		} else {
			what = fmt.Sprintf("rule %s in this %s", k.Rule, sourceWord(first))
		}
		s.EndsAt = a.At.Add(UntilResolvedSilenceMax)
		s.EndsWith = &AlertKey{Rule: k.Rule, Source: k.Source, Participant: k.Participant}
	}
	s.ID = "act-" + a.ID // one action, one silence: a replay cannot add a second
	if err := e.limit.validate(s, t.now); err != nil {
		return ActionResult{}, invalidSilence{err}
	}
	c, err := compileSilence(s)
	if err != nil {
		return ActionResult{}, invalidSilence{err}
	}
	if len(e.silences) >= e.limit.MaxSilences {
		if err := e.makeRoom(ctx, t.now); err != nil {
			return ActionResult{}, err
		}
	}
	t.changes.Silences = append(t.changes.Silences, s)
	t.silences = append(t.silences, c)
	e.notifyAction(t, a, opened, &s)
	until := "until " + untilText(&s, sourceWord(first))
	return ActionResult{Applied: true, Alerts: len(opened), Silence: &s,
		Text: fmt.Sprintf("Silenced %s %s.", what, until)}, nil
}

// untilText says when an action's silence ends.
func untilText(s *Silence, source string) string {
	switch {
	case s.EndsWith == nil:
		return hhmm(s.EndsAt)
	case s.EndsWith.Rule == "":
		return "the " + source + " ends (at the latest " + s.EndsAt.UTC().Format("Jan 2 15:04 UTC") + ")"
	default:
		return "it resolves (at the latest " + s.EndsAt.UTC().Format("Jan 2 15:04 UTC") + ")"
	}
}

// notifyAction queues the KindAction notification that updates the
// alert's (or the storm's) message and replies in its thread.
func (e *Engine) notifyAction(t *tx, a *Action, done []*Alert, s *Silence) {
	first := done[0]
	note := &ActionNote{ID: a.ID, Kind: a.Kind, Scope: a.Scope, User: a.User, UserName: a.UserName, At: a.At,
		Comment: a.Comment, Message: a.Message, Count: len(done)}
	if s != nil {
		c := cloneSilence(*s)
		note.Silence = &c
	}
	if a.Alert.Participant == "" {
		for _, d := range done {
			note.Members = append(note.Members, participantName(d))
		}
	}
	r := e.ruleFor(first.Key)
	if a.Kind == ActionAck && r.AckExpiry > 0 {
		note.Expires = a.At.Add(r.AckExpiry)
	}
	n := Notification{
		Kind: KindAction, Key: a.Alert,
		Rule:   RuleInfo{Name: r.Name, Description: r.Description, Severity: cmpOr(r.Severity, first.Severity), Labels: r.Labels, For: r.For},
		Source: first.Source, Participant: first.Participant, Sample: first.Sample, Explain: first.Explain,
		Since: first.FiredAt, At: first.LastSample, Created: t.now, Action: note,
	}
	if a.Alert.Participant == "" {
		n.Participant = Participant{} // a storm: the members are in note.Members
	} else {
		n.Number = first.Number
	}
	if a.Kind == ActionDismiss {
		n.Reason = ReasonDismissed
	}
	t.changes.Notifications = append(t.changes.Notifications, n)
}

func cmpOr(a, b Severity) Severity {
	if a != "" {
		return a
	}
	return b
}

// endSilences ends the silences that end themselves: when their source
// ended in this call, or when the alert (or, for a storm, every open
// alert of the rule in the source) they wait for is resolved.
func (e *Engine) endSilences(t *tx) {
	if len(e.silences) == 0 || len(t.alerts) == 0 && len(t.ended) == 0 {
		return
	}
	for i := range e.silences {
		s := &e.silences[i].Silence
		w := s.EndsWith
		if w == nil || !s.EndsAt.After(t.now) || slices.ContainsFunc(t.changes.Silences, func(x Silence) bool { return x.ID == s.ID }) {
			continue
		}
		over := false
		switch {
		case w.Rule == "": // the source's end
			over = slices.ContainsFunc(t.ended, func(en srcTime) bool { return en.st.key == w.Source })
		case w.Participant != "":
			a := t.get(e, *w)
			over = a == nil || a.State == StateResolved
		default: // a storm: no open alert of the rule in the source left
			over = !e.anyOpen(t, w.Rule, w.Source)
		}
		if over {
			ended := cloneSilence(*s)
			ended.EndsAt = t.now
			if ended.StartsAt.After(t.now) {
				ended.StartsAt = t.now
			}
			t.changes.Silences = append(t.changes.Silences, ended)
		}
	}
}

// anyOpen reports whether an alert of rule in source is pending, firing
// or resolving, as this call sees it.
func (e *Engine) anyOpen(t *tx, rule, source string) bool {
	for k, a := range t.alerts {
		if a != nil && k.Rule == rule && k.Source == source && a.State != StateResolved {
			return true
		}
	}
	for k, a := range e.alerts {
		if k.Rule != rule || k.Source != source {
			continue
		}
		if _, mine := t.alerts[k]; mine {
			continue // seen above, as this call left it
		}
		if a.State != StateResolved {
			return true
		}
	}
	return false
}

// ackExpired re-notifies a firing alert acknowledged more than the rule's
// ack_expiry ago: a KindRepeat carrying the expired ack, after which the
// alert is unacknowledged and repeats as usual. It reports whether the
// alert is (still) acknowledged, so repeats stay quiet.
func (e *Engine) ackExpired(t *tx, r *Rule, k AlertKey, at time.Time) (acked bool) {
	a := t.get(e, k)
	if a.AckedAt.IsZero() {
		return false
	}
	if r.AckExpiry <= 0 || t.now.Before(a.AckedAt.Add(r.AckExpiry)) {
		return true
	}
	if e.silenced(a, t.now) {
		return true // told when the silence ends, if still firing
	}
	m := t.mutable(e, k)
	note := &ActionNote{Kind: ActionAck, User: m.AckedBy, UserName: m.AckedByName, At: m.AckedAt, Expires: m.AckedAt.Add(r.AckExpiry), Count: 1}
	m.AckedBy, m.AckedByName, m.AckedAt = "", "", time.Time{}
	m.Notified, m.LastNotified = true, t.now
	e.notify(t, KindRepeat, r, m, at, "")
	t.changes.Notifications[len(t.changes.Notifications)-1].Action = note
	return true
}

// mention names a user in Slack mrkdwn: <@U123> for a Slack user, the
// name otherwise ("cli:ana" → "ana").
func mention(user, name string) string {
	if IsSlackUserID(user) {
		return "<@" + user + ">"
	}
	if name != "" {
		return name
	}
	return strings.TrimPrefix(user, "cli:")
}

// IsSlackUserID reports whether id looks like a Slack user ID (U… or W…),
// so it can be put in a mention without letting text pose as markup.
func IsSlackUserID(id string) bool {
	if len(id) < 2 || (id[0] != 'U' && id[0] != 'W') {
		return false
	}
	for _, c := range id[1:] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// actionUser is a silence's created_by for an action: the Slack user
// with their name, or the CLI user.
func actionUser(a *Action) string {
	if a.UserName != "" && a.UserName != a.User {
		return a.User + " (" + a.UserName + ")"
	}
	return a.User
}

func hhmm(t time.Time) string { return t.UTC().Format("15:04 UTC") }

func participantName(a *Alert) string {
	if a.Participant.UserName != "" {
		return a.Participant.UserName
	}
	return a.Key.Participant
}

func sourceWord(a *Alert) string {
	if a.Source.Kind == Meeting {
		return "meeting"
	}
	return "webinar"
}

func notOpenText(k AlertKey) string {
	if k.Participant == "" {
		return fmt.Sprintf("Nothing to do: no alert of %s is firing in that webinar or meeting any more.", k.Rule)
	}
	return fmt.Sprintf("Nothing to do: the alert %s is not firing any more.", k.Rule)
}

// countText says what an action changed: "choppy-audio for ana", or on a
// storm "14 alerts of choppy-audio".
func countText(k AlertKey, done []*Alert) string {
	if k.Participant != "" {
		return fmt.Sprintf("%s for %s", k.Rule, participantName(done[0]))
	}
	if len(done) == 1 {
		return fmt.Sprintf("1 alert of %s (%s)", k.Rule, participantName(done[0]))
	}
	return fmt.Sprintf("%d alerts of %s", len(done), k.Rule)
}

// AlertByNumber returns the key of the alert with that Number.
func (e *Engine) AlertByNumber(n uint64) (AlertKey, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, a := range e.alerts {
		if a.Number == n && n != 0 {
			return k, true
		}
	}
	return AlertKey{}, false
}

// Dismissals returns how many alerts responders dismissed as not an
// issue, by rule, as the store has counted them (they survive restarts).
func (e *Engine) Dismissals() map[string]uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.stats.dismissals)
}
