package engine

import (
	"fmt"
	"strings"
	"time"
)

// Severity of a rule: info, warning or critical.
type Severity string

const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Condition is a compiled rule expression. The engine sees only this, so
// it can be tested without YAML or expr.
type Condition interface {
	// Eval reports whether the condition holds for the sample. An error
	// (a runtime failure of the expression, its evaluation budget
	// exceeded, a panic) disables the rule until the next SetRules: its
	// open alerts resolve with ReasonRuleDisabled, the other rules run on.
	Eval(s *Sample) (bool, error)
	// Explain returns every comparison in the expression with the value
	// it saw, for messages and `qoswatch explain`.
	Explain(s *Sample) []Term
}

// Term is one comparison of an expression, as it evaluated on a sample:
// `audio_input.avg_loss = 3.5 > 2 ✓`.
type Term struct {
	Field     string `json:"field"`     // "audio_input.avg_loss"
	Value     string `json:"value"`     // "3.5", or "missing"
	Op        string `json:"op"`        // ">"
	Threshold string `json:"threshold"` // "2"
	Holds     bool   `json:"holds"`
}

func (t Term) String() string {
	mark := "✗"
	if t.Holds {
		mark = "✓"
	}
	return fmt.Sprintf("%s = %s %s %s %s", t.Field, t.Value, t.Op, t.Threshold, mark)
}

// Template renders a rule's summary for a notification.
type Template interface {
	Render(n *Notification) (string, error)
}

// Rule is one compiled rule, as the rules package hands it to the engine.
type Rule struct {
	Name           string
	Description    string
	When           Condition
	Clear          Condition // optional hysteresis; nil means "when does not hold"
	For            time.Duration
	KeepFiringFor  time.Duration
	RepeatInterval time.Duration
	// AckExpiry is how long an acknowledgement holds: an alert still
	// firing that long after its ack is told again and repeats as usual.
	// Zero: an ack holds until the alert resolves.
	AckExpiry time.Duration
	Severity  Severity
	Labels    map[string]string
	Summary   Template // optional

	// Inhibits are the inhibitions this rule is the source of: while one
	// of its alerts fires, alerts of the target rules in the same source
	// that started with it are recorded but not told (Inhibition).
	Inhibits []Inhibition

	// Window, when the rule's conditions read the participant's recent
	// samples (avg_over, count_over, …), is what the engine keeps of each
	// sample for them; nil otherwise.
	Window *Window

	// Scope is what one alert is about: a participant (the default), or
	// the whole source (PerSource: When sees Sample.Population).
	Scope RuleScope
}

// State is where an alert is in its lifecycle.
type State uint8

const (
	StateInactive State = iota
	StatePending
	StateFiring
	StateResolving
	StateResolved
)

