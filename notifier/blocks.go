package notifier

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// Slack's limits on a message (a message over one is refused with
// invalid_blocks, msg_blocks_too_long or msg_too_long):
//
//   - at most 50 blocks; block_id at most 255 characters (we set none)
//     (https://api.slack.com/reference/block-kit/blocks);
//   - header: plain_text of at most 150 characters
//     (https://docs.slack.dev/reference/block-kit/blocks/header-block);
//   - section: text of at most 3,000 characters; at most 10 fields of at
//     most 2,000 each (https://api.slack.com/reference/block-kit/blocks#section);
//   - context: at most 10 elements (we send one)
//     (https://docs.slack.dev/reference/block-kit/blocks/context-block);
//   - the fallback text: chat.postMessage truncates it past 40,000
//     characters (https://api.slack.com/changelog/2018-04-truncating-really-long-messages);
//   - all the blocks' text together: Slack answers msg_blocks_too_long
//     from about 13,200 characters, a limit it does not document
//     (https://github.com/slackapi/bolt-js/issues/2509). We keep every
//     message within msgBudget, well under it.
//
// Characters are counted as UTF-16 code units (an emoji outside the BMP
// counts two), the larger of the ways Slack may count them, and after
// escaping (&amp; is five), as Slack receives them. internal/fakeslack
// checks the same limits independently; the tests post to it.
const (
	maxBlocks  = 50
	maxHeader  = 150
	maxSection = 3000
	maxFields  = 10
	maxField   = 2000
	maxText    = 40000
	msgBudget  = 10000
)

// Shares of msgBudget for the parts of a message about one alert; their
// sum with a header and ten participant fields is msgBudget.
const (
	capLead    = 2000 // mention, summary, description
	capValues  = 2500 // the explained terms
	capName    = 1100 // the participant's name field: a 200-character name escaped
	capField   = 250  // every other participant field
	capSource  = 1200 // the source line
	capContext = 800  // the footer
	capLine    = 1500 // one participant's line in a list
	capTitle   = 400  // a continuation's title
)

// chars counts s as Slack's limits are counted here: UTF-16 code units.
func chars(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// clip cuts s (escaped text or mrkdwn) to at most max characters, marking
// the cut with "…". It never cuts inside an escape (&amp;) or leaves a
// link or mention (<…>) open, so the cut text is still valid for Slack.
func clip(s string, max int) string {
	if chars(s) <= max {
		return s
	}
	n, end := 0, 0
	for i, r := range s {
		w := 1
		if r > 0xFFFF {
			w = 2
		}
		if n+w > max-1 { // room for the ellipsis
			break
		}
		n += w
		end = i + len(string(r))
	}
	kept := s[:end]
	if amp := strings.LastIndexByte(kept, '&'); amp >= 0 && !strings.Contains(kept[amp:], ";") {
		kept = kept[:amp] // inside &amp; &lt; &gt;
	}
	if lt := strings.LastIndexByte(kept, '<'); lt >= 0 && !strings.Contains(kept[lt:], ">") {
		kept = kept[:lt] // inside <url|label> or <!here>
	}
	return kept + "…"
}

func header(s string) slack.Block {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, clip(s, maxHeader), true, false))
}

// section is a mrkdwn section of at most max characters.
func section(s string, max int) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, clip(s, min(max, maxSection)), false, false), nil, nil)
}

func contextBlock(s string) slack.Block {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, clip(s, capContext), false, false))
}

// fieldText is one mrkdwn field of a fields section: "*name*\nvalue".
func fieldText(name, value string, max int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, clip("*"+name+"*\n"+value, min(max, maxField)), false, false)
}

// fieldsBlock is a section of at most maxFields fields.
func fieldsBlock(fs []*slack.TextBlockObject) slack.Block {
	return slack.NewSectionBlock(nil, fs[:min(len(fs), maxFields)], nil)
}

// blocksChars is the text the blocks carry, as Slack counts it against
// msg_blocks_too_long.
func blocksChars(blocks []slack.Block) int {
	n := 0
	obj := func(t *slack.TextBlockObject) {
		if t != nil {
			n += chars(t.Text)
		}
	}
	for _, b := range blocks {
		switch x := b.(type) {
		case *slack.HeaderBlock:
			obj(x.Text)
		case *slack.SectionBlock:
			obj(x.Text)
			for _, f := range x.Fields {
				obj(f)
			}
		case *slack.ContextBlock:
			for _, e := range x.ContextElements.Elements {
				if t, ok := e.(*slack.TextBlockObject); ok {
					obj(t)
				}
			}
		case *slack.ActionBlock:
			n += actionsText(x)
		}
	}
	return n
}

// sections packs lines (escaped mrkdwn, one list item each) into section
// texts of at most maxSection characters, in order; a line too long for
// one is clipped.
func sections(lines []string) []string {
	var out []string
	var b strings.Builder
	n := 0
	for _, l := range lines {
		l = clip(l, capLine)
		w := chars(l)
		if n > 0 && n+1+w > maxSection {
			out = append(out, b.String())
			b.Reset()
			n = 0
		}
		if n > 0 {
			b.WriteByte('\n')
			n++
		}
		b.WriteString(l)
		n += w
	}
	if n > 0 {
		out = append(out, b.String())
	}
	return out
}

// page is one message's share of a list.
type page struct {
	sections []string
	lines    int // how many list lines it holds
}

// paginate spreads a list over messages: the first has room characters
// and blocks blocks free; each later one, contRoom and contBlocks. Every
// line lands on exactly one page, in order.
func paginate(lines []string, room, blocks, contRoom, contBlocks int) []page {
	pages := []page{{}}
	left, free := room, blocks
	for _, l := range lines {
		s := sections([]string{l})[0]
		cur := &pages[len(pages)-1]
		// Join the page's last section when it has room, else open one.
		if k := len(cur.sections); k > 0 && chars(cur.sections[k-1])+1+chars(s) <= maxSection && chars(s)+1 <= left {
			cur.sections[k-1] += "\n" + s
			left -= chars(s) + 1
			cur.lines++
			continue
		}
		if chars(s) > left || free == 0 {
			pages = append(pages, page{})
			cur = &pages[len(pages)-1]
			left, free = contRoom, contBlocks
		}
		cur.sections = append(cur.sections, s)
		left -= chars(s)
		free--
		cur.lines++
	}
	return pages
}

// continuation titles a continuation message: "… (2/3)".
func continuation(title string, i, n int) string {
	return clip(title, capTitle-10) + fmt.Sprintf(" (%d/%d)", i, n)
}
