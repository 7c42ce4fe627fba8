package notifier

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/slack-go/slack"
)

// RenderOptions shape the messages.
type RenderOptions struct {
	// Location for the times in messages; UTC when nil.
	Location *time.Location
	// DashboardBase is the Zoom web portal (DefaultDashboardBase).
	DashboardBase string
	// DashboardURL links a source to its Zoom Dashboard page; nil means
	// DefaultDashboardURL(DashboardBase).
	DashboardURL func(engine.Source) string
	// WorstN is how many participants a storm message names at the top,
	// worst first (5); the others follow in continuation messages.
	WorstN int
	// Summarize writes a notification's summary again from its rule's
	// template (the daemon passes the current rules'). A route that
	// redacts fields gets its summary written from the redacted
	// notification, so the summary says [redacted] where the template
	// printed a hidden field. Nil: such a route's messages carry no
	// summary (the generated "X matches rule Y" line stands in).
	Summarize func(*engine.Notification) (string, error)
	// Actions puts buttons on every firing message (per participant and
	// storm): Acknowledge, Silence ▾, Not an issue, the Zoom Dashboard
	// (actions.go). Only where someone can click them: the bot token's
	// messages (and the console demo's); a webhook's have none.
	Actions bool
}

// Renderer turns notifications into Block Kit messages with a plain-text
// fallback, within Slack's limits (blocks.go). It is pure: the same
// notification gives the same message.
type Renderer struct {
	loc       *time.Location
	link      func(engine.Source) string
	worstN    int
	summarize func(*engine.Notification) (string, error)
	actions   bool
}

// NewRenderer returns a renderer with o's settings and defaults.
func NewRenderer(o RenderOptions) *Renderer {
	r := &Renderer{loc: o.Location, link: o.DashboardURL, worstN: o.WorstN, summarize: o.Summarize, actions: o.Actions}
	if r.loc == nil {
		r.loc = time.UTC
	}
	if r.link == nil {
		base := o.DashboardBase
		if base == "" {
			base = DefaultDashboardBase
		}
		r.link = DefaultDashboardURL(base)
	}
	if r.worstN <= 0 {
		r.worstN = 5
	}
	return r
}

// maxPreview bounds a single alert's fallback text: it is the preview in
// a notification, far below Slack's 40,000.
const maxPreview = 4000

func severityEmoji(s engine.Severity) string {
	switch s {
	case engine.SeverityCritical:
		return "🔴"
	case engine.SeverityInfo:
		return "🔵"
	default:
		return "🟠"
	}
}

// Render renders one notification for its route as a message that stands
// on its own: a new alert, or a repeat or resolve with no thread to go to
// (webhook mode). The route's redactions apply to the blocks and the text.
func (r *Renderer) Render(n *engine.Notification, route engine.Route) Message {
	key := keyText(n, route.Redact)
	n = redact(n, route.Redact, r.summarize)
	switch n.Kind {
	case engine.KindResolved:
		return r.resolved(n, key, false)
	case engine.KindRepeat:
		return r.firing(n, key, route.Mention, true, false)
	case engine.KindAction:
		if isStorm(n) {
			return r.RenderActionReply(n, route)
		}
		return r.RenderActionUpdate(n, route)
	}
	return r.firing(n, key, route.Mention, false, false)
}

// RenderReply renders a repeat or a resolve as a reply in the alert's
// thread: the participant and source are in the message just above, so
// the reply tells only what changed; a resolve is one line.
func (r *Renderer) RenderReply(n *engine.Notification, route engine.Route) Message {
	key := keyText(n, route.Redact)
	n = redact(n, route.Redact, r.summarize)
	switch n.Kind {
	case engine.KindResolved:
		return r.resolvedLine(n)
	case engine.KindRepeat:
		return r.firing(n, key, route.Mention, true, true)
	case engine.KindAction:
		return r.RenderActionReply(n, route)
	}
	return r.firing(n, key, route.Mention, false, true)
}

