package poll

import (
	"slices"

	"github.com/qoswatch/qoswatch/zoom"
)

// The strategy mix: how one poll interval's calls are spent. Every Heavy
// call costs the same, so the plan is a count of calls by purpose:
//
//   - full sweep: the participants QoS list, 10 a page, every page. When
//     the credit covers a full sweep of a source every interval it is the
//     best there is (every participant, every minute), and nothing else is
//     needed for that source.
//   - otherwise, in this order of priority:
//     1. the watch list, one single-participant QoS call each: anyone with
//        an alert (pending, firing, resolving), hosts, panelists and
//        co-hosts;
//     2. triage: the participants list, 300 a page, which carries Zoom's
//        quality ratings where the account has them;
//     3. detail: one single-participant QoS call for each participant the
//        triage rated fair, poor or bad (worst first), then for those
//        rated so recently (to see them recover);
//     4. a sweep in rotation with whatever is left: the QoS list resumes
//        where the last interval stopped, so everyone is seen in turn.
//
// The first two are phase A of an interval; detail and sweep (phase B)
// are planned once the triage has answered. A triage the credit could not
// pay is owed: phase B leaves its price unspent, so the next interval can
// pay it and finding new trouble never starves behind following the known.
// Planning is pure arithmetic over counts, so it is tested without a
// network.

func pages(n, size int) int {
	if n <= 0 {
		return 0
	}
	return (n + size - 1) / size
}

// pageLimit bounds a walk through a list of n items, size a page, that
// the plan paid for in full, when Zoom's pages carry no page_count or
// total_records to end it (see zoom.Pager): its pages, and a tenth more
// (at least two) for who joined since n was counted. A list without
// counts that runs longer (a server whose paging does not end) is cut
// there, so it cannot spend more than the plan allowed.
func pageLimit(n, size int) int {
	p := pages(n, size)
	return p + max(2, p/10)
}

// sourceNeed is what one source asks of an interval.
type sourceNeed struct {
	Present int  // participants in the source now
	Triage  bool // the participants list is due (ratings known or unknown yet)
	Watch   int  // watch-list participants not yet seen this interval
}

// phaseA is the first half of an interval's plan, per source.
type phaseA struct {
	Full        bool // sweep every page; nothing else needed
	Watch       int  // single-participant calls, the first Watch of the watch list
	TriagePages int
}

// planPhaseA spends credit on full sweeps where they are as cheap as the
// watch list and triage, then on the watch list and triage of the others.
// all is true when every source gets a full sweep (every participant
// seen this interval); cut is true when the watch list or triage could
// not be paid in full: coverage is degraded. owed is the price of the
// triages that could not be paid.
func planPhaseA(credit int, needs []sourceNeed) (plan []phaseA, left, owed int, all, cut bool) {
	plan = make([]phaseA, len(needs))
	full := 0
	for _, n := range needs {
		full += pages(n.Present, zoom.QoSPageSize)
	}
	if full <= credit {
		for i, n := range needs {
			plan[i].Full = n.Present > 0
		}
		return plan, credit - full, 0, true, false
	}
	left = credit
	// A source whose full sweep costs no more than its watch list and
	// triage is swept in full: same price, everyone seen. Smallest first.
	order := make([]int, len(needs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return needs[a].Present - needs[b].Present })
	for _, i := range order {
		n := needs[i]
		f := pages(n.Present, zoom.QoSPageSize)
		cheap := n.Watch
		if n.Triage {
			cheap += pages(n.Present, zoom.ParticipantsPageSize)
		}
		if f > 0 && f <= cheap && f <= left {
			plan[i].Full = true
			left -= f
		}
	}
	// The watch list first, across sources, then triage.
	for i, n := range needs {
		if plan[i].Full {
			continue
		}
		w := min(n.Watch, left)
		plan[i].Watch = w
		left -= w
		cut = cut || w < n.Watch
	}
	for i, n := range needs {
		if plan[i].Full || !n.Triage {
			continue
		}
		p := pages(n.Present, zoom.ParticipantsPageSize)
		if p > left {
			cut = true
			owed += p
			continue // a partial triage would rate only the early joiners
		}
		plan[i].TriagePages = p
		left -= p
	}
	return plan, left, owed, false, cut
}

// flagged is one source's participants rated fair or worse by the last
// triage, counted by rating, and those rated so recently (Recent), that
// phase A did not already see.
type flagged struct {
	Bad, Poor, Fair, Recent int
	Present                 int // for the sweep's share
	Swept                   bool
}

// phaseB is the second half of an interval's plan, per source.
type phaseB struct {
	Detail     int // single-participant calls, worst rated first
	SweepPages int
}

// planPhaseB pays the detail calls, worst rating first across sources
// (the recently rated last), and shares what is left among the sources'
// rotation sweeps in proportion to their size, at most one full sweep
// each. The caller leaves what phase A owes out of credit.
func planPhaseB(credit int, fl []flagged) (plan []phaseB, left int, cut bool) {
	plan = make([]phaseB, len(fl))
	left = credit
	for level := range 4 {
		for i, f := range fl {
			want := [4]int{f.Bad, f.Poor, f.Fair, f.Recent}[level]
			d := min(want, left)
			plan[i].Detail += d
			left -= d
			cut = cut || d < want
		}
	}
	total := 0
	for _, f := range fl {
		if !f.Swept {
			total += f.Present
		}
	}
	if total == 0 || left <= 0 {
		return plan, left, cut
	}
	pool := left
	for i, f := range fl {
		if f.Swept || f.Present == 0 {
			continue
		}
		share := max(1, pool*f.Present/total)
		p := min(share, pages(f.Present, zoom.QoSPageSize), left)
		plan[i].SweepPages = p
		left -= p
	}
	return plan, left, cut
}
