package rules

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"

	"github.com/qoswatch/qoswatch/engine"
)

// Webinar-level rules (scope: source): one alert per webinar or meeting,
// whose `when` sees aggregates over the source's current participants:
//
//	fraction(audio_output.avg_loss > 2, role == "attendee") > 0.1 && count() >= 20
//
// count() counts the participants, count(cond) those for whom cond holds,
// fraction(cond) is that count over count(), avg(x), p95(x), max(x) and
// min(x) are over the known values of x. Each takes an optional last
// argument, a condition that filters the participants first; inside an
// aggregate's arguments, role is short for participant.role. Outside
// them, a source rule sees source.* and time.
//
// The mechanism is the windows' (window.go): a patch rewrites each call
// into fraction($env, i, j, "as written"), i and j the places of its
// condition and filter among the numbers the engine keeps of each
// participant's newest sample (engine.Window), and the function reads
// them through Sample.Population.

// aggregateFuncs are the aggregates; true: the first argument is a
// condition (count may have none).
var aggregateFuncs = map[string]bool{"count": true, "fraction": true, "avg": false, "p95": false, "max": false, "min": false}

// ScopeSource and ScopeParticipant are the values of a rule's scope.
const (
	ScopeParticipant = "participant"
	ScopeSource      = "source"
)

func isAggregateCall(n ast.Node) (string, *ast.CallNode, bool) {
	return callOf(n, aggregateFuncs)
}

// aggregateOptions are the aggregate functions, for the source
// environment. They replace expr's builtins of the same names there
// (max, min, count), which a source rule has no use for.
func aggregateOptions() []expr.Option {
	return patchedFuncs(aggregateFuncs, aggregate)
}

// aggregate computes one aggregate over the population of s: i is the
// place of its argument (-1: none), j of its filter (-1: none).
func aggregate(name string, s *engine.Sample, i, j int) float64 {
	n, hits := 0, 0
	var vals []float64
	counting := aggregateFuncs[name] // once per call, not per participant
	if s != nil {
		s.Population.Each(func(_, _ string, v []float64) {
			if j >= 0 && v[j] != 1 {
				return
			}
			n++
			switch {
			case counting:
				if i < 0 || v[i] == 1 {
					hits++
				}
			case !math.IsNaN(v[i]):
				vals = append(vals, v[i])
			}
		})
	}
	switch name {
	case "count":
		return float64(hits)
	case "fraction":
		if n == 0 {
			return math.NaN()
		}
		return float64(hits) / float64(n)
	}
	if len(vals) == 0 {
		return math.NaN()
	}
	switch name {
	case "max":
		return slices.Max(vals)
	case "min":
		return slices.Min(vals)
	case "p95":
		sort.Float64s(vals)
		return vals[int(math.Ceil(0.95*float64(len(vals))))-1] // nearest rank
	}
	sum := 0.0
	for _, v := range vals {
		sum += v
	}
	return sum / float64(len(vals))
}

// rankSpec is how a source rule names its worst participants: by the
// number its first aggregate reads (or the left side of its condition),
// among those its filter and condition keep.
type rankSpec struct {
	value, cond, filter int // places; -1: none
	desc                bool
	field               string
}

// aggregatePatch rewrites one source rule's aggregate calls; the first one
// also decides how the rule ranks its participants.
type aggregatePatch struct {
	tab  *windowTable
	rank **rankSpec
}

func (p aggregatePatch) Visit(node *ast.Node) {
	name, c, ok := isAggregateCall(*node)
	if !ok || patched(c) || aggregateRefusal(name, c) != "" {
		return
	}
	written := c.String() // before withRole changes the arguments
	args := c.Arguments
	i, j := -1, -1
	if len(args) > 0 {
		i = p.tab.index(withRole(args[0]).String(), aggregateFuncs[name])
	}
	if len(args) > 1 {
		j = p.tab.index(withRole(args[1]).String(), true)
	}
	if *p.rank == nil && len(args) > 0 {
		r := &rankSpec{value: -1, cond: -1, filter: j, desc: name != "min"}
		if aggregateFuncs[name] {
			r.cond = i
			if b, ok := args[0].(*ast.BinaryNode); ok && (b.Operator == ">" || b.Operator == ">=" || b.Operator == "<" || b.Operator == "<=") {
				r.value, r.field = p.tab.index(withRole(b.Left).String(), false), b.Left.String()
				r.desc = b.Operator == ">" || b.Operator == ">="
			}
		} else {
			r.value, r.field = i, args[0].String()
		}
		if r.value >= 0 {
			*p.rank = r
		}
	}
	ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: []ast.Node{
		&ast.IdentifierNode{Value: "$env"}, &ast.IntegerNode{Value: i}, &ast.IntegerNode{Value: j},
		&ast.StringNode{Value: written},
	}})
}

