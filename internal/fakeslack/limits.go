package fakeslack

import (
	"encoding/json"
	"fmt"
	"unicode/utf16"
)

// Slack's documented Block Kit limits for a message, checked here
// independently of the renderer's own copy (notifier/render.go), so a
// renderer bug cannot hide behind a shared constant:
//
//   - at most 50 blocks in a message; block_id at most 255 characters
//     (https://api.slack.com/reference/block-kit/blocks);
//   - header: plain_text, at most 150 characters
//     (https://docs.slack.dev/reference/block-kit/blocks/header-block);
//   - section: text at most 3,000 characters; at most 10 fields, each at
//     most 2,000 (https://api.slack.com/reference/block-kit/blocks#section);
//   - context: 1 to 10 elements
//     (https://docs.slack.dev/reference/block-kit/blocks/context-block);
//   - actions: 1 to 25 elements, each action_id at most 255 characters
//     and unique in the block
//     (https://docs.slack.dev/reference/block-kit/blocks/actions-block);
//     a button: plain_text of at most 75 characters, value at most 2,000,
//     url at most 3,000, style primary or danger
//     (https://docs.slack.dev/reference/block-kit/block-elements/button-element);
//     a static_select: a plain_text placeholder of at most 150 characters,
//     1 to 100 options, each a plain_text of at most 75 characters and a
//     value of at most 150, unique
//     (https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element,
//     https://docs.slack.dev/reference/block-kit/composition-objects/option-object);
//     block_ids unique in a message;
//   - chat.postMessage truncates text over 40,000 characters
//     (https://api.slack.com/changelog/2018-04-truncating-really-long-messages)
//     and answers msg_too_long for text it will not take;
//   - the blocks of one message together: Slack answers
//     msg_blocks_too_long from about 13,200 characters of text, a limit it
//     does not document (https://github.com/slackapi/bolt-js/issues/2509);
//     this fake refuses above MaxBlocksChars.
//
// A character is counted as a UTF-16 code unit, the larger of the usual
// readings (an emoji outside the BMP counts two), so a message this fake
// takes fits whichever way Slack counts.
const (
	MaxBlocks         = 50
	MaxBlockID        = 255
	MaxHeader         = 150
	MaxSectionText    = 3000
	MaxFields         = 10
	MaxField          = 2000
	MaxContextElems   = 10
	MaxText           = 40000
	MaxBlocksChars    = 12000
	maxTextObjectText = 3000 // any text object, e.g. a context element

	MaxActionElements = 25
	MaxActionID       = 255
	MaxButtonText     = 75
	MaxButtonValue    = 2000
	MaxButtonURL      = 3000
	MaxPlaceholder    = 150
	MaxOptions        = 100
	MaxOptionText     = 75
	MaxOptionValue    = 150
)

// element is an interactive element of an actions block.
type element struct {
	Type        string       `json:"type"`
	ActionID    string       `json:"action_id"`
	Text        *textObject  `json:"text"`
	Value       string       `json:"value"`
	URL         string       `json:"url"`
	Style       string       `json:"style"`
	Placeholder *textObject  `json:"placeholder"`
	Options     []optionJSON `json:"options"`
}

type optionJSON struct {
	Text  *textObject `json:"text"`
	Value string      `json:"value"`
}

// LimitError is Slack's answer to a message over a limit: the error code
// it returns and what was over.
type LimitError struct {
	Code   string // invalid_blocks, msg_blocks_too_long, msg_too_long
	Detail string
}

func (e *LimitError) Error() string { return e.Code + ": " + e.Detail }

// Chars counts s as Slack's limits do here: in UTF-16 code units.
func Chars(s string) int { return len(utf16.Encode([]rune(s))) }

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type block struct {
	Type     string            `json:"type"`
	BlockID  string            `json:"block_id"`
	Text     *textObject       `json:"text"`
	Fields   []textObject      `json:"fields"`
	Elements []json.RawMessage `json:"elements"`
}

