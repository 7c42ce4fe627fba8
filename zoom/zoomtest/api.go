package zoomtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/zoom"
)

// apiErr is an error answer: HTTP status and Zoom's code and message.
type apiErr struct {
	status, code int
	msg          string
}

func badParam(format string, a ...any) *apiErr {
	return &apiErr{http.StatusBadRequest, 300, fmt.Sprintf(format, a...)}
}

// route is a parsed API path.
type route struct {
	kind     Kind
	id       string // decoded webinar/meeting id or UUID
	pid      string // participant id
	endpoint string // list | details | participants | qos | participant_qos
	pattern  string // for Stats.ByEndpoint
}

// parseRoute parses an escaped path under /v2. ok is false for a path
// that is no Dashboard endpoint; under is true when a UUID that Zoom
// wants double-encoded came encoded once.
func parseRoute(path string) (rt route, ok, under bool) {
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(seg) < 2 || seg[0] != "metrics" {
		return rt, false, false
	}
	switch seg[1] {
	case "webinars":
		rt.kind = Webinar
	case "meetings":
		rt.kind = Meeting
	default:
		return rt, false, false
	}
	base := "GET /metrics/" + seg[1]
	if len(seg) == 2 {
		rt.endpoint, rt.pattern = "list", base
		return rt, true, false
	}
	id, ok := unescape(seg[2])
	if !ok || id == "" {
		return rt, false, false
	}
	if strings.Contains(id, "%") { // double-encoded
		if id, ok = unescape(id); !ok {
			return rt, false, false
		}
	} else if strings.HasPrefix(id, "/") || strings.Contains(id, "//") {
		under = true
	}
	rt.id = id
	switch {
	case len(seg) == 3:
		rt.endpoint, rt.pattern = "details", base+"/{id}"
	case len(seg) == 4 && seg[3] == "participants":
		rt.endpoint, rt.pattern = "participants", base+"/{id}/participants"
	case len(seg) == 5 && seg[3] == "participants" && seg[4] == "qos":
		rt.endpoint, rt.pattern = "qos", base+"/{id}/participants/qos"
	case len(seg) == 6 && seg[3] == "participants" && seg[5] == "qos":
		pid, ok := unescape(seg[4])
		if !ok {
			return rt, false, false
		}
		rt.pid = pid
		rt.endpoint, rt.pattern = "participant_qos", base+"/{id}/participants/{participantId}/qos"
	default:
		return rt, false, false
	}
	return rt, true, under
}

func (rt route) category() zoom.Category {
	if rt.endpoint == "list" {
		return zoom.ResourceIntensive
	}
	return zoom.Heavy
}

