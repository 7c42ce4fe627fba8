package notifier

import (
	"slices"
	"strings"

	"github.com/qoswatch/qoswatch/engine"
)

// Redacted stands where a redacted value was.
const Redacted = "[redacted]"

// RedactableFields are the participant fields a route may hide.
var RedactableFields = []string{"ip_address", "mac_addr", "harddisk_id", "pc_name", "email", "user_name", "domain", "location"}

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
	for _, f := range fields {
		var v *string
		switch f {
		case "ip_address":
			v = &p.IPAddress
		case "mac_addr":
			v = &p.MacAddr
		case "harddisk_id":
			v = &p.HarddiskID
		case "pc_name":
			v = &p.PCName
		case "email":
			v = &p.Email
		case "user_name":
			v = &p.UserName
		case "domain":
			v = &p.Domain
		case "location":
			v = &p.Location
		default:
			continue
		}
		if *v != "" {
			*secrets = append(*secrets, *v)
			if f == "user_name" {
				*v = Redacted // the message still needs a name
			} else {
				*v = ""
			}
		}
	}
	return p
}
