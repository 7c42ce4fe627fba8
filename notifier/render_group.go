package notifier

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/slack-go/slack"
)

// told is the comparisons that made the alert fire: for a resolve, as
// its firing told them (Fired), when it carries them.
func told(n *engine.Notification) []engine.Term {
	if len(n.Fired) > 0 {
		return n.Fired
	}
	return n.Explain
}

// worstTerm is the comparison a storm is ranked by: the first one that
// held, with a number, in the first notification.
func worstTerm(ns []*engine.Notification) (field, op string) {
	for _, n := range ns {
		for _, t := range told(n) {
			if _, ok := termValue(t); ok && t.Holds {
				return t.Field, t.Op
			}
		}
	}
	return "", ""
}

func valueOf(n *engine.Notification, field string) (engine.Term, float64, bool) {
	for _, t := range told(n) {
		if t.Field == field {
			v, ok := termValue(t)
			return t, v, ok
		}
	}
	return engine.Term{}, 0, false
}

// rankWorst orders notifications worst first by field; those without the
// value go last, in outbox order.
func rankWorst(ns []*engine.Notification, field, op string) []*engine.Notification {
	out := slices.Clone(ns)
	slices.SortStableFunc(out, func(a, b *engine.Notification) int {
		_, va, oka := valueOf(a, field)
		_, vb, okb := valueOf(b, field)
		switch {
		case oka && !okb:
			return -1
		case !oka && okb:
			return 1
		case !oka && !okb:
			return 0
		case lowerIsWorse(op):
			return cmp.Compare(va, vb)
		}
		return cmp.Compare(vb, va)
	})
	return out
}

// breakdown counts notifications by one attribute: "Paris (FR) 10 · London 8 · other 5".
func breakdown(ns []*engine.Notification, attr func(engine.Participant) string) string {
	counts := map[string]int{}
	for _, n := range ns {
		v := attr(n.Participant)
		if v == "" {
			v = "unknown"
		}
		counts[v]++
	}
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range counts {
		all = append(all, kv{k, n})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.k, b.k)
	})
	var lines []string
	other := 0
	for i, e := range all {
		if i < 4 {
			lines = append(lines, fmt.Sprintf("%s: %d", clip(escape(e.k), 100), e.n))
		} else {
			other += e.n
		}
	}
	if other > 0 {
		lines = append(lines, fmt.Sprintf("other: %d", other))
	}
	return strings.Join(lines, "\n")
}

// oneLine is a participant in a list, escaped:
// "Alice Example — 9.1 % · Paris (FR) · wifi · Zoom 5.17".
func oneLine(n *engine.Notification, field string) string {
	parts := []string{escape(who(n.Participant))}
	if t, _, ok := valueOf(n, field); ok {
		parts[0] += " — " + escape(withUnit(t.Value, field))
	}
	for _, v := range []string{n.Participant.Location, n.Participant.NetworkType, strings.TrimSpace(n.Participant.Client + " " + n.Participant.Version)} {
		if v != "" {
			parts = append(parts, clip(escape(v), 200))
		}
	}
	return strings.Join(parts, " · ")
}

// Room for a list in a continuation message: the budget less its title,
// and every block but the title's.
const (
	contRoom   = msgBudget - capTitle
	contBlocks = maxBlocks - 1
	// maxInline is how many members beyond the worst a storm message
	// names itself, when they fit; a longer list continues apart.
	maxInline = 20
)

// stormCause is the storm's hint, "🔎 *Likely shared cause: location
// Lagos (NG)* — 38 of 40 affected, 0% of the other 460.", as the newest of
// its firings saw it (the engine counted the most affected then); "" when
// the engine found no clear cause, or the route hides the attribute it
// names (redaction is by field: a hidden location is not told here either).
func stormCause(ns []*engine.Notification, redacted []string) string {
	latest := ns[0]
	for _, n := range ns[1:] {
		if !n.Created.Before(latest.Created) {
			latest = n
		}
	}
	c := latest.Cause
	if c == nil {
		return ""
	}
	for _, f := range redacted {
		if f == c.Attribute || (c.Attribute == "client_version" && (f == "client" || f == "version")) {
			return ""
		}
	}
	return fmt.Sprintf("🔎 *Likely shared cause: %s %s* — %s.", c.Words(), clip(escape(c.Value), 100), c.Counts())
}

