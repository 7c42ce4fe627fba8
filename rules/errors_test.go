package rules

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files (testdata/bad/*.err, schema.json)")

// TestBadFiles loads every file of testdata/bad and compares all its
// errors with the golden NAME.err next to it: message, file, line, column.
func TestBadFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			set, err := Load(path)
			if err == nil {
				t.Fatalf("loaded %d rules, want an error", len(set.Rules()))
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, want Errors: %v", err, err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(path, ".yaml") + ".err"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if got != string(want) {
				t.Errorf("errors differ\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// TestErrorPositions checks that each error's line:column points at the
// text a person must fix, read from the file itself.
func TestErrorPositions(t *testing.T) {
	tests := []struct {
		file string
		at   []string // the source text at each error's position, in order
	}{
		{"unknown-key", []string{"sevrity: critical"}},
		{"unknown-top-key", []string{"default:"}},
		{"wrong-type", []string{"[support]"}},
		{"bad-duration", []string{"2 minutes"}},
		{"negative-duration", []string{"-1h"}},
		{"negative-for", []string{"-1m"}},
		{"unknown-severity", []string{"urgent"}},
		{"duplicate-name", []string{"choppy-audio\n    when: audio_output"}},
		{"malformed-name", []string{"Choppy Audio"}},
		{"missing-name", []string{"description: no name"}},
		{"missing-when", []string{"name: choppy-audio"}},
		{"expr-unknown-field", []string{"lantecy > 150"}},
		{"expr-syntax", []string{"&\"\n"}}, // expr puts EOF on the last character
		{"expr-number-vs-string", []string{`> "150"`}},
		{"expr-string-vs-number", []string{"== 1"}},
		{"expr-unknown-function", []string{"present(latency)"}},
		{"expr-nil", []string{"== nil"}},
		{"expr-in-mixed", []string{"2]"}},
		{"expr-block", []string{"avg_los > 1"}}, // line 2 of a folded block
		{"clear-bad", []string{`< "1"`}},
		{"template-field", []string{".name }}"}}, // text/template points at the last name
		{"template-label", []string{".owner }}"}},
		{"template-typo", []string{".user_nmae }}"}},
		{"template-go-name", []string{".UserName }}"}},
		{"route-when", []string{"critical\n"}},
		{"route-redact", []string{"ssn]"}},
		{"label-name", []string{"owner-team"}},
		{"duplicate-key", []string{"when: latency"}},
		{"expr-repeat", []string{"repeat(repeat"}},
		{"expr-reduce", []string{"reduce("}},
		{"expr-yaml-comment", []string{"# > 2)"}},
		{"yaml-tab", []string{"\twhen"}},
		{"yaml-over-indented", []string{"for: 2m"}},
		{"yaml-syntax", []string{"severity"}},
		{"yaml-merge-bomb", []string{"*m"}},
		{"many-errors", []string{"2x", "lantecy", "high", "choppy-audio\n    when: latency", `> "150"`, "wen:"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/bad/" + tt.file + ".yaml"
			data, _ := os.ReadFile(path)
			lines := strings.SplitAfter(string(data), "\n")
			_, err := Parse(path, data)
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("got %v, want Errors", err)
			}
			if len(es) != len(tt.at) {
				t.Fatalf("got %d errors, want %d:\n%v", len(es), len(tt.at), err)
			}
			for i, e := range es {
				if e.Line < 1 || e.Line > len(lines) || e.Column < 1 {
					t.Fatalf("error %d has no position: %v", i, e)
				}
				rest := strings.Join(lines[e.Line-1:], "")[e.Column-1:]
				if !strings.HasPrefix(rest, tt.at[i]) {
					t.Errorf("error %d (%v) points at %q, want %q", i, e, rest[:min(len(rest), 30)], tt.at[i])
				}
			}
		})
	}
}

// TestWarnings: a file with routes that can never match or mentions Slack
// will not resolve loads (check exits 0), and check says what is wrong
// (golden testdata/warn/NAME.out).
func TestWarnings(t *testing.T) {
	files, _ := filepath.Glob("testdata/warn/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var out bytes.Buffer
			if code := Check(context.Background(), &out, path); code != 0 {
				t.Errorf("check exit %d, want 0", code)
			}
			golden := strings.TrimSuffix(path, ".yaml") + ".out"
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
