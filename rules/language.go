package rules

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// The rules language. A rule is evaluated for every participant every
// minute, so it must be cheap and bounded whatever its author wrote. A
// sample is a fixed set of numbers and strings, so the language is what
// works on those: arithmetic, comparisons, boolean logic, known(), string
// matching, a few pure functions, and any/all/none/one over a list written
// in the rule. What could build a value of any size (repeat, ranges,
// variables, map/filter/reduce over built lists) is refused at load with
// the reason, at its position.
//
// Three of expr's own mechanisms enforce it, so the checker and the VM
// agree with this file: every builtin is disabled (expr.DisableAllBuiltins)
// and only allowedBuiltins are enabled again; expr.MaxNodes bounds the size
// of an expression; the VM's memory budget bounds what one evaluation may
// allocate (Eval then fails with ErrBudget). languageErrors walks expr's
// own parse tree (parsed with every builtin known, so that a refused one is
// named and not an "unknown name") to say why a construct is refused.
//
// Functions of a later scope (webinar-wide aggregates such as count() and
// fraction(), windows such as avg_over()) are added with expr.Function next
// to known(); their names are free because expr's builtins of those names
// are disabled.

// MaxExprNodes is the most nodes one expression may have (a node is a
// name, a number, an operator, a call): a rule of the example file has
// under 30.
const MaxExprNodes = 1000

// EvalMemoryBudget is what one evaluation may allocate, in expr's units
// (list items). The rules language builds lists only from literals, so a
// real rule uses a few; a rule that goes over fails with ErrBudget.
const EvalMemoryBudget = 10_000

// ErrBudget is wrapped by the error Eval returns when an evaluation went
// over EvalMemoryBudget. Every other error Eval returns is a run-time
// failure of the expression. Either way the rule's result for that sample
// is unknown; the engine disables such a rule (and says so) rather than
// letting it run again for every participant.
var ErrBudget = errors.New("the expression exceeded its evaluation budget")

// allowedBuiltins are expr's builtins a rule may call: pure functions of a
// few values whose result is no bigger than their input, and the
// predicates over a list written in the rule.
var allowedBuiltins = []string{
	// numbers
	"abs", "ceil", "floor", "round", "min", "max",
	// strings
	"len", "lower", "upper", "trim", "trimPrefix", "trimSuffix", "hasPrefix", "hasSuffix", "indexOf", "lastIndexOf",
	"string", // also what stringKinds wraps a named string type in
	// predicates, over a list literal only (see languageErrors)
	"any", "all", "none", "one",
}

var predicateBuiltins = []string{"any", "all", "none", "one"}

// refusedWhy says why a builtin is not in the language; a builtin not
// listed here gets a generic reason.
var refusedWhy = func() map[string]string {
	why := map[string]string{}
	for _, f := range []string{"repeat", "replace", "join", "split", "splitAfter", "concat", "flatten",
		"toJSON", "fromJSON", "toBase64", "fromBase64", "toPairs", "fromPairs"} {
		why[f] = "it builds a string or a list of any size"
	}
	for _, f := range []string{"map", "filter", "reduce", "find", "findIndex", "findLast", "findLastIndex",
		"count", "sum", "mean", "median", "groupBy", "sortBy", "sort", "reverse", "uniq", "keys", "values",
		"first", "last", "get", "take"} {
		why[f] = "it works over lists, and a sample is single numbers and strings"
	}
	why["now"] = "it reads the wall clock; a rule sees the sample's time (time), so a replay gives the same alerts"
	why["int"] = "it fails on a string that is not a number, which a participant's data could make any rule do; use floor or round"
	why["float"] = why["int"]
	return why
}()

// languageOptions are the expr options that enforce the language.
func languageOptions() []expr.Option {
	opts := []expr.Option{expr.DisableAllBuiltins(), expr.MaxNodes(MaxExprNodes)}
	for _, b := range allowedBuiltins {
		opts = append(opts, expr.EnableBuiltin(b))
	}
	return opts
}

// functionNames are the names a rule may call, for messages.
func functionNames() string {
	names := append([]string{"known"}, allowedBuiltins...)
	sort.Strings(names[1:])
	names = append(names, "avg_over", "max_over", "min_over", "count_over")
	return strings.Join(names, ", ")
}

// eachNode calls f for every node of the tree (children first), with
// expr's own walker.
func eachNode(n ast.Node, f func(ast.Node)) {
	if n == nil {
		return
	}
	ast.Walk(&n, visitFunc(f))
}

type visitFunc func(ast.Node)

func (f visitFunc) Visit(n *ast.Node) { f(*n) }