// RenderGroup renders a storm: many firing alerts of one rule in one
// source, as one message. ns are the group's firing notifications.
// earlier is how many of the storm's alerts were posted one by one just
// before it was recognised. The message names the worst WorstN; every
// other member is named in continuation messages (Message.More), so a
// storm of any size stays within Slack's limits and names everyone.
func (r *Renderer) RenderGroup(ns []*engine.Notification, earlier int, route engine.Route) Message {
	rs := make([]*engine.Notification, len(ns))
	for i, n := range ns {
		rs[i] = redact(n, route.Redact, nil)
	}
	first := rs[0]
	since := earliestSince(rs)
	src, rule := escape(sourceName(first.Source)), escape(first.Rule.Name)
	total := len(rs) + earlier
	title := fmt.Sprintf("%s Storm: %s — %d participants · %s", severityEmoji(first.Rule.Severity), rule, total, src)

	var lead strings.Builder
	if route.Mention != "" {
		lead.WriteString(route.Mention + " ")
	}
	fmt.Fprintf(&lead, "*%d participants* match rule *%s* since %s.", total, rule, r.clock(since))
	switch {
	case earlier == 1:
		fmt.Fprintf(&lead, " 1 of them was posted on its own just before; here are the other %d.", len(rs))
	case earlier > 1:
		fmt.Fprintf(&lead, " %d of them were posted one by one just before; here are the other %d.", earlier, len(rs))
	}
	if first.Rule.Description != "" {
		lead.WriteString("\n_" + clip(escape(first.Rule.Description), capLead/3) + "_")
	}

	worstTitle, lines, shown := r.stormWorst(rs)
	rest := lines[shown:]
	worstText := worstTitle + "\n" + strings.Join(sections(lines[:shown]), "\n")

	top := []slack.Block{header(title)}
	hint := stormCause(rs, route.Redact)
	if hint != "" {
		top = append(top, section(hint, capLead))
	}
	top = append(top, section(lead.String(), capLead))
	bottom := []slack.Block{
		fieldsBlock(stormBreakdown(rs)),
		r.sourceBlock(first.Source),
		contextBlock(fmt.Sprintf("🌩 Storm control: one message instead of %d · severity *%s*%s", len(rs), escape(string(first.Rule.Severity)), labelText(first.Rule.Labels))),
	}
	if r.actions {
		// The storm's buttons act on every member: its key has no participant.
		bottom = append(bottom, ActionsBlock(engine.AlertKey{Rule: first.Key.Rule, Source: first.Key.Source}, first.Source, r.link(first.Source)))
	}
	fixed := blocksChars(top) + blocksChars(bottom) + chars(worstText)

	// A few others are named in the storm message itself; more continue
	// in messages of their own (in its thread, or after it).
	var middle []slack.Block
	var pages []page
	more := ""
	if len(rest) > 0 {
		inline := paginate(rest, msgBudget-fixed-capTitle, maxBlocks-len(top)-len(bottom)-2, 0, 0)
		if len(rest) <= maxInline && len(inline) == 1 {
			middle = append(middle, section(fmt.Sprintf("*Also affected (%d)*", len(rest)), capTitle))
			for _, sec := range inline[0].sections {
				middle = append(middle, section(sec, maxSection))
			}
		} else {
			pages = paginate(rest, contRoom, contBlocks, contRoom, contBlocks)
			more = fmt.Sprintf("…and %d more, named in the %s (%s)", len(rest), plural(len(pages), "message that follows", "messages that follow"), partRange(2, len(pages)+1))
			worstText += "\n" + more
		}
	}
	blocks := append(append(append(top, section(worstText, maxSection)), middle...), bottom...)

	var t strings.Builder
	if route.Mention != "" {
		t.WriteString(route.Mention + " ")
	}
	fmt.Fprintf(&t, "[STORM] %s %s: %d participants · %s \"%s\" (%s) · since %s\n", escape(string(first.Rule.Severity)), rule, total,
		escape(string(first.Source.Kind)), clip(src, 600), clip(escape(first.Source.ID), 100), r.clock(since))
	if hint != "" {
		t.WriteString(strings.ReplaceAll(hint, "*", "") + "\n")
	}
	named := lines[:shown]
	if middle != nil {
		named = lines
	}
	for _, l := range named {
		t.WriteString(clip(l, capLine) + "\n")
	}
	if more != "" {
		t.WriteString(more + "\n")
	}
	t.WriteString(r.link(first.Source))
	m := Message{Blocks: blocks, Text: clip(t.String(), maxPreview)}

	contTitle := fmt.Sprintf("🌩 Storm: %s — %d participants · %s, continued", rule, total, clip(src, 200))
	from := shown + 1
	for i, p := range pages {
		head := continuation(fmt.Sprintf("*%s: %d–%d of %d*", contTitle, from, from+p.lines-1, len(rs)), i+2, len(pages)+1)
		m.More = append(m.More, listMessage(head, p, "[STORM] "))
		from += p.lines
	}
	return m
}

