package rules

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/qoswatch/qoswatch/engine"
)

// The rule test file's loader: the rules file's quality (every problem at
// once, file:line:col, "did you mean") for test files, with the checks
// that need the rules file under test (rule names) done at load too.

// testSuite is a loaded test file and the rules it tests.
type testSuite struct {
	file  *TestFile
	set   *Set
	nodes []ast.Node // the tests' nodes, for the positions of failures
	start time.Time
	stale time.Duration
}

// node is test i's node, or nil (a test list reached through an alias).
func (s *testSuite) node(i int) ast.Node {
	if i < len(s.nodes) {
		return s.nodes[i]
	}
	return nil
}

// loadTestFile reads and checks a test file and loads the rules file it
// names. The error is an Errors: the test file's problems, or the rules
// file's (with that file's name).
func loadTestFile(path string) (*testSuite, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	l := &loader{file: path, lines: strings.Split(string(data), "\n"), testFile: true}
	suite := l.parseTestFile(data)
	if suite == nil || suite.file.Rules == "" {
		l.errs.sort()
		return nil, l.errs
	}
	// The rules under test load even when the test file has other
	// problems, so that every problem shows at once.
	rulesPath := suite.file.Rules
	if !filepath.IsAbs(rulesPath) {
		rulesPath = filepath.Join(filepath.Dir(path), rulesPath)
	}
	var rulesErr Errors
	if suite.set, err = Load(rulesPath); err != nil {
		errors.As(err, &rulesErr)
	} else {
		l.vetRuleNames(suite)
	}
	l.errs.sort()
	if errs := append(l.errs, rulesErr...); len(errs) > 0 {
		return nil, errs
	}
	return suite, nil
}

// isRulesFile tells a rules file by its shape: `rules` is a list (in a
// test file it names the rules file), or it has routes or defaults.
func isRulesFile(m *ast.MappingNode) bool {
	r := unwrap(mapGet(m, "rules"))
	return (r != nil && r.Type() == ast.SequenceType) || mapEntry(m, "routes") != nil || mapEntry(m, "defaults") != nil
}

// isTestFile tells a rule test file: `rules` is a file name, or it has
// tests.
func isTestFile(m *ast.MappingNode) bool {
	r := unwrap(mapGet(m, "rules"))
	return (r != nil && r.Type() == ast.StringType) || mapEntry(m, "tests") != nil
}

