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
	for _, f := range reflect.VisibleFields(reflect.TypeFor[engine.Participant]()) {
		if tag := f.Tag.Get("expr"); tag != "" {
			names = append(names, tag)
		}
	}
	return names
}()

// redact returns a copy of n without the participant fields the route
// hides: blanked in the participant, and replaced wherever their values
// show up in text (the summary, the explained terms), so neither the blocks
// nor the fallback text can leak them.
func redact(n *engine.Notification, fields []string) *engine.Notification {
	c := *n
	if len(fields) == 0 {
		return &c
	}
	var secrets []string
	c.Participant = redactParticipant(c.Participant, fields, &secrets)
	c.Sample.Participant = redactParticipant(c.Sample.Participant, fields, &secrets)
	var pairs []string
	for _, s := range secrets {
		// Very short values ("a") would mangle unrelated text.
		if len(s) >= 3 {
			pairs = append(pairs, s, Redacted)
		}
	}
	rep := strings.NewReplacer(pairs...)
	c.Summary = rep.Replace(c.Summary)
	c.Explain = make([]engine.Term, len(n.Explain))
	for i, t := range n.Explain {
		if f, ok := strings.CutPrefix(t.Field, "participant."); ok && slices.Contains(fields, f) {
			t.Value = Redacted
		}
		t.Value = rep.Replace(t.Value)
		t.Threshold = rep.Replace(t.Threshold)
		c.Explain[i] = t
	}
	return &c
}

func redactParticipant(p engine.Participant, fields []string, secrets *[]string) engine.Participant {
	v := reflect.ValueOf(&p).Elem()
	for _, f := range reflect.VisibleFields(v.Type()) {
		if !slices.Contains(fields, f.Tag.Get("expr")) {
			continue
		}
		switch x := v.FieldByIndex(f.Index).Addr().Interface().(type) {
		case *string:
			if *x == "" {
				continue
			}
			*secrets = append(*secrets, *x)
			if f.Name == "UserName" {
				*x = Redacted // the message still needs a name
			} else {
				*x = ""
			}
		case *time.Time:
			*x = time.Time{}
		}
	}
	return p
}
