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

// worstTerm is the comparison a storm is ranked by: the first one that
// held, with a number, in the first notification.
func worstTerm(ns []*engine.Notification) (field, op string) {
	for _, n := range ns {
		for _, t := range n.Explain {
			if _, ok := termValue(t); ok && t.Holds {
				return t.Field, t.Op
			}
		}
	}
	return "", ""
}

func valueOf(n *engine.Notification, field string) (engine.Term, float64, bool) {
	for _, t := range n.Explain {
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
			lines = append(lines, fmt.Sprintf("%s: %d", escape(e.k), e.n))
		} else {
			other += e.n
		}
	}
	if other > 0 {
		lines = append(lines, fmt.Sprintf("other: %d", other))
	}
	return strings.Join(lines, "\n")
}

// oneLine is a participant in a list: "Alice Example — 9.1 % · Paris (FR) · wifi · Zoom 5.17".
func oneLine(n *engine.Notification, field string) string {
	parts := []string{who(n.Participant)}
	if t, _, ok := valueOf(n, field); ok {
		parts[0] += " — " + withUnit(t.Value, field)
	}
	for _, v := range []string{n.Participant.Location, n.Participant.NetworkType, strings.TrimSpace(n.Participant.Client + " " + n.Participant.Version)} {
		if v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, " · ")
}

// RenderGroup renders a storm: many firing alerts of one rule in one
// source, as one message. ns are the group's firing notifications.
// earlier is how many of the storm's alerts were posted one by one just
// before it was recognised.
func (r *Renderer) RenderGroup(ns []*engine.Notification, earlier int, route engine.Route) Message {
	rs := make([]*engine.Notification, len(ns))
	for i, n := range ns {
		rs[i] = redact(n, route.Redact)
	}
	first := rs[0]
	field, op := worstTerm(rs)
	since := first.Since
	for _, n := range rs {
		if n.Since.Before(since) {
			since = n.Since
		}
	}
	src := sourceName(first.Source)
	total := len(rs) + earlier
	title := fmt.Sprintf("%s Storm: %s — %d participants · %s", severityEmoji(first.Rule.Severity), first.Rule.Name, total, src)

	var lead strings.Builder
	if route.Mention != "" {
		lead.WriteString(route.Mention + " ")
	}
	fmt.Fprintf(&lead, "*%d participants* match rule *%s* since %s.", total, escape(first.Rule.Name), r.clock(since))
	if earlier > 0 {
		fmt.Fprintf(&lead, " %d of them were posted one by one just before; here are the other %d.", earlier, len(rs))
	}
	if first.Rule.Description != "" {
		lead.WriteString("\n_" + escape(first.Rule.Description) + "_")
	}

	worst := rankWorst(rs, field, op)
	shown := worst[:min(r.worstN, len(worst))]
	var wl []string
	for _, n := range shown {
		wl = append(wl, "• "+escape(oneLine(n, field)))
	}
	if more := len(rs) - len(shown); more > 0 {
		wl = append(wl, fmt.Sprintf("…and %d more (each one's resolve follows in the thread)", more))
	}
	worstTitle := "*Worst*"
	if field != "" {
		worstTitle = fmt.Sprintf("*Worst by %s* (rule: %s %s) `%s`", label(field), escape(op), escape(withUnit(thresholdOf(first, field), field)), field)
	}

	fields := []*slack.TextBlockObject{
		slack.NewTextBlockObject(slack.MarkdownType, truncate("*By location*\n"+breakdown(rs, func(p engine.Participant) string { return p.Location }), maxField), false, false),
		slack.NewTextBlockObject(slack.MarkdownType, truncate("*By network*\n"+breakdown(rs, func(p engine.Participant) string { return p.NetworkType }), maxField), false, false),
		slack.NewTextBlockObject(slack.MarkdownType, truncate("*By client version*\n"+breakdown(rs, func(p engine.Participant) string { return strings.TrimSpace(p.Client + " " + p.Version) }), maxField), false, false),
	}
	blocks := []slack.Block{
		header(title),
		mrkdwn(lead.String()),
		mrkdwn(worstTitle + "\n" + strings.Join(wl, "\n")),
		slack.NewSectionBlock(nil, fields, nil),
		r.sourceBlock(first.Source),
		contextBlock(fmt.Sprintf("🌩 Storm control: one message instead of %d · severity *%s*%s", len(rs), first.Rule.Severity, labelText(first.Rule.Labels))),
	}

	var t strings.Builder
	if route.Mention != "" {
		t.WriteString(route.Mention + " ")
	}
	fmt.Fprintf(&t, "[STORM] %s %s: %d participants · %s %q (%s) · since %s\n", first.Rule.Severity, first.Rule.Name, total, first.Source.Kind, src, first.Source.ID, r.clock(since))
	for _, n := range shown {
		t.WriteString(oneLine(n, field) + "\n")
	}
	t.WriteString(r.link(first.Source))
	return Message{Blocks: blocks, Text: truncate(t.String(), maxText)}
}

