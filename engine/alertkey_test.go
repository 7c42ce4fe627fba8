package engine

import "testing"

// TestParseAlertKey: what String writes (and messages show) reads back,
// a participant may hold a slash, rule/source is a storm, and text that
// is no key is refused.
func TestParseAlertKey(t *testing.T) {
	for _, k := range []AlertKey{
		{Rule: "choppy-audio", Source: "webinar:81234567890", Participant: "16778240"},
		{Rule: "r", Source: "meeting:85746065432", Participant: "a/b"},
	} {
		got, err := ParseAlertKey("`" + k.String() + "`")
		if err != nil || got != k {
			t.Errorf("ParseAlertKey(%q) = %+v, %v", k.String(), got, err)
		}
	}
	if got, err := ParseAlertKey(" choppy-audio/webinar:1 "); err != nil || got != (AlertKey{Rule: "choppy-audio", Source: "webinar:1"}) {
		t.Errorf("a storm's key = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "lossy", "lossy/webinar", "/webinar:1/u", "lossy/webinar:1/"} {
		if k, err := ParseAlertKey(bad); err == nil {
			t.Errorf("ParseAlertKey(%q) = %+v, want an error", bad, k)
		}
	}
}