// statusWriter remembers the status written, for Stats.ByStatus.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// api serves one Dashboard call: route, auth, rate limit, faults, answer.
func (s *Server) api(rw http.ResponseWriter, r *http.Request, path string) {
	w := &statusWriter{ResponseWriter: rw}
	defer func() {
		s.mu.Lock()
		s.stats.ByStatus[w.status]++
		s.mu.Unlock()
	}()
	rt, ok, under := parseRoute(path)
	if !ok {
		writeError(w, http.StatusNotFound, 404, "No such API endpoint: "+path)
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, 405, "Method not allowed: "+r.Method)
		return
	}
	if code, msg, ok := s.authorize(r); !ok {
		s.mu.Lock()
		s.stats.Unauthorized++
		s.mu.Unlock()
		writeError(w, http.StatusUnauthorized, code, msg)
		return
	}

	cat := rt.category()
	now := s.now()
	s.mu.Lock()
	rej := s.lim.admit(cat, now)
	switch {
	case rej == nil:
		s.stats.Calls[cat]++
		s.stats.ByEndpoint[rt.pattern]++
	case rej.kind == "QPS":
		s.stats.Throttled[cat]++
	default:
		s.stats.DailyLimited++
	}
	limit, remaining := s.lim.limits.Daily, s.lim.remaining()
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-RateLimit-Category", CategoryName(cat))
	if daily(cat) && limit > 0 {
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	}
	if rej != nil {
		h.Set("X-RateLimit-Type", rej.kind)
		if rej.retryAfter != "" {
			h.Set("Retry-After", rej.retryAfter)
		}
		writeError(w, http.StatusTooManyRequests, 429, rej.message)
		return
	}
	answered, tf := s.fault(w, r, path, false)
	if answered {
		return
	}
	if under {
		s.mu.Lock()
		s.stats.UnderEncoded++
		s.mu.Unlock()
		e := notFound(rt.kind)
		writeError(w, e.status, e.code, e.msg)
		return
	}

	var v any
	var e *apiErr
	q := r.URL.Query()
	if rt.endpoint == "list" {
		v, e = s.list(rt.kind, q, now, tf)
	} else {
		v, e = s.sourceCall(rt, q, now, tf)
	}
	if e != nil {
		writeError(w, e.status, e.code, e.msg)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func notFound(k Kind) *apiErr {
	noun := "webinar"
	if k == Meeting {
		noun = "meeting"
	}
	return &apiErr{http.StatusNotFound, 3001, fmt.Sprintf("This %s's detail is not available or the %s ID is not valid.", noun, strings.ToUpper(noun[:1])+noun[1:])}
}

// view is one source as seen at one instant.
type view struct {
	sc   *Scenario
	end  time.Time // zero while running
	now  time.Time
	live bool
}

// cutoff is the offset from the start up to which the source has run.
func (v view) cutoff() time.Duration {
	t := v.now
	if !v.end.IsZero() && v.end.Before(t) {
		t = v.end
	}
	return t.Sub(v.sc.start())
}

// minutes is the number of published sample minutes: a minute is
// published when it is over.
func (v view) minutes() int {
	c := v.cutoff()
	if c < 0 {
		return 0
	}
	return int(c / time.Minute)
}

// joined returns the participants who joined by the cutoff, in paging order.
func (v view) joined() []*Participant {
	c := v.cutoff()
	if !v.live {
		c-- // a join at the very end is no join
	}
	return v.sc.joinedBy(c)
}

func (v view) kindParam(q url.Values, allowPastOne bool) (live bool, e *apiErr) {
	switch t := q.Get("type"); t {
	case "", "live":
		return true, nil
	case "past":
		return false, nil
	case "pastOne":
		if allowPastOne {
			return false, nil
		}
		fallthrough
	default:
		return false, badParam("Invalid field: type %q.", t)
	}
}

// lookup finds the source an id or UUID names, in the state type asks
// for. A number may name several instances (a recurring webinar): the
// latest one in the asked state wins.
func (s *Server) lookup(kind Kind, id string, live bool, now time.Time) (view, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, numErr := strconv.ParseInt(id, 10, 64)
	var match, other *source
	for _, src := range s.sources {
		sc := src.sc
		if sc.Kind != kind || (sc.UUID != id && (numErr != nil || sc.ID != n)) || sc.start().After(now) {
			continue
		}
		if ended := !src.end.IsZero() && !now.Before(src.end); ended != live {
			match = src
		} else {
			other = src
		}
	}
	switch {
	case match != nil:
		return view{sc: match.sc, end: match.end, now: now, live: live}, nil
	case other != nil && !live:
		return view{}, &apiErr{http.StatusNotFound, 3001, fmt.Sprintf("This %s has not ended yet.", kind)}
	}
	return view{}, notFound(kind)
}

// sourceCall serves the endpoints under /metrics/{kind}/{id}.
func (s *Server) sourceCall(rt route, q url.Values, now time.Time, tf TokenFault) (any, *apiErr) {
	live, e := view{}.kindParam(q, rt.kind == Meeting && rt.endpoint != "qos" && rt.endpoint != "participant_qos")
	if e != nil {
		return nil, e
	}
	v, e := s.lookup(rt.kind, rt.id, live, now)
	if e != nil {
		return nil, e
	}
	scope := strings.Join([]string{rt.endpoint, string(rt.kind), v.sc.UUID, strconv.FormatBool(live)}, "|")
	switch rt.endpoint {
	case "details":
		return s.sourceMetrics(v), nil
	case "participants":
		list := v.joined()
		pg, e := s.pageFor(q, scope, len(list), 30, 300, now, tf)
		if e != nil {
			return nil, e
		}
		out := zoom.ParticipantList{Page: pg.wire(), Participants: make([]zoom.ParticipantMetrics, 0, pg.end()-pg.offset)}
		for _, p := range list[pg.offset:pg.end()] {
			out.Participants = append(out.Participants, s.participantMetrics(v, p))
		}
		return out, nil
	case "qos":
		list := v.joined()
		pg, e := s.pageFor(q, scope, len(list), 1, 10, now, tf)
		if e != nil {
			return nil, e
		}
		return v.qosList(list, pg, s.window(v)), nil
	default: // participant_qos
		p := v.sc.Participant(rt.pid)
		if p == nil || p.Join > v.cutoff() {
			return nil, &apiErr{http.StatusNotFound, 3001, fmt.Sprintf("This participant's detail is not available: %q.", rt.pid)}
		}
		return v.participantQoS(p, s.window(v)), nil
	}
}

// window is the minutes [from, to) a QoS answer carries: the last
// LiveWindow minutes for live, all of them for past.
func (s *Server) window(v view) [2]int {
	n := v.minutes()
	if !v.live {
		return [2]int{0, n}
	}
	w := int(s.opts.LiveWindow / time.Minute)
	return [2]int{max(0, n-w), n}
}

// pageFor reads page_size and next_page_token and returns the page, with
// its next_page_token spoilt as tf says.
func (s *Server) pageFor(q url.Values, scope string, total, def, maxSize int, now time.Time, tf TokenFault) (page, *apiErr) {
	size := def
	if ps := q.Get("page_size"); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil {
			return page{}, badParam("Invalid field: page_size %q.", ps)
		}
		if n > maxSize {
			return page{}, badParam("The page size can not be greater than %d.", maxSize)
		}
		if n > 0 {
			size = n
		}
	}
	offset := 0
	tok := q.Get("next_page_token")
	if tok != "" && tf == TokenExpired {
		return page{}, badParam("The next page token is invalid or expired.")
	}
	if tok != "" {
		t, ok := decodePageToken(tok)
		s.mu.Lock()
		minSeq := s.minPageSeq
		s.mu.Unlock()
		if !ok || t.scope != scope || t.seq < minSeq || !now.Before(t.issued.Add(s.opts.PageTokenTTL)) {
			return page{}, badParam("The next page token is invalid or expired.")
		}
		offset = min(t.offset, total)
	}
	pg := page{offset: offset, size: size, total: total}
	next := pg.end()
	switch {
	case tf == TokenRepeat && tok != "":
		pg.next = tok
		return pg, nil
	case tf == TokenRepeat:
		next = 0
	case tf == TokenEndless:
		pg.noCounts = true
		if next >= total {
			next = 0
		}
	case next >= total:
		return pg, nil
	}
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	pg.next = pageToken{scope: scope, offset: next, issued: now, seq: seq}.encode()
	return pg, nil
}