// withRole is n with every bare `role` read as participant.role.
func withRole(n ast.Node) ast.Node {
	out := n
	ast.Walk(&out, roleShorthand{})
	return out
}

type roleShorthand struct{}

func (roleShorthand) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok && id.Value == "role" {
		ast.Patch(node, &ast.MemberNode{Node: &ast.IdentifierNode{Value: "participant"}, Property: &ast.StringNode{Value: "role"}})
	}
}

// aggregateRefusal says why an aggregate call cannot be compiled ("" when
// it can).
func aggregateRefusal(name string, c *ast.CallNode) string {
	if len(c.Arguments) > 2 || (name != "count" && len(c.Arguments) == 0) {
		what := "a number"
		if aggregateFuncs[name] {
			what = "a condition"
		}
		return fmt.Sprintf("%s() takes %s and, optionally, a condition on who counts: %s(%s, role == \"attendee\")", name, what, name,
			map[bool]string{false: "audio_output.avg_loss", true: "audio_output.avg_loss > 2"}[aggregateFuncs[name]])
	}
	for _, a := range c.Arguments {
		if inner := firstNode(a, func(n ast.Node) bool {
			_, _, agg := isAggregateCall(n)
			_, _, win := isWindowCall(n)
			return agg || win
		}); inner != nil {
			return "an aggregate or a windowed function inside " + name + "() is not allowed in rules: the work would multiply"
		}
	}
	return ""
}

// sourceErrors is languageErrors' part for a source rule: aggregates of
// the right shape, and no participant's value outside them.
func sourceErrors(src string, tree ast.Node) *file.Error {
	inside := map[ast.Node]bool{}
	var found *file.Error
	refuse := func(n ast.Node, msg string) {
		if found == nil || startOf(n) < found.From {
			e := &file.Error{Location: file.Location{From: startOf(n), To: startOf(n) + 1}, Message: msg}
			found = e.Bind(file.NewSource(src))
		}
	}
	eachNode(tree, func(n ast.Node) {
		name, c, ok := isAggregateCall(n)
		if !ok {
			return
		}
		for _, a := range c.Arguments {
			eachNode(a, func(m ast.Node) { inside[m] = true })
		}
		if why := aggregateRefusal(name, c); why != "" {
			refuse(c, why)
		}
	})
	eachNode(tree, func(n ast.Node) {
		if inside[n] {
			return
		}
		switch v := n.(type) {
		case *ast.IdentifierNode:
			if v.Value != "source" && v.Value != "time" && v.Value != "$env" {
				if _, isFunc := aggregateFuncs[v.Value]; !isFunc {
					refuse(v, fmt.Sprintf("%s is a participant's value: a source rule reads participants through count(), fraction(), avg(), p95(), max(), min() (fraction(audio_output.avg_loss > 2) > 0.1)", v.Value))
				}
			}
		case *ast.CallNode:
			if _, _, win := isWindowCall(v); win {
				refuse(v, "a windowed function is about one participant: a source rule reads participants through count(), fraction(), avg(), …")
			}
		}
	})
	return found
}

// Worst names the participants that weigh most in a source rule's
// verdict, worst first: engine.Ranker.
func (c *Condition) Worst(s *engine.Sample, n int) []engine.Standing {
	r := c.rank
	if r == nil || s == nil || s.Population == nil {
		return nil
	}
	var all []engine.Standing
	s.Population.Each(func(key, name string, v []float64) {
		if (r.filter >= 0 && v[r.filter] != 1) || (r.cond >= 0 && v[r.cond] != 1) || math.IsNaN(v[r.value]) {
			return
		}
		all = append(all, engine.Standing{Participant: key, Name: name, Value: v[r.value], Field: r.field})
	})
	slices.SortFunc(all, func(a, b engine.Standing) int {
		if r.desc {
			return cmp.Or(cmp.Compare(b.Value, a.Value), cmp.Compare(a.Participant, b.Participant))
		}
		return cmp.Or(cmp.Compare(a.Value, b.Value), cmp.Compare(a.Participant, b.Participant))
	})
	return all[:min(n, len(all))]
}

var _ engine.Ranker = (*Condition)(nil)
