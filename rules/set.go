package rules

import (
	"github.com/expr-lang/expr/vm"

	"github.com/qoswatch/qoswatch/engine"
)

// Set is a compiled rules file: the rules for the engine and the routes
// for the notifier. It is immutable; a reload makes a new one.
type Set struct {
	file     string
	warnings Errors
	rules    []engine.Rule
	routes   []route
	channel  string // defaults.channel: where an alert no route matches goes
	report   string // report.channel: where the post-webinar report goes; "" is off
}

type route struct {
	engine.Route
	when string
	prog *vm.Program // nil: matches every alert
}

var _ engine.Router = (*Set)(nil)

// Warnings are the problems of the file that do not stop it from loading
// (a route on a label no rule sets, a mention Slack will not resolve), in
// file order, each an *Error with Warning set.
func (s *Set) Warnings() Errors { return s.warnings }

// inhibitions counts the file's inhibitions.
func (s *Set) inhibitions() int {
	n := 0
	for _, r := range s.rules {
		n += len(r.Inhibits)
	}
	return n
}

// File is the name the set was loaded from.
func (s *Set) File() string { return s.file }

// ReportChannel is the channel of the post-webinar report (report.channel),
// "" when no report is posted.
func (s *Set) ReportChannel() string { return s.report }

// Rules returns the compiled rules, in file order. The slice is a copy;
// the rules share their compiled conditions.
func (s *Set) Rules() []engine.Rule {
	return append([]engine.Rule(nil), s.rules...)
}

// Rule returns the named rule.
func (s *Set) Rule(name string) (engine.Rule, bool) {
	for _, r := range s.rules {
		if r.Name == name {
			return r, true
		}
	}
	return engine.Rule{}, false
}

// Only returns the set with only the named rule (its routes kept), for
// `qoswatch explain --rule`; ok is false when there is no such rule.
func (s *Set) Only(name string) (*Set, bool) {
	r, ok := s.Rule(name)
	if !ok {
		return nil, false
	}
	c := *s
	c.rules = []engine.Rule{r}
	return &c, true
}

// Route returns where n goes: the first route whose `when` matches the
// alert, or defaults.channel when none does. A route that fails at run
// time does not match.
func (s *Set) Route(n *engine.Notification) engine.Route {
	env := alertEnv{
		Rule:        n.Rule.Name,
		Severity:    string(n.Rule.Severity),
		Labels:      n.Rule.Labels,
		Source:      n.Source,
		Participant: n.Participant,
	}
	for _, r := range s.routes {
		if r.prog == nil {
			return r.Route
		}
		out, err := run(r.prog, &env)
		if ok, _ := out.(bool); ok && err == nil {
			return r.Route
		}
	}
	return engine.Route{Channel: s.channel}
}
