package notifier

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/qoswatch/qoswatch/engine"
)

// A responder's action (engine.KindAction) is told twice: the alert's (or
// the storm's) message is updated to show the new state, so the channel
// sees at a glance who has it, and a line in its thread says who did what
// and when. An acknowledgement that expired while the alert kept firing
// (a KindRepeat carrying it) updates the message back to plain firing.

// isStorm reports whether an action notification is about a storm: every
// alert of its rule in its source.
func isStorm(n *engine.Notification) bool { return n.Key.Participant == "" }

// actor names who acted: a Slack mention for a Slack user ID, the name
// otherwise.
func actor(a *engine.ActionNote) string {
	if engine.IsSlackUserID(a.User) {
		return "<@" + a.User + ">"
	}
	if a.UserName != "" {
		return escape(a.UserName)
	}
	return escape(strings.TrimPrefix(a.User, "cli:"))
}

// stateLine is the state an action put the alert in, for the top of its
// updated message: "👀 *Acknowledged* by <@U1> at 14:03:00 UTC".
func (r *Renderer) stateLine(n *engine.Notification) string {
	a := n.Action
	if n.Kind == engine.KindRepeat { // an ack that expired
		return fmt.Sprintf("⏰ Acknowledged by %s at %s, but still firing %s later: the ack expired and the alert is told again.",
			actor(a), r.clock(a.At), duration(a.Expires.Sub(a.At)))
	}
	var s string
	switch a.Kind {
	case engine.ActionAck:
		s = fmt.Sprintf("👀 *Acknowledged* by %s at %s", actor(a), r.clock(a.At))
		if !a.Expires.IsZero() {
			s += fmt.Sprintf(" · told again at %s if still firing", r.clock(a.Expires))
		}
	case engine.ActionSilence:
		s = fmt.Sprintf("🔕 *Silenced* by %s at %s, %s", actor(a), r.clock(a.At), r.silenceWhat(n))
	case engine.ActionDismiss:
		s = fmt.Sprintf("✅ *Dismissed* by %s at %s (not an issue)", actor(a), r.clock(a.At))
	}
	if a.Comment != "" {
		s += ": “" + clip(escape(a.Comment), capContext/2) + "”"
	}
	return s
}

// silenceWhat says what a silence action silences, and until when.
func (r *Renderer) silenceWhat(n *engine.Notification) string {
	a, s := n.Action, n.Action.Silence
	kind := string(n.Source.Kind)
	if kind == "" {
		kind = "webinar"
	}
	var what string
	switch a.Scope {
	case engine.ScopeParticipant:
		what = fmt.Sprintf("every alert of %s in this %s", escape(who(n.Participant)), kind)
	case engine.ScopeRuleSource:
		what = fmt.Sprintf("rule *%s* in this %s", escape(n.Rule.Name), kind)
	case engine.ScopeRule1h:
		what = fmt.Sprintf("rule *%s* everywhere", escape(n.Rule.Name))
	case engine.ScopeUntilResolved:
		what = "this alert"
		if isStorm(n) {
			what = fmt.Sprintf("rule *%s* in this %s", escape(n.Rule.Name), kind)
		}
	}
	if s == nil {
		return what
	}
	var until string
	switch {
	case s.EndsWith == nil:
		until = "until " + r.clock(s.EndsAt)
	case s.EndsWith.Rule == "":
		until = fmt.Sprintf("until the %s ends (at the latest %s)", kind, r.day(s.EndsAt))
	case isStorm(n):
		until = fmt.Sprintf("until the storm is over (at the latest %s)", r.day(s.EndsAt))
	default:
		until = fmt.Sprintf("until it resolves (at the latest %s)", r.day(s.EndsAt))
	}
	return fmt.Sprintf("%s %s · silence `%s`", what, until, escape(s.ID))
}

// day is a time with its date, for ends a day or more away.
func (r *Renderer) day(t time.Time) string { return t.In(r.loc).Format("Jan 2 15:04 MST") }

// RenderActionUpdate is what the alert's (or the storm's) message becomes
// after an action: the firing message with the new state at its top (a
// dismissed alert loses its buttons but the link: it is over). For a
// KindRepeat carrying an expired ack, the firing message says so.
func (r *Renderer) RenderActionUpdate(n *engine.Notification, route engine.Route) Message {
	if isStorm(n) {
		return r.stormActionUpdate(n, route)
	}
	key := keyText(n, route.Redact)
	rn := redact(n, route.Redact, r.summarize)
	m := r.firing(rn, key, "", false, false) // no mention: nobody is paged again
	state := r.stateLine(rn)
	blocks := slices.Clone(m.Blocks)
	tag := "[" + strings.ToUpper(actionWord(n)) + "] "
	if n.Kind == engine.KindAction && n.Action.Kind == engine.ActionDismiss {
		title := fmt.Sprintf("✅ Dismissed: %s — %s · %s", escape(n.Rule.Name), escape(who(rn.Participant)), escape(sourceName(n.Source)))
		blocks[0] = header(title)
		for i, b := range blocks {
			if ab, ok := b.(*slack.ActionBlock); ok && ab.BlockID != "" {
				blocks[i] = linkBlock(r.link(n.Source))
			}
		}
	}
	// The state goes right under the title, where the eye lands.
	blocks = slices.Insert(blocks, 1, slack.Block(section(clip(state, capContext), capContext)))
	return Message{Blocks: blocks, Text: clip(tag+unmark(state)+"\n"+m.Text, maxPreview)}
}

