package rules

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// The rule test file, like `promtool test rules`: series of values a minute
// per participant, fed to the real engine, and the alerts expected at given
// minutes.

// TestFile is a whole rule test file.
type TestFile struct {
	Rules      string        `yaml:"rules" json:"rules" doc:"The rules file under test, relative to this file."`
	Start      string        `yaml:"start" json:"start" doc:"The sample time of minute 0 (RFC 3339). Default 2026-01-01T00:00:00Z."`
	StaleAfter string        `yaml:"stale_after" json:"stale_after" doc:"The engine's stale_after (Go duration). Default the engine's (5m)."`
	Source     engine.Source `yaml:"source" json:"source" doc:"The webinar or meeting of every test, unless a test names its own."`
	Tests      []TestCase    `yaml:"tests" json:"tests"`
}

// TestCase is one scenario: participants with their series, and what must
// be true at given minutes.
type TestCase struct {
	Name         string            `yaml:"name" json:"name"`
	Source       *engine.Source    `yaml:"source" json:"source"`
	Participants []TestParticipant `yaml:"participants" json:"participants"`
	EndAt        *int              `yaml:"end_at" json:"end_at" doc:"The minute the webinar ends (EndSource), if it does."`
	Expect       []Expectation     `yaml:"expect" json:"expect"`
}

// TestParticipant is one participant: its attributes (user_id, user_name,
// role, device, network_type, … as rules see them) and its series.
type TestParticipant struct {
	Attributes map[string]string
	Series     map[string]string // sample field → "0 0 3.5 3.5x3 _"
}

// UnmarshalYAML reads the attributes and `series` from one flat mapping.
func (p *TestParticipant) UnmarshalYAML(unmarshal func(any) error) error {
	var raw map[string]any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	p.Attributes, p.Series = map[string]string{}, map[string]string{}
	for k, v := range raw {
		if k != "series" {
			if _, isMap := v.(map[string]any); isMap || v == nil {
				return fmt.Errorf("participant %s: expected a value", k)
			}
			p.Attributes[k] = fmt.Sprint(v)
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("participant series: expected a mapping of field: \"values\"")
		}
		for f, vs := range m {
			if vs == nil {
				vs = ""
			}
			p.Series[f] = fmt.Sprint(vs)
		}
	}
	return nil
}

// Expectation is what must hold right after the samples of minute At.
type Expectation struct {
	At     int           `yaml:"at" json:"at" doc:"The minute, from 0."`
	Alerts *[]TestAlert  `yaml:"alerts" json:"alerts" doc:"Exactly the alerts that are pending, firing or resolving, or resolved at this minute, when given. [] asserts none."`
	Notify *[]TestNotify `yaml:"notifications" json:"notifications" doc:"Exactly the notifications decided at this minute, when given."`
}

// TestAlert is one expected alert.
type TestAlert struct {
	Rule        string `yaml:"rule" json:"rule"`
	Participant string `yaml:"participant" json:"participant" doc:"The participant's user_id; left out for a scope: source rule's alert (the webinar's)."`
	State       string `yaml:"state" json:"state" doc:"pending, firing, resolving or resolved."`
	InhibitedBy string `yaml:"inhibited_by" json:"inhibited_by" doc:"The alert whose inhibition holds this one back, as rule/participant (speaker-degraded/host-1), when given; none when not inhibited."`
}

// TestNotify is one expected notification.
type TestNotify struct {
	Kind        string `yaml:"kind" json:"kind" doc:"firing, repeat or resolved."`
	Rule        string `yaml:"rule" json:"rule"`
	Participant string `yaml:"participant" json:"participant"`
	Summary     string `yaml:"summary" json:"summary" doc:"The rendered summary, when given."`
	Reason      string `yaml:"reason" json:"reason" doc:"For resolved: recovered, left, stale, ended."`
	Channel     string `yaml:"channel" json:"channel" doc:"The channel the rules file's routes send it to, when given."`
	Mention     string `yaml:"mention" json:"mention" doc:"The mention the route adds (<!here>, <!subteam^S…>), when given."`
	Folded      *int   `yaml:"folded" json:"folded" doc:"On an alert of an inhibition's source rule: how many participants' alerts it folds (\"N attendees receive it degraded\"), when given."`
}

// MaxTestMinutes is how long a rule test may run: a week of minutes.
// The engine runs every minute up to the last value or expectation.
const MaxTestMinutes = 7 * 24 * 60

// parseSeries reads "0 0 3.5 _ 2x3": one value a minute; "_" is missing
// (NaN); VxN is V repeated N times.
func parseSeries(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Fields(s) {
		v, n := f, 1
		if i := strings.LastIndexByte(f, 'x'); i > 0 {
			c, err := strconv.Atoi(f[i+1:])
			if err != nil || c < 1 {
				return nil, fmt.Errorf("%q: the repeat count after x must be a whole number", f)
			}
			v, n = f[:i], c
		}
		if n > MaxTestMinutes-len(out) {
			return nil, fmt.Errorf("%q: a series is at most %d values (a week of minutes)", f, MaxTestMinutes)
		}
		x := math.NaN()
		if v != "_" {
			var err error
			if x, err = strconv.ParseFloat(v, 64); err != nil {
				return nil, fmt.Errorf("%q is not a number (or _ for missing)", f)
			}
		}
		for range n {
			out = append(out, x)
		}
	}
	return out, nil
}

// sampleField returns a setter for a numeric sample field by its rule name
// ("audio_input.avg_loss", "latency"), and whether it is an aggregate.
func sampleField(path string) (func(*engine.Sample, float64), bool, error) {
	t := reflect.TypeFor[engine.Sample]()
	var index []int
	for part := range strings.SplitSeq(path, ".") {
		f, ok := fieldByExprTag(t, part)
		if !ok {
			return nil, false, fmt.Errorf("%q is not a sample field", path)
		}
		index = append(index, f.Index...)
		t = f.Type
	}
	if t.Kind() != reflect.Float64 {
		return nil, false, fmt.Errorf("%q is not a number field", path)
	}
	aggregate := len(index) == 1
	return func(s *engine.Sample, v float64) {
		reflect.ValueOf(s).Elem().FieldByIndex(index).SetFloat(v)
	}, aggregate, nil
}

func fieldByExprTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if f := t.Field(i); f.Tag.Get("expr") == tag {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// setParticipant sets a participant attribute by its rule name.
func setParticipant(p *engine.Participant, name, value string) error {
	f, ok := fieldByExprTag(reflect.TypeFor[engine.Participant](), name)
	if !ok {
		return fmt.Errorf("%q is not a participant field (one of %s)", name, strings.Join(participantFields, ", "))
	}
	v := reflect.ValueOf(p).Elem().FieldByIndex(f.Index)
	switch v.Kind() {
	case reflect.String:
		v.SetString(value)
	default: // join_time, leave_time
		ts, err := time.Parse(time.RFC3339, value)
		if err != nil {
			return fmt.Errorf("%s: %q is not an RFC 3339 time", name, value)
		}
		v.Set(reflect.ValueOf(ts))
	}
	return nil
}