var stateNames = [...]string{"inactive", "pending", "firing", "resolving", "resolved"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Reason says why an alert resolved.
type Reason string

const (
	ReasonRecovered    Reason = "recovered"     // clear held (or when stopped holding) for keep_firing_for
	ReasonLeft         Reason = "left"          // the participant left
	ReasonStale        Reason = "stale"         // no sample for stale_after
	ReasonEnded        Reason = "ended"         // the webinar or meeting ended
	ReasonRuleRemoved  Reason = "rule_removed"  // a reload removed the rule
	ReasonRuleDisabled Reason = "rule_disabled" // evaluating the rule failed; it is off until a reload
	ReasonDismissed    Reason = "dismissed"     // a responder said it is not an issue (Engine.Act)
)

// AlertKey is an alert's identity: (rule, source, participant). It never
// contains a value.
type AlertKey struct {
	Rule        string `json:"rule"`
	Source      string `json:"source"`      // Source.Key()
	Participant string `json:"participant"` // Participant.Key()
}

func (k AlertKey) String() string { return k.Rule + "/" + k.Source + "/" + k.Participant }

// ParseAlertKey reads an alert's key as String writes it and messages
// show it, "rule/kind:id/participant", or "rule/kind:id": every alert of
// the rule in that source (a storm), with Participant empty. Backquotes
// around it, as messages print it, are dropped.
func ParseAlertKey(s string) (AlertKey, error) {
	s = strings.Trim(strings.TrimSpace(s), "`")
	parts := strings.SplitN(s, "/", 3)
	if len(parts) < 2 || parts[0] == "" || !strings.Contains(parts[1], ":") {
		return AlertKey{}, fmt.Errorf("%q is not an alert's key (rule/source/participant, like choppy-audio/webinar:81234567890/16778240, or rule/source for a storm)", s)
	}
	k := AlertKey{Rule: parts[0], Source: parts[1]}
	if len(parts) == 3 {
		if parts[2] == "" {
			return AlertKey{}, fmt.Errorf("%q: the participant is empty (leave out the last slash for a storm)", s)
		}
		k.Participant = parts[2]
	}
	return k, nil
}

// Alert is the state of one (rule, source, participant). Times are sample
// times unless named otherwise. The json names are the stored form.
type Alert struct {
	Key AlertKey `json:"key"`
	// Number is short and stable: given when the alert opens (each new
	// incident of a key gets a new one), never reused, so a person can
	// type `ack 12` (AlertByNumber).
	Number   uint64            `json:"number,omitempty"`
	State    State             `json:"state"`
	Severity Severity          `json:"severity,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`

	ActiveSince time.Time `json:"active_since,omitzero"` // when the condition started to hold (pending)
	FiredAt     time.Time `json:"fired_at,omitzero"`     // when it became firing
	ClearSince  time.Time `json:"clear_since,omitzero"`  // when it started resolving
	LastSample  time.Time `json:"last_sample,omitzero"`  // the newest sample evaluated
	ResolvedAt  time.Time `json:"resolved_at,omitzero"`
	Reason      Reason    `json:"reason,omitempty"` // why it resolved

	// Notified is true once the engine queued this firing's notification
	// in the outbox (a silence can hold it back); the resolve is queued
	// only for a notified firing. Queued is not delivered: the outbox and
	// the notifier say what reached Slack. LastNotified is the wall-clock
	// time of the last firing or repeat notification, for repeat_interval.
	Notified     bool      `json:"notified,omitempty"`
	LastNotified time.Time `json:"last_notified,omitzero"`

	// AckedBy and AckedAt (wall clock) say who acknowledged this firing
	// (Engine.Act): repeats stop until the rule's AckExpiry has passed.
	// Cleared when the ack expires or the alert fires anew.
	AckedBy     string    `json:"acked_by,omitempty"` // Slack user ID, or "cli:<name>"
	AckedByName string    `json:"acked_by_name,omitempty"`
	AckedAt     time.Time `json:"acked_at,omitzero"`

	// InhibitedBy is the firing alert whose inhibition holds this one's
	// firing back (not told; recorded). Nil once told, and in a new
	// episode.
	InhibitedBy *AlertKey `json:"inhibited_by,omitempty"`

	Source      Source      `json:"source"`
	Participant Participant `json:"participant"`
	Sample      Sample      `json:"sample"` // the sample that made it fire (or the latest while firing)
	Explain     []Term      `json:"explain,omitempty"`
}

// NotificationKind is what a notification tells.
type NotificationKind string

const (
	KindFiring   NotificationKind = "firing"
	KindRepeat   NotificationKind = "repeat" // still firing after repeat_interval
	KindResolved NotificationKind = "resolved"
	// KindAction tells a responder's action (Action): the alert's (or
	// the storm's) message shows the new state, its thread says who did
	// what. Key.Participant is "" for an action on a storm.
	KindAction NotificationKind = "action"
)

// Notification is one message the engine decided to send. It carries what
// the message needs; the notifier adds nothing but routing and rendering.
type Notification struct {
	ID   uint64           `json:"id"` // outbox sequence, assigned by the store; increases
	Kind NotificationKind `json:"kind"`
	Key  AlertKey         `json:"key"`
	// Number is the alert's (Alert.Number), for "ack 12"; 0 on a storm's
	// action.
	Number uint64 `json:"number,omitempty"`

	Rule        RuleInfo    `json:"rule"`
	Source      Source      `json:"source"`
	Participant Participant `json:"participant"`
	Sample      Sample      `json:"sample"`            // the sample that fired, or the latest one
	Explain     []Term      `json:"explain,omitempty"` // the comparisons of `when` on Sample
	Summary     string      `json:"summary,omitempty"` // the rule's rendered summary

	// Fired, for a resolve, is Explain as the last firing or repeat message
	// told it: the values that were wrong, so the resolve can say "was 0
	// fps, now 21 fps". Nil for other kinds, and for a resolve queued by a
	// release without it.
	Fired []Term `json:"fired,omitempty"`

	// Cause, on a firing, is what the participants firing the same rule
	// in the same source share far more than the source's other
	// participants, when something does (SharedCause): the storm
	// message's hint. Nil otherwise.
	Cause *Cause `json:"cause,omitempty"`

	// Action is, on a KindAction, the action told; on a KindRepeat, the
	// acknowledgement that expired while the alert kept firing ("still
	// firing 1h after ack by @ana"). Nil otherwise.
	Action *ActionNote `json:"action,omitempty"`

	// Folded, on an alert of an inhibition's source rule, is how many
	// participants of its source have an alert of a target rule that
	// started with it (open now, or inhibited by it): "N attendees
	// receive it degraded". 0 otherwise.
	Folded int `json:"folded,omitempty"`

	// Worst, on a source rule's notification, are the participants that
	// weigh most in its verdict, worst first (at most WorstShown).
	Worst []Standing `json:"worst,omitempty"`

	Since   time.Time `json:"since,omitzero"`   // when the alert started firing (sample time)
	At      time.Time `json:"at"`               // the sample time of this event
	Reason  Reason    `json:"reason,omitempty"` // for resolved
	Created time.Time `json:"created,omitzero"` // wall clock, when the engine decided
}

// Duration is how long the alert fired, for resolved notifications.
func (n *Notification) Duration() time.Duration { return n.At.Sub(n.Since) }

// RuleInfo is the part of a rule a message shows; copied, because the rule
// may be reloaded or removed before the message is sent.
type RuleInfo struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Severity    Severity          `json:"severity,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	For         time.Duration     `json:"for,omitempty"` // nanoseconds
}

// Route is where a notification goes: the first rules-file route whose
// `when` matches.
type Route struct {
	Channel string   // "#av-oncall" or a channel id
	Mention string   // "<!subteam^ID>", "<@U…>"; optional
	Redact  []string // participant fields the channel must not see: ip_address, mac_addr, harddisk_id, pc_name, email
}

// Router chooses a notification's route.
type Router interface {
	Route(n *Notification) Route
}
