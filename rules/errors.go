package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a rules file, positioned for an editor:
// `rules.yaml:14:11: rule "choppy-audio": when: unknown name lantecy`.
type Error struct {
	File    string
	Line    int    // 1-based; 0 when the problem is the whole file
	Column  int    // 1-based
	Rule    string // the rule it is in, if any
	Test    string // in a rule test file: the test it is in, if any
	Msg     string
	Warning bool // the file loads, but probably does not do what its author meant
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Warning {
		b.WriteString("warning: ")
	}
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	if e.Test != "" {
		fmt.Fprintf(&b, "test %q: ", e.Test)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a file, in file order. Parse returns
// all of them at once, so an author fixes a file in one pass.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
}