// earliestSince is when the earliest of ns began.
func earliestSince(ns []*engine.Notification) time.Time {
	since := ns[0].Since
	for _, n := range ns {
		if n.Since.Before(since) {
			since = n.Since
		}
	}
	return since
}

// stormWorst ranks a storm's members by the term of the rule they
// share, worst first: the section's title, one line per member, and how
// many of them the storm message's top names (at most WorstN, as many as
// fit in one section).
func (r *Renderer) stormWorst(ns []*engine.Notification) (title string, lines []string, shown int) {
	field, op := worstTerm(ns)
	title = "*Worst*"
	if field != "" {
		title = fmt.Sprintf("*Worst by %s* (rule: %s %s) `%s`", escape(label(field)), escape(op), escape(withUnit(thresholdOf(ns[0], field), field)), escape(field))
	}
	for _, n := range rankWorst(ns, field, op) {
		lines = append(lines, "• "+oneLine(n, field))
	}
	shown = min(r.worstN, len(lines))
	for shown > 1 && chars(title)+1+chars(strings.Join(sections(lines[:shown]), "\n")) > maxSection-200 {
		shown--
	}
	return title, lines, shown
}

// stormBreakdown counts a storm's members by location, network and
// client version: what they share shows at a glance.
func stormBreakdown(ns []*engine.Notification) []*slack.TextBlockObject {
	return []*slack.TextBlockObject{
		fieldText("By location", breakdown(ns, func(p engine.Participant) string { return p.Location }), 600),
		fieldText("By network", breakdown(ns, func(p engine.Participant) string { return p.NetworkType }), 600),
		fieldText("By client version", breakdown(ns, func(p engine.Participant) string { return strings.TrimSpace(p.Client + " " + p.Version) }), 600),
	}
}

