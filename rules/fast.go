package rules

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	"github.com/expr-lang/expr/ast"

	"github.com/qoswatch/qoswatch/engine"
)

// The fast path. Almost every rule is comparisons of sample fields with
// constants joined by &&, || and !. For those, lower reads the type-checked
// expression into a tree of Go closures that read the fields in place: no
// VM, no boxing of float64 into interfaces, no allocation. Anything else
// (arithmetic, builtins, a field of another type) returns nil, and the rule
// runs on expr's VM. TestFastMatchesVM holds both to the same results.

type pred func(*engine.Sample) bool

type (
	numField func(*engine.Sample) float64
	strField func(*engine.Sample) string
)

// lower returns the closure for n, or nil when n is outside the fast path.
func lower(n ast.Node) pred {
	switch v := n.(type) {
	case *ast.BoolNode:
		b := v.Value
		return func(*engine.Sample) bool { return b }
	case *ast.UnaryNode:
		if v.Operator != "!" && v.Operator != "not" {
			return nil
		}
		if p := lower(v.Node); p != nil {
			return func(s *engine.Sample) bool { return !p(s) }
		}
	case *ast.BinaryNode:
		return lowerBinary(v)
	case *ast.CallNode:
		id, ok := v.Callee.(*ast.IdentifierNode)
		if !ok || id.Value != "known" || len(v.Arguments) != 1 {
			return nil
		}
		if f := numAccessor(v.Arguments[0]); f != nil {
			return func(s *engine.Sample) bool { return !math.IsNaN(f(s)) }
		}
		if f := strAccessor(v.Arguments[0]); f != nil {
			return func(s *engine.Sample) bool { return f(s) != "" }
		}
	}
	return nil
}

func lowerBinary(v *ast.BinaryNode) pred {
	switch v.Operator {
	case "&&", "and", "||", "or":
		l, r := lower(v.Left), lower(v.Right)
		if l == nil || r == nil {
			return nil
		}
		if v.Operator == "&&" || v.Operator == "and" {
			return func(s *engine.Sample) bool { return l(s) && r(s) }
		}
		return func(s *engine.Sample) bool { return l(s) || r(s) }
	case "in", "not in":
		f := strAccessor(v.Left)
		arr, ok := v.Right.(*ast.ArrayNode)
		if f == nil || !ok {
			return nil
		}
		var set []string
		for _, item := range arr.Nodes {
			str, ok := item.(*ast.StringNode)
			if !ok {
				return nil
			}
			set = append(set, str.Value)
		}
		neg := v.Operator == "not in"
		return func(s *engine.Sample) bool { return slices.Contains(set, f(s)) != neg }
	}
	if l, r := numOperand(v.Left), numOperand(v.Right); l != nil && r != nil {
		switch v.Operator {
		case "<":
			return func(s *engine.Sample) bool { return l(s) < r(s) }
		case ">":
			return func(s *engine.Sample) bool { return l(s) > r(s) }
		case "<=":
			return func(s *engine.Sample) bool { return l(s) <= r(s) }
		case ">=":
			return func(s *engine.Sample) bool { return l(s) >= r(s) }
		case "==":
			return func(s *engine.Sample) bool { return l(s) == r(s) }
		case "!=":
			return func(s *engine.Sample) bool { return l(s) != r(s) }
		}
		return nil
	}
	if l, r := strOperand(v.Left), strOperand(v.Right); l != nil && r != nil {
		switch v.Operator {
		case "==":
			return func(s *engine.Sample) bool { return l(s) == r(s) }
		case "!=":
			return func(s *engine.Sample) bool { return l(s) != r(s) }
		case "<":
			return func(s *engine.Sample) bool { return l(s) < r(s) }
		case ">":
			return func(s *engine.Sample) bool { return l(s) > r(s) }
		case "<=":
			return func(s *engine.Sample) bool { return l(s) <= r(s) }
		case ">=":
			return func(s *engine.Sample) bool { return l(s) >= r(s) }
		case "startsWith":
			return func(s *engine.Sample) bool { return strings.HasPrefix(l(s), r(s)) }
		case "endsWith":
			return func(s *engine.Sample) bool { return strings.HasSuffix(l(s), r(s)) }
		case "contains":
			return func(s *engine.Sample) bool { return strings.Contains(l(s), r(s)) }
		}
	}
	return nil
}

// numOperand is a number field or a number constant (possibly negated).
func numOperand(n ast.Node) numField {
	switch v := n.(type) {
	case *ast.IntegerNode:
		c := float64(v.Value)
		return func(*engine.Sample) float64 { return c }
	case *ast.FloatNode:
		c := v.Value
		return func(*engine.Sample) float64 { return c }
	case *ast.UnaryNode:
		if v.Operator == "-" {
			switch x := v.Node.(type) {
			case *ast.IntegerNode:
				c := -float64(x.Value)
				return func(*engine.Sample) float64 { return c }
			case *ast.FloatNode:
				c := -x.Value
				return func(*engine.Sample) float64 { return c }
			}
		}
		return nil
	}
	return numAccessor(n)
}

func strOperand(n ast.Node) strField {
	if v, ok := n.(*ast.StringNode); ok {
		c := v.Value
		return func(*engine.Sample) string { return c }
	}
	return strAccessor(n)
}

func numAccessor(n ast.Node) numField {
	off, t, ok := fieldOffset(n)
	if !ok || t.Kind() != reflect.Float64 {
		return nil
	}
	return func(s *engine.Sample) float64 { return *(*float64)(unsafe.Add(unsafe.Pointer(s), off)) }
}

func strAccessor(n ast.Node) strField {
	if b, ok := n.(*ast.BuiltinNode); ok && b.Name == "string" && len(b.Arguments) == 1 {
		n = b.Arguments[0] // stringKinds wrapped a named string type
	}
	off, t, ok := fieldOffset(n)
	if !ok || t.Kind() != reflect.String {
		return nil
	}
	// Any string kind (engine.SourceKind) has string's layout.
	return func(s *engine.Sample) string { return *(*string)(unsafe.Add(unsafe.Pointer(s), off)) }
}

// fieldOffset resolves a field path of the sample (latency,
// audio_input.avg_loss, participant.role) to its byte offset and type.
func fieldOffset(n ast.Node) (uintptr, reflect.Type, bool) {
	var path []string
	for {
		switch v := n.(type) {
		case *ast.IdentifierNode:
			path = append(path, v.Value)
			slices.Reverse(path)
			return offsetOf(path)
		case *ast.MemberNode:
			prop, ok := v.Property.(*ast.StringNode)
			if !ok || v.Optional || v.Method {
				return 0, nil, false
			}
			path = append(path, prop.Value)
			n = v.Node
		default:
			return 0, nil, false
		}
	}
}

func offsetOf(path []string) (uintptr, reflect.Type, bool) {
	t := reflect.TypeFor[engine.Sample]()
	var off uintptr
	for _, name := range path {
		f, ok := fieldByExprTag(t, name)
		if !ok {
			return 0, nil, false
		}
		off += f.Offset
		t = f.Type
	}
	return off, t, true
}
