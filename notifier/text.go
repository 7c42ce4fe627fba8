package notifier

import (
	"regexp"
	"strings"

	"github.com/slack-go/slack"
)

// BlocksText renders Block Kit blocks as readable plain text, the way a
// person sees them in Slack: for the console notifier, dry runs and the
// README's golden renderings.
func BlocksText(blocks []slack.Block) string {
	var b strings.Builder
	for _, blk := range blocks {
		switch x := blk.(type) {
		case *slack.HeaderBlock:
			t := plain(x.Text)
			b.WriteString(t + "\n" + strings.Repeat("=", min(len([]rune(t)), 72)) + "\n")
		case *slack.SectionBlock:
			if x.Text != nil {
				b.WriteString(plain(x.Text) + "\n")
			}
			// Slack shows fields in two columns; a terminal gets two a line,
			// or one when a value has several lines (a breakdown).
			multi := false
			for _, f := range x.Fields {
				_, v, _ := strings.Cut(plain(f), "\n")
				multi = multi || strings.Contains(v, "\n")
			}
			for i, f := range x.Fields {
				name, value, _ := strings.Cut(plain(f), "\n")
				sep := "   "
				if multi || i%2 == 1 || i == len(x.Fields)-1 {
					sep = "\n"
				}
				b.WriteString(name + ": " + strings.ReplaceAll(value, "\n", ", ") + sep)
			}
		case *slack.ContextBlock:
			for _, e := range x.ContextElements.Elements {
				if t, ok := e.(*slack.TextBlockObject); ok {
					b.WriteString(plain(t) + "\n")
				}
			}
		case *slack.ActionBlock:
			if l := actionsLine(x); l != "" {
				b.WriteString(l + "\n")
			}
		case *slack.DividerBlock:
			b.WriteString(strings.Repeat("-", 40) + "\n")
		}
	}
	return b.String()
}

var (
	linkRe = regexp.MustCompile(`<([^|<>]+)\|([^<>]+)>`)
	boldRe = regexp.MustCompile(`\*([^*\n]+)\*`)
	itRe   = regexp.MustCompile(`(^|\s)_([^_\n]+)_`)
)

// plain strips mrkdwn (*bold*, _italic_, <url|label> → label (url)) and
// undoes the &amp; &lt; &gt; escapes, which every text object carries.
func plain(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	s := t.Text
	if t.Type == slack.MarkdownType {
		s = linkRe.ReplaceAllString(s, "$2 ($1)")
		s = boldRe.ReplaceAllString(s, "$1")
		s = itRe.ReplaceAllString(s, "$1$2")
	}
	return unescape(s)
}

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// unescape undoes escape, for people reading a terminal.
func unescape(s string) string { return unescaper.Replace(s) }
