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

// The end of a source queues its report in the same commit, once; its
// progress survives a reopen; done removes it; Collect drops old ones.
func TestReportsQueue(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db := openT(t, path)
	end := t0.Add(40 * time.Minute)
	ended := engine.Changes{Minutes: []engine.MinuteStats{{Source: "webinar:42", Minute: end.Truncate(time.Minute), EndedAt: end}}}
	for range 2 { // committed twice: one report
		if err := db.Commit(ctx, ended); err != nil {
			t.Fatal(err)
		}
	}
	due, err := db.DueReports(ctx)
	if err != nil || len(due) != 1 || due[0].Source != "webinar:42" || !due[0].EndedAt.Equal(end) {
		t.Fatalf("due %+v %v", due, err)
	}
	r := due[0]
	r.Posted, r.Files = engine.MessageRef{Channel: "C1", TS: "1.000001"}, 1
	if err := db.UpdateReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openT(t, path)
	if due, _ := db.DueReports(ctx); len(due) != 1 || due[0].Posted.TS != "1.000001" || due[0].Files != 1 {
		t.Fatalf("after reopen: %+v", due)
	}
	if err := db.DoneReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateReport(ctx, r); err != nil { // done: stays gone
		t.Fatal(err)
	}
	if due, _ := db.DueReports(ctx); len(due) != 0 {
		t.Fatalf("after done: %+v", due)
	}
	later := engine.Changes{Minutes: []engine.MinuteStats{{Source: "webinar:7", Minute: end, EndedAt: end}}}
	if err := db.Commit(ctx, later); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Collect(ctx, end.Add(time.Hour)); err != nil || got.Reports != 1 {
		t.Errorf("collect: %+v %v", got, err)
	}
}
