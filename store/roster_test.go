package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

func joined(src, user, name string, at time.Time) engine.RosterEntry {
	return engine.RosterEntry{Source: src, UUID: "uuid-" + src,
		Participant: engine.Participant{UserID: user, UserName: name, Email: user + "@example.com", JoinTime: at}}
}

func rosterNames(t *testing.T, db *DB) []string {
	t.Helper()
	got, err := db.Roster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Source+" "+r.Participant.UserName)
	}
	return names
}

// TestRosterFollowsJoinsLeavesAndEnds: what DoneEvents writes is what a
// reopened file reads; a leave forgets one participant, an end its
// source's whole roster, and a participant who left and joined again in
// one batch stays.
func TestRosterFollowsJoinsLeavesAndEnds(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db := openT(t, path)
	if _, err := db.EnqueueEvents(ctx, []engine.InboxEntry{{Key: "join", Received: t0, Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	pending, _ := db.PendingEvents(ctx, 10)
	err := db.DoneEvents(ctx, []uint64{pending[0].ID}, []engine.RosterEntry{
		joined("webinar:1", "u1", "Ann", t0), joined("webinar:1", "u2", "Bo", t0), joined("meeting:2", "u3", "Cy", t0),
		joined("webinar:1", "u4", "Di", t0),
		{Source: "webinar:1", Participant: engine.Participant{UserID: "u2"}, Gone: true}, // left
		{Source: "webinar:1", Participant: engine.Participant{UserID: "u4"}, Gone: true}, // left, and back:
		joined("webinar:1", "u4", "Di", t0.Add(time.Minute)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := db.InboxDepth(ctx); n != 0 {
		t.Errorf("%d events left in the inbox", n)
	}
	db.Close()
	db = openT(t, path)
	if got, want := rosterNames(t, db), []string{"meeting:2 Cy", "webinar:1 Ann", "webinar:1 Di"}; !slices.Equal(got, want) {
		t.Errorf("roster after a reopen: %q, want %q", got, want)
	}
	if err := db.DoneEvents(ctx, nil, []engine.RosterEntry{{Source: "webinar:1", Gone: true}}); err != nil {
		t.Fatal(err)
	}
	if got, want := rosterNames(t, db), []string{"meeting:2 Cy"}; !slices.Equal(got, want) {
		t.Errorf("roster after webinar:1 ended: %q, want %q", got, want)
	}
}

// TestCollectDropsTheRosterTheEngineForgot: a participant whose leave (or
// whose source's end) never came is dropped once they joined before the
// cutoff and their cursor is gone; one with a recent sample, or who
// joined after the cutoff, is kept.
func TestCollectDropsTheRosterTheEngineForgot(t *testing.T) {
	ctx := context.Background()
	db := openT(t, tempPath(t))
	old, recent := t0.Add(-48*time.Hour), t0.Add(-time.Hour)
	err := db.DoneEvents(ctx, nil, []engine.RosterEntry{
		joined("webinar:42", "quiet", "Quiet since", old),
		joined("webinar:42", "talking", "Still sampled", old),
		joined("webinar:42", "new", "Just joined", recent),
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Commit(ctx, engine.Changes{Cursors: []engine.Cursor{
		{Source: "webinar:42", Participant: "quiet", Last: old.Add(time.Minute)},
		{Source: "webinar:42", Participant: "talking", Last: recent},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Collect(ctx, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Roster != 1 || got.Cursors != 1 {
		t.Errorf("collected %+v: want 1 roster entry and its cursor", got)
	}
	if names, want := rosterNames(t, db), []string{"webinar:42 Just joined", "webinar:42 Still sampled"}; !slices.Equal(names, want) {
		t.Errorf("roster after Collect: %q, want %q", names, want)
	}
}
