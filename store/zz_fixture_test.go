package store

import (
	"context"
	"os"
	"time"
	"testing"

	"github.com/qoswatch/qoswatch/engine"
)

// Temporary: writes testdata/v0.db with the v0 binary codec.
func TestMakeV0Fixture(t *testing.T) {
	if os.Getenv("MAKE_V0") == "" {
		t.Skip()
	}
	ctx := context.Background()
	path := "testdata/v0.db"
	os.Remove(path)
	db, err := Open(path, Options{Now: func() time.Time { return t0.Add(90 * time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	firing := benchAlert(1)
	resolved := alert(key("frozen-video", "u2"), engine.StateResolved, t0)
	resolved.Reason = engine.ReasonLeft
	resolved.ResolvedAt = t0
	n1 := note(engine.KindFiring, firing.Key, firing.LastSample)
	n2 := note(engine.KindResolved, resolved.Key, t0)
	n2.Reason = engine.ReasonLeft
	if err := db.Commit(ctx, engine.Changes{
		Alerts:        []engine.Alert{firing, resolved},
		Cursors:       []engine.Cursor{{Source: firing.Key.Source, Participant: firing.Key.Participant, Last: firing.LastSample}, {Source: "webinar:42", Participant: "u2", Last: t0}, {Source: "webinar:43", Last: t0}},
		Notifications: []engine.Notification{n1, n2},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSilence(ctx, engine.Silence{ID: "S1", Matchers: []engine.Matcher{{Name: "rule", Value: "choppy-.*", IsRegex: true}}, StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "ana", Comment: "known ISP trouble"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Ack(ctx, 0, resolved.Key, engine.MessageRef{Channel: "C123", TS: "1764320400.000100"}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutGroupRef(ctx, "storm/choppy-audio/webinar:81234567890", engine.MessageRef{Channel: "C123", TS: "1764320460.000200"}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddSpent(ctx, t0, 1234); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
