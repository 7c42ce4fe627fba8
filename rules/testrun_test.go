package rules

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExampleRuleTests runs rules.example.test.yaml through the real engine,
// as CI does with `qoswatch test`.
func TestExampleRuleTests(t *testing.T) {
	var out bytes.Buffer
	code := RunTestFiles(context.Background(), &out, "../rules.example.test.yaml")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, &out)
	}
	if want := "../rules.example.test.yaml: 12 tests, 53 expectations against rules.example.yaml: PASS\n"; out.String() != want {
		t.Errorf("output\n%s\nwant\n%s", &out, want)
	}
}

// TestRuleTestFailures runs test files whose expectations are wrong or
// malformed: exit 1, and each failure says what was expected and what came
// (golden NAME.out).
func TestRuleTestFailures(t *testing.T) {
	files, _ := filepath.Glob("testdata/ruletests/*.test.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".test.yaml")
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if code := RunTestFiles(context.Background(), &out, path); code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			golden := strings.TrimSuffix(path, ".test.yaml") + ".out"
			if *update {
				os.WriteFile(golden, out.Bytes(), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Errorf("output\n%s\nwant\n%s", &out, want)
			}
		})
	}
}

func TestParseSeries(t *testing.T) {
	got, err := parseSeries("0 3.5x3 _ _x2 -70")
	if err != nil {
		t.Fatal(err)
	}
	want := "[0 3.5 3.5 3.5 NaN NaN NaN -70]"
	if s := strings.Join(strings.Fields(strings.Trim(fmtFloats(got), "[]")), " "); "["+s+"]" != want {
		t.Errorf("got %v, want %s", got, want)
	}
	for _, bad := range []string{"1 2 three", "3x0", "3xx"} {
		if _, err := parseSeries(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func fmtFloats(f []float64) string {
	var b strings.Builder
	b.WriteString("[")
	for i, v := range f {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(formatValue(v))
	}
	b.WriteString("]")
	return strings.ReplaceAll(b.String(), "missing", "NaN")
}

// TestWrongKindOfFile: a rules file given to `qoswatch test`, or a test
// file given to `qoswatch check`, says so and names the right command.
func TestWrongKindOfFile(t *testing.T) {
	var out bytes.Buffer
	if code := RunTestFiles(context.Background(), &out, "../rules.example.yaml"); code != 1 ||
		!strings.Contains(out.String(), "../rules.example.yaml:11:1: this is a rules file, not a rule test file: check it with `qoswatch check ../rules.example.yaml`") ||
		strings.Count(out.String(), "\n") != 4 {
		t.Errorf("test on a rules file = %d:\n%s", code, &out)
	}
	out.Reset()
	if code := Check(context.Background(), &out, "../rules.example.test.yaml"); code != 1 ||
		!strings.Contains(out.String(), "this is a rule test file, not a rules file: run it with `qoswatch test ../rules.example.test.yaml`") ||
		strings.Count(out.String(), "\n") != 4 {
		t.Errorf("check on a test file = %d:\n%s", code, &out)
	}
}

// TestWindowedFunctions (issue 13 §3): avg_over, max_over, min_over and
// count_over through `qoswatch test` and the real engine: the window ends
// with the current minute, a missing minute is skipped, a minute leaves
// the window when it is older than the span.
func TestWindowedFunctions(t *testing.T) {
	var out bytes.Buffer
	if code := RunTestFiles(context.Background(), &out, "testdata/windows/windows.test.yaml"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, &out)
	}
	t.Log(out.String())
}
