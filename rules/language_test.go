package rules

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qoswatch/qoswatch/engine"
)

// oneRule is a rules file with one rule whose when is src, quoted.
func oneRule(src string) string {
	return "rules:\n  - name: r\n    when: '" + strings.ReplaceAll(src, "'", "''") + "'\n"
}

// TestLanguageRefuses: what could allocate or run without bound is
// refused at load, at its position, with the reason. The first two are
// the attacks of issue 15 (an OOM and a quadratic reduce).
func TestLanguageRefuses(t *testing.T) {
	tests := []struct {
		when string
		at   string // the expression text the error points at
		why  string
	}{
		{`audio_input.avg_loss > 2 && len(repeat(repeat("x", 999999), 999999)) > 0`, `repeat(repeat`, "repeat() is not allowed in rules: it builds a string or a list of any size"},
		{`reduce(1..100000, #acc + "xxxxxxxx", "") != "" && latency > 1`, `reduce(`, "reduce() is not allowed in rules: it works over lists"},
		{`len(map(1..1000000, "x")) > 0`, `map(`, "map() is not allowed in rules"},
		{`len(filter(["a"], # == "a")) > 0`, `filter(`, "filter() is not allowed in rules"},
		{`len(1..1000000) > 0`, `1..`, "the range operator .. is not allowed in rules: it builds a list of any length"},
		{`len(join(["a", "b"], participant.user_name)) > 0`, `join(`, "join() is not allowed"},
		{`len(replace(participant.user_name, "a", "aaaaaaaa")) > 0`, `replace(`, "replace() is not allowed"},
		{`now() > time`, `now(`, "now() is not allowed in rules: it reads the wall clock"},
		{`int(participant.version) > 5`, `int(`, "int() is not allowed in rules: it fails on a string"},
		{`toJSON(participant) != ""`, `toJSON(`, "toJSON() is not allowed"},
		{`bitnot(1) > 0`, `bitnot(`, "bitnot() is not allowed in rules: it is not part of the rules language (its functions: known, abs,"},
		{`let x = participant.user_name + participant.user_name; x != ""`, `x =`, "let is not allowed in rules: a variable lets a value double at every step"},
		{`source.Key() != ""`, `Key()`, "calling a method is not allowed in rules"},
		{`participant.user_name matches participant.location`, `participant.location`, "matches takes a pattern written in the rule"},
		{`any([1, 2], any([3, 4], # > 1))`, `any([3`, "a predicate inside any() is not allowed in rules: the work would multiply"},
		{`any(["a"], any(["b"], true)) && latency > 1`, `any(["b"`, "a predicate inside any()"},
		{`all(participant.user_name, # == "a")`, `participant.user_name`, `all() takes a list written in the rule, like all(["host", "panelist"], participant.role == #)`},
		{`{"a": 1}.a > 0`, `{`, "a map literal is not allowed in rules"},
		{`latency > 1; latency > 2`, `latency > 1;`, "; is not allowed in rules: a rule is one condition"},
		{strings.Repeat("latency + ", MaxExprNodes/2) + "1 > 0", "", fmt.Sprintf("the expression has more than %d parts", MaxExprNodes)},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			file := oneRule(tt.when)
			_, err := Parse("r.yaml", []byte(file))
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("got %v, want one error", err)
			}
			if !strings.Contains(es[0].Msg, tt.why) {
				t.Errorf("error %q, want it to say %q", es[0].Msg, tt.why)
			}
			line := strings.Split(file, "\n")[es[0].Line-1]
			if tt.at != "" && (es[0].Line != 3 || !strings.HasPrefix(line[es[0].Column-1:], tt.at)) {
				t.Errorf("error at %d:%d (%q), want at %q", es[0].Line, es[0].Column, line[min(es[0].Column-1, len(line)):], tt.at)
			}
		})
	}
}

