package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	yamlast "github.com/goccy/go-yaml/ast"

	"github.com/qoswatch/qoswatch/engine"
)

// Windowed functions: a rule may read a participant's recent minutes.
//
//	avg_over(audio_input.avg_loss, "5m") > 2        the average of the known values
//	max_over(latency, "10m") > 300                  the highest, min_over the lowest
//	count_over(audio_input.avg_loss > 2, "10m") >= 4  the minutes it held
//
// The window ends with the current sample and spans the duration given
// (at one sample a minute, "5m" is this minute and the four before). The
// first argument is any number (or, for count_over, condition) a rule
// could compare; it is evaluated once per sample when the sample arrives,
// and the engine keeps those numbers per participant in a bounded ring
// (engine.Window), not the samples.
//
// expr's own mechanisms do the work: a patch (expr.Patch) rewrites each
// call, at compile, into avg_over($env, i, seconds, "as written"): $env is
// the sample (its Past is the participant's ring), i the number's place in
// the rule's ring entry, and the text as written is for Explain.

// windowFuncs are the windowed functions; count_over takes a condition,
// the others a number.
var windowFuncs = map[string]bool{"avg_over": false, "max_over": false, "min_over": false, "count_over": true}

// MinWindow and MaxWindow bound a window: Zoom reports a sample a minute,
// and a participant's ring holds an hour at most.
const (
	MinWindow = time.Minute
	MaxWindow = engine.MaxWindowSpan
)

func isWindowCall(n ast.Node) (string, *ast.CallNode, bool) {
	return callOf(n, windowFuncs)
}

// callOf reports whether n calls one of funcs by name (windowFuncs,
// aggregateFuncs): the name, the call, and true.
func callOf(n ast.Node, funcs map[string]bool) (string, *ast.CallNode, bool) {
	c, ok := n.(*ast.CallNode)
	if !ok {
		return "", nil, false
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok {
		return "", nil, false
	}
	_, ok = funcs[id.Value]
	return id.Value, c, ok
}

// patched reports whether a window call is the patched form (its first
// argument $env).
func patched(c *ast.CallNode) bool {
	if len(c.Arguments) == 0 {
		return false
	}
	id, ok := c.Arguments[0].(*ast.IdentifierNode)
	return ok && id.Value == "$env"
}

// windowOptions are the windowed functions, for the sample environment.
func windowOptions() []expr.Option {
	return patchedFuncs(windowFuncs, windowed)
}

// windowed computes one windowed function over s's ring: i is the place
// of its argument, secs the window.
func windowed(name string, s *engine.Sample, i, secs int) float64 {
	if s == nil {
		return math.NaN()
	}
	st := s.Past.Stats(i, time.Duration(secs)*time.Second, s.Time)
	switch name {
	case "avg_over":
		if st.Known == 0 {
			return math.NaN()
		}
		return st.Sum / float64(st.Known)
	case "max_over":
		return st.Max
	case "min_over":
		return st.Min
	}
	return st.Sum // count_over: the minutes recorded as 1
}

// patchedFuncs registers each of funcs with expr in its patched form,
// name($env, i, n, "as written"), computed by fn (the text is for
// Explain).
func patchedFuncs(funcs map[string]bool, fn func(name string, s *engine.Sample, i, n int) float64) []expr.Option {
	var opts []expr.Option
	for name := range funcs {
		opts = append(opts, expr.Function(name, func(params ...any) (any, error) {
			s, _ := params[0].(*engine.Sample)
			i, _ := params[1].(int)
			n, _ := params[2].(int)
			return fn(name, s, i, n), nil
		}, new(func(*engine.Sample, int, int, string) float64)))
	}
	return opts
}

// windowTable is what one rule's windowed calls record: each distinct
// first argument once, however many calls and spans read it.
type windowTable struct {
	exprs  []windowExpr
	span   time.Duration // the longest
	source bool          // a source rule's: the aggregates' numbers
}

type windowExpr struct {
	text  string // as expr prints it
	count bool   // a condition, recorded as 1 or 0
	prog  *vm.Program
}

func (w *windowTable) index(text string, count bool) int {
	for i, e := range w.exprs {
		if e.text == text && e.count == count {
			return i
		}
	}
	w.exprs = append(w.exprs, windowExpr{text: text, count: count})
	return len(w.exprs) - 1
}

// windowPatch rewrites the window calls of one rule's expressions. A call
// of the wrong shape is left as written: languageErrors refuses it, with
// the reason, before the compiler sees it.
type windowPatch struct{ tab *windowTable }

func (p windowPatch) Visit(node *ast.Node) {
	name, c, ok := isWindowCall(*node)
	if !ok || patched(c) || len(c.Arguments) != 2 {
		return
	}
	span, err := windowSpan(c.Arguments[1])
	if err != nil {
		return
	}
	i := p.tab.index(c.Arguments[0].String(), windowFuncs[name])
	p.tab.span = max(p.tab.span, span)
	ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: []ast.Node{
		&ast.IdentifierNode{Value: "$env"}, &ast.IntegerNode{Value: i},
		&ast.IntegerNode{Value: int(span / time.Second)}, &ast.StringNode{Value: c.String()},
	}})
}

