package poll

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/zoom"
)

// pollSource is what the poller knows of one webinar or meeting. Guarded
// by Poller.mu.
type pollSource struct {
	src      engine.Source
	explicit bool // from QOSWATCH_SOURCES: not ended by discovery
	listed   bool // seen in a live list
	// announced: started/ended events said it is live (push.go); they
	// end it too.
	announced bool
	qss       bool // its QoS came by QSS at the last interval: no past sweep either
	gone      bool
	goneAt    time.Time
	notFound  bool // a call answered 3001: end it after this phase
	told      bool // the sink heard EndSource and nothing was seen since
	since     time.Time

	count     int       // participants, per the live list (who left included)
	grewAt    time.Time // when count last grew
	people    map[string]*person
	ratings   int8 // 1: the participants list carries quality ratings; -1: it does not; 0: unknown
	triagedAt time.Time

	sweep   zoom.Pager // where the rotation sweep stands
	sweepAt time.Time  // when its token was issued (Zoom keeps it 15 minutes)
}

// person is one participant of a source, by Participant.Key().
type person struct {
	meta      *zoom.ParticipantMetrics // the last participants list entry
	rating    int8                     // worst of Zoom's ratings in the last triage: 0 good/none, 1 fair, 2 poor, 3 bad
	flaggedAt time.Time                // last triage that rated fair or worse
	seen      time.Time                // last QoS view (poll time)
	known     time.Time
	left      bool
}

func isRole(role string) bool {
	switch strings.ToLower(strings.ReplaceAll(role, "-", "")) {
	case engine.RoleHost, engine.RolePanelist, "cohost", "alternative_host":
		return true
	}
	return false
}

// present is the number of participants in the source now: those known
// and not left, plus those the live list counts that we have not met
// (its count includes who left).
func (s *pollSource) present() int {
	n := 0
	for _, pp := range s.people {
		if !pp.left {
			n++
		}
	}
	return n + s.unmet()
}

func (s *pollSource) unmet() int { return max(0, s.count-len(s.people)) }

func (s *pollSource) triageDue(now time.Time) bool {
	return s.ratings >= 0 || now.Sub(s.triagedAt) >= ratingsRecheck
}

// pathID is the id for the source's paths: the UUID for past data (one
// instance), the number for live (the running instance).
func pathID(src engine.Source) string {
	if !src.Live && src.UUID != "" {
		return src.UUID
	}
	return src.ID
}

// watchList returns the source's watch list, most important first:
// alerts, then hosts, panelists and co-hosts. Callers hold p.mu.
func (p *Poller) watchList(s *pollSource, hot []string) []string {
	out := make([]string, 0, len(hot))
	in := map[string]bool{}
	slices.Sort(hot)
	for _, k := range hot {
		if pp := s.people[k]; (pp == nil || !pp.left) && !in[k] {
			in[k] = true
			out = append(out, k)
		}
	}
	var roles []string
	for k, pp := range s.people {
		if !pp.left && !in[k] && pp.meta != nil && isRole(pp.meta.Role) {
			roles = append(roles, k)
		}
	}
	slices.Sort(roles)
	return append(out, roles...)
}

// interval runs one interval's plan: phase A (full sweeps, watch list,
// triage), then phase B (details, rotation sweeps) on what triage found.
func (p *Poller) interval(ctx context.Context) error {
	start := p.cfg.Clock.Now()
	live := p.liveSources()
	srcs := p.notQSS(slices.Clone(live)) // QSS brings their QoS unasked
	p.planSpend(ctx, start, srcs)
	credit := p.quota.Credit(p.cfg.Interval)
	if len(srcs) == 0 {
		p.mu.Lock()
		p.mode = "idle"
		if len(live) > 0 {
			p.mode = "qss"
		}
		p.mu.Unlock()
		return nil
	}
	hot := make([][]string, len(srcs))
	if p.cfg.Hot != nil {
		for i, s := range srcs {
			hot[i] = p.cfg.Hot.Hot(s.src.Key())
		}
	}

	full, owed, all, cutA := p.phaseA(ctx, srcs, hot, credit, start)
	if err := p.endNotFound(ctx, srcs); err != nil {
		return err
	}
	credit = p.quota.Credit(p.cfg.Interval)
	cutB := p.phaseB(ctx, srcs, full, max(0, credit-owed), start)
	if err := p.endNotFound(ctx, srcs); err != nil {
		return err
	}
	p.setMode(all, cutA || cutB)
	return ctx.Err()
}

