package notifier

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

var pt0 = time.Date(2026, 3, 12, 13, 0, 0, 0, time.UTC)

// entry builds outbox entry id: kind k of rule r for participant p, decided
// at minute m, routed to channel ch.
func entry(id uint64, k engine.NotificationKind, r, p string, m int, ch string) pending {
	at := pt0.Add(time.Duration(m) * time.Minute)
	n := engine.Notification{ID: id, Kind: k, Key: engine.AlertKey{Rule: r, Source: "webinar:1", Participant: p},
		Rule:   engine.RuleInfo{Name: r, Severity: engine.SeverityWarning},
		Source: engine.Source{Kind: engine.Webinar, ID: "1", Topic: "All hands"}, Participant: engine.Participant{UserID: p, UserName: "Person " + p},
		Since: pt0, At: at, Created: at}
	if k == engine.KindResolved {
		n.Reason = engine.ReasonRecovered
	}
	return pending{n: n, route: engine.Route{Channel: ch}}
}

func fire(id uint64, p string, m int) pending {
	return entry(id, engine.KindFiring, "choppy", p, m, "#av")
}
func repeat(id uint64, p string, m int) pending {
	return entry(id, engine.KindRepeat, "choppy", p, m, "#av")
}
func resolve(id uint64, p string, m int) pending {
	return entry(id, engine.KindResolved, "choppy", p, m, "#av")
}

// act is an acknowledgement of p's alert (of the storm when p is ""),
// clicked on the message msg (zero: from the CLI).
func act(id uint64, p string, msg engine.MessageRef) pending {
	e := entry(id, engine.KindAction, "choppy", p, 61, "#av")
	e.n.Action = &engine.ActionNote{ID: fmt.Sprint("a", id), Kind: engine.ActionAck, User: "U0ANA", At: pt0.Add(61 * time.Minute), Message: msg, Count: 1}
	if p == "" {
		e.n.Participant, e.n.Action.Count, e.n.Action.Members = engine.Participant{}, 2, []string{"Person p1", "Person p2"}
	}
	return e
}

// ackExpired is a repeat of p's alert because its ack expired.
func ackExpired(id uint64, p string) pending {
	e := repeat(id, p, 121)
	e.n.Action = &engine.ActionNote{Kind: engine.ActionAck, User: "U0ANA", At: pt0.Add(61 * time.Minute), Expires: pt0.Add(121 * time.Minute), Count: 1}
	return e
}

func key(p string) engine.AlertKey {
	return engine.AlertKey{Rule: "choppy", Source: "webinar:1", Participant: p}
}

// describe is a planned message in one line: what, where, which entries,
// what it records, and the calls around the post.
func describe(p *planned) string {
	kinds := map[msgKind]string{msgSingle: "single", msgFollowUp: "followup", msgGroup: "group", msgJoin: "join", msgBatch: "batch"}
	var ids []string
	for _, e := range p.entries {
		ids = append(ids, fmt.Sprint(e.n.ID))
	}
	s := fmt.Sprintf("%s %s", kinds[p.kind], p.channel)
	if p.threadTS != "" {
		s += " thread=" + p.threadTS
	}
	s += " [" + strings.Join(ids, ",") + "] " + p.outcome
	switch {
	case p.ackPosted:
		s += " ack=posted"
	case p.ackRef.TS != "":
		s += " ack=" + p.ackRef.TS
	}
	if p.update != nil {
		s += " update=" + p.update.ref.TS
	}
	if p.over != nil {
		s += " over=" + p.over.ref.TS
	}
	return s
}