// RenderResolvedUpdate is what the alert's first message becomes when it
// resolves, so the channel shows at a glance what is over, and what was
// wrong: the update replaces the firing message.
func (r *Renderer) RenderResolvedUpdate(n *engine.Notification, route engine.Route) Message {
	key := keyText(n, route.Redact)
	return r.resolved(redact(n, route.Redact, r.summarize), key, true)
}

func who(p engine.Participant) string {
	switch {
	case p.UserName != "":
		return p.UserName
	case p.Email != "":
		return p.Email
	case p.UserID != "":
		return "participant " + p.UserID
	}
	return "unknown participant"
}

// subject is whom a notification is about: its participant, or for a
// webinar-level rule (scope: source) the whole webinar or meeting.
func subject(n *engine.Notification) string {
	if isSourceAlert(n) {
		kind := string(n.Source.Kind)
		if kind == "" {
			kind = "webinar"
		}
		return "the whole " + kind
	}
	return who(n.Participant)
}

// isSourceAlert reports whether n is a webinar-level rule's (its alert
// key names no participant).
func isSourceAlert(n *engine.Notification) bool {
	return n.Key.Participant == engine.SourceParticipant && n.Participant.Key() == ""
}

// worstLine is worstBlock in one line of plain text.
func worstLine(n *engine.Notification) string {
	var parts []string
	for _, w := range n.Worst {
		name := w.Name
		if name == "" {
			name = "participant " + w.Participant
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", name, strconv.FormatFloat(w.Value, 'f', -1, 64)))
	}
	if len(parts) == 0 {
		return "Worst participants: none stands out"
	}
	return clip(escape("Worst participants: "+strings.Join(parts, ", ")), capLine)
}

// worstBlock names a webinar-level alert's worst participants, worst
// first, with the value that ranks them.
func worstBlock(n *engine.Notification) slack.Block {
	if len(n.Worst) == 0 {
		return section("*Worst participants*\n_none stands out_", capValues)
	}
	lines := []string{"*Worst participants*"}
	for _, w := range n.Worst {
		name := w.Name
		if name == "" {
			name = "participant " + w.Participant
		}
		lines = append(lines, fmt.Sprintf("• %s — %s = %s", escape(name), escape(label(w.Field)), escape(strconv.FormatFloat(w.Value, 'f', -1, 64))))
	}
	return section(strings.Join(lines, "\n"), capValues)
}

func sourceName(s engine.Source) string {
	if s.Topic != "" {
		return s.Topic
	}
	return string(s.Kind) + " " + s.ID
}

func (r *Renderer) clock(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.In(r.loc).Format("15:04:05 MST")
}

// firing renders a firing or a repeat; a reply leaves out the
// participant and source, which the thread's first message shows.
func (r *Renderer) firing(n *engine.Notification, key, mention string, repeat, reply bool) Message {
	name, src, rule := escape(subject(n)), escape(sourceName(n.Source)), escape(n.Rule.Name)
	var title, lead string
	if repeat {
		title = fmt.Sprintf("🔁 Still firing (%s): %s — %s · %s", duration(n.At.Sub(n.Since)), rule, name, src)
		lead = "FIRING (repeat)"
	} else {
		title = fmt.Sprintf("%s Firing: %s — %s · %s", severityEmoji(n.Rule.Severity), rule, name, src)
		lead = "FIRING"
	}
	blocks := []slack.Block{header(title), section(r.lead(n, mention), capLead)}
	if repeat && n.Action != nil { // told again because the ack expired
		title = fmt.Sprintf("⏰ Still firing %s after the ack: %s — %s · %s", duration(n.Action.Expires.Sub(n.Action.At)), rule, name, src)
		blocks = []slack.Block{header(title), section(clip(r.stateLine(n), capContext), capContext), blocks[1]}
		lead = "FIRING (ack expired)"
	}
	valuesTitle := "*What fired*"
	if n.Rule.For > 0 {
		valuesTitle += fmt.Sprintf(" (held for %s)", duration(n.Rule.For))
	}
	if repeat {
		valuesTitle = "*Now*"
	}
	blocks = append(blocks, section(valuesTitle+"\n"+termLines(n.Explain), capValues))
	if f := folded(n, false); f != "" {
		blocks = append(blocks, contextBlock(f))
	}
	if !reply {
		blocks = append(blocks, r.participantBlock(n), r.sourceBlock(n.Source))
	}
	if f := zoomFlags(n.Sample); f != "" {
		blocks = append(blocks, contextBlock(f))
	}
	blocks = append(blocks, contextBlock(fmt.Sprintf("🕒 Firing since %s · severity *%s*%s · alert `%s`",
		r.since(n), escape(string(n.Rule.Severity)), labelText(n.Rule.Labels), escape(key))))
	if r.actions {
		blocks = append(blocks, r.actionsFor(n.Key, key, n.Source))
	}
	var body []string
	if n.Summary != "" {
		body = append(body, escape(n.Summary))
	}
	if f := folded(n, false); f != "" {
		body = append(body, f)
	}
	if v := termPlain(n.Explain); v != "" {
		body = append(body, v)
	}
	if f := zoomFlags(n.Sample); f != "" {
		body = append(body, f)
	}
	return Message{Blocks: blocks, Text: r.fallback(n, mention, lead, body, "firing since "+r.since(n))}
}

// actionsFor is the buttons of alert k, whose key as the route may show
// it is shown. A key the route redacts (a guest known only by the name
// it hides) cannot travel in the buttons: that message gets the link
// alone.
func (r *Renderer) actionsFor(k engine.AlertKey, shown string, src engine.Source) slack.Block {
	if shown != k.String() {
		return linkBlock(r.link(src))
	}
	return ActionsBlock(k, src, r.link(src))
}

// folded says how many participants' alerts an inhibition folded into
// this one (engine Notification.Folded): "🔇 200 attendees receive it
// degraded"; "" when none.
func folded(n *engine.Notification, past bool) string {
	if n.Folded <= 0 {
		return ""
	}
	who := "attendees"
	if n.Source.Kind == engine.Meeting {
		who = "participants"
	}
	if n.Folded == 1 {
		who = strings.TrimSuffix(who, "s")
	}
	verb, sofar := "receive", ""
	switch {
	case past:
		verb = "received"
	case n.Folded == 1:
		verb = "receives"
	}
	if n.Kind == engine.KindFiring {
		sofar = " so far" // the presenter fires on the minute's first pages; the message is updated when it resolves
	}
	return fmt.Sprintf("🔇 %d %s %s it degraded%s: their alerts are folded into this one, not posted", n.Folded, who, verb, sofar)
}

// zoomFlags is what Zoom's own alert events said of the source around the
// sample's time ("" when nothing): Zoom's view beside the rule's.
func zoomFlags(s engine.Sample) string {
	if len(s.ZoomAlert.Issues) == 0 {
		return ""
	}
	return clip("⚠️ Zoom flagged: "+escape(strings.Join(s.ZoomAlert.Issues, ", ")), capField)
}

// resolved renders a resolve as a message of its own: standalone (no
// thread to go to) or the update of the alert's first message. It tells
// what was wrong and how it ended, in the past tense: the rule's summary
// is left out, for it was written for a firing (and, on the latest
// sample, would contradict itself: "frozen (21 fps)").
func (r *Renderer) resolved(n *engine.Notification, key string, update bool) Message {
	name, src, rule := escape(subject(n)), escape(sourceName(n.Source)), escape(n.Rule.Name)
	lasted := duration(n.Duration())
	title := fmt.Sprintf("✅ Resolved after %s: %s — %s · %s", lasted, rule, name, src)
	why := reasonText(n.Reason, n.Source.Kind)
	body := fmt.Sprintf("*Over after %s* — %s.\nFired %s, resolved %s.", lasted, why, r.clock(n.Since), r.clock(n.At))
	if n.Rule.Description != "" {
		body += "\n_" + escape(n.Rule.Description) + "_"
	}
	blocks := []slack.Block{header(title), section(body, capLead), section(r.changeLines(n), capValues)}
	if f := folded(n, true); f != "" {
		blocks = append(blocks, contextBlock(f))
	}
	blocks = append(blocks, r.participantBlock(n), r.sourceBlock(n.Source))
	foot := fmt.Sprintf("severity *%s*%s · alert `%s`", escape(string(n.Rule.Severity)), labelText(n.Rule.Labels), escape(key))
	if update {
		foot = "This alert is over; its thread has the history. · " + foot
	}
	blocks = append(blocks, contextBlock(foot))
	var lines []string
	if c := changePlain(n); c != "" {
		lines = append(lines, c)
	}
	if f := folded(n, true); f != "" {
		lines = append(lines, f)
	}
	return Message{Blocks: blocks, Text: r.fallback(n, "", "RESOLVED", lines, fmt.Sprintf("lasted %s (%s–%s), %s", lasted, r.clock(n.Since), r.clock(n.At), why))}
}

// resolvedLine is a resolve as a reply in the alert's thread: one line,
// for the first message above it was updated with the whole story.
func (r *Renderer) resolvedLine(n *engine.Notification) Message {
	line := func(bold string) string {
		l := fmt.Sprintf("✅ %sResolved%s: %s, after %s (%s–%s): %s.", bold, bold, escape(subject(n)),
			duration(n.Duration()), r.clock(n.Since), r.clock(n.At), reasonText(n.Reason, n.Source.Kind))
		if c := changePlain(n); c != "" {
			l += " " + c + "."
		}
		return l
	}
	text := fmt.Sprintf("[RESOLVED] %s: %s", escape(n.Rule.Name), line(""))
	return Message{Blocks: []slack.Block{section(line("*"), maxSection)}, Text: clip(text, maxPreview)}
}

// changeLines tells what was wrong and how it ended, a line per field:
// "• Video received frame rate: was *0 fps*, now *21 fps* (rule: < 10 fps)".
func (r *Renderer) changeLines(n *engine.Notification) string {
	cs := changes(n)
	if len(cs) == 0 {
		return "_no values recorded_"
	}
	title := "*What was wrong*"
	if n.Reason == engine.ReasonRecovered {
		title = "*What was wrong, and now*"
	}
	lines := []string{title}
	for _, c := range cs {
		lines = append(lines, fmt.Sprintf("• %s: %s (rule: %s) `%s`", escape(label(c.field)), c.words(n.Reason, "*"), c.thresholds(), escape(c.field)))
	}
	return strings.Join(lines, "\n")
}

// changePlain is changeLines on one line, for fallback text and replies:
// "Audio sent avg loss was 3.5 %, now 0.4 %; Latency was 180 ms, now 95 ms".
func changePlain(n *engine.Notification) string {
	var parts []string
	for _, c := range changes(n) {
		parts = append(parts, escape(label(c.field))+" "+c.words(n.Reason, ""))
	}
	return strings.Join(parts, "; ")
}

// since is when the alert started firing, with how long ago at this event.
func (r *Renderer) since(n *engine.Notification) string {
	if d := n.At.Sub(n.Since); d >= time.Minute {
		return fmt.Sprintf("%s (%s)", r.clock(n.Since), duration(d))
	}
	return r.clock(n.Since)
}

func reasonText(r engine.Reason, kind engine.SourceKind) string {
	if kind == "" {
		kind = "webinar"
	}
	switch r {
	case engine.ReasonRecovered:
		return "recovered: quality is back within the rule"
	case engine.ReasonLeft:
		return "the participant left"
	case engine.ReasonStale:
		return "no QoS data from Zoom for the participant any more (stale)"
	case engine.ReasonEnded:
		return "the " + string(kind) + " ended"
	case engine.ReasonRuleRemoved:
		return "the rule was removed from the rules file"
	case engine.ReasonRuleDisabled:
		return "the rule was disabled: evaluating it failed (see the log; a rules reload enables it again)"
	case "":
		return "resolved"
	}
	return escape(string(r))
}

// lead is the message's first section: the route's mention (Slack markup,
// so never escaped), the summary or a generated line, the description.
func (r *Renderer) lead(n *engine.Notification, mention string) string {
	var b strings.Builder
	if mention != "" {
		b.WriteString(mention + " ")
	}
	if n.Summary != "" {
		b.WriteString("*" + clip(escape(n.Summary), capLead/2) + "*")
	} else {
		fmt.Fprintf(&b, "*%s* matches rule *%s*", escape(subject(n)), escape(n.Rule.Name))
	}
	if n.Rule.Description != "" {
		b.WriteString("\n_" + clip(escape(n.Rule.Description), capLead/3) + "_")
	}
	return b.String()
}

func (r *Renderer) participantBlock(n *engine.Notification) slack.Block {
	if isSourceAlert(n) {
		return worstBlock(n)
	}
	p := n.Participant
	nm := who(p)
	if p.Role != "" {
		nm += " (" + p.Role + ")"
	}
	fields := []*slack.TextBlockObject{fieldText("Participant", escape(nm), capName)}
	add := func(name, value string) {
		if value != "" {
			fields = append(fields, fieldText(name, escape(value), capField))
		}
	}
	add("Email", p.Email)
	add("Device", p.Device)
	add("Client", strings.TrimSpace(p.Client+" "+p.Version))
	add("Location", p.Location)
	add("Network", p.NetworkType)
	add("Data centre", p.DataCenter)
	add("IP address", p.IPAddress)
	if !p.JoinTime.IsZero() {
		add("Joined", r.clock(p.JoinTime))
		if !n.At.IsZero() {
			add("In session", duration(n.At.Sub(p.JoinTime)))
		}
	}
	return fieldsBlock(fields) // ten at most, as Slack allows
}

func (r *Renderer) sourceBlock(s engine.Source) slack.Block {
	kind := upperFirst(string(s.Kind))
	if kind == "" {
		kind = "Source"
	}
	live := ""
	if s.Live {
		live = " (live)"
	}
	line := fmt.Sprintf("*%s%s* <%s|%s>", escape(kind), live, r.link(s), clip(escape(sourceName(s)), 600))
	line += " · ID `" + clip(escape(s.ID), 100) + "`"
	if s.Host != "" {
		line += " · host " + clip(escape(s.Host), 300)
	}
	return section(line, capSource)
}

func labelText(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, "`"+escape(k+"="+l[k])+"`")
	}
	return " · labels " + strings.Join(parts, " ")
}

