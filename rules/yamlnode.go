package rules

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Helpers over goccy's AST: positions, lookups, and the shape check that
// reports every unknown key and wrong type of a file in one pass.

// nodePos is where a node starts in the file (1-based line and column).
func nodePos(n ast.Node) (line, col int) {
	switch v := n.(type) {
	case nil:
		return 0, 0
	case *ast.MappingNode:
		if len(v.Values) > 0 {
			return nodePos(v.Values[0])
		}
	case *ast.MappingValueNode:
		return nodePos(v.Key)
	case *ast.AnchorNode:
		return nodePos(v.Value)
	case *ast.TagNode:
		return nodePos(v.Value)
	}
	if reflect.ValueOf(n).IsNil() {
		return 0, 0
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

// unwrap strips anchors and tags down to the value.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

func asMap(n ast.Node) *ast.MappingNode {
	m, _ := unwrap(n).(*ast.MappingNode)
	return m
}

func keyString(mv *ast.MappingValueNode) string {
	if s, ok := unwrap(mv.Key).(ast.ScalarNode); ok {
		return fmt.Sprint(s.GetValue())
	}
	return mv.Key.String()
}

// mapGet returns the value of key in m, or nil.
func mapGet(m *ast.MappingNode, key string) ast.Node {
	if mv := mapEntry(m, key); mv != nil {
		return mv.Value
	}
	return nil
}

// mapKey returns the key node of key in m, or m itself.
func mapKey(m *ast.MappingNode, key string) ast.Node {
	if mv := mapEntry(m, key); mv != nil {
		return mv.Key
	}
	return m
}

func mapEntry(m *ast.MappingNode, key string) *ast.MappingValueNode {
	if m == nil {
		return nil
	}
	for _, mv := range m.Values {
		if keyString(mv) == key {
			return mv
		}
	}
	return nil
}

func seqItems(n ast.Node) []ast.Node {
	if s, ok := unwrap(n).(*ast.SequenceNode); ok {
		return s.Values
	}
	return nil
}

// itemAt is item i of a list node, or nil: a list reached through an
// alias decodes, but its items are not the alias node's.
func itemAt(n ast.Node, i int) ast.Node {
	if items := seqItems(n); i < len(items) {
		return items[i]
	}
	return nil
}

// scalar returns a scalar node's text, or "".
func scalar(n ast.Node) string {
	if n == nil {
		return ""
	}
	if s, ok := unwrap(n).(ast.ScalarNode); ok && unwrap(n).Type() != ast.NullType {
		return fmt.Sprint(s.GetValue())
	}
	return ""
}

func kindName(n ast.Node) string {
	switch unwrap(n).Type() {
	case ast.MappingType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	case ast.NullType:
		return "nothing"
	case ast.BoolType:
		return "true/false"
	case ast.IntegerType, ast.FloatType, ast.InfinityType, ast.NanType:
		return "a number"
	}
	return "a string"
}

// kindValue names what a scalar is, with its text: `a string "4m"`.
func kindValue(n ast.Node) string {
	if isScalar(n) && unwrap(n).Type() != ast.NullType {
		return fmt.Sprintf("%s %q", kindName(n), scalar(n))
	}
	return kindName(n)
}

func isScalar(n ast.Node) bool {
	switch unwrap(n).Type() {
	case ast.MappingType, ast.SequenceType, ast.AliasType, ast.MappingValueType, ast.AnchorType, ast.DirectiveType, ast.DocumentType:
		return false
	}
	return true
}

// checkShape walks n against the Go type t of the file's spec, reporting
// unknown keys, duplicate keys and wrong types. It returns false when it
// found a problem. rule names the enclosing rule for messages.
func (l *loader) checkShape(n ast.Node, t reflect.Type, key, rule string) bool {
	n = unwrap(n)
	if n == nil || n.Type() == ast.NullType || n.Type() == ast.AliasType {
		return true // empty means default; aliases are decoded by goccy
	}
	prefix := ""
	if key != "" {
		prefix = key + ": "
	}
	if t == reflect.TypeFor[TestParticipant]() {
		return l.checkParticipant(n, key, rule)
	}
	wrong := func(want, got string) bool {
		l.errorf(n, rule, "%sexpected %s, got %s", prefix, want, got)
		return false
	}
	switch t.Kind() {
	case reflect.Pointer:
		return l.checkShape(n, t.Elem(), key, rule)
	case reflect.String:
		if !isScalar(n) {
			return wrong("a string", kindName(n))
		}
	case reflect.Int:
		if n.Type() != ast.IntegerType {
			what := "a whole number"
			if key == "at" || strings.HasSuffix(key, ".at") || strings.HasSuffix(key, "end_at") {
				what = "a minute: a whole number from 0 (at: 4)"
			}
			return wrong(what, kindValue(n))
		}
	case reflect.Bool:
		if n.Type() != ast.BoolType {
			return wrong("true or false", kindValue(n))
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			return wrong("a list", kindName(n))
		}
		good := true
		for _, item := range seq.Values {
			good = l.checkShape(item, t.Elem(), key, rule) && good
		}
		return good
	case reflect.Map, reflect.Struct:
		m, ok := n.(*ast.MappingNode)
		if !ok {
			return wrong("a mapping", kindName(n))
		}
		if t.Kind() == reflect.Map {
			return l.checkKeys(m, nil, t.Elem(), key, rule)
		}
		return l.checkKeys(m, t, nil, key, rule)
	}
	return true
}

// checkKeys checks a mapping's keys: against the struct st's yaml keys, or,
// for a map, only for duplicates with every value of type elem.
func (l *loader) checkKeys(m *ast.MappingNode, st, elem reflect.Type, key, rule string) bool {
	good := true
	seen := map[string]bool{}
	var known, names []string // names: the keys, for messages
	if st != nil {
		known = yamlKeys(st)
		names = slices.DeleteFunc(slices.Clone(known), func(k string) bool { return k == "" })
	}
	for _, mv := range m.Values {
		k := keyString(mv)
		if k == "<<" {
			continue // a merge key; goccy resolves it
		}
		where := k
		if key != "" {
			where = key + "." + k
		}
		if seen[k] {
			l.errorf(mv.Key, rule, "%s: duplicate key", where)
			good = false
			continue
		}
		seen[k] = true
		ft := elem
		if st != nil {
			i := slices.Index(known, k)
			if i < 0 {
				msg := fmt.Sprintf("unknown key %q", k)
				if key != "" {
					msg = fmt.Sprintf("%s: unknown key %q", key, k)
				}
				msg = didYouMean(msg, k, names, "known keys: "+strings.Join(names, ", "))
				l.errorf(mv.Key, rule, "%s", msg)
				good = false
				continue
			}
			ft = st.Field(i).Type
		}
		good = l.checkShape(mv.Value, ft, where, rule) && good
	}
	return good
}

// yamlKeys lists a struct's yaml keys in field order (index i is field
// i). The engine's types have json tags only; goccy reads those too.
func yamlKeys(t reflect.Type) []string {
	keys := make([]string, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("yaml")
		if !ok {
			tag = f.Tag.Get("json")
		}
		if keys[i], _, _ = strings.Cut(tag, ","); !f.IsExported() || keys[i] == "-" {
			keys[i] = ""
		}
	}
	return keys
}

// didYouMean adds to msg the known name closest to k, or else orElse in
// parentheses (what to choose from; "" adds nothing).
func didYouMean(msg, k string, known []string, orElse string) string {
	if c := closest(k, known); c != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", c)
	}
	if orElse != "" {
		return msg + " (" + orElse + ")"
	}
	return msg
}

// closest returns the known key within two edits of k, for "did you mean".
func closest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if d := editDistance(k, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// valuePos maps a position inside a scalar's text (1-based line, 0-based
// column, as expr and text/template count) to the file.
func (l *loader) valuePos(n ast.Node, line, col int) (int, int) {
	n = unwrap(n)
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	if lit, ok := n.(*ast.LiteralNode); ok {
		return l.blockPos(lit, line, col)
	}
	if line > 1 { // a plain scalar over several lines: the best we know
		return tk.Position.Line + line - 1, col + 1
	}
	c := tk.Position.Column + col
	if tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType {
		c++
	}
	return tk.Position.Line, c
}

// blockPos maps a position in a `|` or `>` block scalar: the text's lines are
// the file's lines after the header, less their indentation. Folding turns
// a newline into one space, so rune offsets agree in both styles.
func (l *loader) blockPos(lit *ast.LiteralNode, line, col int) (int, int) {
	text := lit.Value.Value
	offset := 0
	for i, s := range strings.SplitAfter(text, "\n") {
		if i == line-1 {
			offset += col
			break
		}
		offset += len([]rune(s))
	}
	header := lit.Start.Position.Line // 1-based; l.lines[header] is the first content line
	indent := -1
	for i := header; i < len(l.lines); i++ {
		s := l.lines[i]
		if strings.TrimSpace(s) == "" {
			continue
		}
		if indent < 0 {
			indent = len(s) - len(strings.TrimLeft(s, " "))
		}
		n := len([]rune(strings.TrimRight(s[min(indent, len(s)):], "\r"))) + 1
		if offset < n {
			return i + 1, indent + offset + 1
		}
		offset -= n
	}
	return header, lit.Start.Position.Column
}
