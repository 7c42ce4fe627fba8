package poll

import (
	"reflect"
	"testing"
)

func TestPlanPhaseA(t *testing.T) {
	for _, tc := range []struct {
		name     string
		credit   int
		needs    []sourceNeed
		want     []phaseA
		left     int
		owed     int
		all, cut bool
	}{
		{
			// 100 attendees on Pro: 10 pages a minute, well inside the credit.
			name: "small webinar swept in full", credit: 125,
			needs: []sourceNeed{{Present: 100, Triage: true, Watch: 3}},
			want:  []phaseA{{Full: true}}, left: 115, all: true,
		},
		{
			// 10,000 attendees, Business, half the cap: 250 calls a minute.
			name: "large webinar triaged", credit: 250,
			needs: []sourceNeed{{Present: 10000, Triage: true, Watch: 5}},
			want:  []phaseA{{Watch: 5, TriagePages: 34}}, left: 211,
		},
		{
			name: "no ratings: no triage", credit: 250,
			needs: []sourceNeed{{Present: 10000, Watch: 5}},
			want:  []phaseA{{Watch: 5}}, left: 245,
		},
		{
			// The watch list comes first; a triage that does not fit waits
			// for the credit to carry over to the next interval.
			name: "near the cap", credit: 30,
			needs: []sourceNeed{{Present: 10000, Triage: true, Watch: 5}},
			want:  []phaseA{{Watch: 5}}, left: 25, owed: 34, cut: true,
		},
		{
			name: "watch list cut", credit: 3,
			needs: []sourceNeed{{Present: 10000, Triage: true, Watch: 5}},
			want:  []phaseA{{Watch: 3}}, left: 0, owed: 34, cut: true,
		},
		{
			// A 20-person meeting costs 2 pages in full: as cheap as its
			// watch list and triage, so it is swept; the webinar is triaged.
			name: "mixed sources", credit: 100,
			needs: []sourceNeed{{Present: 10000, Triage: true, Watch: 2}, {Present: 20, Triage: true, Watch: 1}},
			want:  []phaseA{{Watch: 2, TriagePages: 34}, {Full: true}}, left: 62,
		},
		{
			name: "nobody there", credit: 10,
			needs: []sourceNeed{{Present: 0, Triage: true}},
			want:  []phaseA{{}}, left: 10, all: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, left, owed, all, cut := planPhaseA(tc.credit, tc.needs)
			if !reflect.DeepEqual(plan, tc.want) || left != tc.left || owed != tc.owed || all != tc.all || cut != tc.cut {
				t.Errorf("got %+v left %d owed %d all %v cut %v; want %+v left %d owed %d all %v cut %v",
					plan, left, owed, all, cut, tc.want, tc.left, tc.owed, tc.all, tc.cut)
			}
		})
	}
}

func TestPlanPhaseB(t *testing.T) {
	for _, tc := range []struct {
		name   string
		credit int
		fl     []flagged
		want   []phaseB
		left   int
		cut    bool
	}{
		{
			name: "details then sweep", credit: 211,
			fl:   []flagged{{Bad: 20, Poor: 10, Fair: 5, Present: 10000}},
			want: []phaseB{{Detail: 35, SweepPages: 176}}, left: 0,
		},
		{
			// Worst first across sources: both sources' bad before any poor.
			name: "worst first", credit: 8,
			fl:   []flagged{{Bad: 3, Poor: 4, Fair: 10, Present: 1000}, {Bad: 2, Poor: 4, Present: 1000}},
			want: []phaseB{{Detail: 6}, {Detail: 2}}, left: 0, cut: true,
		},
		{
			// The recently rated come after every current rating.
			name: "recent last", credit: 10,
			fl:   []flagged{{Fair: 4, Recent: 9, Present: 1000}, {Bad: 3, Recent: 2, Present: 1000}},
			want: []phaseB{{Detail: 7}, {Detail: 3}}, left: 0, cut: true,
		},
		{
			name: "sweeps shared by size", credit: 90,
			fl:   []flagged{{Present: 10000}, {Present: 5000}},
			want: []phaseB{{SweepPages: 60}, {SweepPages: 30}}, left: 0,
		},
		{
			// At most one full sweep of a source an interval.
			name: "sweep capped", credit: 50,
			fl:   []flagged{{Present: 95}},
			want: []phaseB{{SweepPages: 10}}, left: 40,
		},
		{
			name: "already swept", credit: 50,
			fl:   []flagged{{Present: 95, Swept: true}},
			want: []phaseB{{}}, left: 50,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, left, cut := planPhaseB(tc.credit, tc.fl)
			if !reflect.DeepEqual(plan, tc.want) || left != tc.left || cut != tc.cut {
				t.Errorf("got %+v left %d cut %v; want %+v left %d cut %v", plan, left, cut, tc.want, tc.left, tc.cut)
			}
		})
	}
}