func (p page) wire() zoom.Page {
	if p.noCounts {
		return zoom.Page{NextPageToken: p.next, PageSize: p.size}
	}
	return zoom.Page{NextPageToken: p.next, PageCount: p.count(), PageSize: p.size, TotalRecords: int64(p.total)}
}

// list serves GET /metrics/webinars and /metrics/meetings.
func (s *Server) list(kind Kind, q url.Values, now time.Time, tf TokenFault) (any, *apiErr) {
	live, e := view{}.kindParam(q, kind == Meeting)
	if e != nil {
		return nil, e
	}
	from, to := q.Get("from"), q.Get("to")
	if from == "" || to == "" {
		return nil, badParam("The from and to fields are required.")
	}
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return nil, badParam("Invalid date: from %q, to %q (yyyy-mm-dd).", from, to)
	}
	if t.Before(f) {
		return nil, badParam("The to date %q is before the from date %q.", to, from)
	}
	var views []view
	s.mu.Lock()
	for _, src := range s.sources {
		sc := src.sc
		if sc.Kind != kind || sc.start().After(now) {
			continue
		}
		ended := !src.end.IsZero() && !now.Before(src.end)
		if live == ended {
			continue
		}
		// Past sources are picked by their start date; live ones always
		// show, whatever day they started.
		if d := sc.start().Truncate(24 * time.Hour); !live && (d.Before(f) || d.After(t)) {
			continue
		}
		views = append(views, view{sc: sc, end: src.end, now: now, live: !ended})
	}
	s.mu.Unlock()

	typ := "live"
	if !live {
		typ = "past"
	}
	pg, e := s.pageFor(q, strings.Join([]string{"list", string(kind), typ, from, to}, "|"), len(views), 30, 300, now, tf)
	if e != nil {
		return nil, e
	}
	items := make([]zoom.SourceMetrics, 0, pg.end()-pg.offset)
	for _, v := range views[pg.offset:pg.end()] {
		items = append(items, s.sourceMetrics(v))
	}
	if kind == Meeting {
		return zoom.MeetingList{From: from, To: to, Page: pg.wire(), Meetings: items}, nil
	}
	return zoom.WebinarList{From: from, To: to, Page: pg.wire(), Webinars: items}, nil
}