// phaseA plans and runs full sweeps, the watch list and triage. It
// returns which sources were swept in full, the price of the triages it
// could not pay, whether all sources were swept, and whether the budget
// cut the watch list or triage.
func (p *Poller) phaseA(ctx context.Context, srcs []*pollSource, hot [][]string, credit int, start time.Time) (full []bool, owed int, all, cut bool) {
	needs := make([]sourceNeed, len(srcs))
	watch := make([][]string, len(srcs))
	p.mu.Lock()
	for i, s := range srcs {
		if s.since.IsZero() {
			s.since = start
		}
		watch[i] = p.watchList(s, hot[i])
		needs[i] = sourceNeed{Present: max(1, s.present()), Triage: s.triageDue(start), Watch: len(watch[i])}
	}
	p.mu.Unlock()
	plan, _, owed, all, cut := planPhaseA(credit, needs)
	full = make([]bool, len(srcs))
	var tasks []func(context.Context) // chains first: they take longest
	for i, s := range srcs {
		a := plan[i]
		full[i] = a.Full
		if a.Full {
			limit := int64(pageLimit(needs[i].Present, zoom.QoSPageSize))
			tasks = append(tasks, func(ctx context.Context) {
				p.sweepPages(ctx, s, s.src, zoom.Live, &zoom.Pager{MaxPages: limit}, math.MaxInt, purposeFull)
			})
			// Roles and who is there, now and then: a few calls.
			if start.Sub(s.triagedAt) >= ratingsRecheck {
				limit := int64(pageLimit(needs[i].Present, zoom.ParticipantsPageSize))
				tasks = append(tasks, func(ctx context.Context) { p.triage(ctx, s, zoom.Pager{MaxPages: limit}, math.MaxInt) })
			}
			continue
		}
		if a.TriagePages > 0 {
			n := a.TriagePages + 2 // what the plan paid, and two for joiners
			tasks = append(tasks, func(ctx context.Context) { p.triage(ctx, s, zoom.Pager{MaxPages: int64(n)}, n) })
		}
	}
	for i, s := range srcs {
		for _, k := range watch[i][:plan[i].Watch] {
			tasks = append(tasks, func(ctx context.Context) { p.one(ctx, s, k, purposeWatch) })
		}
	}
	p.parallel(ctx, tasks)
	return full, owed, all, cut
}

// phaseB plans and runs the detail calls for whom the last triage rated
// fair or worse, then for those rated so within RecentFor (to see them
// recover), skipping whom phase A saw; then the rotation sweeps. It
// returns whether the budget cut the details.
func (p *Poller) phaseB(ctx context.Context, srcs []*pollSource, full []bool, credit int, start time.Time) (cut bool) {
	fl := make([]flagged, len(srcs))
	detail := make([][]string, len(srcs))
	p.mu.Lock()
	for i, s := range srcs {
		fl[i] = flagged{Present: s.present(), Swept: full[i] || s.gone}
		if fl[i].Swept {
			continue
		}
		var byRank [4][]string // 0: rated recently, not now
		for k, pp := range s.people {
			switch {
			case pp.left || !pp.seen.Before(start):
			case pp.rating > 0:
				byRank[pp.rating] = append(byRank[pp.rating], k)
			case !pp.flaggedAt.IsZero() && start.Sub(pp.flaggedAt) < p.cfg.RecentFor:
				byRank[0] = append(byRank[0], k)
			}
		}
		for _, r := range []int{3, 2, 1, 0} {
			slices.Sort(byRank[r])
			detail[i] = append(detail[i], byRank[r]...)
		}
		fl[i].Bad, fl[i].Poor, fl[i].Fair, fl[i].Recent = len(byRank[3]), len(byRank[2]), len(byRank[1]), len(byRank[0])
	}
	p.mu.Unlock()
	plan, _, cut := planPhaseB(credit, fl)
	var tasks []func(context.Context)
	for i, s := range srcs {
		if n := plan[i].SweepPages; n > 0 {
			tasks = append(tasks, func(ctx context.Context) { p.rotate(ctx, s, n) })
		}
	}
	for i, s := range srcs {
		for _, k := range detail[i][:plan[i].Detail] {
			tasks = append(tasks, func(ctx context.Context) { p.one(ctx, s, k, purposeDetail) })
		}
	}
	p.parallel(ctx, tasks)
	return cut
}

