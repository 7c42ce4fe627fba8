package rules

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/qoswatch/qoswatch/engine"
)

// Built-in defaults, for what neither a rule nor `defaults` sets.
const (
	DefaultFor            = 2 * time.Minute
	DefaultKeepFiringFor  = 2 * time.Minute
	DefaultRepeatInterval = time.Hour
	DefaultAckExpiry      = time.Hour
	DefaultSeverity       = engine.SeverityWarning
)

// Load reads and compiles a rules file. On any problem it returns Errors
// (every problem in the file, positioned) and no set.
func Load(path string) (*Set, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	return Parse(path, data)
}

// LoadContext is Load that gives up when ctx is done (a signal, a
// deadline). A read of a FIFO or of a hung network mount blocks in the
// kernel, where no context reaches, so the load runs on its own goroutine,
// which is left to end on its own; everything after the read is bounded
// by the file limits.
func LoadContext(ctx context.Context, path string) (*Set, error) {
	return withContext(ctx, path, func() (*Set, error) { return Load(path) })
}

// withContext runs f until it returns or ctx is done; then the error
// names path and wraps the context's cause.
func withContext[T any](ctx context.Context, path string, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // f's goroutine never blocks on it
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("%s: %w", path, context.Cause(ctx))
	}
}

// Parse compiles a rules file's content; name is the file name the errors
// show. The error, if any, is an Errors.
func Parse(name string, data []byte) (*Set, error) {
	l := &loader{file: name, lines: strings.Split(string(data), "\n")}
	set := l.parse(data)
	if len(l.errs) > 0 {
		errs := append(l.errs, l.warns...)
		errs.sort()
		return nil, errs
	}
	l.warns.sort()
	set.warnings = l.warns
	return set, nil
}

type loader struct {
	file     string
	lines    []string // the source, to map positions inside block scalars
	errs     Errors
	warns    Errors // problems that do not stop the file from loading
	testFile bool   // a rule test file: the name errors carry is a test's
}

// errorf records a problem at node n; in names the rule (or, in a test
// file, the test) it is in.
func (l *loader) errorf(n ast.Node, in, format string, args ...any) {
	line, col := nodePos(n)
	l.errorAt(line, col, in, format, args...)
}

// warnf records a warning at node n.
func (l *loader) warnf(n ast.Node, in, format string, args ...any) {
	line, col := nodePos(n)
	l.warnAt(line, col, in, format, args...)
}

func (l *loader) warnAt(line, col int, in, format string, args ...any) {
	l.warns = append(l.warns, &Error{File: l.file, Line: line, Column: col, Rule: in, Msg: fmt.Sprintf(format, args...), Warning: true})
}