// Validate checks a message's blocks (JSON, as posted; empty for none)
// and fallback text against Slack's limits; nil when Slack would take it.
func Validate(blocksJSON json.RawMessage, text string) *LimitError {
	if n := Chars(text); n > MaxText {
		return &LimitError{"msg_too_long", fmt.Sprintf("text is %d characters, more than %d", n, MaxText)}
	}
	if len(blocksJSON) == 0 || string(blocksJSON) == "null" {
		return nil
	}
	var blocks []block
	if err := json.Unmarshal(blocksJSON, &blocks); err != nil {
		return &LimitError{"invalid_blocks", "blocks are not a JSON array of blocks: " + err.Error()}
	}
	if len(blocks) > MaxBlocks {
		return &LimitError{"invalid_blocks", fmt.Sprintf("%d blocks, more than %d", len(blocks), MaxBlocks)}
	}
	total := 0
	bad := func(i int, format string, args ...any) *LimitError {
		return &LimitError{"invalid_blocks", fmt.Sprintf("block %d (%s): ", i, blocks[i].Type) + fmt.Sprintf(format, args...)}
	}
	obj := func(i int, what string, t *textObject, max int, types ...string) *LimitError {
		ok := false
		for _, ty := range types {
			ok = ok || t.Type == ty
		}
		n := Chars(t.Text)
		total += n
		switch {
		case !ok:
			return bad(i, "%s has type %q, want %v", what, t.Type, types)
		case n == 0:
			return bad(i, "%s is empty", what)
		case n > max:
			return bad(i, "%s is %d characters, more than %d", what, n, max)
		}
		return nil
	}
	ids := map[string]bool{}
	for i, b := range blocks {
		if n := Chars(b.BlockID); n > MaxBlockID {
			return bad(i, "block_id is %d characters, more than %d", n, MaxBlockID)
		}
		if b.BlockID != "" && ids[b.BlockID] {
			return bad(i, "block_id %q is not unique in the message", b.BlockID)
		}
		ids[b.BlockID] = true
		switch b.Type {
		case "header":
			if b.Text == nil {
				return bad(i, "no text")
			}
			if err := obj(i, "text", b.Text, MaxHeader, "plain_text"); err != nil {
				return err
			}
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				return bad(i, "neither text nor fields")
			}
			if b.Text != nil {
				if err := obj(i, "text", b.Text, MaxSectionText, "plain_text", "mrkdwn"); err != nil {
					return err
				}
			}
			if len(b.Fields) > MaxFields {
				return bad(i, "%d fields, more than %d", len(b.Fields), MaxFields)
			}
			for j := range b.Fields {
				if err := obj(i, fmt.Sprintf("field %d", j), &b.Fields[j], MaxField, "plain_text", "mrkdwn"); err != nil {
					return err
				}
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > MaxContextElems {
				return bad(i, "%d elements, want 1 to %d", len(b.Elements), MaxContextElems)
			}
			for j, raw := range b.Elements {
				var t textObject
				if err := json.Unmarshal(raw, &t); err != nil {
					return bad(i, "element %d: %v", j, err)
				}
				if t.Type == "image" {
					continue
				}
				if err := obj(i, fmt.Sprintf("element %d", j), &t, maxTextObjectText, "plain_text", "mrkdwn"); err != nil {
					return err
				}
			}
		case "actions":
			if len(b.Elements) == 0 || len(b.Elements) > MaxActionElements {
				return bad(i, "%d elements, want 1 to %d", len(b.Elements), MaxActionElements)
			}
			actionIDs := map[string]bool{}
			for j, raw := range b.Elements {
				var e element
				if err := json.Unmarshal(raw, &e); err != nil {
					return bad(i, "element %d: %v", j, err)
				}
				if err := checkElement(e, func(what string, t *textObject, max int) error {
					if t == nil {
						return fmt.Errorf("%s is missing", what)
					}
					if lerr := obj(i, fmt.Sprintf("element %d %s", j, what), t, max, "plain_text"); lerr != nil {
						return lerr
					}
					return nil
				}); err != nil {
					if lerr, ok := err.(*LimitError); ok {
						return lerr
					}
					return bad(i, "element %d (%s): %v", j, e.Type, err)
				}
				if e.ActionID != "" && actionIDs[e.ActionID] {
					return bad(i, "element %d: action_id %q is not unique in the block", j, e.ActionID)
				}
				actionIDs[e.ActionID] = true
			}
		case "divider":
		default:
			return bad(i, "a block type qoswatch does not send")
		}
	}
	if total > MaxBlocksChars {
		return &LimitError{"msg_blocks_too_long", fmt.Sprintf("the blocks hold %d characters of text, more than %d", total, MaxBlocksChars)}
	}
	return nil
}

// checkElement checks one element of an actions block; text checks a
// text object and counts it.
func checkElement(e element, text func(what string, t *textObject, max int) error) error {
	if n := Chars(e.ActionID); n > MaxActionID {
		return fmt.Errorf("action_id is %d characters, more than %d", n, MaxActionID)
	}
	switch e.Type {
	case "button":
		if err := text("text", e.Text, MaxButtonText); err != nil {
			return err
		}
		switch {
		case Chars(e.Value) > MaxButtonValue:
			return fmt.Errorf("value is %d characters, more than %d", Chars(e.Value), MaxButtonValue)
		case Chars(e.URL) > MaxButtonURL:
			return fmt.Errorf("url is %d characters, more than %d", Chars(e.URL), MaxButtonURL)
		case e.Style != "" && e.Style != "primary" && e.Style != "danger":
			return fmt.Errorf("style %q: want primary or danger", e.Style)
		}
	case "static_select":
		if err := text("placeholder", e.Placeholder, MaxPlaceholder); err != nil {
			return err
		}
		if len(e.Options) == 0 || len(e.Options) > MaxOptions {
			return fmt.Errorf("%d options, want 1 to %d", len(e.Options), MaxOptions)
		}
		values := map[string]bool{}
		for k, o := range e.Options {
			if err := text(fmt.Sprintf("option %d", k), o.Text, MaxOptionText); err != nil {
				return err
			}
			if n := Chars(o.Value); n == 0 || n > MaxOptionValue {
				return fmt.Errorf("option %d: value is %d characters, want 1 to %d", k, n, MaxOptionValue)
			}
			if values[o.Value] {
				return fmt.Errorf("option %d: value %q is not unique", k, o.Value)
			}
			values[o.Value] = true
		}
	default:
		return fmt.Errorf("an element type qoswatch does not send")
	}
	return nil
}
