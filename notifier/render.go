package notifier

import (
	"fmt"
	"maps"
	"slices"
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
	// WorstN is how many participants a grouped message names (5).
	WorstN int
}

// Renderer turns notifications into Block Kit messages with a plain-text
// fallback. It is pure: the same notification gives the same message.
type Renderer struct {
	loc    *time.Location
	link   func(engine.Source) string
	worstN int
}

// NewRenderer returns a renderer with o's settings and defaults.
func NewRenderer(o RenderOptions) *Renderer {
	r := &Renderer{loc: o.Location, link: o.DashboardURL, worstN: o.WorstN}
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

// Slack's limits for the pieces of a message.
const (
	maxHeader  = 150
	maxSection = 3000
	maxField   = 2000
	maxText    = 3900 // chat.postMessage truncates text beyond 40,000; keep previews short
)

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
	return r.render(redact(n, route.Redact), route, standalone)
}

// RenderReply renders a repeat or a resolve as a reply in the alert's
// thread: the participant and source are in the message just above, so
// the reply tells only what changed.
func (r *Renderer) RenderReply(n *engine.Notification, route engine.Route) Message {
	return r.render(redact(n, route.Redact), route, reply)
}

// RenderResolvedUpdate is what the alert's first message becomes when it
// resolves, so the channel shows at a glance what is over.
func (r *Renderer) RenderResolvedUpdate(n *engine.Notification, route engine.Route) Message {
	return r.resolved(redact(n, route.Redact), update)
}

type mode int

const (
	standalone mode = iota
	reply
	update
)

func (r *Renderer) render(n *engine.Notification, route engine.Route, m mode) Message {
	switch n.Kind {
	case engine.KindResolved:
		return r.resolved(n, m)
	case engine.KindRepeat:
		return r.firing(n, route.Mention, true, m)
	default:
		return r.firing(n, route.Mention, false, m)
	}
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

func (r *Renderer) firing(n *engine.Notification, mention string, repeat bool, m mode) Message {
	name, src := who(n.Participant), sourceName(n.Source)
	var title, lead string
	if repeat {
		title = fmt.Sprintf("🔁 Still firing (%s): %s — %s · %s", duration(n.At.Sub(n.Since)), n.Rule.Name, name, src)
		lead = "FIRING (repeat)"
	} else {
		title = fmt.Sprintf("%s Firing: %s — %s · %s", severityEmoji(n.Rule.Severity), n.Rule.Name, name, src)
		lead = "FIRING"
	}
	blocks := []slack.Block{header(title), r.summaryBlock(n, mention)}
	valuesTitle := "*What fired*"
	if n.Rule.For > 0 {
		valuesTitle += fmt.Sprintf(" (held for %s)", duration(n.Rule.For))
	}
	if repeat {
		valuesTitle = "*Now*"
	}
	blocks = append(blocks, mrkdwn(valuesTitle+"\n"+termLines(n.Explain)))
	if m != reply {
		blocks = append(blocks, r.participantBlock(n), r.sourceBlock(n.Source))
	}
	blocks = append(blocks,
		contextBlock(fmt.Sprintf("🕒 Firing since %s · severity *%s*%s · alert `%s`",
			r.since(n), n.Rule.Severity, labelText(n.Rule.Labels), escape(n.Key.String()))),
	)
	text := r.fallback(n, mention, lead, []string{"firing since " + r.since(n)})
	return Message{Blocks: blocks, Text: text}
}

func (r *Renderer) resolved(n *engine.Notification, m mode) Message {
	name, src := who(n.Participant), sourceName(n.Source)
	lasted := duration(n.Duration())
	title := fmt.Sprintf("✅ Resolved after %s: %s — %s · %s", lasted, n.Rule.Name, name, src)
	why := reasonText(n.Reason, n.Source.Kind)
	body := fmt.Sprintf("*Over after %s* — %s.\nFired %s, resolved %s.", lasted, why, r.clock(n.Since), r.clock(n.At))
	if n.Summary != "" {
		body = "*" + escape(n.Summary) + "*\n" + body
	}
	blocks := []slack.Block{
		header(title),
		mrkdwn(body),
		mrkdwn("*Last values*\n" + termLines(n.Explain)),
	}
	if m != reply {
		blocks = append(blocks, r.participantBlock(n), r.sourceBlock(n.Source))
	}
	foot := fmt.Sprintf("severity *%s*%s · alert `%s`", n.Rule.Severity, labelText(n.Rule.Labels), escape(n.Key.String()))
	if m == update {
		foot = "This alert is over; its thread has the history. · " + foot
	}
	blocks = append(blocks, contextBlock(foot))
	text := r.fallback(n, "", "RESOLVED", []string{fmt.Sprintf("lasted %s (%s–%s), %s", lasted, r.clock(n.Since), r.clock(n.At), why)})
	return Message{Blocks: blocks, Text: text}
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
	case "":
		return "resolved"
	}
	return string(r)
}

