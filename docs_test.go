package qoswatch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// The README is cut short and points into docs/ by reader; a moved file or a
// renamed heading must not leave a newcomer on a dead link. This test checks
// every relative link of README.md and docs/*.md: the file exists, and a
// #fragment names a heading of the target (GitHub's anchor for it).

func TestDocsRelativeLinksResolve(t *testing.T) {
	files, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{"README.md"}, files...)
	if len(files) < 2 {
		t.Fatalf("no docs/*.md found beside README.md")
	}
	for _, f := range files {
		for _, problem := range brokenLinks(t, f) {
			t.Error(problem)
		}
	}
}

// TestBrokenLinksAreFound keeps the checker honest: a missing file and a
// missing heading are both reported, a good link and an outside link are not.
func TestBrokenLinksAreFound(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("docs/b.md", "# B\n\n## Delivery guarantees (the notifier's side)\n\n## `qoswatch check`: every error\n")
	write("a.md", strings.Join([]string{
		"[ok](docs/b.md#delivery-guarantees-the-notifiers-side)",
		"[ok code](docs/b.md#qoswatch-check-every-error)",
		"[ok self](#a)",
		"[outside](https://example.com/nowhere.md)",
		"[gone](docs/missing.md)",
		"[no heading](docs/b.md#storm-control)",
		"[no self heading](#nope)",
		"",
		"```",
		"[in a code block](nowhere.md)",
		"```",
		"# A",
	}, "\n\n"))
	got := brokenLinks(t, filepath.Join(dir, "a.md"))
	want := []string{"docs/missing.md", "docs/b.md#storm-control", "#nope"}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d: %q", len(got), len(want), got)
	}
	for i, w := range want {
		if !strings.Contains(got[i], "("+w+")") {
			t.Errorf("problem %d = %q, want one about %s", i, got[i], w)
		}
	}
}

// brokenLinks lists the relative links of one Markdown file that do not
// resolve, each naming the file, the link and why.
func brokenLinks(t *testing.T, file string) []string {
	t.Helper()
	src, doc := parseMarkdown(t, file)
	var problems []string
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		var dest string
		switch l := n.(type) {
		case *ast.Link:
			dest = string(l.Destination)
		case *ast.Image:
			dest = string(l.Destination)
		default:
			return ast.WalkContinue, nil
		}
		if dest == "" || strings.Contains(dest, "://") || strings.HasPrefix(dest, "mailto:") {
			return ast.WalkContinue, nil
		}
		path, frag, _ := strings.Cut(dest, "#")
		target := file
		if path != "" {
			target = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
			if _, err := os.Stat(target); err != nil {
				problems = append(problems, fmt.Sprintf("%s: link [%s](%s): no such file %s", file, linkText(n, src), dest, target))
				return ast.WalkContinue, nil
			}
		}
		if frag != "" && strings.HasSuffix(target, ".md") && !headingAnchors(t, target)[frag] {
			problems = append(problems, fmt.Sprintf("%s: link [%s](%s): %s has no heading with anchor #%s", file, linkText(n, src), dest, target, frag))
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return problems
}

func parseMarkdown(t *testing.T, file string) ([]byte, ast.Node) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return src, goldmark.DefaultParser().Parse(text.NewReader(src))
}

// headingAnchors is the set of anchors GitHub gives the headings of a file.
func headingAnchors(t *testing.T, file string) map[string]bool {
	t.Helper()
	src, doc := parseMarkdown(t, file)
	anchors := map[string]bool{}
	seen := map[string]int{}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			slug := githubSlug(linkText(h, src))
			if k := seen[slug]; k > 0 {
				anchors[fmt.Sprintf("%s-%d", slug, k)] = true
			} else {
				anchors[slug] = true
			}
			seen[slug]++
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return anchors
}

// githubSlug is GitHub's heading anchor: lower case, letters, digits, '-'
// and '_' kept, spaces become '-', every other character dropped.
func githubSlug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// linkText is the plain text under a node (code spans included).
func linkText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if tx, ok := c.(*ast.Text); ok && entering {
			b.Write(tx.Segment.Value(src))
			if tx.SoftLineBreak() {
				b.WriteByte(' ')
			}
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}