// windowSpan reads a window's duration: a string written in the rule.
func windowSpan(n ast.Node) (time.Duration, error) {
	s, ok := n.(*ast.StringNode)
	if !ok {
		return 0, fmt.Errorf("the window is a duration written in the rule, like \"5m\"")
	}
	d, err := time.ParseDuration(s.Value)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration (use \"5m\", \"1h\")", s.Value)
	case d < MinWindow || d > MaxWindow:
		return 0, fmt.Errorf("the window %s is not from %s to %s (Zoom reports a sample a minute)", s.Value, shortDuration(MinWindow), shortDuration(MaxWindow))
	case d%time.Minute != 0:
		return 0, fmt.Errorf("the window %s is not whole minutes (Zoom reports a sample a minute)", s.Value)
	}
	return d, nil
}

// windowRefusal says why a window call cannot be compiled ("" when it
// can): the shape, the span, what its first argument holds.
func windowRefusal(name string, c *ast.CallNode, env exprEnv) (ast.Node, string) {
	if !env.sample {
		return c, name + "() reads a participant's recent samples: a route sees the alert, not the samples"
	}
	if len(c.Arguments) != 2 {
		what := "a number"
		if windowFuncs[name] {
			what = "a condition"
		}
		return c, fmt.Sprintf("%s() takes %s and a window: %s(%s, \"5m\")", name, what, name, map[bool]string{false: "audio_input.avg_loss", true: "audio_input.avg_loss > 2"}[windowFuncs[name]])
	}
	if _, err := windowSpan(c.Arguments[1]); err != nil {
		return c.Arguments[1], name + "(): " + err.Error()
	}
	if inner := firstNode(c.Arguments[0], func(n ast.Node) bool { _, _, ok := isWindowCall(n); return ok }); inner != nil {
		return inner, "a windowed function inside " + name + "() is not allowed in rules: the work would multiply"
	}
	if inner := firstNode(c.Arguments[0], func(n ast.Node) bool { p, ok := n.(*ast.PointerNode); return ok && p.Name == "" }); inner != nil {
		return inner, name + "() inside a predicate is not allowed in rules: # has no recent samples"
	}
	return nil, ""
}

// compileWindows compiles the first argument of each of the rule's
// window calls and returns the engine's Window for the rule; nil when the
// rule has none.
func (l *loader) compileWindows(tab *windowTable, n yamlast.Node, rule string) *engine.Window {
	if len(tab.exprs) == 0 {
		return nil
	}
	var key strings.Builder
	for i := range tab.exprs {
		e := &tab.exprs[i]
		as := expr.AsFloat64()
		if e.count {
			as = expr.AsBool()
		}
		prog, err := expr.Compile(e.text, with(sampleEnv.opts, append(languageOptions(), as)...)...)
		if err != nil {
			what, in := "a number: avg_over, max_over and min_over read numbers", "a windowed function"
			if e.count {
				what = "a condition: count_over counts the minutes it held (count_over(audio_input.avg_loss > 2, \"10m\"))"
			}
			if tab.source {
				in, what = "an aggregate", "a number: avg, p95, max and min read numbers"
				if e.count {
					what = "a condition: count and fraction count the participants for whom it holds, and a filter is one (role == \"attendee\")"
				}
			}
			msg := err.Error()
			if got, ok := strings.CutPrefix(msg, "expected float64, but got "); ok {
				msg = "it is a " + got
			} else if got, ok := strings.CutPrefix(msg, "expected bool, but got "); ok {
				msg = "it is a " + got
			}
			l.errorf(n, rule, "when: %s in %s is not %s (%s)", e.text, in, what, msg)
			return nil
		}
		e.prog = prog
		key.WriteString(strconv.FormatBool(e.count) + ":" + e.text + "\x00")
	}
	exprs := tab.exprs
	return &engine.Window{Span: tab.span, Values: len(exprs), Key: key.String(), Record: func(s *engine.Sample, dst []float64) {
		for i := range exprs {
			out, err := run(exprs[i].prog, s)
			if err != nil {
				continue // NaN: unknown for this minute
			}
			switch v := out.(type) {
			case float64:
				dst[i] = v
			case bool:
				dst[i] = 0
				if v {
					dst[i] = 1
				}
			}
		}
	}}
}