func TestPlan(t *testing.T) {
	stormRef := engine.MessageRef{Channel: "CAV", TS: "100.1"}
	// openStorm is a storm of members firings, its last at minute last.
	openStorm := func(ref engine.MessageRef, members, resolved, last int) func(*storms) {
		return func(st *storms) {
			s := &storm{key: stormKey{"choppy", "webinar:1", "#av"}, ref: ref, first: fire(1, "p1", 0).n,
				since: pt0, last: pt0.Add(time.Duration(last) * time.Minute), members: members, resolved: resolved}
			st.open[s.key] = s
			if ref.TS != "" {
				st.byRef[ref] = s
			}
		}
	}
	// onlyByRef is a storm known from the store after a restart.
	onlyByRef := func(st *storms) { st.byRef[stormRef] = &storm{ref: stormRef} }
	recent := func(minutes ...int) func(*storms) {
		return func(st *storms) {
			for _, m := range minutes {
				gk := stormKey{"choppy", "webinar:1", "#av"}
				st.recent[gk] = append(st.recent[gk], pt0.Add(time.Duration(m)*time.Minute))
			}
		}
	}
	own := func(p string) engine.MessageRef { return engine.MessageRef{Channel: "CAV", TS: "200." + p} }

	for _, tc := range []struct {
		name      string
		threshold int
		entries   []pending
		refs      map[engine.AlertKey]engine.MessageRef
		storms    func(*storms)
		held      []string
		want      []string
	}{
		{
			name:    "a firing alone is its own message, recorded as its alert's thread",
			entries: []pending{fire(1, "p1", 0)},
			want:    []string{"single #av [1] delivered ack=posted"},
		},
		{
			name:    "five firings of one rule and webinar within the window are one storm message",
			entries: []pending{fire(1, "p1", 0), fire(2, "p2", 0), fire(3, "p3", 1), fire(4, "p4", 1), fire(5, "p5", 1)},
			want:    []string{"group #av [1,2,3,4,5] grouped ack=posted"},
		},
		{
			name:    "four are not a storm",
			entries: []pending{fire(1, "p1", 0), fire(2, "p2", 0), fire(3, "p3", 0), fire(4, "p4", 0)},
			want: []string{"single #av [1] delivered ack=posted", "single #av [2] delivered ack=posted",
				"single #av [3] delivered ack=posted", "single #av [4] delivered ack=posted"},
		},
		{
			name: "firings outside the window, or routed elsewhere, are not in the storm",
			entries: []pending{fire(1, "p1", 0), fire(2, "p2", 0), fire(3, "p3", 0), fire(4, "p4", 1),
				entry(5, engine.KindFiring, "choppy", "p5", 1, "#other"), fire(6, "p6", 1), fire(7, "p7", 5)},
			want: []string{"group #av [1,2,3,4,6] grouped ack=posted", "single #other [5] delivered ack=posted", "single #av [7] delivered ack=posted"},
		},
		{
			name:    "firings posted one by one just before count: a trickle still becomes a storm",
			entries: []pending{fire(4, "p4", 1), fire(5, "p5", 1)},
			storms:  recent(0, 0, 1),
			want:    []string{"group #av [4,5] grouped ack=posted"},
		},
		{
			name:      "no grouping when the threshold is off",
			threshold: -1,
			entries:   []pending{fire(1, "p1", 0), fire(2, "p2", 0), fire(3, "p3", 0), fire(4, "p4", 0), fire(5, "p5", 0)},
			want: []string{"single #av [1] delivered ack=posted", "single #av [2] delivered ack=posted", "single #av [3] delivered ack=posted",
				"single #av [4] delivered ack=posted", "single #av [5] delivered ack=posted"},
		},
		{
			name:    "later firings join an open storm in one reply in its thread and thread under it",
			entries: []pending{fire(6, "p6", 3), fire(7, "p7", 3), fire(8, "p8", 9)},
			storms:  openStorm(stormRef, 5, 0, 2),
			want:    []string{"join CAV thread=100.1 [6,7] grouped ack=100.1", "single #av [8] delivered ack=posted"},
		},
		{
			name:    "webhook mode: a storm without a ts takes joiners as a plain message, records nothing",
			entries: []pending{fire(6, "p6", 3), fire(7, "p7", 3)},
			storms:  openStorm(engine.MessageRef{Channel: "#av"}, 5, 0, 2),
			want:    []string{"join #av [6,7] grouped"},
		},
		{
			name:    "a repeat goes in its alert's thread",
			entries: []pending{repeat(9, "p1", 60)},
			refs:    map[engine.AlertKey]engine.MessageRef{key("p1"): own("p1")},
			want:    []string{"followup CAV thread=200.p1 [9] delivered"},
		},
		{
			name:    "a resolve updates its alert's first message, then replies in its thread",
			entries: []pending{resolve(9, "p1", 60)},
			refs:    map[engine.AlertKey]engine.MessageRef{key("p1"): own("p1")},
			want:    []string{"followup CAV thread=200.p1 [9] delivered update=200.p1"},
		},
		{
			name:    "only each alert's oldest entry goes in a pass: its resolve waits for its firing's thread",
			entries: []pending{fire(1, "p1", 0), resolve(2, "p1", 5), fire(3, "p2", 0)},
			want:    []string{"single #av [1] delivered ack=posted", "single #av [3] delivered ack=posted"},
		},
		{
			name:    "a held alert waits with all its entries; the others go",
			entries: []pending{fire(1, "p1", 0), resolve(2, "p1", 5), fire(3, "p2", 0)},
			held:    []string{"p1"},
			want:    []string{"single #av [3] delivered ack=posted"},
		},
		{
			name:    "storm members' resolves are one reply in the storm's thread; no first message of theirs is updated",
			entries: []pending{resolve(11, "p1", 30), resolve(12, "p2", 31), resolve(13, "p9", 31), entry(14, engine.KindRepeat, "choppy", "p3", 31, "#av")},
			refs:    map[engine.AlertKey]engine.MessageRef{key("p1"): stormRef, key("p2"): stormRef, key("p9"): own("p9"), key("p3"): stormRef},
			storms:  openStorm(stormRef, 5, 0, 2),
			want: []string{"batch CAV thread=100.1 [11,12] grouped", "followup CAV thread=200.p9 [13] delivered update=200.p9",
				"batch CAV thread=100.1 [14] grouped"},
		},
		{
			name:    "the resolves that complete a storm mark its message over",
			entries: []pending{resolve(11, "p4", 30), resolve(12, "p5", 31)},
			refs:    map[engine.AlertKey]engine.MessageRef{key("p4"): stormRef, key("p5"): stormRef},
			storms:  openStorm(stormRef, 5, 3, 2),
			want:    []string{"batch CAV thread=100.1 [11,12] grouped over=100.1"},
		},
		{
			name:    "a storm known only from the store takes its members' replies but is never marked over",
			entries: []pending{resolve(11, "p4", 30)},
			refs:    map[engine.AlertKey]engine.MessageRef{key("p4"): stormRef},
			storms:  onlyByRef,
			want:    []string{"batch CAV thread=100.1 [11] grouped"},
		},
		{
			name: "webhook mode: a burst of resolves with no thread is one message",
			entries: []pending{resolve(21, "p1", 60), resolve(22, "p2", 60), resolve(23, "p3", 60), resolve(24, "p4", 60),
				resolve(25, "p5", 61), entry(26, engine.KindResolved, "other-rule", "p6", 61, "#av")},
			refs: map[engine.AlertKey]engine.MessageRef{key("p1"): {Channel: "#av"}},
			want: []string{"batch #av [21,22,23,24,25] grouped", "single #av [26] delivered"},
		},
		{
			name:    "webhook mode: a few resolves are each their own message",
			entries: []pending{resolve(21, "p1", 60), resolve(22, "p2", 60)},
			want:    []string{"single #av [21] delivered", "single #av [22] delivered"},
		},
		{
			name:    "a repeat with no thread (its firing was dead-lettered) becomes the alert's thread",
			entries: []pending{repeat(9, "p1", 60)},
			want:    []string{"single #av [9] delivered ack=posted"},
		},
		{
			name:    "an action updates its alert's message and replies in its thread, never becomes a thread itself",
			entries: []pending{act(30, "p1", engine.MessageRef{}), act(31, "p2", engine.MessageRef{})},
			refs:    map[engine.AlertKey]engine.MessageRef{key("p1"): own("p1")},
			want:    []string{"followup CAV thread=200.p1 [30] delivered update=200.p1", "single #av [31] delivered"},
		},
		{
			name:    "an action on a storm updates the message its button was on, even a storm known only from the store",
			entries: []pending{act(32, "", stormRef)},
			storms:  onlyByRef,
			want:    []string{"followup CAV thread=100.1 [32] delivered update=100.1"},
		},
		{
			name:    "an action waits behind its alert's older entries (its firing first)",
			entries: []pending{fire(1, "p1", 0), act(33, "p1", engine.MessageRef{})},
			want:    []string{"single #av [1] delivered ack=posted"},
		},
		{
			name:      "storm members told again when their ack expired: one reply, and the storm's message updated",
			threshold: 5,
			entries:   []pending{ackExpired(40, "p1"), ackExpired(41, "p2"), repeat(42, "p3", 90)},
			refs:      map[engine.AlertKey]engine.MessageRef{key("p1"): stormRef, key("p2"): stormRef, key("p3"): stormRef},
			storms:    openStorm(stormRef, 3, 0, 0),
			want:      []string{"batch CAV thread=100.1 [40,41] grouped update=100.1", "batch CAV thread=100.1 [42] grouped"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl := planner{r: NewRenderer(RenderOptions{}), threshold: 5, window: 2 * time.Minute}
			if tc.threshold != 0 {
				pl.threshold = tc.threshold
			}
			st := newStorms()
			if tc.storms != nil {
				tc.storms(st)
			}
			held := map[engine.AlertKey]bool{}
			for _, p := range tc.held {
				held[key(p)] = true
			}
			var got []string
			for _, p := range pl.plan(tc.entries, tc.refs, st, held) {
				got = append(got, describe(p))
				if p.msg.Text == "" || len(p.msg.Blocks) == 0 {
					t.Errorf("%s: rendered no text or no blocks", describe(p))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("plan:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// TestStormsLearnWhatWentOut: what the dispatcher tells the storms after a
// message went out is what the next plan sees: a storm opens, joiners
// extend its window, its last resolves close it, single firings count
// towards the next storm.
func TestStormsLearnWhatWentOut(t *testing.T) {
	pl := planner{r: NewRenderer(RenderOptions{}), threshold: 3, window: 2 * time.Minute}
	st := newStorms()
	ref := engine.MessageRef{Channel: "CAV", TS: "100.1"}
	plan := func(es []pending, refs map[engine.AlertKey]engine.MessageRef) []*planned {
		return pl.plan(es, refs, st, nil)
	}

	ps := plan([]pending{fire(1, "p1", 0), fire(2, "p2", 0)}, nil)
	for _, p := range ps {
		st.sent(p, engine.MessageRef{Channel: "CAV", TS: fmt.Sprint(p.entries[0].n.ID)}, pl.window)
	}
	ps = plan([]pending{fire(3, "p3", 1)}, nil) // the third within the window: a storm
	if len(ps) != 1 || ps[0].kind != msgGroup {
		t.Fatalf("after two singles, a third firing: %v; want a storm message", describe(ps[0]))
	}
	st.sent(ps[0], ref, pl.window)
	ps = plan([]pending{fire(4, "p4", 2)}, nil) // joins: within 2m of the storm's last firing
	if describe(ps[0]) != "join CAV thread=100.1 [4] grouped ack=100.1" {
		t.Fatalf("a firing a minute into the storm: %s", describe(ps[0]))
	}
	st.sent(ps[0], engine.MessageRef{}, pl.window)
	ps = plan([]pending{fire(5, "p5", 3)}, nil) // the window slid with the joiner
	if ps[0].kind != msgJoin {
		t.Fatalf("the window should slide with the joiner: %s", describe(ps[0]))
	}
	st.sent(ps[0], engine.MessageRef{}, pl.window)
	refs := map[engine.AlertKey]engine.MessageRef{key("p3"): ref, key("p4"): ref, key("p5"): ref}
	ps = plan([]pending{resolve(6, "p3", 30), resolve(7, "p4", 30)}, refs)
	if ps[0].over != nil {
		t.Fatal("two of three members resolved: the storm is not over")
	}
	st.sent(ps[0], engine.MessageRef{}, pl.window)
	ps = plan([]pending{resolve(8, "p5", 31)}, refs)
	if ps[0].over == nil {
		t.Fatalf("the last member resolved: %s; want the storm marked over", describe(ps[0]))
	}
	st.sent(ps[0], engine.MessageRef{}, pl.window)
	if len(st.byRef) != 0 || len(st.open) != 0 {
		t.Errorf("an over storm is forgotten: %d by ref, %d open", len(st.byRef), len(st.open))
	}
	st.prune(pt0.Add(time.Hour), pl.window)
	if len(st.recent) != 0 {
		t.Errorf("old single firings are pruned: %v", st.recent)
	}
}