func (r *Renderer) summaryBlock(n *engine.Notification, mention string) slack.Block {
	var b strings.Builder
	if mention != "" {
		b.WriteString(mention + " ") // a mention is Slack markup, so never escaped
	}
	if n.Summary != "" {
		b.WriteString("*" + escape(n.Summary) + "*")
	} else {
		fmt.Fprintf(&b, "*%s* matches rule *%s*", escape(who(n.Participant)), escape(n.Rule.Name))
	}
	if n.Rule.Description != "" {
		b.WriteString("\n_" + escape(n.Rule.Description) + "_")
	}
	return mrkdwn(b.String())
}

// termLines renders the explained comparisons, holding ones first in the
// expression's order: "• Audio sent avg loss *3.5 %* (rule: > 2 %)".
func termLines(terms []engine.Term) string {
	if len(terms) == 0 {
		return "_no values recorded_"
	}
	var lines []string
	for _, t := range terms {
		l := fmt.Sprintf("• %s *%s* (rule: %s %s) `%s`", label(t.Field), escape(withUnit(t.Value, t.Field)), escape(t.Op), escape(withUnit(t.Threshold, t.Field)), escape(t.Field))
		if !t.Holds {
			l += " — not met"
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

func termPlain(terms []engine.Term) string {
	var parts []string
	for _, t := range terms {
		if t.Holds {
			parts = append(parts, fmt.Sprintf("%s %s (%s %s)", label(t.Field), withUnit(t.Value, t.Field), t.Op, withUnit(t.Threshold, t.Field)))
		}
	}
	return strings.Join(parts, "; ")
}

func (r *Renderer) participantBlock(n *engine.Notification) slack.Block {
	p := n.Participant
	var fields []*slack.TextBlockObject
	add := func(name, value string) {
		if value != "" {
			fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType, truncate("*"+name+"*\n"+escape(value), maxField), false, false))
		}
	}
	nm := who(p)
	if p.Role != "" {
		nm += " (" + p.Role + ")"
	}
	add("Participant", nm)
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
	return slack.NewSectionBlock(nil, fields, nil)
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
	line := fmt.Sprintf("*%s%s* <%s|%s>", kind, live, r.link(s), escape(sourceName(s)))
	line += " · ID `" + escape(s.ID) + "`"
	if s.Host != "" {
		line += " · host " + escape(s.Host)
	}
	return mrkdwn(line)
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
	return strings.Join(parts, " · ")
}

// fallback is the plain text Slack shows in notifications and to screen
// readers: the same facts as the blocks, without layout.
func (r *Renderer) fallback(n *engine.Notification, mention, lead string, when []string) string {
	var b strings.Builder
	if mention != "" {
		b.WriteString(mention + " ")
	}
	fmt.Fprintf(&b, "[%s] %s %s: %s · %s %q (%s)\n", lead, n.Rule.Severity, n.Rule.Name, who(n.Participant), n.Source.Kind, sourceName(n.Source), n.Source.ID)
	if n.Summary != "" {
		b.WriteString(n.Summary + "\n")
	}
	if v := termPlain(n.Explain); v != "" {
		b.WriteString(v + "\n")
	}
	b.WriteString(participantLine(n.Participant) + "\n")
	b.WriteString(strings.Join(when, "; ") + " · " + r.link(n.Source))
	return truncate(b.String(), maxText)
}

func header(s string) slack.Block {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(s, maxHeader), true, false))
}

func mrkdwn(s string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(s, maxSection), false, false), nil, nil)
}

func contextBlock(s string) slack.Block {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, truncate(s, maxSection), false, false))
}

// truncate cuts s to max runes, marking the cut.
func truncate(s string, max int) string {
	if len([]rune(s)) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}
