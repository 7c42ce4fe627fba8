package httpapi

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// AlertJSON is one alert on /api/v1/alerts. The sample is the engine's
// JSON of it (a missing QoS value is null) without its source and
// participant, which stand beside it.
type AlertJSON struct {
	Number      uint64                     `json:"number,omitempty"` // short and stable: `qoswatch ack 12`
	Key         string                     `json:"key"`              // rule/source/participant: what `qoswatch ack` and /qoswatch ack take
	Rule        string                     `json:"rule"`
	State       string                     `json:"state"`
	Severity    string                     `json:"severity"`
	Labels      map[string]string          `json:"labels,omitempty"`
	Source      engine.Source              `json:"source"`
	Participant engine.Participant         `json:"participant"`
	ActiveSince *time.Time                 `json:"active_since,omitempty"`
	FiredAt     *time.Time                 `json:"fired_at,omitempty"`
	ClearSince  *time.Time                 `json:"clear_since,omitempty"`
	LastSample  *time.Time                 `json:"last_sample,omitempty"`
	ResolvedAt  *time.Time                 `json:"resolved_at,omitempty"`
	Reason      string                     `json:"reason,omitempty"`
	Told        bool                       `json:"told"`               // the firing was queued for Slack (delivery is the outbox's)
	AckedBy     string                     `json:"acked_by,omitempty"` // who acknowledged it: a Slack user ID or cli:NAME
	AckedByName string                     `json:"acked_by_name,omitempty"`
	AckedAt     *time.Time                 `json:"acked_at,omitempty"`
	Explain     []TermJSON                 `json:"explain"`
	Sample      map[string]json.RawMessage `json:"sample"`

	// InhibitedBy is the alert whose inhibition keeps this firing one
	// from Slack (rules file `inhibit:`): recorded, not posted.
	InhibitedBy *InhibitorJSON `json:"inhibited_by,omitempty"`
}

// InhibitorJSON names the alert that inhibits another, and why.
type InhibitorJSON struct {
	Rule        string `json:"rule"`
	Source      string `json:"source"`      // "webinar:81234567890"
	Participant string `json:"participant"` // its user_id
	Reason      string `json:"reason"`      // in words
}

// TermJSON is one comparison of the rule on the alert's sample.
type TermJSON struct {
	engine.Term
	Text string `json:"text"` // "audio_input.avg_loss = 3.5 > 2 ✓"
}

// NewAlertJSON renders an alert.
func NewAlertJSON(a *engine.Alert) AlertJSON {
	out := AlertJSON{
		Number: a.Number, Key: a.Key.String(), Rule: a.Key.Rule, State: a.State.String(), Severity: string(a.Severity), Labels: a.Labels,
		Source: a.Source, Participant: a.Participant,
		ActiveSince: timePtr(a.ActiveSince), FiredAt: timePtr(a.FiredAt), ClearSince: timePtr(a.ClearSince),
		LastSample: timePtr(a.LastSample), ResolvedAt: timePtr(a.ResolvedAt),
		Reason: string(a.Reason), Told: a.Notified,
		AckedBy: a.AckedBy, AckedByName: a.AckedByName, AckedAt: timePtr(a.AckedAt),
		Explain: make([]TermJSON, len(a.Explain)),
		Sample:  sampleValues(&a.Sample),
	}
	if out.Source.Kind == "" {
		out.Source.Kind, out.Source.ID = sourceFromKey(a.Key.Source)
	}
	if out.Participant.UserID == "" {
		out.Participant.UserID = a.Key.Participant
	}
	for i, t := range a.Explain {
		out.Explain[i] = TermJSON{Term: t, Text: t.String()}
	}
	if k := a.InhibitedBy; k != nil {
		out.InhibitedBy = &InhibitorJSON{Rule: k.Rule, Source: k.Source, Participant: k.Participant,
			Reason: "folded into " + k.Rule + " of participant " + k.Participant + ", which started with it in the same " + string(out.Source.Kind) + " (inhibit)"}
	}
	return out
}

func sourceFromKey(k string) (engine.SourceKind, string) {
	kind, id, _ := strings.Cut(k, ":")
	return engine.SourceKind(kind), id
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// sampleValues renders the QoS part of a sample (streams, CPU, Wi-Fi,
// aggregates) under Zoom's snake_case names with the engine's own JSON
// (a missing number is null). Source and participant are rendered beside
// it already.
func sampleValues(s *engine.Sample) map[string]json.RawMessage {
	b, err := json.Marshal(s)
	if err != nil {
		return nil // the engine's JSON writes every value; TestJSONEveryField guards it
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	delete(out, "source")
	delete(out, "participant")
	return out
}