func thresholdOf(n *engine.Notification, field string) string {
	t, _, _ := valueOf(n, field)
	return t.Threshold
}

// RenderThreadBatch renders notifications of one kind that belong to a
// storm's thread as one reply: participants that joined the storm, those
// still firing, those resolved.
func (r *Renderer) RenderThreadBatch(kind engine.NotificationKind, ns []*engine.Notification, route engine.Route) Message {
	rs := make([]*engine.Notification, len(ns))
	for i, n := range ns {
		rs[i] = redact(n, route.Redact)
	}
	first := rs[0]
	field, _ := worstTerm(rs)
	var head string
	switch kind {
	case engine.KindResolved:
		head = fmt.Sprintf("✅ Resolved: %d participants", len(rs))
	case engine.KindRepeat:
		head = fmt.Sprintf("🔁 Still firing: %d participants", len(rs))
	default:
		head = fmt.Sprintf("➕ %d more participants match %s", len(rs), first.Rule.Name)
	}
	var lines []string
	for i, n := range rs {
		if i == 50 {
			lines = append(lines, fmt.Sprintf("…and %d more", len(rs)-i))
			break
		}
		l := oneLine(n, field)
		switch kind {
		case engine.KindResolved:
			l = fmt.Sprintf("%s — after %s, %s", who(n.Participant), duration(n.Duration()), reasonText(n.Reason, n.Source.Kind))
		case engine.KindRepeat:
			l += fmt.Sprintf(" — firing %s", duration(n.At.Sub(n.Since)))
		}
		lines = append(lines, l)
	}
	// No mention: the storm message paged people once already.
	var body strings.Builder
	body.WriteString("*" + escape(head) + "*")
	for _, l := range lines {
		body.WriteString("\n• " + escape(l))
	}
	text := "[" + strings.ToUpper(string(kind)) + "] " + first.Rule.Name + ": " + head + "\n" + strings.Join(lines, "\n")
	return Message{Blocks: []slack.Block{mrkdwn(body.String())}, Text: truncate(text, maxText)}
}

// RenderGroupOver is what a storm's message becomes once every
// participant in it resolved.
func (r *Renderer) RenderGroupOver(first *engine.Notification, count int, since, at time.Time, route engine.Route) Message {
	first = redact(first, route.Redact)
	src := sourceName(first.Source)
	title := fmt.Sprintf("✅ Storm over after %s: %s — %d participants · %s", duration(at.Sub(since)), first.Rule.Name, count, src)
	body := fmt.Sprintf("All %d participants of this storm resolved. Fired %s, last resolved %s; the thread has each one.", count, r.clock(since), r.clock(at))
	return Message{
		Blocks: []slack.Block{header(title), mrkdwn(body), r.sourceBlock(first.Source),
			contextBlock(fmt.Sprintf("severity *%s*%s", first.Rule.Severity, labelText(first.Rule.Labels)))},
		Text: fmt.Sprintf("[RESOLVED] %s: storm of %d participants over · %s %q (%s)", first.Rule.Name, count, first.Source.Kind, src, first.Source.ID),
	}
}