// languageErrors parses src with expr's parser, every builtin known, and
// returns the first construct the rules language refuses, positioned in
// src, or nil. A syntax error is left to the compiler, which reports it.
func languageErrors(src string, env exprEnv) error {
	c := conf.CreateNew()
	for _, o := range env.opts {
		o(c)
	}
	c.MaxNodes = MaxExprNodes
	tree, err := parser.ParseWithConfig(src, c)
	if err != nil {
		if fe, ok := errors.AsType[*file.Error](err); ok && strings.Contains(fe.Message, "maximum allowed nodes") {
			fe.Message = fmt.Sprintf("the expression has more than %d parts (names, numbers, operators): split the rule", MaxExprNodes)
			return fe
		}
		return nil
	}
	var found []*file.Error
	refuse := func(n ast.Node, format string, args ...any) {
		e := &file.Error{Location: file.Location{From: startOf(n), To: startOf(n) + 1}, Message: fmt.Sprintf(format, args...)}
		found = append(found, e.Bind(file.NewSource(src)))
	}
	eachNode(tree.Node, func(n ast.Node) {
		switch v := n.(type) {
		case *ast.BuiltinNode:
			if !slices.Contains(allowedBuiltins, v.Name) {
				why, ok := refusedWhy[v.Name]
				if !ok {
					why = "it is not part of the rules language (its functions: " + functionNames() + ")"
				}
				refuse(v, "%s() is not allowed in rules: %s", v.Name, why)
				return
			}
			if !slices.Contains(predicateBuiltins, v.Name) || len(v.Arguments) != 2 {
				return
			}
			if _, ok := v.Arguments[0].(*ast.ArrayNode); !ok {
				refuse(v.Arguments[0], "%s() takes a list written in the rule, like %s([\"host\", \"panelist\"], participant.role == #)", v.Name, v.Name)
			}
			body := v.Arguments[1]
			if p, ok := body.(*ast.PredicateNode); ok {
				body = p.Node
			}
			if inner := firstNode(body, isPredicateCall); inner != nil {
				refuse(inner, "a predicate inside %s() is not allowed in rules: the work would multiply", v.Name)
			}
		case *ast.BinaryNode:
			switch v.Operator {
			case "..":
				refuse(v, "the range operator .. is not allowed in rules: it builds a list of any length")
			case "matches":
				if _, ok := v.Right.(*ast.StringNode); !ok {
					refuse(v.Right, "matches takes a pattern written in the rule (\"^Zoom\"): it is compiled once, at load, not for every sample")
				}
			}
		case *ast.VariableDeclaratorNode:
			refuse(v, "let is not allowed in rules: a variable lets a value double at every step")
		case *ast.SequenceNode:
			refuse(v, "; is not allowed in rules: a rule is one condition")
		case *ast.MapNode:
			refuse(v, "a map literal is not allowed in rules: a rule compares values of the sample")
		case *ast.BytesNode:
			refuse(v, "a bytes literal is not allowed in rules: a rule compares values of the sample")
		case *ast.MemberNode:
			if v.Method {
				refuse(v.Property, "calling a method is not allowed in rules: only the functions of the rules language are (%s)", functionNames())
			}
		case *ast.CallNode:
			if name, c, ok := isWindowCall(v); ok && !env.source {
				if at, why := windowRefusal(name, c, env); why != "" {
					refuse(at, "%s", why)
				}
			}
			if m, ok := v.Callee.(*ast.MemberNode); ok && !m.Method {
				refuse(v, "calling a method is not allowed in rules: only the functions of the rules language are (%s)", functionNames())
			}
		}
	})
	if env.source {
		if e := sourceErrors(src, tree.Node); e != nil {
			found = append(found, e)
		}
	}
	if len(found) == 0 {
		return nil
	}
	// The walk visits children first; the leftmost refusal reads best.
	slices.SortStableFunc(found, func(a, b *file.Error) int { return a.From - b.From })
	return found[0]
}

// isPredicateCall reports whether n is a builtin call with a predicate
// (any, all, map, …).
func isPredicateCall(n ast.Node) bool {
	b, ok := n.(*ast.BuiltinNode)
	return ok && slices.ContainsFunc(b.Arguments, func(a ast.Node) bool { _, ok := a.(*ast.PredicateNode); return ok })
}

// firstNode returns the first node of the tree (in expr's walk order) for
// which f holds, or nil. (ast.Find returns the last one.)
func firstNode(n ast.Node, f func(ast.Node) bool) ast.Node {
	var found ast.Node
	eachNode(n, func(n ast.Node) {
		if found == nil && f(n) {
			found = n
		}
	})
	return found
}
