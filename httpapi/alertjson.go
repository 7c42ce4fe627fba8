package httpapi

import (
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// AlertJSON is one alert on /api/v1/alerts. encoding/json cannot marshal
// NaN (a missing QoS value), so the sample is rendered here: a missing
// number is null.
type AlertJSON struct {
	Rule        string             `json:"rule"`
	State       string             `json:"state"`
	Severity    string             `json:"severity"`
	Labels      map[string]string  `json:"labels,omitempty"`
	Source      engine.Source      `json:"source"`
	Participant engine.Participant `json:"participant"`
	ActiveSince *time.Time         `json:"active_since,omitempty"`
	FiredAt     *time.Time         `json:"fired_at,omitempty"`
	ClearSince  *time.Time         `json:"clear_since,omitempty"`
	LastSample  *time.Time         `json:"last_sample,omitempty"`
	ResolvedAt  *time.Time         `json:"resolved_at,omitempty"`
	Reason      string             `json:"reason,omitempty"`
	Told        bool               `json:"told"` // the firing was queued for Slack (delivery is the outbox's)
	Explain     []TermJSON         `json:"explain"`
	Sample      map[string]any     `json:"sample"`
}

// TermJSON is one comparison of the rule on the alert's sample.
type TermJSON struct {
	engine.Term
	Text string `json:"text"` // "audio_input.avg_loss = 3.5 > 2 ✓"
}

// NewAlertJSON renders an alert.
func NewAlertJSON(a *engine.Alert) AlertJSON {
	out := AlertJSON{
		Rule: a.Key.Rule, State: a.State.String(), Severity: string(a.Severity), Labels: a.Labels,
		Source: a.Source, Participant: a.Participant,
		ActiveSince: timePtr(a.ActiveSince), FiredAt: timePtr(a.FiredAt), ClearSince: timePtr(a.ClearSince),
		LastSample: timePtr(a.LastSample), ResolvedAt: timePtr(a.ResolvedAt),
		Reason: string(a.Reason), Told: a.Notified,
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

var timeType = reflect.TypeOf(time.Time{})

// sampleValues renders the QoS part of a sample (streams, CPU, Wi-Fi,
// aggregates) under Zoom's snake_case names, with null for a missing
// number. Source and participant are rendered beside it already.
func sampleValues(s *engine.Sample) map[string]any {
	v := reflect.ValueOf(s).Elem()
	t := v.Type()
	out := map[string]any{}
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		switch name {
		case "source", "participant", "":
			continue
		}
		if r := render(v.Field(i)); r != nil {
			out[name] = r
		}
	}
	return out
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// render turns a value into something encoding/json accepts: NaN and
// ±Inf become nil, structs become maps.
func render(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return f
	case reflect.Struct:
		if v.Type() == timeType {
			t := v.Interface().(time.Time)
			if t.IsZero() {
				return nil
			}
			return t.UTC()
		}
		m := map[string]any{}
		for i := range v.NumField() {
			if name := jsonName(v.Type().Field(i)); name != "" {
				m[name] = render(v.Field(i))
			}
		}
		return m
	case reflect.String:
		if v.String() == "" {
			return nil
		}
		return v.String()
	}
	if v.CanInterface() {
		return v.Interface()
	}
	return nil
}
