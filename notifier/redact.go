package notifier

import (
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// Redacted stands where a redacted value was.
const Redacted = "[redacted]"

// RedactableFields are the participant fields a route may hide: every
// field of engine.Participant, by its rule name (the rules file accepts
// each of them in a route's redact).
var RedactableFields = func() []string {
	var names []string
	for _, f := range participantFields {
		names = append(names, f.Tag.Get("expr"))
	}
	return names
}()

// participantFields are engine.Participant's fields that rules name.
var participantFields = func() []reflect.StructField {
	var fs []reflect.StructField
	for _, f := range reflect.VisibleFields(reflect.TypeFor[engine.Participant]()) {
		if f.Tag.Get("expr") != "" {
			fs = append(fs, f)
		}
	}
	return fs
}()

// redact returns a copy of n as a route that hides fields may see it.
// Redaction is by field, never by value: the participant's hidden fields
// are blank (its name reads [redacted]: a message needs a name), in the
// participant and in the sample; an explained term on a hidden field
// (participant.ip_address) shows [redacted] for its value; and the
// summary, which a template wrote from any fields, is written again from
// the redacted notification by summarize, or left out when that cannot
// be done. The alert key is printed by keyText, which knows the fields.
func redact(n *engine.Notification, fields []string, summarize func(*engine.Notification) (string, error)) *engine.Notification {
	c := *n
	if len(fields) == 0 {
		return &c
	}
	hidden := false
	c.Participant, hidden = redactParticipant(n.Participant, fields, "")
	c.Sample.Participant, _ = redactParticipant(n.Sample.Participant, fields, "")
	c.Explain = redactTerms(n.Explain, fields)
	c.Fired = redactTerms(n.Fired, fields)
	if c.Summary != "" && hidden {
		c.Summary = ""
		if summarize != nil {
			// The template sees [redacted] where a hidden value was.
			v := c
			v.Participant, _ = redactParticipant(n.Participant, fields, Redacted)
			v.Sample.Participant, _ = redactParticipant(n.Sample.Participant, fields, Redacted)
			if s, err := summarize(&v); err == nil {
				c.Summary = s
			}
		}
	}
	return &c
}

func redactTerms(terms []engine.Term, fields []string) []engine.Term {
	if terms == nil {
		return nil
	}
	out := make([]engine.Term, len(terms))
	for i, t := range terms {
		if f, ok := strings.CutPrefix(t.Field, "participant."); ok && slices.Contains(fields, f) {
			t.Value = Redacted
		}
		out[i] = t
	}
	return out
}

// redactParticipant sets the fields of p that the route hides to with
// ("" blanks them; the name always reads [redacted]). It reports whether
// a hidden field had a value.
func redactParticipant(p engine.Participant, fields []string, with string) (engine.Participant, bool) {
	had := false
	v := reflect.ValueOf(&p).Elem()
	for _, f := range participantFields {
		if !slices.Contains(fields, f.Tag.Get("expr")) {
			continue
		}
		switch x := v.FieldByIndex(f.Index).Addr().Interface().(type) {
		case *string:
			if *x == "" {
				continue
			}
			had = true
			*x = with
			if f.Name == "UserName" {
				*x = Redacted // the message still needs a name
			}
		case *time.Time:
			had = had || !x.IsZero()
			*x = time.Time{}
		}
	}
	return p, had
}

// keyText is the alert's key as a message prints it. Its participant
// part is the participant's user_id, id or name (engine.Participant.Key):
// hidden when the route hides that field.
func keyText(n *engine.Notification, fields []string) string {
	k := n.Key
	p := n.Participant
	switch {
	case p.UserID != "" && slices.Contains(fields, "user_id"),
		p.UserID == "" && p.ID != "" && slices.Contains(fields, "id"),
		p.UserID == "" && p.ID == "" && slices.Contains(fields, "user_name"):
		k.Participant = Redacted
	}
	return k.String()
}
