package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// firingU1 opens a store, starts an engine on it and ingests minutes 0–4:
// u1's lossy-audio alert fires (u2 is pending), and its firing is drained.
func firingU1(t *testing.T, path string) (*DB, *engine.Engine) {
	t.Helper()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, db)
	if err := e.Ingest(context.Background(), page(0, 4, restartLoss)); err != nil {
		t.Fatal(err)
	}
	drain(t, db)
	return db, e
}

var u1 = engine.AlertKey{Rule: "lossy-audio", Source: restartSource.Key(), Participant: "u1"}

// An acknowledgement is committed with its audit record and the outbox
// entry that updates the message; the same ID submitted again, before or
// after a restart, changes nothing and gets the first answer back.
func TestActAckAppliesOnceAcrossRestart(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db, e := firingU1(t, path)
	ack := engine.Action{ID: "slack:1712.000100:U1", Kind: engine.ActionAck, Alert: u1, User: "U1", UserName: "ana",
		Message: engine.MessageRef{Channel: "C1", TS: "1"}}
	res, err := e.Act(ctx, ack)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Applied || res.Alerts != 1 || res.Text != "Acknowledged lossy-audio for name-u1." {
		t.Fatalf("first ack: %+v", res)
	}
	pending, _ := db.Pending(ctx, 0)
	if len(pending) != 1 || pending[0].Kind != engine.KindAction || pending[0].Action == nil ||
		pending[0].Action.User != "U1" || pending[0].Action.Message.TS != "1" || pending[0].Key != u1 {
		t.Fatalf("outbox after the ack: %+v", pending)
	}
	again, err := e.Act(ctx, ack)
	if err != nil {
		t.Fatal(err)
	}
	if again.Applied || !again.Replay || again.Text != res.Text {
		t.Fatalf("replay: %+v", again)
	}
	if p, _ := db.Pending(ctx, 0); len(p) != 1 {
		t.Fatalf("a replay queued a message: %d entries", len(p))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e = newEngine(t, db)
	var a engine.Alert
	for _, x := range e.Alerts() {
		if x.Key == u1 {
			a = x
		}
	}
	if a.AckedBy != "U1" || a.AckedByName != "ana" || a.AckedAt.IsZero() {
		t.Fatalf("after the restart the alert is not acknowledged: %+v", a)
	}
	after, err := e.Act(ctx, ack)
	if err != nil {
		t.Fatal(err)
	}
	if after.Applied || !after.Replay {
		t.Fatalf("replay after the restart: %+v", after)
	}
	// Another click (another ID) on the same alert: nothing to do.
	other, err := e.Act(ctx, engine.Action{ID: "slack:2", Kind: engine.ActionAck, Alert: u1, User: "U2"})
	if err != nil {
		t.Fatal(err)
	}
	if other.Applied || !strings.HasPrefix(other.Text, "Already acknowledged by <@U1> at ") {
		t.Fatalf("second ack by someone else: %+v", other)
	}
	if p, _ := db.Pending(ctx, 0); len(p) != 1 {
		t.Fatalf("outbox: %d entries, want the first ack's only", len(p))
	}
	log, err := e.Actions(ctx, engine.ActionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].ID != "slack:2" || log[0].Result.Applied || log[1].ID != ack.ID || !log[1].Result.Applied ||
		log[0].Seq <= log[1].Seq {
		t.Fatalf("audit log, newest first: %+v", log)
	}
}

// The audit log pages newest first and keeps at most MaxActionRecords.
func TestActionLogPagesAndIsBounded(t *testing.T) {
	ctx := context.Background()
	db, err := Open(tempPath(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Now()
	const extra = 5
	var recs []engine.ActionRecord
	for i := range engine.MaxActionRecords + extra {
		recs = append(recs, engine.ActionRecord{Action: engine.Action{ID: "id-" + strconv.Itoa(i), Kind: engine.ActionAck, Alert: u1, User: "U1", At: at}})
	}
	if err := db.Commit(ctx, engine.Changes{Actions: recs}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Action(ctx, "id-0"); ok {
		t.Fatal("the oldest record is kept beyond MaxActionRecords")
	}
	if _, ok, _ := db.Action(ctx, "id-"+strconv.Itoa(extra)); !ok {
		t.Fatal("the oldest record within the bound is gone")
	}
	page1, err := db.Actions(ctx, engine.ActionQuery{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	last := engine.MaxActionRecords + extra - 1
	if len(page1) != 3 || page1[0].ID != "id-"+strconv.Itoa(last) || page1[2].ID != "id-"+strconv.Itoa(last-2) {
		t.Fatalf("first page: %v", actionIDs(page1))
	}
	page2, err := db.Actions(ctx, engine.ActionQuery{Before: page1[2].Seq, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page2) != 2 || page2[0].ID != "id-"+strconv.Itoa(last-3) {
		t.Fatalf("second page: %v", actionIDs(page2))
	}
	all, _ := db.Actions(ctx, engine.ActionQuery{})
	if len(all) != engine.MaxActionRecords {
		t.Fatalf("%d records kept, want %d", len(all), engine.MaxActionRecords)
	}
	// A record older than ActionRetention before a new one goes with
	// the commit of the new one.
	db2, _ := Open(tempPath(t), Options{})
	defer db2.Close()
	old := engine.ActionRecord{Action: engine.Action{ID: "old", Kind: engine.ActionAck, Alert: u1, User: "U1", At: at}}
	young := engine.ActionRecord{Action: engine.Action{ID: "young", Kind: engine.ActionAck, Alert: u1, User: "U1", At: at.Add(time.Hour)}}
	later := engine.ActionRecord{Action: engine.Action{ID: "later", Kind: engine.ActionAck, Alert: u1, User: "U1", At: at.Add(engine.ActionRetention + time.Minute)}}
	for _, r := range []engine.ActionRecord{old, young, later} {
		if err := db2.Commit(ctx, engine.Changes{Actions: []engine.ActionRecord{r}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := db2.Action(ctx, "old"); ok {
		t.Fatal("a record older than the retention is kept")
	}
	if _, ok, _ := db2.Action(ctx, "young"); !ok {
		t.Fatal("a record within the retention is gone")
	}
}

func actionIDs(rs []engine.ActionRecord) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func act(t *testing.T, e *engine.Engine, a engine.Action) engine.ActionResult {
	t.Helper()
	res, err := e.Act(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func silenceByID(e *engine.Engine, id string) (engine.Silence, bool) {
	for _, s := range e.Silences() {
		if s.ID == id {
			return s, true
		}
	}
	return engine.Silence{}, false
}

// "Until this alert resolves" is a real silence (listed, stored) that
// holds back the alert's repeats and ends itself, in the commit that
// resolves the alert: after a restart it is still over.
func TestSilenceUntilResolvedEndsWithTheAlert(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db, e := firingU1(t, path)
	res := act(t, e, engine.Action{ID: "s1", Kind: engine.ActionSilence, Scope: engine.ScopeUntilResolved, Alert: u1, User: "U1", UserName: "ana"})
	if !res.Applied || res.Silence == nil || res.Silence.ID != "act-s1" || !strings.Contains(res.Text, "until it resolves") {
		t.Fatalf("silence: %+v", res)
	}
	s, ok := silenceByID(e, "act-s1")
	if !ok || s.EndsWith == nil || *s.EndsWith != u1 || s.CreatedBy != "U1 (ana)" || len(s.Matchers) != 3 {
		t.Fatalf("the silence as listed: %+v", s)
	}
	now := t0.Add(time.Hour) // the engine's clock (newEngine)
	if !s.EndsAt.Equal(now.Add(engine.UntilResolvedSilenceMax)) {
		t.Fatalf("ends_at %s, want the bound %s", s.EndsAt, now.Add(engine.UntilResolvedSilenceMax))
	}
	drain(t, db) // the action's message
	// u1 recovers at minute 7 and resolves (keep_firing_for 1m) at 8.
	if err := e.Ingest(ctx, page(5, 9, restartLoss)); err != nil {
		t.Fatal(err)
	}
	s, _ = silenceByID(e, "act-s1")
	if !s.EndsAt.Equal(now) {
		t.Fatalf("after the alert resolved the silence ends at %s, want now (%s)", s.EndsAt, now)
	}
	db.Close()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e = newEngine(t, db)
	if s, _ := silenceByID(e, "act-s1"); !s.EndsAt.Equal(now) {
		t.Fatalf("after a restart the silence ends at %s", s.EndsAt)
	}
}

// The other scopes: this participant and this rule in this webinar end
// when the webinar ends; this rule everywhere lasts an hour; a storm has
// no single participant to silence.
func TestSilenceScopes(t *testing.T) {
	ctx := context.Background()
	db, e := firingU1(t, tempPath(t))
	defer db.Close()
	now := t0.Add(time.Hour)
	for _, c := range []struct {
		scope    engine.SilenceScope
		matchers string
		endsAt   time.Time
		text     string
	}{
		{engine.ScopeParticipant, "source=webinar:900 participant=u1", now.Add(engine.SourceSilenceMax), "Silenced every alert of name-u1 in this webinar until the webinar ends"},
		{engine.ScopeRuleSource, "rule=lossy-audio source=webinar:900", now.Add(engine.SourceSilenceMax), "Silenced rule lossy-audio in this webinar until the webinar ends"},
		{engine.ScopeRule1h, "rule=lossy-audio", now.Add(time.Hour), "Silenced rule lossy-audio everywhere until 11:00 UTC."},
	} {
		res := act(t, e, engine.Action{ID: string(c.scope), Kind: engine.ActionSilence, Scope: c.scope, Alert: u1, User: "U1"})
		if !res.Applied || !strings.HasPrefix(res.Text, c.text) {
			t.Errorf("%s: %+v", c.scope, res)
			continue
		}
		var ms []string
		for _, m := range res.Silence.Matchers {
			ms = append(ms, m.Name+"="+m.Value)
		}
		if strings.Join(ms, " ") != c.matchers || !res.Silence.EndsAt.Equal(c.endsAt) {
			t.Errorf("%s: matchers %v, ends %s; want %s, %s", c.scope, ms, res.Silence.EndsAt, c.matchers, c.endsAt)
		}
	}
	_, err := e.Act(ctx, engine.Action{ID: "x", Kind: engine.ActionSilence, Scope: engine.ScopeParticipant, User: "U1",
		Alert: engine.AlertKey{Rule: u1.Rule, Source: u1.Source}})
	if !errors.Is(err, engine.ErrInvalidAction) {
		t.Errorf("participant scope on a storm: %v", err)
	}
	if err := e.EndSource(ctx, restartSource, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for id, over := range map[string]bool{"act-participant": true, "act-rule_source": true, "act-rule_1h": false} {
		s, _ := silenceByID(e, id)
		if got := !s.EndsAt.After(now); got != over {
			t.Errorf("%s after the webinar ended: over = %v, want %v", id, got, over)
		}
	}
}

// Dismissals are counted per rule and survive a restart; acting on an
// alert that is no longer firing changes nothing and says so; a bad
// action is the caller's error.
func TestDismissCountSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db, e := firingU1(t, path)
	if res := act(t, e, engine.Action{ID: "d1", Kind: engine.ActionDismiss, Alert: u1, User: "cli:ana"}); !res.Applied ||
		res.Text != "Dismissed lossy-audio for name-u1 as not an issue." {
		t.Fatalf("dismiss: %+v", res)
	}
	if res := act(t, e, engine.Action{ID: "d2", Kind: engine.ActionAck, Alert: u1, User: "cli:ana"}); res.Applied ||
		!strings.Contains(res.Text, "not firing any more") {
		t.Fatalf("ack of a dismissed alert: %+v", res)
	}
	for _, bad := range []engine.Action{
		{Kind: engine.ActionAck, Alert: u1, User: "U1"},
		{ID: "b", Kind: "snooze", Alert: u1, User: "U1"},
		{ID: "b", Kind: engine.ActionSilence, Scope: "forever", Alert: u1, User: "U1"},
		{ID: "b", Kind: engine.ActionAck, User: "U1"},
	} {
		if _, err := e.Act(ctx, bad); !errors.Is(err, engine.ErrInvalidAction) {
			t.Errorf("%+v: %v, want ErrInvalidAction", bad, err)
		}
	}
	db.Close()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e = newEngine(t, db)
	if got := e.Dismissals(); got["lossy-audio"] != 1 {
		t.Fatalf("dismissals after a restart: %v", got)
	}
	if got, _ := db.Dismissals(ctx); got["lossy-audio"] != 1 {
		t.Fatalf("store dismissals: %v", got)
	}
}

// An acknowledgement belongs to one firing: the alert resolves, fires
// again, and is told again, unacknowledged.
func TestAckEndsWithItsFiring(t *testing.T) {
	ctx := context.Background()
	db, e := firingU1(t, tempPath(t))
	defer db.Close()
	act(t, e, engine.Action{ID: "a", Kind: engine.ActionAck, Alert: u1, User: "U1"})
	drain(t, db)
	again := func(p string, m int) float64 {
		if p == "u1" && (m <= 4 || m >= 8) {
			return 5
		}
		return 0.1
	}
	if err := e.Ingest(ctx, page(5, 12, again)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range drain(t, db) {
		if n.Who == "u1" && n.Rule == "lossy-audio" {
			got = append(got, string(n.Kind))
		}
	}
	if strings.Join(got, " ") != "resolved firing" {
		t.Fatalf("u1 told %v, want its resolve and its new firing", got)
	}
	for _, a := range e.Alerts() {
		if a.Key == u1 && (a.State != engine.StateFiring || a.AckedBy != "") {
			t.Fatalf("the new firing: %s, acked by %q", a.State, a.AckedBy)
		}
	}
}

// Alert numbers are short, given in order as alerts open, found again by
// AlertByNumber, and never given twice, across a restart and after the
// alerts that had them were collected.
func TestAlertNumbersSurviveRestartAndCollection(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db, e := firingU1(t, path)
	nums := map[string]uint64{}
	for _, a := range e.Alerts() {
		nums[a.Key.Participant+"/"+a.Key.Rule] = a.Number
	}
	if nums["u1/lossy-audio"] == 0 || nums["u2/lossy-audio"] == 0 || nums["u1/lossy-audio"] == nums["u2/lossy-audio"] {
		t.Fatalf("numbers: %v", nums)
	}
	res := act(t, e, engine.Action{ID: "n", Kind: engine.ActionAck, Alert: u1, User: "U1"})
	if p, _ := db.Pending(ctx, 0); !res.Applied || len(p) != 1 || p[0].Number != nums["u1/lossy-audio"] {
		t.Fatalf("the action's notification does not carry the alert's number %d: %+v", nums["u1/lossy-audio"], p)
	}
	if k, ok := e.AlertByNumber(nums["u1/lossy-audio"]); !ok || k != u1 {
		t.Fatalf("AlertByNumber(%d) = %v %v", nums["u1/lossy-audio"], k, ok)
	}
	top := uint64(0)
	for _, n := range nums {
		top = max(top, n)
	}
	// Delete every alert record, as GC would, then restart.
	var keys []engine.AlertKey
	for _, a := range e.Alerts() {
		keys = append(keys, a.Key)
	}
	if err := db.Commit(ctx, engine.Changes{Deleted: keys}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e = newEngine(t, db)
	if len(e.Alerts()) != 0 {
		t.Fatal("alerts left")
	}
	if err := e.Ingest(ctx, page(5, 9, restartLoss)); err != nil {
		t.Fatal(err)
	}
	if len(e.Alerts()) == 0 {
		t.Fatal("no alert opened after the restart")
	}
	for _, a := range e.Alerts() {
		if a.Number <= top {
			t.Errorf("%s got number %d, given before (up to %d)", a.Key, a.Number, top)
		}
	}
}