// actionWord is the state an action notification tells, for fallbacks.
func actionWord(n *engine.Notification) string {
	if n.Kind == engine.KindRepeat {
		return "ack expired"
	}
	switch n.Action.Kind {
	case engine.ActionAck:
		return "acknowledged"
	case engine.ActionSilence:
		return "silenced"
	case engine.ActionDismiss:
		return "dismissed"
	}
	return string(n.Action.Kind)
}

// unmark drops the bold marks of a mrkdwn line, for a plain fallback.
func unmark(s string) string { return strings.ReplaceAll(s, "*", "") }

// stormActionUpdate is a storm's message after an action on the whole
// storm: what it is, its new state, and (unless dismissed) its buttons.
// Its members are named in the reply the action posts in its thread.
func (r *Renderer) stormActionUpdate(n *engine.Notification, route engine.Route) Message {
	rn := redact(n, route.Redact, nil)
	a := n.Action
	src, rule := escape(sourceName(n.Source)), escape(n.Rule.Name)
	emoji := map[engine.ActionKind]string{engine.ActionAck: "👀", engine.ActionSilence: "🔕", engine.ActionDismiss: "✅"}[a.Kind]
	if n.Kind == engine.KindRepeat {
		emoji = "⏰"
	}
	title := fmt.Sprintf("%s %s: %s — %s · %s", emoji, upperFirst(actionWord(n)), rule, plural(a.Count, "1 participant", "participants"), src)
	state := r.stateLine(rn)
	body := state + "\n" + fmt.Sprintf("%s of *%s*, firing since %s; the thread names each one.",
		plural(a.Count, "1 participant", "participants"), rule, r.clock(n.Since))
	blocks := []slack.Block{header(title), section(clip(body, capLead), capLead), r.sourceBlock(n.Source),
		contextBlock(fmt.Sprintf("severity *%s*%s", escape(string(n.Rule.Severity)), labelText(n.Rule.Labels)))}
	if r.actions {
		if n.Kind == engine.KindAction && a.Kind == engine.ActionDismiss {
			blocks = append(blocks, linkBlock(r.link(n.Source)))
		} else {
			blocks = append(blocks, ActionsBlock(n.Key, n.Source, r.link(n.Source)))
		}
	}
	text := fmt.Sprintf("[%s] %s: storm of %d participants · %s \"%s\" (%s) · %s", strings.ToUpper(actionWord(n)), rule, a.Count,
		escape(string(n.Source.Kind)), src, escape(n.Source.ID), unmark(state))
	return Message{Blocks: blocks, Text: clip(text, maxPreview)}
}

// RenderActionReply is the line an action posts in the thread of the
// alert's (or storm's) message: who did what, when, until when. On a
// storm every participant it changed is named, continued in Message.More
// when the list is long.
func (r *Renderer) RenderActionReply(n *engine.Notification, route engine.Route) Message {
	rn := redact(n, route.Redact, nil)
	a := n.Action
	line := r.replyLine(rn)
	tag := "[" + strings.ToUpper(actionWord(n)) + "] " + escape(n.Rule.Name) + ": "
	if !isStorm(n) || len(a.Members) == 0 {
		return Message{Blocks: []slack.Block{section(clip(line, maxSection), maxSection)}, Text: clip(tag+unmark(line), maxPreview)}
	}
	hide := slices.Contains(route.Redact, "user_name")
	var lines []string
	for _, name := range a.Members {
		if hide {
			name = Redacted
		}
		lines = append(lines, "• "+clip(escape(name), capLine))
	}
	pages := paginate(lines, msgBudget-capTitle-chars(line), maxBlocks-2, contRoom, contBlocks)
	head := clip(line, capTitle*4)
	m := listMessage(head, pages[0], tag)
	for i, p := range pages[1:] {
		m.More = append(m.More, listMessage(continuation("*"+escape(n.Rule.Name)+"*", i+2, len(pages)), p, tag))
	}
	return m
}

// replyLine is an action's thread line.
func (r *Renderer) replyLine(n *engine.Notification) string {
	a := n.Action
	if n.Kind == engine.KindRepeat {
		return fmt.Sprintf("⏰ Still firing %s after the ack by %s (at %s): told again; repeats resume.",
			duration(a.Expires.Sub(a.At)), actor(a), r.clock(a.At))
	}
	what := "this alert"
	if isStorm(n) {
		what = plural(a.Count, "1 alert", "alerts") + " of this storm"
	}
	var s string
	switch a.Kind {
	case engine.ActionAck:
		s = fmt.Sprintf("👀 %s acknowledged %s at %s: no repeats", actor(a), what, r.clock(a.At))
		if !a.Expires.IsZero() {
			s += fmt.Sprintf(" until %s; still firing then, it is told again", r.clock(a.Expires))
		} else {
			s += " until it resolves"
		}
	case engine.ActionSilence:
		s = fmt.Sprintf("🔕 %s silenced %s at %s", actor(a), r.silenceWhat(n), r.clock(a.At))
	case engine.ActionDismiss:
		s = fmt.Sprintf("✅ %s dismissed %s at %s as not an issue: resolved, and counted as a false positive of rule *%s*",
			actor(a), what, r.clock(a.At), escape(n.Rule.Name))
	}
	if a.Comment != "" {
		s += ": “" + clip(escape(a.Comment), capContext) + "”"
	}
	return s + "."
}
