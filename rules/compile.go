package rules

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	yamlast "github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/qoswatch/qoswatch/engine"
)

// known(x) is the one helper rules need: a number is known when it is not
// NaN, a string when it is not empty. Typed, so the checker rejects
// known(a > b).
var knownFunc = expr.Function("known", func(params ...any) (any, error) {
	switch v := params[0].(type) {
	case float64:
		return !math.IsNaN(v), nil
	case string:
		return v != "", nil
	}
	return false, fmt.Errorf("known: unsupported %T", params[0])
}, new(func(float64) bool), new(func(string) bool))

// alertEnv is what a route's `when` sees: the alert, not the sample.
type alertEnv struct {
	Rule        string             `expr:"rule"`
	Severity    string             `expr:"severity"`
	Labels      map[string]string  `expr:"labels"`
	Source      engine.Source      `expr:"source"`
	Participant engine.Participant `expr:"participant"`
}

var (
	// The environments, without AsBool: Explain compiles the parts of an
	// expression, which are not bools.
	sampleEnv = exprEnv{sample: true, opts: append([]expr.Option{expr.Env(engine.Sample{}), knownFunc, expr.Patch(stringKinds{})}, windowOptions()...)}
	routeEnv  = exprEnv{opts: []expr.Option{expr.Env(alertEnv{}), knownFunc, expr.Patch(stringKinds{})}}
	// sourceEnv is a source rule's: the sample type (for source.* and
	// time), with the aggregates in place of expr's max, min and count.
	sourceEnv = exprEnv{sample: true, source: true, opts: append([]expr.Option{expr.Env(engine.Sample{}), knownFunc, expr.Patch(stringKinds{})}, aggregateOptions()...)}
)

// exprEnv is what an expression is compiled against.
type exprEnv struct {
	opts   []expr.Option
	sample bool // the env is engine.Sample (not a route's alert)
	source bool // a source rule's (scope: source)
}

// stringKinds lets a named string type (source.kind is an
// engine.SourceKind) compare with a string literal, as an author expects
// `source.kind == "webinar"` to: it wraps such a value in string().
type stringKinds struct{}

func (stringKinds) Visit(node *ast.Node) {
	t := (*node).Type()
	if t == nil || t.Kind() != reflect.String || t == reflect.TypeFor[string]() {
		return
	}
	switch (*node).(type) {
	case *ast.MemberNode, *ast.IdentifierNode:
		ast.Patch(node, &ast.BuiltinNode{Name: "string", Arguments: []ast.Node{*node}})
	}
}

// display is how Explain names a node: without the string() that
// stringKinds added.
func display(n ast.Node) string {
	_, c, ok := isWindowCall(n)
	if !ok {
		_, c, ok = isAggregateCall(n)
	}
	if ok && patched(c) && len(c.Arguments) == 4 {
		if s, ok := c.Arguments[3].(*ast.StringNode); ok {
			return s.Value // as written
		}
	}
	if b, ok := n.(*ast.BuiltinNode); ok && b.Name == "string" && len(b.Arguments) == 1 {
		switch b.Arguments[0].(type) {
		case *ast.MemberNode, *ast.IdentifierNode:
			return b.Arguments[0].String()
		}
	}
	return n.String()
}

// Condition is a compiled `when` or `clear`; it implements
// engine.Condition.
type Condition struct {
	src   string
	prog  *vm.Program
	terms []term    // the comparisons, for Explain
	rank  *rankSpec // a source rule's: how it names its worst participants
}

var _ engine.Condition = (*Condition)(nil)

// vms keeps expr VMs for reuse: an evaluating goroutine takes one for a
// Run and puts it back, so each VM runs one program at a time.
var vms = sync.Pool{New: func() any { return &vm.VM{MemoryBudget: EvalMemoryBudget} }}

// run runs a program on a pooled VM within EvalMemoryBudget. An
// evaluation over the budget fails with ErrBudget.
func run(p *vm.Program, env any) (any, error) {
	m := vms.Get().(*vm.VM)
	out, err := m.Run(p, env)
	vms.Put(m)
	if fe, ok := errors.AsType[*file.Error](err); ok && fe.Message == "memory budget exceeded" {
		return nil, fmt.Errorf("%w (%d list items)", ErrBudget, EvalMemoryBudget)
	}
	return out, err
}

// Eval reports whether the condition holds for s. An error (which names
// the expression) means the expression failed at run time; it wraps
// ErrBudget when the evaluation went over its budget.
//
// The sample goes to the VM by pointer: expr reads the fields through it,
// and the language has no assignment. By value, every evaluation would
// box a copy of the ~1 KB sample (BenchmarkEval: ~1.5 µs and 1152 B
// against ~0.1 µs and 11 B).
func (c *Condition) Eval(s *engine.Sample) (bool, error) {
	out, err := run(c.prog, s)
	if err != nil {
		return false, fmt.Errorf("%s: %w", c.src, err)
	}
	b, _ := out.(bool)
	return b, nil
}

// String returns the expression as written.
func (c *Condition) String() string { return c.src }

