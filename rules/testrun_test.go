package rules

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// TestExampleRuleTests runs rules.example.test.yaml through the real engine,
// as CI does with `qoswatch test`.
func TestExampleRuleTests(t *testing.T) {
	var out bytes.Buffer
	code := RunTestFiles(context.Background(), &out, "../rules.example.test.yaml")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, &out)
	}
	if want := "../rules.example.test.yaml: 13 tests, 56 expectations against rules.example.yaml: PASS\n"; out.String() != want {
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

// TestSourceRules (issue 13 §3): a scope: source rule through `qoswatch
// test` (one alert for the webinar, its lifecycle, a filter by role, p95),
// and its firing message: the aggregate's value in Explain, and the worst
// participants, worst first.
func TestSourceRules(t *testing.T) {
	var out bytes.Buffer
	if code := RunTestFiles(context.Background(), &out, "testdata/source/source.test.yaml"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, &out)
	}

	set, err := Load("testdata/source/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store := engine.NewMemoryStore()
	eng, err := engine.New(store, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetRules(context.Background(), set.Rules()); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	for m := range 3 {
		var batch []engine.Sample
		for i := range 20 {
			s := engine.NewSample()
			s.Source = engine.Source{Kind: engine.Webinar, ID: "1", Topic: "All-hands"}
			s.Participant = engine.Participant{UserID: fmt.Sprint("a", i), UserName: fmt.Sprint("Attendee ", i), Role: engine.RoleAttendee}
			s.Time = start.Add(time.Duration(m) * time.Minute)
			s.AudioOutput.AvgLoss = 0
			if m > 0 && i < 3 {
				s.AudioOutput.AvgLoss = float64(3 + 2*i) // 3, 5, 7
			}
			s.Aggregate()
			batch = append(batch, s)
		}
		if err := eng.Ingest(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	var fired *engine.Notification
	for _, n := range store.Drain() {
		if n.Kind == engine.KindFiring {
			fired = &n
		}
	}
	if fired == nil || fired.Key.Participant != "" || fired.Source.Topic != "All-hands" {
		t.Fatalf("no firing for the webinar: %+v", fired)
	}
	var terms []string
	for _, tm := range fired.Explain {
		terms = append(terms, tm.String())
	}
	if want := `fraction(audio_output.avg_loss > 2, role == "attendee") = 0.15 > 0.1 ✓`; !slices.Contains(terms, want) {
		t.Errorf("explain %q lacks %q", terms, want)
	}
	var worst []string
	for _, w := range fired.Worst {
		worst = append(worst, fmt.Sprintf("%s %s=%g", w.Name, w.Field, w.Value))
	}
	if want := []string{"Attendee 2 audio_output.avg_loss=7", "Attendee 1 audio_output.avg_loss=5", "Attendee 0 audio_output.avg_loss=3"}; !slices.Equal(worst, want) {
		t.Errorf("worst %q, want %q", worst, want)
	}
}
