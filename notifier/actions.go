package notifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/qoswatch/qoswatch/engine"
)

// The buttons of a firing message (bot token mode; a webhook's message
// cannot be answered, so it has none). One actions block per message:
// its block_id names the alert (or the storm), so every element of the
// block acts on it; the action_id says what to do, and the select's
// option value says which silence.
const (
	ActionAck     = "qoswatch_ack"     // button: acknowledge
	ActionSilence = "qoswatch_silence" // static_select: one option per silence scope
	ActionDismiss = "qoswatch_dismiss" // button: not an issue
	ActionZoom    = "qoswatch_zoom"    // link button to the Zoom Dashboard: nothing to do
)

// Slack's limits on the parts of an actions block
// (https://docs.slack.dev/reference/block-kit/blocks/actions-block,
// .../block-elements/button-element, .../select-menu-element,
// .../composition-objects/option-object): block_id and action_id at most
// 255 characters, a button's text 75 and value 2,000, an option's text
// 75 and value 150, a placeholder 150, at most 25 elements.
const (
	maxBlockID     = 255
	maxButtonText  = 75
	maxButtonValue = 2000
)

// actionBlockPrefix versions the block_id's form, so a later form can
// tell old messages' clicks apart.
const actionBlockPrefix = "qw1:"

// ActionBlockID is the block_id naming k: "qw1:" and the JSON array
// [rule, source, participant] (participant "" for a storm). ok is false
// when it would be longer than Slack allows; that message gets no
// buttons but the link (the alert is still answerable with /qoswatch).
func ActionBlockID(k engine.AlertKey) (id string, ok bool) {
	b, err := json.Marshal([]string{k.Rule, k.Source, k.Participant})
	if err != nil {
		return "", false
	}
	id = actionBlockPrefix + string(b)
	return id, chars(id) <= maxBlockID
}

// ErrNotOurs is returned for a block_id that qoswatch did not write.
var ErrNotOurs = errors.New("not a qoswatch action block")

// ParseActionBlockID reads back the alert (or storm) a block_id names.
func ParseActionBlockID(id string) (engine.AlertKey, error) {
	rest, ok := strings.CutPrefix(id, actionBlockPrefix)
	if !ok {
		return engine.AlertKey{}, fmt.Errorf("block_id %q: %w", clip(id, 80), ErrNotOurs)
	}
	var parts []string
	if err := json.Unmarshal([]byte(rest), &parts); err != nil || len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return engine.AlertKey{}, fmt.Errorf("block_id %q: want [rule, source, participant]: %w", clip(id, 80), ErrNotOurs)
	}
	return engine.AlertKey{Rule: parts[0], Source: parts[1], Participant: parts[2]}, nil
}

// silenceOption is one choice of the Silence select.
type silenceOption struct {
	scope engine.SilenceScope
	text  string
}

// silenceOptions are the select's choices: a storm has no single
// participant to silence.
func silenceOptions(kind engine.SourceKind, storm bool) []silenceOption {
	where := "this " + string(kind)
	if kind == "" {
		where = "this webinar"
	}
	if storm {
		return []silenceOption{
			{engine.ScopeRuleSource, "This rule in " + where},
			{engine.ScopeRule1h, "This rule everywhere for 1 h"},
			{engine.ScopeUntilResolved, "Until the storm is over"}}
	}
	return []silenceOption{
		{engine.ScopeParticipant, "This participant, rest of " + where},
		{engine.ScopeRuleSource, "This rule in " + where},
		{engine.ScopeRule1h, "This rule everywhere for 1 h"},
		{engine.ScopeUntilResolved, "Until this alert resolves"}}
}

// ActionsBlock is the buttons for alert k (a storm when k.Participant is
// empty) of source src: Acknowledge, Silence ▾, Not an issue, and the
// link to the Zoom Dashboard page at link.
func ActionsBlock(k engine.AlertKey, src engine.Source, link string) slack.Block {
	plainText := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
	}
	id, ok := ActionBlockID(k)
	if !ok {
		return linkBlock(link)
	}
	value := strings.TrimPrefix(id, actionBlockPrefix) // ≤ 255 < maxButtonValue
	var opts []*slack.OptionBlockObject
	for _, o := range silenceOptions(src.Kind, k.Participant == "") {
		opts = append(opts, slack.NewOptionBlockObject(string(o.scope), plainText(o.text), nil))
	}
	ack := slack.NewButtonBlockElement(ActionAck, value, plainText("Acknowledge")).WithStyle(slack.StylePrimary)
	silence := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Silence"), ActionSilence, opts...)
	dismiss := slack.NewButtonBlockElement(ActionDismiss, value, plainText("Not an issue"))
	return slack.NewActionBlock(id, ack, silence, dismiss, zoomButton(link))
}

func zoomButton(link string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(ActionZoom, "", slack.NewTextBlockObject(slack.PlainTextType, "Zoom Dashboard ↗", true, false)).WithURL(link)
}

// linkBlock is the link to the Zoom Dashboard alone, for a message whose
// alert cannot be named in a block_id.
func linkBlock(link string) slack.Block { return slack.NewActionBlock("", zoomButton(link)) }

// actionsText is the text an actions block carries, as counted against
// msg_blocks_too_long.
func actionsText(b *slack.ActionBlock) int {
	n := 0
	for _, e := range b.Elements.ElementSet {
		switch x := e.(type) {
		case *slack.ButtonBlockElement:
			n += chars(x.Text.Text)
		case *slack.SelectBlockElement:
			n += chars(x.Placeholder.Text)
			for _, o := range x.Options {
				n += chars(o.Text.Text)
			}
		}
	}
	return n
}

// actionsLine is an actions block as a person reads it on a console:
// "[Acknowledge] [Silence ▾] [Not an issue]". The link button is left
// out: the source line above carries the same link.
func actionsLine(b *slack.ActionBlock) string {
	var parts []string
	for _, e := range b.Elements.ElementSet {
		switch x := e.(type) {
		case *slack.ButtonBlockElement:
			if x.URL == "" {
				parts = append(parts, "["+x.Text.Text+"]")
			}
		case *slack.SelectBlockElement:
			parts = append(parts, "["+x.Placeholder.Text+" ▾]")
		}
	}
	return strings.Join(parts, " ")
}

// ActionKey is the alert (or storm) a message's buttons act on, read
// from its blocks; ok is false when the message has none (a reply, a
// resolve, a webhook's message). The console demo uses it to answer
// "ack 3".
func ActionKey(blocks []slack.Block) (engine.AlertKey, bool) {
	for _, b := range blocks {
		if a, isAction := b.(*slack.ActionBlock); isAction {
			if k, err := ParseActionBlockID(a.BlockID); err == nil {
				return k, true
			}
		}
	}
	return engine.AlertKey{}, false
}
