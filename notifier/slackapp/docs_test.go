package slackapp_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsShowTheGoldens: docs/slack.md shows each golden rendering as
// it is, so what the page promises is what Slack gets.
func TestDocsShowTheGoldens(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "slack.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"firing", "repeat", "resolved_update", "resolved", "grouped", "grouped_resolved", "grouped_over"} {
		g, err := os.ReadFile(filepath.Join("testdata", name+".golden.txt"))
		if err != nil {
			t.Fatal(err)
		}
		blocks, _, _ := strings.Cut(string(g), "--- text fallback ---\n")
		if !strings.Contains(string(doc), "```\n"+blocks+"```\n") {
			t.Errorf("docs/slack.md does not show testdata/%s.golden.txt as it is:\n%s", name, blocks)
		}
	}
}