func (l *loader) parseTestFile(data []byte) *testSuite {
	f := l.parseYAML(data)
	if f == nil {
		return nil
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil || unwrap(f.Docs[0].Body).Type() == ast.NullType {
		l.errorAt(0, 0, "", "the file is empty: it needs rules (the rules file under test) and tests")
		return nil
	}
	if len(f.Docs) > 1 {
		l.errorf(f.Docs[1].Body, "", "only one YAML document is allowed")
	}
	root := unwrap(f.Docs[0].Body)
	m, ok := root.(*ast.MappingNode)
	if !ok {
		l.errorf(root, "", "expected a mapping with rules and tests, got %s", kindName(root))
		return nil
	}
	if isRulesFile(m) && mapEntry(m, "tests") == nil {
		l.errorf(m, "", "this is a rules file, not a rule test file: check it with `qoswatch check %s`", l.file)
		return nil
	}

	// The shape: every unknown key and wrong type, each test's named.
	st := reflect.TypeFor[TestFile]()
	known := yamlKeys(st)
	good := true
	for _, mv := range m.Values {
		k := keyString(mv)
		i := slices.Index(known, k)
		switch {
		case k == "tests":
			v := unwrap(mv.Value)
			if v.Type() != ast.SequenceType && v.Type() != ast.NullType {
				l.errorf(v, "", "tests: expected a list, got %s", kindName(v))
				good = false
			}
			for j, item := range seqItems(v) {
				good = l.checkShape(item, reflect.TypeFor[TestCase](), "", testName(item, j)) && good
			}
		case i < 0:
			msg := didYouMean(fmt.Sprintf("unknown key %q", k), k, known, "known keys: "+strings.Join(known, ", "))
			l.errorf(mv.Key, "", "%s", msg)
			good = false
		default:
			good = l.checkShape(mv.Value, st.Field(i).Type, k, "") && good
		}
	}
	if !good {
		return nil
	}
	var tf TestFile
	if err := yaml.NodeToValue(m, &tf, decodeOptions()...); err != nil {
		l.yamlError(err, "")
		return nil
	}
	suite := &testSuite{file: &tf, nodes: seqItems(mapGet(m, "tests")), start: DefaultTestStart}
	l.vetTestFile(suite, m)
	return suite
}

// testName is how messages name test i: its name, or tests[i].
func testName(n ast.Node, i int) string {
	if name := scalar(mapGet(asMap(n), "name")); name != "" {
		return name
	}
	return fmt.Sprintf("tests[%d]", i)
}

// vetTestFile checks the values the shape check cannot: times, durations,
// kinds, states, and that expectations name participants of their test.
func (l *loader) vetTestFile(s *testSuite, m *ast.MappingNode) {
	tf := s.file
	if tf.Rules == "" {
		l.errorf(mapKey(m, "rules"), "", "rules: the rules file under test is required (rules: rules.yaml)")
	}
	if len(tf.Tests) == 0 {
		l.errorf(mapKey(m, "tests"), "", "tests: the file has no tests")
	}
	if tf.Start != "" {
		t, err := time.Parse(time.RFC3339, tf.Start)
		if err != nil {
			l.errorf(mapGet(m, "start"), "", "start: %q is not an RFC 3339 time (2026-03-02T15:00:00Z)", tf.Start)
		}
		s.start = t
	}
	if tf.StaleAfter != "" {
		d, err := time.ParseDuration(tf.StaleAfter)
		if err != nil || d <= 0 {
			l.errorf(mapGet(m, "stale_after"), "", "stale_after: %q is not a duration of more than 0 (5m)", tf.StaleAfter)
		}
		s.stale = d
	}
	l.vetSource(&tf.Source, asMap(mapGet(m, "source")), "")
	for i := range tf.Tests {
		tc := &tf.Tests[i]
		n := asMap(s.node(i))
		name := testName(n, i)
		if tc.Source != nil {
			l.vetSource(tc.Source, asMap(mapGet(n, "source")), name)
		}
		ids := map[string]bool{}
		for j, p := range tc.Participants {
			id := p.Attributes["user_id"]
			if id == "" {
				l.errorf(itemAt(mapGet(n, "participants"), j), name, "participants[%d]: user_id is required: expectations name participants by it", j)
			}
			ids[id] = true
		}
		if tc.EndAt != nil && (*tc.EndAt < 0 || *tc.EndAt >= MaxTestMinutes) {
			l.errorf(mapGet(n, "end_at"), name, "end_at: a minute from 0 to %d (a week)", MaxTestMinutes-1)
		}
		for j, e := range tc.Expect {
			en := asMap(itemAt(mapGet(n, "expect"), j))
			if e.At < 0 || e.At >= MaxTestMinutes {
				l.errorf(mapGet(en, "at"), name, "expect: at: a minute from 0 to %d (a week)", MaxTestMinutes-1)
			}
			for k, a := range deref(e.Alerts) {
				an := asMap(itemAt(mapGet(en, "alerts"), k))
				l.vetOneOf(an, "state", a.State, name, "pending", "firing", "resolving", "resolved")
				l.vetParticipant(an, a.Participant, ids, name)
				if a.InhibitedBy != "" {
					if _, p, ok := strings.Cut(a.InhibitedBy, "/"); !ok || !ids[p] {
						l.errorf(mapGet(an, "inhibited_by"), name, "inhibited_by: %q is not rule/participant of this test (speaker-degraded/host-1)", a.InhibitedBy)
					}
				}
			}
			for k, x := range deref(e.Notify) {
				xn := asMap(itemAt(mapGet(en, "notifications"), k))
				l.vetOneOf(xn, "kind", x.Kind, name, "firing", "repeat", "resolved")
				if x.Reason != "" {
					l.vetOneOf(xn, "reason", x.Reason, name, "recovered", "left", "stale", "ended", "rule_removed")
				}
				l.vetParticipant(xn, x.Participant, ids, name)
			}
		}
	}
}

func deref[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

func (l *loader) vetSource(src *engine.Source, n *ast.MappingNode, test string) {
	if src.Kind != "" && src.Kind != engine.Webinar && src.Kind != engine.Meeting {
		l.errorf(mapGet(n, "kind"), test, "source: kind %q is not webinar or meeting", src.Kind)
	}
}

// vetOneOf checks that key's value is one of the words, with a "did you
// mean" when it is close to one.
func (l *loader) vetOneOf(n *ast.MappingNode, key, v, test string, words ...string) {
	if slices.Contains(words, v) {
		return
	}
	node := mapGet(n, key)
	if node == nil {
		l.errorf(n, test, "%s is required: one of %s", key, strings.Join(words, ", "))
		return
	}
	msg := fmt.Sprintf("%s: %q is not one of %s", key, v, strings.Join(words, ", "))
	if c := closest(v, words); c != "" {
		msg = fmt.Sprintf("%s: %q is not one of %s (did you mean %q?)", key, v, strings.Join(words, ", "), c)
	}
	l.errorf(node, test, "%s", msg)
}

func (l *loader) vetParticipant(n *ast.MappingNode, id string, ids map[string]bool, test string) {
	if ids[id] {
		return
	}
	node := mapGet(n, "participant")
	if node == nil {
		return // a source rule's alert; vetRuleNames checks the rule is one
	}
	known := make([]string, 0, len(ids))
	for k := range ids {
		known = append(known, k)
	}
	slices.Sort(known)
	msg := fmt.Sprintf("participant: no participant %q in this test (its participants: %s)", id, strings.Join(known, ", "))
	if c := closest(id, known); c != "" {
		msg = fmt.Sprintf("participant: no participant %q in this test (did you mean %q?)", id, c)
	}
	l.errorf(node, test, "%s", msg)
}

// vetRuleNames checks that every expectation names a rule of the rules
// file under test.
func (l *loader) vetRuleNames(s *testSuite) {
	var names []string
	for _, r := range s.set.Rules() {
		names = append(names, r.Name)
	}
	check := func(n *ast.MappingNode, rule, test string) {
		if r, ok := s.set.Rule(rule); ok {
			switch p := scalar(mapGet(n, "participant")); {
			case r.Scope == engine.PerSource && p != "":
				l.errorf(mapGet(n, "participant"), test, "participant: %s is a scope: source rule: its alert is the webinar's, leave participant out", rule)
			case r.Scope != engine.PerSource && mapGet(n, "participant") == nil:
				l.errorf(n, test, "participant is required: the user_id of a participant of this test (%s is a participant's rule)", rule)
			}
			return
		}
		msg := didYouMean(fmt.Sprintf("rule: no rule %q in %s", rule, s.file.Rules), rule, names, "")
		node := ast.Node(n)
		if v := mapGet(n, "rule"); v != nil {
			node = v
		}
		l.errorf(node, test, "%s", msg)
	}
	for i, tc := range s.file.Tests {
		n := asMap(s.node(i))
		name := testName(n, i)
		for j, e := range tc.Expect {
			en := asMap(itemAt(mapGet(n, "expect"), j))
			for k, a := range deref(e.Alerts) {
				an := asMap(itemAt(mapGet(en, "alerts"), k))
				check(an, a.Rule, name)
				if r, _, ok := strings.Cut(a.InhibitedBy, "/"); ok && !slices.Contains(names, r) {
					l.errorf(mapGet(an, "inhibited_by"), name, "%s", didYouMean(fmt.Sprintf("inhibited_by: no rule %q in %s", r, s.file.Rules), r, names, ""))
				}
			}
			for k, x := range deref(e.Notify) {
				check(asMap(itemAt(mapGet(en, "notifications"), k)), x.Rule, name)
			}
		}
	}
}

// checkParticipant checks one participant of a test: a flat mapping of
// participant fields (as rules name them) and `series`, a mapping of
// sample number fields to series.
func (l *loader) checkParticipant(n ast.Node, key, test string) bool {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		l.errorf(n, test, "participants: expected a mapping (user_id, user_name, …, series), got %s", kindName(n))
		return false
	}
	good := true
	unknown := func(k string) string {
		return didYouMean(fmt.Sprintf("participants: %q is not a participant field", k), k,
			append(slices.Clone(participantFields), "series"), "one of "+strings.Join(participantFields, ", ")+", or series")
	}
	for _, mv := range m.Values {
		if keyString(mv) == "series" {
			good = l.checkSeries(mv.Value, test) && good
			continue
		}
		k, v, ok := l.scalarOf(mv, test, "participants", participantFields, unknown, "a value")
		if ok {
			if err := setParticipant(&engine.Participant{}, k, v); err != nil {
				l.errorf(mv.Value, test, "participants: %v", err)
				ok = false
			}
		}
		good = ok && good
	}
	return good
}

// scalarOf returns the key of mv and the scalar it holds when the key is
// one of fields and the value a scalar; otherwise it reports which (unknown
// says what a key outside fields is not, want what a value looks like, for
// the part of the file named where) and ok is false.
func (l *loader) scalarOf(mv *ast.MappingValueNode, test, where string, fields []string, unknown func(k string) string, want string) (k, v string, ok bool) {
	k = keyString(mv)
	if !slices.Contains(fields, k) {
		l.errorf(mv.Key, test, "%s", unknown(k))
		return k, "", false
	}
	if !isScalar(mv.Value) {
		l.errorf(mv.Value, test, "%s: %s: expected %s, got %s", where, k, want, kindName(mv.Value))
		return k, "", false
	}
	return k, scalar(mv.Value), true
}

func (l *loader) checkSeries(n ast.Node, test string) bool {
	m, ok := unwrap(n).(*ast.MappingNode)
	if !ok {
		l.errorf(n, test, "series: expected a mapping of sample field: \"values\" (audio_input.avg_loss: \"0 3.5x4\"), got %s", kindName(n))
		return false
	}
	good := true
	fields := numberFields()
	unknown := func(k string) string {
		return didYouMean(fmt.Sprintf("series: %q is not a number field of the sample", k), k, fields, "")
	}
	for _, mv := range m.Values {
		k, v, ok := l.scalarOf(mv, test, "series", fields, unknown, `values a minute ("0 3.5x4 _")`)
		if ok {
			if _, err := parseSeries(v); err != nil {
				l.errorf(mv.Value, test, "series: %s: %v", k, err)
				ok = false
			}
		}
		good = ok && good
	}
	return good
}

// numberFields lists every number field of the sample by its rule name
// (audio_input.avg_loss, latency, …): what a series may set.
func numberFields() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := prefix + f.Tag.Get("expr")
			switch f.Type.Kind() {
			case reflect.Float64:
				out = append(out, name)
			case reflect.Struct:
				if f.Type != reflect.TypeFor[time.Time]() {
					walk(f.Type, name+".")
				}
			}
		}
	}
	walk(reflect.TypeFor[engine.Sample](), "")
	return out
}