// compile compiles one expression; on failure it records a positioned error
// and returns nil. key is how the message names the expression ("when").
func (l *loader) compile(n yamlast.Node, src, rule string, env exprEnv, key string) *Condition {
	opts := with(env.opts, languageOptions()...)
	err := languageErrors(src, env)
	if err == nil {
		err = vet(src, opts)
	}
	var prog *vm.Program
	if err == nil {
		prog, err = expr.Compile(src, with(opts, expr.AsBool())...)
	}
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) && fe.Line > 0 {
			line, col := l.valuePos(n, fe.Line, fe.Column)
			hint, comment := yamlCommentHint(n)
			if comment != nil {
				line, col = comment.Line, comment.Column
			}
			if !env.source && env.sample && aggregateCallRE.MatchString(src) {
				hint += ": count(), fraction(), avg() and p95() are aggregates over a webinar's participants, for a rule with scope: source"
			}
			l.errorAt(line, col, rule, "%s: %s%s (at %d:%d of %q)%s", key, fe.Message, suggest(fe.Message, env), fe.Line, fe.Column+1, src, hint)
		} else if msg := err.Error(); strings.HasPrefix(msg, "expected bool, but got ") {
			l.errorf(n, rule, "%s: the expression is a %s, not a condition: compare it (latency > 150)", key, strings.TrimPrefix(msg, "expected bool, but got "))
		} else {
			l.errorf(n, rule, "%s: %s", key, err)
		}
		return nil
	}
	c := &Condition{src: src, prog: prog}
	c.terms, err = compileTerms(src, opts)
	if err != nil {
		l.errorf(n, rule, "%s: %s", key, err)
		return nil
	}
	return c
}

// vet adds the checks expr's checker leaves out, on the unoptimized AST:
// a value compared with nil (a missing number is NaN, not nil), and `in`
// a list whose items are of another kind than the value.
func vet(src string, opts []expr.Option) error {
	prog, err := expr.Compile(src, with(opts, expr.AsBool(), expr.Optimize(false))...)
	if err != nil {
		return err
	}
	var found error
	eachNode(prog.Node(), func(n ast.Node) {
		b, ok := n.(*ast.BinaryNode)
		if !ok || found != nil {
			return
		}
		switch b.Operator {
		case "==", "!=":
			for _, pair := range [2][2]ast.Node{{b.Left, b.Right}, {b.Right, b.Left}} {
				if _, isNil := pair[1].(*ast.NilNode); isNil && !nilable(pair[0].Type()) {
					found = exprError(src, b, fmt.Sprintf("%s is never nil: a missing value is NaN or \"\"; use known(%s)", pair[0], pair[0]))
				}
			}
		case "in", "not in":
			arr, ok := b.Right.(*ast.ArrayNode)
			if !ok || b.Left.Type() == nil {
				return
			}
			for _, item := range arr.Nodes {
				if item.Type() != nil && kindOf(item.Type()) != kindOf(b.Left.Type()) && kindOf(b.Left.Type()) != "" && kindOf(item.Type()) != "" {
					found = exprError(src, item, fmt.Sprintf("invalid operation: %s (mismatched types %s and %s)", b.Operator, b.Left.Type(), item.Type()))
					return
				}
			}
		}
	})
	return found
}

func nilable(t reflect.Type) bool {
	if t == nil {
		return true
	}
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return true
	}
	return false
}

// kindOf groups types the way a comparison does: numbers, strings, bools.
func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	}
	return ""
}

// exprError positions a message at node n of src, as expr's own errors are.
func exprError(src string, n ast.Node, msg string) *file.Error {
	e := &file.Error{Location: n.Location(), Message: msg}
	e.Bind(file.NewSource(src))
	return e
}

var (
	aggregateCallRE = regexp.MustCompile(`\b(count|fraction|avg|p95)\s*\(`)
	unknownNameRE   = regexp.MustCompile(`^unknown name (\w+)$`)
	unknownFieldRE  = regexp.MustCompile(`^type ([\w.]+) has no field (\w+)$`)
)

// suggest adds "did you mean" to expr's unknown-name and unknown-field
// errors, from the names the environment has.
func suggest(msg string, env exprEnv) string {
	var name string
	var t reflect.Type
	if m := unknownNameRE.FindStringSubmatch(msg); m != nil {
		name, t = m[1], reflect.TypeFor[alertEnv]()
		if env.sample {
			t = reflect.TypeFor[engine.Sample]()
		}
	} else if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
		name = m[2]
		for _, c := range []reflect.Type{reflect.TypeFor[engine.Stream](), reflect.TypeFor[engine.Participant](),
			reflect.TypeFor[engine.Source](), reflect.TypeFor[engine.CPUUsage](), reflect.TypeFor[engine.WiFiRSSI](), reflect.TypeFor[engine.ZoomAlert]()} {
			if c.String() == m[1] {
				t = c
			}
		}
	}
	if t == nil {
		return ""
	}
	names := []string{"known", "avg_over", "max_over", "min_over", "count_over"}
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("expr"); tag != "" {
			names = append(names, tag)
		}
	}
	if c := closest(name, names); c != "" {
		return fmt.Sprintf(" (did you mean %s?)", c)
	}
	return ""
}

// with returns opts and more, without sharing opts' array.
func with(opts []expr.Option, more ...expr.Option) []expr.Option {
	return append(opts[:len(opts):len(opts)], more...)
}

// yamlCommentHint explains an expression cut short by YAML: in a plain
// (unquoted) value, ` #` starts a comment, so `any(xs, # > 2)` reaches expr
// as `any(xs,`. It returns the hint and where the comment starts.
func yamlCommentHint(n yamlast.Node) (string, *token.Position) {
	if n == nil {
		return "", nil
	}
	tk := unwrap(n).GetToken()
	if tk == nil || tk.Type != token.StringType || tk.Next == nil || tk.Next.Type != token.CommentType ||
		tk.Next.Position.Line-tk.Position.Line > strings.Count(tk.Origin, "\n") {
		return "", nil // quoted, or no comment on the value's own line
	}
	return ": ` #` starts a YAML comment here: quote the expression", tk.Next.Position
}