// listMessage is one page of a list as a message: its title, its
// sections; the fallback text is the same lines (escaped, as Slack
// parses it).
func listMessage(title string, p page, tag string) Message {
	blocks := []slack.Block{section(title, capTitle)}
	var t strings.Builder
	t.WriteString(tag + strings.ReplaceAll(title, "*", "") + "\n")
	for _, s := range p.sections {
		blocks = append(blocks, section(s, maxSection))
		t.WriteString(s + "\n")
	}
	return Message{Blocks: blocks, Text: clip(strings.TrimRight(t.String(), "\n"), maxText)}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// partRange is "2/3" or "2/4–4/4".
func partRange(from, n int) string {
	if from == n {
		return fmt.Sprintf("%d/%d", n, n)
	}
	return fmt.Sprintf("%d/%d–%d/%d", from, n, n, n)
}

func thresholdOf(n *engine.Notification, field string) string {
	t, _, _ := valueOf(n, field)
	return t.Threshold
}

// shortReason is why one participant of a list resolved, in a few words.
func shortReason(r engine.Reason, kind engine.SourceKind) string {
	switch r {
	case engine.ReasonRecovered:
		return "recovered"
	case engine.ReasonLeft:
		return "left"
	case engine.ReasonStale:
		return "no QoS data any more"
	case engine.ReasonEnded:
		if kind == "" {
			kind = "webinar"
		}
		return "the " + string(kind) + " ended"
	case engine.ReasonRuleRemoved:
		return "the rule was removed"
	}
	return "resolved"
}

// RenderThreadBatch renders notifications of one kind that belong to a
// storm's thread as one reply: participants that joined the storm, those
// still firing, those resolved. (It is also the message for a burst of
// follow-ups with no thread to go to.) Every participant is named: a list
// too long for one message continues in Message.More ("2/3").
func (r *Renderer) RenderThreadBatch(kind engine.NotificationKind, ns []*engine.Notification, route engine.Route) Message {
	rs := make([]*engine.Notification, len(ns))
	for i, n := range ns {
		rs[i] = redact(n, route.Redact, nil)
	}
	first := rs[0]
	field, _ := worstTerm(rs)
	rule := escape(first.Rule.Name)
	var head string
	switch kind {
	case engine.KindResolved:
		head = fmt.Sprintf("✅ Resolved: %d participants of %s", len(rs), rule)
	case engine.KindRepeat:
		head = fmt.Sprintf("🔁 Still firing: %d participants of %s", len(rs), rule)
		if a := first.Action; a != nil { // told again because their ack expired
			head = fmt.Sprintf("⏰ Still firing %s after the ack by %s: %d participants of %s", duration(a.Expires.Sub(a.At)), actor(a), len(rs), rule)
		}
	default:
		head = fmt.Sprintf("➕ %d more participants match %s", len(rs), rule)
	}
	var lines []string
	for _, n := range rs {
		var l string
		switch kind {
		case engine.KindResolved:
			l = fmt.Sprintf("%s — %s after %s", escape(who(n.Participant)), shortReason(n.Reason, n.Source.Kind), duration(n.Duration()))
			if c := changeOf(n, field); c != "" {
				l += " · " + c
			}
		case engine.KindRepeat:
			l = oneLine(n, field) + " — firing " + duration(n.At.Sub(n.Since))
		default:
			l = oneLine(n, field)
		}
		lines = append(lines, "• "+l)
	}
	// No mention: the storm message paged people once already.
	tag := "[" + strings.ToUpper(string(kind)) + "] "
	pages := paginate(lines, msgBudget-capTitle, maxBlocks-1, contRoom, contBlocks)
	n := len(pages)
	title := func(i int) string {
		if n == 1 {
			return "*" + head + "*"
		}
		return continuation("*"+head+"*", i, n)
	}
	m := listMessage(title(1), pages[0], tag)
	for i, p := range pages[1:] {
		m.More = append(m.More, listMessage(title(i+2), p, tag))
	}
	return m
}

// changeOf is how one field of a resolved alert changed, in a list:
// "Audio sent avg loss was 6.2 %, now 0.4 %".
func changeOf(n *engine.Notification, field string) string {
	for _, c := range changes(n) {
		if c.field == field || field == "" {
			return escape(label(c.field)) + " " + c.words(n.Reason, "")
		}
	}
	return ""
}

// RenderGroupOver is what a storm's message becomes once every
// participant in it resolved.
func (r *Renderer) RenderGroupOver(first *engine.Notification, count int, since, at time.Time, route engine.Route) Message {
	first = redact(first, route.Redact, nil)
	src, rule := escape(sourceName(first.Source)), escape(first.Rule.Name)
	title := fmt.Sprintf("✅ Storm over after %s: %s — %d participants · %s", duration(at.Sub(since)), rule, count, src)
	body := fmt.Sprintf("All %d participants of this storm resolved. Fired %s, last resolved %s; the thread has each one.", count, r.clock(since), r.clock(at))
	return Message{
		Blocks: []slack.Block{header(title), section(body, capLead), r.sourceBlock(first.Source),
			contextBlock(fmt.Sprintf("severity *%s*%s", escape(string(first.Rule.Severity)), labelText(first.Rule.Labels)))},
		Text: clip(fmt.Sprintf("[RESOLVED] %s: storm of %d participants over · %s \"%s\" (%s)", rule, count, escape(string(first.Source.Kind)), src, escape(first.Source.ID)), maxPreview),
	}
}
