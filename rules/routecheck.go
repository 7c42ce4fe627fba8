package rules

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	yamlast "github.com/goccy/go-yaml/ast"

	"github.com/qoswatch/qoswatch/engine"
)

// Checks of routes that cannot fail a file but catch what would route
// nothing or page no one: warnings.

type routeWhen struct {
	c     *Condition
	node  yamlast.Node
	index int
}

// checkRouteLabels warns of a route `when` that reads a label no rule
// sets (labels.tema): it can never match.
func (l *loader) checkRouteLabels(routes []routeWhen, rules []engine.Rule) {
	set := map[string]bool{}
	for _, r := range rules {
		for k := range r.Labels {
			set[k] = true
		}
	}
	names := slices.Sorted(maps.Keys(set))
	for _, rw := range routes {
		eachNode(rw.c.prog.Node(), func(n ast.Node) {
			var label string
			var at ast.Node
			switch v := n.(type) {
			case *ast.MemberNode: // labels.x, labels["x"]
				id, ok := v.Node.(*ast.IdentifierNode)
				prop, isStr := v.Property.(*ast.StringNode)
				if !ok || id.Value != "labels" || !isStr {
					return
				}
				label, at = prop.Value, v.Property
			case *ast.BinaryNode: // "x" in labels
				id, ok := v.Right.(*ast.IdentifierNode)
				key, isStr := v.Left.(*ast.StringNode)
				if !ok || id.Value != "labels" || !isStr || (v.Operator != "in" && v.Operator != "not in") {
					return
				}
				label, at = key.Value, v.Left
			default:
				return
			}
			if set[label] {
				return
			}
			msg := fmt.Sprintf("routes[%d].when: no rule sets the label %s, so this never matches", rw.index, label)
			switch c := closest(label, names); {
			case c != "":
				msg += fmt.Sprintf(" (did you mean %s?)", c)
			case len(names) == 0:
				msg += " (no rule sets labels)"
			default:
				msg += " (rules set: " + strings.Join(names, ", ") + ")"
			}
			e := exprError(rw.c.src, at, "")
			line, col := l.valuePos(rw.node, e.Line, e.Column)
			l.warnAt(line, col, "", "%s", msg)
		})
	}
}

// slackMentionRE is a mention Slack resolves in message text: a user
// (<@U…>), a user group (<!subteam^S…>), or a special one.
var slackMentionRE = regexp.MustCompile(`^<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|!here|!channel|!everyone)(\|[^<>]*)?>$`)

var mentionTokenRE = regexp.MustCompile(`<[^<>]*>|[@!][\w.-]+`)

// checkMention warns of a mention Slack will show as plain text and
// notify no one with: "@it-desk", "<@it-desk>", "!here".
func (l *loader) checkMention(n yamlast.Node, mention string, index int) {
	for _, tok := range mentionTokenRE.FindAllString(mention, -1) {
		if slackMentionRE.MatchString(tok) {
			continue
		}
		hint := "mention a user as <@U…> (their member ID), a user group as <!subteam^S…> (its ID), or <!here>, <!channel>"
		switch strings.Trim(tok, "<>@!") {
		case "here", "channel", "everyone":
			hint = "write <!" + strings.Trim(tok, "<>@!") + ">"
		}
		l.warnf(n, "", "routes[%d].mention: Slack shows %q as plain text and notifies no one: %s", index, tok, hint)
	}
}