// TestLanguageAllows: what a rule author needs still compiles and gives
// the answer a person expects.
func TestLanguageAllows(t *testing.T) {
	s := sample(func(s *engine.Sample) {
		s.AudioInput.AvgLoss, s.AudioInput.Latency = 3.5, 160
		s.Participant.NetworkType, s.Participant.Version = "Wifi", "6.0.2"
	})
	for _, tt := range []struct {
		when string
		want bool
	}{
		{`audio_input.avg_loss * 2 > 3 && latency - 10 >= 150 && latency / 2 < 100 && 2 ** 3 == 8`, true},
		{`abs(-latency) == 160 && ceil(3.2) == 4 && floor(3.8) == 3 && round(3.5) == 4 && max(latency, 200) == 200 && min(1, 2) == 1`, true},
		{`len(participant.user_name) == 8 && lower(participant.user_name) == "jane doe" && upper(participant.network_type) == "WIFI"`, true},
		{`trim(" a ") == "a" && trimPrefix(participant.version, "6.") == "0.2" && trimSuffix("a.b", ".b") == "a"`, true},
		{`hasPrefix(participant.user_name, "Jane") && hasSuffix(participant.user_name, "Doe") && indexOf(participant.user_name, "Doe") == 5 && lastIndexOf("aa", "a") == 1`, true},
		{`participant.user_name matches "^Jane" && participant.user_name contains "ne D" && participant.user_name endsWith "Doe"`, true},
		{`any(["Wifi", "Cellular"], participant.network_type startsWith #) && latency > 1`, true},
		{`all([1, 2, 3], # < latency) && none(["host"], participant.role == #) && one([1, 2], # == 2)`, true},
		{`participant.role in ["host", "panelist"] ? latency > 100 : latency > 150`, true},
		{`string(source.kind) == "webinar" && source.kind != "meeting"`, true},
		{`!known(video_input.frame_rate) && not (latency < 100) && (participant.device ?? "x") == ""`, true},
		{`participant.user_name + "!" == "Jane Doe!" && participant.user_name[0:4] == "Jane"`, true},
	} {
		set, err := Parse("r.yaml", []byte(oneRule(tt.when)))
		if err != nil {
			t.Errorf("%s: %v", tt.when, err)
			continue
		}
		got, err := set.Rules()[0].When.Eval(s)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %v, %v; want %v", tt.when, got, err, tt.want)
		}
	}
}

// TestEvalBudget: a rule that passes check but allocates too much in one
// evaluation fails with ErrBudget instead of growing without bound; the
// other rules keep their answers, and explain shows the error.
func TestEvalBudget(t *testing.T) {
	// Each of 300 elements builds a list of 300: 90,000 list items.
	list := "[" + strings.Repeat("1, ", 299) + "1]"
	inner := "[" + strings.Repeat("#, ", 299) + "#]"
	when := "any(" + list + ", len(" + inner + ") == 0) || latency > 150"
	set, err := Parse("r.yaml", []byte(oneRule(when)+"  - name: ok\n    when: latency > 150\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := sample(func(s *engine.Sample) { s.AudioInput.Latency = 160 })
	_, err = set.Rules()[0].When.Eval(s)
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("Eval error = %v, want ErrBudget", err)
	}
	if !strings.Contains(err.Error(), "any([1, 1,") {
		t.Errorf("the error does not name the expression: %.80s", err)
	}
	if ok, err := set.Rules()[1].When.Eval(s); !ok || err != nil {
		t.Errorf("the other rule: %v, %v", ok, err)
	}
	terms := set.Rules()[0].When.Explain(s)
	if len(terms) != 2 || !strings.HasPrefix(terms[0].Value, "error: ") || !strings.Contains(terms[0].Value, ErrBudget.Error()) {
		t.Errorf("explain: %v", terms)
	}
}

// TestExplainPredicate: a predicate loads and explains as one term (the
// terms inside it read #, which has no value on its own); issue 15's rule.
func TestExplainPredicate(t *testing.T) {
	set := mustParse(t, oneRule(`any([1,2,3], # > 2) && latency > 1 && any(["Wifi"], participant.network_type == #)`))
	s := sample(func(s *engine.Sample) { s.AudioInput.Latency = 160; s.Participant.NetworkType = "Wired" })
	var got []string
	for _, term := range set.Rules()[0].When.Explain(s) {
		got = append(got, term.String())
	}
	want := []string{
		`any([1, 2, 3], # > 2) = true is true ✓`,
		`latency = 160 > 1 ✓`,
		`any(["Wifi"], participant.network_type == #) = false is true ✗`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNoPackageImportsUnsafe: no package of the module imports unsafe
// (rules evaluates with expr's VM; issue 10).
func TestNoPackageImportsUnsafe(t *testing.T) {
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		n++
		for _, imp := range f.Imports {
			if imp.Path.Value == `"unsafe"` {
				t.Errorf("%s imports unsafe", path)
			}
		}
		return nil
	})
	if err != nil || n < 50 {
		t.Fatalf("walked %d files: %v", n, err)
	}
}
