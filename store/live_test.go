package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestLiveSecondsSurviveAReopenAndKeepAWeek: the poller's record of live
// time per UTC day is on disk, adds up within a day, and days older than
// LiveDays are forgotten as new ones come.
func TestLiveSecondsSurviveAReopenAndKeepAWeek(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db := openT(t, path)
	day := time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)
	if n, err := db.LiveSeconds(ctx, day); err != nil || n != 0 {
		t.Fatalf("a new store: %d %v", n, err)
	}
	for d := range 10 {
		at := day.AddDate(0, 0, d)
		if err := db.AddLiveSeconds(ctx, at, 60*int64(d+1)); err != nil {
			t.Fatal(err)
		}
		if err := db.AddLiveSeconds(ctx, at.Add(time.Hour), 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.AddLiveSeconds(ctx, day, -1); err == nil {
		t.Error("a negative amount was accepted")
	}
	db.Close()
	db = openT(t, path)
	last := day.AddDate(0, 0, 9)
	for d := range 10 {
		n, err := db.LiveSeconds(ctx, day.AddDate(0, 0, d))
		want := 60*int64(d+1) + 1
		if last.Sub(day.AddDate(0, 0, d)) >= LiveDays*24*time.Hour {
			want = 0 // forgotten
		}
		if err != nil || n != want {
			t.Errorf("day %d: %d live seconds (%v), want %d", d, n, err, want)
		}
	}
}