func (s *Server) sourceMetrics(v view) zoom.SourceMetrics {
	sc := v.sc
	m := zoom.SourceMetrics{
		ID: sc.ID, UUID: sc.UUID, Topic: sc.Topic, Host: sc.Host, Email: sc.HostEmail,
		UserType: "Licensed", StartTime: stamp(sc.start()), Participants: len(v.joined()),
		HasVideo: true,
	}
	for _, p := range sc.Participants {
		if p.SharesScreen {
			m.HasScreenShare = true
			break
		}
	}
	d := v.cutoff()
	if !v.live {
		m.EndTime = stamp(v.end)
	}
	m.Duration = fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	if !s.opts.NoQualityScores {
		m.AudioQuality, m.VideoQuality, m.ScreenShareQuality = "good", "good", "good"
	}
	return m
}

// leaveTime returns when p left, if it has by the cutoff ("" otherwise).
// Everyone in a source that ended left at its end.
func (v view) leaveTime(p *Participant) string {
	if p.Leave > 0 && p.Leave <= v.cutoff() {
		return stamp(v.sc.start().Add(p.Leave))
	}
	if !v.live {
		return stamp(v.end)
	}
	return ""
}

func (s *Server) participantMetrics(v view, p *Participant) zoom.ParticipantMetrics {
	m := zoom.ParticipantMetrics{
		ID: p.ID, UserID: p.UserID, UserName: p.UserName, Email: p.Email, Device: p.Device,
		IPAddress: p.IPAddress, Location: p.Location, NetworkType: p.NetworkType,
		DataCenter: p.DataCenter, JoinTime: p.joinStamp, LeaveTime: v.leaveTime(p),
		Version: p.Version, PCName: p.PCName, Domain: p.Domain, Role: p.Role,
	}
	if !v.live && (p.Leave <= 0 || p.Leave > v.cutoff()) {
		m.LeaveReason = fmt.Sprintf("Host ended the %s.", v.sc.Kind)
	}
	if !s.opts.NoQualityScores {
		m.AudioQuality, m.VideoQuality, m.ScreenShareQuality = ratings(p, v.rated(p))
	}
	return m
}

// rated is the impairments a participant's quality rating reflects: its
// latest published minute while live, its whole session once past.
func (v view) rated(p *Participant) impSet {
	n := v.minutes()
	if v.live {
		for k := n - 1; k >= 0; k-- {
			off := time.Duration(k) * time.Minute
			if p.present(off) {
				return p.active(off)
			}
			if off < p.Join {
				break
			}
		}
		return 0
	}
	var set impSet
	for k := range n {
		if off := time.Duration(k) * time.Minute; p.present(off) {
			set |= p.active(off)
		}
	}
	return set
}

func (v view) participantQoS(p *Participant, win [2]int) zoom.ParticipantQoS {
	q := zoom.ParticipantQoS{
		ID: p.ID, UserID: p.UserID, UserName: p.UserName, Device: p.Device, IPAddress: p.IPAddress,
		Location: p.Location, JoinTime: p.joinStamp, LeaveTime: v.leaveTime(p),
		PCName: p.PCName, Domain: p.Domain, Version: p.Version,
		UserQoS: []zoom.UserQoS{},
	}
	for k := win[0]; k < win[1]; k++ {
		if off := time.Duration(k) * time.Minute; p.present(off) {
			q.UserQoS = append(q.UserQoS, v.sc.userQoS(p, off))
		}
	}
	return q
}

func (v view) qosList(list []*Participant, pg page, win [2]int) zoom.ParticipantQoSList {
	out := zoom.ParticipantQoSList{Page: pg.wire(), Participants: make([]zoom.ParticipantQoS, 0, pg.end()-pg.offset)}
	for _, p := range list[pg.offset:pg.end()] {
		out.Participants = append(out.Participants, v.participantQoS(p, win))
	}
	return out
}
