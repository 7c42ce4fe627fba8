package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInputLimits: the YAML attacks of issue 15 (and their cousins) are
// refused with an error that says which limit, before the step they would
// blow up: the parse (nesting), the decode (aliases), the compile (rules).
// On the code before the limits, the first ran out of memory and the
// merge-key bomb (testdata/bad/yaml-merge-bomb.yaml) ran for minutes.
func TestInputLimits(t *testing.T) {
	manyRules := func(n int) string {
		var b strings.Builder
		b.WriteString("rules:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - {name: r%d, when: latency > %d}\n", i, i)
		}
		return b.String()
	}
	deepBlock := func(n int) string {
		var b strings.Builder
		b.WriteString("rules:\n")
		for i := range n {
			fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat("  ", i+1), i)
		}
		return b.String()
	}
	tests := []struct {
		name, file, want string
	}{
		{"100k nested [", "rules: " + strings.Repeat("[", 100_000) + "\n", fmt.Sprintf("1:%d: the file nests [ and { more than %d levels deep", 8+MaxDepth, MaxDepth)},
		{"nested {", "rules: " + strings.Repeat("{a: ", 40) + "\n", "the file nests [ and { more than 32 levels deep"},
		{"deep block mappings", deepBlock(40), "the file nests mappings and lists more than 32 levels deep"},
		{"too many rules", manyRules(MaxRules + 1), fmt.Sprintf("1:1: rules: %d rules, more than the %d a file may have", MaxRules+1, MaxRules)},
		{"too big", "# " + strings.Repeat("x", MaxFileBytes) + "\n" + manyRules(1), "the file is over 1024 KiB, the most qoswatch reads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(tt.file))
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 || !strings.Contains(es[0].Error(), tt.want) {
				t.Errorf("got %.300v, want one error with %q", err, tt.want)
			}
		})
	}
	// At the limit, it loads.
	if set, err := Parse("r.yaml", []byte(manyRules(MaxRules))); err != nil || len(set.Rules()) != MaxRules {
		t.Errorf("%d rules: %v", MaxRules, err)
	}
	// Load reads no more than the limit from a file, however big.
	path := filepath.Join(t.TempDir(), "big.yaml")
	os.WriteFile(path, []byte(manyRules(1)+"# "+strings.Repeat("x", 3*MaxFileBytes)+"\n"), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "over 1024 KiB") {
		t.Errorf("Load of a 3 MiB file: %v", err)
	}
}
