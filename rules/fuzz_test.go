package rules

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no rules file, however broken, panics the loader; a file it
// refuses comes with at least one positioned or whole-file error.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bad/*.yaml")
	seeds = append(seeds, "../rules.example.yaml", "testdata/twenty.rules.yaml", "testdata/warn/route-mistakes.yaml")
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse("fuzz.yaml", data)
		if err == nil && set == nil {
			t.Fatal("no set and no error")
		}
		if es, ok := err.(Errors); err != nil && (!ok || len(es) == 0) {
			t.Fatalf("error %T %v, want Errors", err, err)
		}
	})
}

// FuzzTestFile: the same for rule test files (their own part: the rules
// file they name is not loaded).
func FuzzTestFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/ruletests/*.test.yaml")
	seeds = append(seeds, "../rules.example.test.yaml")
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := &loader{file: "fuzz.test.yaml", testFile: true}
		if s := l.parseTestFile(data); s == nil && len(l.errs) == 0 {
			t.Fatal("no suite and no error")
		}
	})
}
