package store

import (
	"context"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// The per-minute aggregates are added up across commits, survive a
// reopen, are read per source in time order, and are collected with the
// retention.
func TestMinutesKeptAddedUpAndCollected(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db := openT(t, path)
	if got, err := db.Minutes(ctx, "webinar:42"); err != nil || len(got) != 0 {
		t.Fatalf("a new file has minutes: %v %v", got, err)
	}
	minute := func(src string, m int, seen int, started ...string) engine.MinuteStats {
		ms := engine.MinuteStats{Source: src, Minute: t0.Add(time.Duration(m) * time.Minute), Seen: seen,
			Rules: map[string]*engine.RuleMinute{"choppy-audio": {Degraded: seen / 2}}}
		for _, p := range started {
			ms.Rules["choppy-audio"].Started = append(ms.Rules["choppy-audio"].Started, engine.Who{Key: p, Name: "name " + p})
		}
		return ms
	}
	commits := []engine.Changes{
		{Minutes: []engine.MinuteStats{minute("webinar:42", 0, 10), minute("webinar:42", 1, 10, "a")}},
		{Minutes: []engine.MinuteStats{minute("webinar:42", 1, 4, "b"), minute("webinar:4", 1, 7)}}, // another page of minute 1; a source whose key is a prefix
		{Minutes: []engine.MinuteStats{minute("webinar:42", 90, 2)}},
	}
	for _, c := range commits {
		if err := db.Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db = openT(t, path)
	got, err := db.Minutes(ctx, "webinar:42")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[0].Minute.Equal(t0) || got[1].Seen != 14 || got[1].Rules["choppy-audio"].Degraded != 7 ||
		len(got[1].Rules["choppy-audio"].Started) != 2 || got[2].Seen != 2 {
		t.Fatalf("minutes of webinar:42: %+v", got)
	}
	if other, _ := db.Minutes(ctx, "webinar:4"); len(other) != 1 || other[0].Seen != 7 {
		t.Fatalf("minutes of webinar:4: %+v", other)
	}
	n, err := db.Collect(ctx, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n.Minutes != 3 {
		t.Errorf("collected %d minutes, want the 3 before the cutoff", n.Minutes)
	}
	if got, _ := db.Minutes(ctx, "webinar:42"); len(got) != 1 || got[0].Seen != 2 {
		t.Errorf("after collect: %+v", got)
	}
}