// endNotFound ends the sources a call found gone (3001).
func (p *Poller) endNotFound(ctx context.Context, srcs []*pollSource) error {
	for _, s := range srcs {
		p.mu.Lock()
		nf := s.notFound
		s.notFound = false
		p.mu.Unlock()
		if nf {
			if err := p.end(ctx, s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *Poller) markNotFound(s *pollSource) {
	p.mu.Lock()
	s.notFound = true
	p.mu.Unlock()
}

// one polls one participant's QoS. Zoom's participantId is the user_id,
// which is the participant's key; the id (a logged-in user's Zoom id) is
// not accepted there.
func (p *Poller) one(ctx context.Context, s *pollSource, key string, why purpose) {
	p.mu.Lock()
	src := s.src
	p.mu.Unlock()
	if !p.call(ctx, why) {
		return
	}
	q, err := p.c.ParticipantQoS(ctx, src.Kind, pathID(src), key, zoom.Live)
	if err != nil {
		// Not found here is the participant (gone), not the source.
		p.failed(err, src, "participant qos")
		return
	}
	p.ingest(ctx, s, zoom.AppendSamples(nil, src, q))
}

// triage lists up to n pages of the source's participants (300 a page),
// bounded by pg: roles, who left, and Zoom's quality ratings where the
// account has them.
func (p *Poller) triage(ctx context.Context, s *pollSource, pg zoom.Pager, n int) {
	p.mu.Lock()
	src := s.src
	p.mu.Unlock()
	var all []zoom.ParticipantMetrics
	for ; n > 0 && !pg.Done(); n-- {
		if !p.call(ctx, purposeTriage) {
			return
		}
		list, err := p.c.ParticipantsPage(ctx, src.Kind, pathID(src), zoom.Live, &pg)
		if err != nil && !pg.Done() {
			all = all[:0] // restarted from the first page
			continue
		}
		if err != nil {
			if p.failed(err, src, "participants") {
				p.markNotFound(s)
			}
			return
		}
		all = append(all, list...)
	}
	now := p.cfg.Clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	rated := false
	for i := range all {
		m := &all[i]
		key := participantKey(m.UserID, m.ID, m.UserName)
		pp := s.people[key]
		if pp == nil {
			pp = &person{known: now}
			s.people[key] = pp
		}
		if pp.meta == nil {
			pp.meta = new(zoom.ParticipantMetrics)
		}
		*pp.meta = *m
		pp.left = m.LeaveTime != ""
		if m.AudioQuality != "" || m.VideoQuality != "" || m.ScreenShareQuality != "" {
			rated = true
		}
		pp.rating = int8(max(0, zoom.QualityRank(m.AudioQuality), zoom.QualityRank(m.VideoQuality), zoom.QualityRank(m.ScreenShareQuality)))
		if pp.rating > 0 {
			pp.flaggedAt = now
		}
	}
	s.told = false
	s.ratings = -1
	if rated {
		s.ratings = 1
	}
	s.triagedAt = now
}

// participantKey is engine.Participant.Key() of a participant's fields.
func participantKey(userID, id, name string) string {
	return engine.Participant{UserID: userID, ID: id, UserName: name}.Key()
}

// rotate continues the source's rotation sweep for n pages; a sweep that
// ended starts again at the first page.
func (p *Poller) rotate(ctx context.Context, s *pollSource, n int) {
	now := p.cfg.Clock.Now()
	p.mu.Lock()
	pg, src := s.sweep, s.src
	if pg.Done() || now.Sub(s.sweepAt) >= 14*time.Minute {
		pg = zoom.Pager{} // Zoom keeps a page token 15 minutes
	}
	p.mu.Unlock()
	p.sweepPages(ctx, s, src, zoom.Live, &pg, n, purposeSweep)
	p.mu.Lock()
	s.sweep, s.sweepAt = pg, p.cfg.Clock.Now()
	p.mu.Unlock()
}

// sweepPages fetches up to n pages of the participants QoS list from
// where pg stands (to the end of the list, for a full sweep) and ingests
// each. pg bounds the walk whatever Zoom answers (see zoom.Pager); an
// expired token starts it over, and the engine's cursors skip what it
// saw.
func (p *Poller) sweepPages(ctx context.Context, s *pollSource, src engine.Source, typ string, pg *zoom.Pager, n int, why purpose) {
	var d zoom.PageDecoder
	at := src
	if !src.Live && src.UUID != "" {
		at.ID = "" // past data: the instance, by UUID (QoSPage uses it when ID is blank)
	}
	for ; n > 0 && !pg.Done(); n-- {
		if !p.call(ctx, why) {
			return
		}
		samples, err := p.c.QoSPage(ctx, &d, at, typ, pg)
		if err != nil {
			if !pg.Done() {
				continue // restarted from the first page
			}
			if p.failed(err, src, "participants qos") && typ == zoom.Live {
				p.markNotFound(s)
			}
			return
		}
		for i := range samples {
			samples[i].Source = src // the source's key is its id, whatever the path used
		}
		p.ingest(ctx, s, samples)
	}
}

// ingest adds what triage knows of each participant (role, network,
// ratings) to their samples, marks them seen and hands the batch to the
// sink: one Ingest per page (or per participant call).
func (p *Poller) ingest(ctx context.Context, s *pollSource, batch []engine.Sample) {
	if len(batch) == 0 {
		return
	}
	now := p.cfg.Clock.Now()
	p.mu.Lock()
	var pp *person
	last := ""
	for i := range batch {
		smp := &batch[i]
		if key := smp.Participant.Key(); pp == nil || key != last {
			last = key
			if pp = s.people[key]; pp == nil {
				pp = &person{known: now}
				s.people[key] = pp
			}
			if smp.Source.Live && !smp.Participant.LeaveTime.IsZero() {
				pp.left = true
			}
			pp.seen = now
		}
		s.told = false
		if pp.meta != nil {
			zoom.MergeParticipant(&smp.Participant, pp.meta)
		}
	}
	p.mu.Unlock()
	if err := p.sink.Ingest(ctx, batch); err != nil && ctx.Err() == nil {
		p.errs.Add(1)
		p.log.Error("ingesting samples", "source", batch[0].Source.Key(), "samples", len(batch), "error", err)
	}
}
