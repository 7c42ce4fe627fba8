package rules

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
)

// DefaultTestStart is minute 0 of a rule test, when the file sets no start.
var DefaultTestStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// RunTestFiles runs rule test files (qoswatch test): for each, it loads the
// rules file it names, drives the real engine minute by minute and checks
// every expectation. It writes each failure, with what was expected and
// what came, and a summary line per file. The result is the exit code: 0
// when all pass, 1 otherwise, ExitInterrupted when ctx is done first.
func RunTestFiles(ctx context.Context, w io.Writer, files ...string) int {
	code := 0
	for _, f := range files {
		ok := runTestFile(ctx, w, f)
		if ctx.Err() != nil {
			return ExitInterrupted
		}
		if !ok {
			code = 1
		}
	}
	return code
}

// failure is one failed expectation, positioned in the test file.
type failure struct {
	line, col int
	test      string
	msg       string
}

func runTestFile(ctx context.Context, w io.Writer, path string) bool {
	suite, err := withContext(ctx, path, func() (*testSuite, error) { return loadTestFile(path) })
	if ctx.Err() != nil {
		fmt.Fprintf(w, "%s: interrupted\n", path)
		return false
	}
	if err != nil {
		printErrors(w, err)
		fmt.Fprintf(w, "%s: FAILED: %s\n", path, plural(countErrors(err), "error"))
		return false
	}
	tf := suite.file
	var fails []failure
	checks := 0
	for i := range tf.Tests {
		if ctx.Err() != nil {
			fmt.Fprintf(w, "%s: interrupted\n", path)
			return false
		}
		n, fs := runTestCase(ctx, suite, &tf.Tests[i], suite.node(i))
		checks += n
		fails = append(fails, fs...)
	}
	for _, f := range fails {
		fmt.Fprintf(w, "%s:%d:%d: test %q: %s\n", path, f.line, f.col, f.test, f.msg)
	}
	status := "PASS"
	if len(fails) > 0 {
		status = fmt.Sprintf("FAIL (%d failed)", len(fails))
	}
	fmt.Fprintf(w, "%s: %d tests, %d expectations against %s: %s\n", path, len(tf.Tests), checks, tf.Rules, status)
	return len(fails) == 0
}

type testParticipant struct {
	p      engine.Participant
	series []func(*engine.Sample, int) bool // sets minute m; false when missing
	aggs   []func(*engine.Sample, int) bool // explicit aggregates, set after Aggregate
	n      int                              // minutes of data
}

// runTestCase drives the engine through one scenario and returns how many
// checks it made and the failures.
func runTestCase(ctx context.Context, suite *testSuite, tc *TestCase, node ast.Node) (int, []failure) {
	set, tf, start, stale := suite.set, suite.file, suite.start, suite.stale
	fail := func(n ast.Node, format string, args ...any) failure {
		if n == nil {
			n = node
		}
		line, col := nodePos(n)
		return failure{line: line, col: col, test: tc.Name, msg: fmt.Sprintf(format, args...)}
	}
	src := tf.Source
	if tc.Source != nil {
		src = *tc.Source
	}
	if src.ID == "" {
		src.ID = "test"
	}
	if src.Kind == "" {
		src.Kind = engine.Webinar
	}
	src.Live = true

	// The participants and their series.
	var parts []*testParticipant
	last := 0
	for _, tp := range tc.Participants {
		p := &testParticipant{}
		for _, k := range sortedKeys(tp.Attributes) {
			if err := setParticipant(&p.p, k, tp.Attributes[k]); err != nil {
				return 0, []failure{fail(nil, "participant: %v", err)}
			}
		}
		if p.p.UserID == "" {
			return 0, []failure{fail(nil, "participant %q: user_id is required", p.p.UserName)}
		}
		for _, field := range sortedKeys(tp.Series) {
			set, aggregate, err := sampleField(field)
			if err != nil {
				return 0, []failure{fail(nil, "participant %s: series: %v", p.p.UserID, err)}
			}
			vals, err := parseSeries(tp.Series[field])
			if err != nil {
				return 0, []failure{fail(nil, "participant %s: series %s: %v", p.p.UserID, field, err)}
			}
			f := func(s *engine.Sample, m int) bool {
				if m >= len(vals) || math.IsNaN(vals[m]) {
					return false
				}
				set(s, vals[m])
				return true
			}
			if aggregate {
				p.aggs = append(p.aggs, f)
			} else {
				p.series = append(p.series, f)
			}
			p.n = max(p.n, len(vals))
		}
		last = max(last, p.n-1)
		parts = append(parts, p)
	}
	for _, e := range tc.Expect {
		last = max(last, e.At)
	}

	// The real engine, on a memory store, its clock the sample clock.
	now := start
	clock := fakeclock.NewManual(start)
	store := engine.NewMemoryStore()
	eng, err := engine.New(store, engine.Options{Clock: clock, StaleAfter: stale})
	if err != nil {
		return 0, []failure{fail(nil, "engine: %v", err)}
	}
	if err := eng.SetRules(ctx, set.Rules()); err != nil {
		return 0, []failure{fail(nil, "engine rules: %v", err)}
	}

	expectNodes := seqItems(mapGet(asMap(node), "expect"))
	var fails []failure
	checks := 0
	for m := 0; m <= last; m++ {
		now = start.Add(time.Duration(m) * time.Minute)
		clock.Set(now)
		var batch []engine.Sample
		for _, p := range parts {
			s := engine.NewSample()
			s.Source, s.Participant, s.Time = src, p.p, now
			present := false // some series has a value this minute
			for _, f := range p.series {
				present = f(&s, m) || present
			}
			s.Aggregate()
			for _, f := range p.aggs {
				present = f(&s, m) || present
			}
			if present { // a minute where every series is missing sends no sample
				batch = append(batch, s)
			}
		}
		if len(batch) > 0 {
			if err := eng.Ingest(ctx, batch); err != nil {
				return checks, append(fails, fail(nil, "minute %d: ingest: %v", m, err))
			}
		}
		if tc.EndAt != nil && *tc.EndAt == m {
			if err := eng.EndSource(ctx, src, now); err != nil {
				return checks, append(fails, fail(nil, "minute %d: end: %v", m, err))
			}
		}
		sent := store.Drain()
		for i, e := range tc.Expect {
			if e.At != m {
				continue
			}
			var en ast.Node
			if i < len(expectNodes) {
				en = expectNodes[i]
			}
			if e.Alerts != nil {
				checks++
				if diff := diffAlerts(*e.Alerts, eng.Alerts(), now); diff != "" {
					fails = append(fails, fail(en, "minute %d: alerts differ\n%s", m, diff))
				}
			}
			if e.Notify != nil {
				checks++
				if diff := diffNotifications(set, *e.Notify, sent); diff != "" {
					fails = append(fails, fail(en, "minute %d: notifications differ\n%s", m, diff))
				}
			}
		}
	}
	return checks, fails
}

