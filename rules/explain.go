package rules

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/qoswatch/qoswatch/engine"
)

// term is one comparison of an expression, compiled in parts so Explain
// can show what each side was: `latency = 120 ms > 150 ms ✗`.
type term struct {
	field, op, threshold string // as written
	left, right, whole   *vm.Program
	rightConst           bool // the right side is a literal: show it as written
	from                 int  // where the term starts in the expression
}

var comparisons = map[string]bool{
	"==": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true,
	"in": true, "not in": true, "matches": true, "contains": true, "startsWith": true, "endsWith": true,
}

// compileTerms finds every comparison, every known() call and every
// predicate (any, all, none, one) of src, in source order, and compiles
// their sides. The terms inside a predicate read its element (#), which
// has no value on its own, so a predicate is one term: its result.
func compileTerms(src string, opts []expr.Option) ([]term, error) {
	tree, err := expr.Compile(src, with(opts, expr.Optimize(false))...)
	if err != nil {
		return nil, err
	}
	inPredicate := map[ast.Node]bool{}
	eachNode(tree.Node(), func(n ast.Node) {
		if b, ok := n.(*ast.BuiltinNode); ok && slices.Contains(predicateBuiltins, b.Name) {
			eachNode(b, func(m ast.Node) {
				if m != n {
					inPredicate[m] = true
				}
			})
		}
	})
	anyOpts := with(opts, expr.AsAny()) // the sides are not bools
	var terms []term
	var walkErr error
	eachNode(tree.Node(), func(n ast.Node) {
		if walkErr != nil || inPredicate[n] {
			return
		}
		var t term
		var err error
		switch v := n.(type) {
		case *ast.BinaryNode:
			if !comparisons[v.Operator] {
				return
			}
			t = term{field: display(v.Left), op: v.Operator, threshold: display(v.Right), rightConst: isConst(v.Right)}
			if t.left, err = expr.Compile(v.Left.String(), anyOpts...); err == nil {
				if t.right, err = expr.Compile(v.Right.String(), anyOpts...); err == nil {
					t.whole, err = expr.Compile(v.String(), anyOpts...)
				}
			}
		case *ast.CallNode:
			id, ok := v.Callee.(*ast.IdentifierNode)
			if !ok || id.Value != "known" || len(v.Arguments) != 1 {
				return
			}
			t = term{field: v.Arguments[0].String(), op: "is", threshold: "known", rightConst: true}
			if t.left, err = expr.Compile(t.field, anyOpts...); err == nil {
				t.whole, err = expr.Compile(v.String(), anyOpts...)
			}
		case *ast.BuiltinNode:
			if !slices.Contains(predicateBuiltins, v.Name) {
				return
			}
			t = term{field: v.String(), op: "is", threshold: "true", rightConst: true}
			if t.whole, err = expr.Compile(v.String(), anyOpts...); err == nil {
				t.left = t.whole
			}
		default:
			return
		}
		if err != nil {
			walkErr = fmt.Errorf("explain %s: %w", n, err)
			return
		}
		t.from = startOf(n)
		terms = append(terms, t)
	})
	// expr's walk visits children first; a term's place is where it starts.
	slices.SortStableFunc(terms, func(a, b term) int { return a.from - b.from })
	return terms, walkErr
}

// startOf is where a node's text starts: expr places an operator's node
// at the operator, so the leftmost of its nodes.
func startOf(n ast.Node) int {
	from := n.Location().From
	eachNode(n, func(m ast.Node) { from = min(from, m.Location().From) })
	return from
}

// isConst reports whether a node is a literal (a number, a string, a list
// of them), which Explain shows as written.
func isConst(n ast.Node) bool {
	return firstNode(n, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.IdentifierNode, *ast.MemberNode, *ast.CallNode, *ast.PointerNode:
			return true
		}
		return false
	}) == nil
}

// Explain evaluates every comparison of the expression on s, each with the
// value it saw; a missing (NaN) value shows as "missing".
func (c *Condition) Explain(s *engine.Sample) []engine.Term {
	out := make([]engine.Term, 0, len(c.terms))
	for _, t := range c.terms {
		out = append(out, t.eval(s))
	}
	return out
}

// eval evaluates one comparison. Value and Threshold are plain ("3.5",
// "missing", "\"host\""), as engine.Term documents: the notifier adds its
// own units; the explain tool adds them with withUnits.
func (t *term) eval(env any) engine.Term {
	et := engine.Term{Field: t.field, Op: t.op, Threshold: t.threshold}
	if v, err := run(t.left, env); err != nil {
		et.Value = "error: " + err.Error()
	} else {
		et.Value = formatValue(v)
	}
	if !t.rightConst {
		if v, err := run(t.right, env); err == nil {
			et.Threshold = fmt.Sprintf("%s (%s)", t.threshold, formatValue(v))
		}
	}
	if v, err := run(t.whole, env); err == nil {
		et.Holds, _ = v.(bool)
	}
	return et
}

// withUnits renders a term for a person, with the unit its field implies:
// `latency = 120 ms > 150 ms ✗`.
func withUnits(t engine.Term) string {
	unit := engine.Unit(t.Field)
	add := func(v string) string {
		if _, err := strconv.ParseFloat(v, 64); err != nil || unit == "" {
			return v
		}
		if unit == "%" {
			return v + unit
		}
		return v + " " + unit
	}
	t.Value, t.Threshold = add(t.Value), add(t.Threshold)
	return t.String()
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// formatValue renders a value for a person: numbers short, NaN as
// "missing", strings quoted.
func formatValue(v any) string {
	if f, ok := toFloat(v); ok {
		if math.IsNaN(f) {
			return "missing"
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	switch x := v.(type) {
	case string:
		if x == "" {
			return "missing"
		}
		return strconv.Quote(x)
	case nil:
		return "nil"
	}
	return fmt.Sprint(v)
}
