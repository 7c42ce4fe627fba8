package engine

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestLeaveParticipant: Zoom's leave event resolves the leaver's alerts
// at once; a late sample of that session is not evaluated, a rejoin is;
// a participant or source the engine never saw changes nothing.
func TestLeaveParticipant(t *testing.T) {
	f := newFixture(t, loss("loss", 2))
	firingAt(t, f, "a", 0)
	firingAt(t, f, "b", 0)
	ctx := context.Background()
	left := t0.Add(3*time.Minute + 10*time.Second)
	if err := f.e.LeaveParticipant(ctx, web, "a", left); err != nil {
		t.Fatal(err)
	}
	if got := f.told(); !slices.Equal(got, []string{"resolved loss a @3 left"}) {
		t.Fatalf("told %q", got)
	}
	if err := f.e.LeaveParticipant(ctx, web, "a", left); err != nil { // a retry
		t.Fatal(err)
	}
	f.ingest(smp("a", 3, 5)) // late: 3:00 is before the leave
	if got := f.told(); got != nil {
		t.Fatalf("a second leave or a late sample told %q", got)
	}
	for _, a := range f.e.Alerts() {
		if a.Key.Participant == "b" && a.State != StateFiring {
			t.Errorf("b's alert is %v: only a left", a.State)
		}
	}
	commits := f.e.Stats().Commits
	if err := f.e.LeaveParticipant(ctx, web, "nobody", left); err != nil {
		t.Fatal(err)
	}
	if err := f.e.LeaveParticipant(ctx, Source{Kind: Meeting, ID: "1"}, "a", left); err != nil {
		t.Fatal(err)
	}
	if f.e.Stats().Commits != commits {
		t.Error("leaving someone unknown committed something")
	}
	// A rejoin: later samples are evaluated again.
	f.ingest(smp("a", 5, 5))
	f.ingest(smp("a", 6, 5))
	f.ingest(smp("a", 7, 5))
	if got := f.told(); !slices.Equal(got, []string{"firing loss a @7"}) {
		t.Fatalf("rejoin told %q", got)
	}
}