// diffAlerts compares the expected alerts with the engine's: those pending,
// firing or resolving, and those resolved at this minute.
func diffAlerts(want []TestAlert, got []engine.Alert, now time.Time) string {
	var w, g []string
	for _, a := range want {
		s := fmt.Sprintf("%s %s %s", a.Rule, a.Participant, a.State)
		if a.InhibitedBy != "" {
			s += " (inhibited by " + a.InhibitedBy + ")"
		}
		w = append(w, s)
	}
	for _, a := range got {
		if a.State == engine.StateInactive || (a.State == engine.StateResolved && !a.ResolvedAt.Equal(now)) {
			continue
		}
		s := fmt.Sprintf("%s %s %s", a.Key.Rule, a.Key.Participant, a.State)
		if a.State == engine.StateResolved {
			s += " (" + string(a.Reason) + ")"
		}
		if a.InhibitedBy != nil {
			s += " (inhibited by " + a.InhibitedBy.Rule + "/" + a.InhibitedBy.Participant + ")"
		}
		g = append(g, s)
	}
	return diffLists(w, g, func(wi, gi int) bool {
		// "resolved" matches "resolved (recovered)", "firing" matches
		// "firing (inhibited by …)": what the test leaves out is not
		// compared.
		return w[wi] == g[gi] || strings.HasPrefix(g[gi], w[wi]+" (")
	})
}

func diffNotifications(set *Set, want []TestNotify, got []engine.Notification) string {
	var w, g []string
	for _, n := range want {
		w = append(w, n.String())
	}
	gotN := make([]TestNotify, len(got))
	for i := range got {
		n := &got[i]
		route := set.Route(n)
		gotN[i] = TestNotify{Kind: string(n.Kind), Rule: n.Key.Rule, Participant: n.Key.Participant,
			Reason: string(n.Reason), Channel: route.Channel, Mention: route.Mention, Summary: n.Summary}
		if n.Folded > 0 {
			gotN[i].Folded = &n.Folded
		}
		g = append(g, gotN[i].String())
	}
	return diffLists(w, g, func(wi, gi int) bool {
		// Only what the test names is compared: kind, rule, participant,
		// and reason, channel and summary when given.
		a, b := want[wi], gotN[gi]
		return a.Kind == b.Kind && a.Rule == b.Rule && a.Participant == b.Participant &&
			(a.Reason == "" || a.Reason == b.Reason) &&
			(a.Channel == "" || a.Channel == b.Channel) &&
			(a.Mention == "" || a.Mention == b.Mention) &&
			(a.Summary == "" || a.Summary == b.Summary) &&
			(a.Folded == nil || *a.Folded == deref0(b.Folded))
	})
}

func (n TestNotify) String() string {
	s := fmt.Sprintf("%s %s %s", n.Kind, n.Rule, n.Participant)
	if n.Reason != "" {
		s += " reason=" + n.Reason
	}
	if n.Channel != "" {
		s += " channel=" + n.Channel
	}
	if n.Mention != "" {
		s += " mention=" + n.Mention
	}
	if n.Summary != "" {
		s += fmt.Sprintf(" summary=%q", n.Summary)
	}
	if n.Folded != nil {
		s += fmt.Sprintf(" folded=%d", *n.Folded)
	}
	return s
}

func deref0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// diffLists matches want against got (in any order) and describes what is
// missing and what is extra; "" when they match.
func diffLists(want, got []string, match func(wi, gi int) bool) string {
	used := make([]bool, len(got))
	ok := true
	for wi := range want {
		found := false
		for gi := range got {
			if !used[gi] && match(wi, gi) {
				used[gi], found = true, true
				break
			}
		}
		ok = ok && found
	}
	if ok && !slices.Contains(used, false) {
		return ""
	}
	var b strings.Builder
	list := func(label string, items []string) {
		if len(items) == 0 {
			fmt.Fprintf(&b, "    %s (none)\n", label)
		}
		for _, it := range items {
			fmt.Fprintf(&b, "    %s %s\n", label, it)
		}
	}
	list("expected:", want)
	list("     got:", got)
	return strings.TrimRight(b.String(), "\n")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
