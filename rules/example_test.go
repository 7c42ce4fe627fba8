package rules

import (
	"bytes"
	"testing"

	"github.com/qoswatch/qoswatch"
)

// TestEmbeddedExample checks that the rules the demo embeds are the
// example file and that they load.
func TestEmbeddedExample(t *testing.T) {
	set, err := Parse("rules.example.yaml", qoswatch.ExampleRules)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules()) < 7 || !bytes.Contains(qoswatch.ExampleRules, []byte("when: audio_input.avg_loss > 2 && latency > 150\n")) {
		t.Errorf("the embedded example lacks the mission's rule or rules: %d", len(set.Rules()))
	}
}