func (l *loader) errorAt(line, col int, in, format string, args ...any) {
	e := &Error{File: l.file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
	if l.testFile {
		e.Test = in
	} else {
		e.Rule = in
	}
	l.errs = append(l.errs, e)
}

func (l *loader) parse(data []byte) *Set {
	f := l.parseYAML(data)
	if f == nil {
		return nil
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		l.errorAt(0, 0, "", "the file is empty: it needs rules")
		return nil
	}
	if len(f.Docs) > 1 {
		l.errorf(f.Docs[1].Body, "", "only one YAML document is allowed")
	}
	root := unwrap(f.Docs[0].Body)

	if root.Type() == ast.NullType {
		l.errorf(root, "", "the file is empty: it needs rules")
		return nil
	}
	m, ok := root.(*ast.MappingNode)
	if !ok {
		l.errorf(root, "", "expected a mapping with defaults, routes and rules, got %s", kindName(root))
		return nil
	}
	if isTestFile(m) {
		l.errorf(m, "", "this is a rule test file, not a rules file: run it with `qoswatch test %s`", l.file)
		return nil
	}
	if !l.checkTop(m) || !l.checkCounts(m) {
		return nil
	}
	spec, routeNodes, ruleNodes := l.decodeParts(m)
	rulesNode := mapGet(m, "rules")
	if len(seqItems(rulesNode)) == 0 {
		node := ast.Node(m)
		if rulesNode != nil {
			node = rulesNode
		}
		l.errorf(node, "", "rules: the file has no rules")
	}
	return l.build(&spec, m, routeNodes, ruleNodes)
}

// decodeParts checks the shape of defaults, each route and each rule (an
// unknown key, a wrong type), so that every such mistake is reported in one
// pass, and decodes what is well-formed. It returns the routes and rules
// it decoded with their nodes, for positions.
func (l *loader) decodeParts(m *ast.MappingNode) (spec File, routeNodes, ruleNodes []ast.Node) {
	// Each part is shape-checked on its own, so every problem is found.
	defaultsNode := mapGet(m, "defaults")
	defaultsOK := defaultsNode == nil || l.checkShape(defaultsNode, reflect.TypeFor[Defaults](), "defaults", "")
	routeItems := seqItems(mapGet(m, "routes"))
	routeOK := make([]bool, len(routeItems))
	for i, item := range routeItems {
		routeOK[i] = l.checkShape(item, reflect.TypeFor[RouteSpec](), fmt.Sprintf("routes[%d]", i), "")
	}
	for i, item := range seqItems(mapGet(m, "inhibit")) {
		l.checkShape(item, reflect.TypeFor[InhibitSpec](), fmt.Sprintf("inhibit[%d]", i), "")
	}
	items := seqItems(mapGet(m, "rules"))
	ruleOK := make([]bool, len(items))
	for i, item := range items {
		ruleOK[i] = l.checkShape(item, reflect.TypeFor[RuleSpec](), "", scalar(mapGet(asMap(item), "name")))
	}

	// A file of the right shape decodes whole, so anchors and aliases
	// across rules resolve. Otherwise each good part decodes alone, and a
	// part with an alias waits until the rest is fixed.
	var wholeErr error
	if len(l.errs) == 0 {
		wholeErr = yaml.NodeToValue(m, &spec, decodeOptions(yaml.AllowFieldPrefixes("x-"))...)
	}
	if len(l.errs) == 0 && wholeErr == nil {
		for i := range spec.Routes {
			spec.Routes[i].index = i
		}
		routeNodes, ruleNodes = routeItems, items
	} else {
		spec = File{} // inhibit waits: it names rules, checked once the file's shape is right
		if defaultsNode != nil && defaultsOK && !hasAlias(defaultsNode) {
			l.decode(defaultsNode, &spec.Defaults, "")
		}
		for i, item := range routeItems {
			var r RouteSpec
			if routeOK[i] && !hasAlias(item) && l.decode(item, &r, "") {
				r.index = i
				spec.Routes = append(spec.Routes, r)
				routeNodes = append(routeNodes, item)
			}
		}
		for i, item := range items {
			var r RuleSpec
			name := scalar(mapGet(asMap(item), "name"))
			if ruleOK[i] && !hasAlias(item) && l.decode(item, &r, name) {
				spec.Rules = append(spec.Rules, r)
				ruleNodes = append(ruleNodes, item)
			}
		}
		if len(l.errs) == 0 && wholeErr != nil {
			l.yamlError(wholeErr, "") // an error only the whole file shows
		}
	}
	return spec, routeNodes, ruleNodes
}

func hasAlias(n ast.Node) bool { return len(ast.Filter(ast.AliasType, n)) > 0 }

// checkTop checks the top-level keys and that routes and rules are lists.
func (l *loader) checkTop(m *ast.MappingNode) bool {
	good := true
	top := reflect.TypeFor[File]()
	known := yamlKeys(top)
	for _, mv := range m.Values {
		k := keyString(mv)
		if strings.HasPrefix(k, "x-") {
			continue // a place for anchors: x-thresholds: &t {...}
		}
		i := slices.Index(known, k)
		if i < 0 {
			msg := didYouMean(fmt.Sprintf("unknown key %q", k), k, known, "known keys: "+strings.Join(known, ", ")+"; x-… for anchors")
			l.errorf(mv.Key, "", "%s", msg)
			continue // the other keys are still worth checking
		}
		if ft := top.Field(i).Type; ft.Kind() == reflect.Slice {
			if v := unwrap(mv.Value); v.Type() != ast.NullType && v.Type() != ast.SequenceType {
				l.errorf(v, "", "%s: expected a list, got %s", k, kindName(v))
				good = false
			}
		}
	}
	return good
}

// checkCounts refuses a file of more rules or routes than the engine and
// the notifier are built for, before they are decoded and compiled.
func (l *loader) checkCounts(m *ast.MappingNode) bool {
	good := true
	if n := len(seqItems(mapGet(m, "rules"))); n > MaxRules {
		l.errorf(mapKey(m, "rules"), "", "rules: %d rules, more than the %d a file may have (each rule is evaluated for every participant every minute)", n, MaxRules)
		good = false
	}
	if n := len(seqItems(mapGet(m, "routes"))); n > MaxRoutes {
		l.errorf(mapKey(m, "routes"), "", "routes: %d routes, more than the %d a file may have", n, MaxRoutes)
		good = false
	}
	return good
}

// decode fills v from n with goccy's strict decoder. checkShape already
// caught what a user gets wrong; this is the safety net for the rest.
func (l *loader) decode(n ast.Node, v any, rule string) bool {
	if err := yaml.NodeToValue(n, v, decodeOptions()...); err != nil {
		l.yamlError(err, rule)
		return false
	}
	return true
}

// decodeOptions: strict, but a key may repeat, because goccy counts a key
// that overrides a merged one (`<<: *base` then `name: b`) as a repeat; real
// duplicates are already errors of the parser.
func decodeOptions(more ...yaml.DecodeOption) []yaml.DecodeOption {
	return append([]yaml.DecodeOption{yaml.Strict(), yaml.AllowDuplicateMapKey()}, more...)
}

var nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
var labelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// build validates the decoded file and compiles it. Nodes give positions.
func (l *loader) build(spec *File, root *ast.MappingNode, routeNodes, ruleNodes []ast.Node) *Set {
	set := &Set{file: l.file, channel: spec.Defaults.Channel, report: strings.TrimSpace(spec.Report.Channel)}
	if rc := spec.Report.Channel; rc != "" && set.report == "" {
		l.errorf(mapGet(asMap(mapGet(root, "report")), "channel"), "", "report.channel: blank; leave it out to post no report")
	}
	var routeWhens []routeWhen // for the label check, once the rules are known
	d := asMap(mapGet(root, "defaults"))
	def := engine.Rule{
		For:            l.duration(d, "for", spec.Defaults.For, DefaultFor, "", false),
		KeepFiringFor:  l.duration(d, "keep_firing_for", spec.Defaults.KeepFiringFor, DefaultKeepFiringFor, "", false),
		RepeatInterval: l.duration(d, "repeat_interval", spec.Defaults.RepeatInterval, DefaultRepeatInterval, "", true),
		AckExpiry:      l.duration(d, "ack_expiry", spec.Defaults.AckExpiry, DefaultAckExpiry, "", false),
		Severity:       l.severity(d, spec.Defaults.Severity, DefaultSeverity, ""),
	}

	for i, rs := range spec.Routes {
		n := asMap(routeNodes[i])
		r := route{Route: engine.Route{Channel: rs.Channel, Mention: rs.Mention, Redact: rs.Redact}, when: rs.When}
		if r.Channel == "" {
			r.Channel = spec.Defaults.Channel
		}
		if strings.TrimSpace(rs.When) != "" {
			if c := l.compile(mapGet(n, "when"), rs.When, "", routeEnv, fmt.Sprintf("routes[%d].when", rs.index)); c != nil {
				r.prog = c.prog
				routeWhens = append(routeWhens, routeWhen{c, mapGet(n, "when"), rs.index})
			}
		}
		if rs.Mention != "" {
			l.checkMention(mapGet(n, "mention"), rs.Mention, rs.index)
		}
		for j, field := range rs.Redact {
			if !slices.Contains(participantFields, field) {
				l.errorf(itemAt(mapGet(n, "redact"), j), "", "routes[%d].redact: %q is not a participant field (one of %s)", rs.index, field, strings.Join(participantFields, ", "))
			}
		}
		if r.Channel == "" {
			l.errorf(routeNodes[i], "", "routes[%d]: no channel, and defaults.channel is not set", rs.index)
		}
		set.routes = append(set.routes, r)
	}

	seen := map[string]int{} // name → line
	for i, rs := range spec.Rules {
		n := asMap(ruleNodes[i])
		name := rs.Name
		switch {
		case name == "":
			l.errorf(ruleNodes[i], "", "rules[%d]: name is required", i)
		case !nameRE.MatchString(name):
			l.errorf(mapGet(n, "name"), name, "name: use lower-case letters, digits and single dashes (like choppy-audio)")
		case seen[name] > 0:
			l.errorf(mapGet(n, "name"), name, "name: duplicate rule name (first defined at line %d)", seen[name])
		default:
			line, _ := nodePos(mapGet(n, "name"))
			seen[name] = line
		}
		r := engine.Rule{
			Name:           name,
			Description:    rs.Description,
			For:            l.duration(n, "for", rs.For, def.For, name, false),
			KeepFiringFor:  l.duration(n, "keep_firing_for", rs.KeepFiringFor, def.KeepFiringFor, name, false),
			RepeatInterval: l.duration(n, "repeat_interval", rs.RepeatInterval, def.RepeatInterval, name, true),
			AckExpiry:      l.duration(n, "ack_expiry", rs.AckExpiry, def.AckExpiry, name, false),
			Severity:       l.severity(n, rs.Severity, def.Severity, name),
			Labels:         rs.Labels,
		}
		for k := range rs.Labels {
			if !labelRE.MatchString(k) {
				l.errorf(mapKey(asMap(mapGet(n, "labels")), k), name, "labels: %q is not a valid label name (letters, digits, _)", k)
			}
		}
		// The rule's windowed calls (avg_over, …), numbered as its when
		// and clear are compiled.
		windows := &windowTable{}
		env := sampleEnv
		env.opts = with(sampleEnv.opts, expr.Patch(windowPatch{windows}))
		var rank *rankSpec
		switch rs.Scope {
		case "", ScopeParticipant:
		case ScopeSource:
			r.Scope = engine.PerSource
			windows.source = true
			env = sourceEnv
			env.opts = with(sourceEnv.opts, expr.Patch(aggregatePatch{windows, &rank}))
		default:
			l.errorf(mapGet(n, "scope"), name, "scope: %q is not participant or source", rs.Scope)
		}
		if strings.TrimSpace(rs.When) == "" {
			node := mapGet(n, "when")
			if node == nil {
				node = ruleNodes[i]
			}
			l.errorf(node, name, "when is required: the condition that makes this rule fire")
		} else if c := l.compile(mapGet(n, "when"), rs.When, name, env, "when"); c != nil {
			c.rank = rank
			r.When = c
		}
		if strings.TrimSpace(rs.Clear) != "" {
			if c := l.compile(mapGet(n, "clear"), rs.Clear, name, env, "clear"); c != nil {
				r.Clear = c
			}
		}
		if r.Scope == engine.PerSource {
			// What the aggregates read of each participant's newest
			// sample; at least one number, so count() sees everyone.
			if len(windows.exprs) == 0 {
				windows.index("true", true)
			}
			windows.span = time.Minute
		}
		r.Window = l.compileWindows(windows, mapGet(n, "when"), name)
		if rs.Summary != "" {
			if t := l.template(mapGet(n, "summary"), rs.Summary, &r); t != nil {
				r.Summary = t
			}
		}
		set.rules = append(set.rules, r)
	}
	l.checkRouteLabels(routeWhens, set.rules)
	l.inhibits(spec.Inhibit, seqItems(mapGet(root, "inhibit")), set.rules)
	return set
}

// inhibits checks the file's inhibitions against its rules and hands each
// to its source rule (engine.Rule.Inhibits).
func (l *loader) inhibits(specs []InhibitSpec, nodes []ast.Node, rules []engine.Rule) {
	if len(nodes) != len(specs) {
		return // an alias made a list of another length; positions would lie
	}
	idx := map[string]int{}
	var names []string
	for i, r := range rules {
		if r.Name != "" {
			idx[r.Name] = i
			names = append(names, r.Name)
		}
	}
	rule := func(n ast.Node, key, name, in string) (int, bool) {
		i, ok := idx[name]
		if !ok {
			l.errorf(n, "", "%s", didYouMean(fmt.Sprintf("%s: %s: no rule %q in this file", in, key, name), name, names, ""))
		}
		return i, ok
	}
	for i, sp := range specs {
		n := asMap(nodes[i])
		in := fmt.Sprintf("inhibit[%d]", i)
		src, srcOK := -1, false
		if sp.SourceRule == "" {
			l.errorf(nodes[i], "", "%s: source_rule is required: the rule whose alert folds the others", in)
		} else {
			src, srcOK = rule(mapGet(n, "source_rule"), "source_rule", sp.SourceRule, in)
		}
		if len(sp.TargetRules) == 0 {
			l.errorf(nodes[i], "", "%s: target_rules is required: the rules whose alerts are folded", in)
		}
		good := srcOK
		for j, t := range sp.TargetRules {
			tn := itemAt(mapGet(n, "target_rules"), j)
			if _, ok := rule(tn, "target_rules", t, in); !ok {
				good = false
			} else if t == sp.SourceRule {
				l.errorf(tn, "", "%s: target_rules: %q is the source rule: a rule cannot fold its own alerts", in, t)
				good = false
			}
		}
		match := sp.Match
		if len(match) == 0 {
			match = []string{"source"}
		}
		var equal []string
		for j, m := range match {
			mn := itemAt(mapGet(n, "match"), j)
			switch {
			case m == "source":
			case m == "participant":
				l.errorf(mn, "", "%s: match: participant: a presenter's alert folds other participants' alerts; match on source and labels", in)
				good = false
			case !labelRE.MatchString(m):
				l.errorf(mn, "", "%s: match: %q is neither source nor a label name", in, m)
				good = false
			default:
				equal = append(equal, m)
			}
		}
		if !slices.Contains(match, "source") {
			l.errorf(mapGet(n, "match"), "", "%s: match must include source: an alert in one webinar never explains alerts in another", in)
			good = false
		}
		window := l.duration(n, "window", sp.Window, engine.DefaultInhibitWindow, "", true)
		if good {
			r := &rules[src]
			r.Inhibits = append(r.Inhibits, engine.Inhibition{Targets: sp.TargetRules, Equal: equal, Window: window})
		}
	}
}

// duration parses a Go duration key, or returns def when the key is unset.
// One rule for every duration: never negative; for and keep_firing_for
// may be 0 (fire on the first sample that holds; resolve on the first that
// does not), repeat_interval may not (it would repeat every minute).
func (l *loader) duration(m *ast.MappingNode, key, v string, def time.Duration, rule string, positive bool) time.Duration {
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		l.errorf(mapGet(m, key), rule, "%s: %q is not a duration (use 90s, 2m, 1h)", key, v)
	case positive && d <= 0:
		l.errorf(mapGet(m, key), rule, "%s: %s must be more than 0", key, v)
	case d < 0 && key == "ack_expiry":
		l.errorf(mapGet(m, key), rule, "%s: %s must be 0 or more (0s: an ack holds until the alert resolves)", key, v)
	case d < 0:
		l.errorf(mapGet(m, key), rule, "%s: %s must be 0 or more (0s: at once)", key, v)
	}
	return d
}

func (l *loader) severity(m *ast.MappingNode, v string, def engine.Severity, rule string) engine.Severity {
	switch s := engine.Severity(v); s {
	case "":
		return def
	case engine.SeverityInfo, engine.SeverityWarning, engine.SeverityCritical:
		return s
	}
	l.errorf(mapGet(m, "severity"), rule, "severity: %q is not one of info, warning, critical", v)
	return def
}

// participantFields are the names a route may redact: the participant's
// fields as rules see them.
var participantFields = func() []string {
	var names []string
	t := reflect.TypeFor[engine.Participant]()
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("expr"); tag != "" {
			names = append(names, tag)
		}
	}
	return names
}()