// participantLine is the participant in one line of plain text (escaped,
// for Slack parses the fallback text too).
func participantLine(p engine.Participant) string {
	parts := []string{who(p)}
	for _, v := range []string{p.Email, p.Device, strings.TrimSpace(p.Client + " " + p.Version), p.Location, p.NetworkType} {
		if v != "" {
			parts = append(parts, v)
		}
	}
	if p.DataCenter != "" {
		parts = append(parts, "DC "+p.DataCenter)
	}
	if p.IPAddress != "" {
		parts = append(parts, "IP "+p.IPAddress)
	}
	return clip(escape(strings.Join(parts, " · ")), capLine)
}

// fallback is the plain text Slack shows in notifications and to screen
// readers: the same facts as the blocks, without layout. Slack parses it
// like mrkdwn, so every value in it is escaped; only the route's mention
// is markup.
func (r *Renderer) fallback(n *engine.Notification, mention, lead string, body []string, when string) string {
	var b strings.Builder
	if mention != "" {
		b.WriteString(mention + " ")
	}
	fmt.Fprintf(&b, "[%s] %s %s: %s · %s \"%s\" (%s)\n", lead, escape(string(n.Rule.Severity)), escape(n.Rule.Name),
		escape(subject(n)), escape(string(n.Source.Kind)), clip(escape(sourceName(n.Source)), 600), clip(escape(n.Source.ID), 100))
	for _, l := range body {
		b.WriteString(clip(l, capLead) + "\n")
	}
	if isSourceAlert(n) {
		b.WriteString(worstLine(n) + "\n")
	} else {
		b.WriteString(participantLine(n.Participant) + "\n")
	}
	b.WriteString(when + " · " + r.link(n.Source))
	return clip(b.String(), maxPreview)
}
