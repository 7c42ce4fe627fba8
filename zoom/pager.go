package zoom

import "log/slog"

// Pager is where a walk through one of Zoom's paged lists stands, and the
// bounds that end it whatever the server answers: an empty
// next_page_token ends it; so do total_records items or page_count pages
// (Zoom sometimes sends a token with the last page); a token seen before
// in the walk (the server repeats itself) ends it early; an expired token
// (code 300) restarts it from the first page once, and a second one ends
// it; and when the pages carry neither count, MaxPages pages end it (the
// caller's bound: what it paid for), and 10,000 pages end any walk. The client moves the pager (QoSPage, ParticipantsPage and the
// all-pages calls), logs the first walk cut short for each reason, and
// counts every one (PagingStops). The zero Pager starts at the first page.
type Pager struct {
	// MaxPages bounds a walk whose pages carry neither page_count nor
	// total_records; 0 leaves only the 10,000 pages every walk ends at.
	MaxPages int64

	token    string
	pages    int64 // pages fetched since the first page
	items    int64
	restarts int
	seen     map[string]bool
	done     bool
	stopped  StopReason
}

// StopReason is why a walk was cut short ("" when it ended as lists do).
type StopReason string

const (
	// StopPastCount: a next_page_token came after total_records items or
	// page_count pages. Zoom sometimes does this on the last page.
	StopPastCount StopReason = "past_count"
	// StopRepeatedToken: the server sent a token the walk had seen.
	StopRepeatedToken StopReason = "repeated_token"
	// StopRestarts: a token expired (code 300) again after the restart.
	StopRestarts StopReason = "restarts"
	// StopMaxPages: MaxPages pages without counts (or 10,000 pages), and
	// the server still sends tokens.
	StopMaxPages StopReason = "max_pages"
)

const numStopReasons = 4

// StopReasons are every StopReason, in a fixed order (for metrics).
var StopReasons = [numStopReasons]StopReason{StopPastCount, StopRepeatedToken, StopRestarts, StopMaxPages}

// maxRestarts is how many times one walk starts over after code 300: a
// 1,000-page sweep takes under half a minute at Zoom's pace and a token
// lives 15 minutes, so a second expiry means the tokens are no good.
const maxRestarts = 1

// defaultMaxPages bounds a walk without counts: 10,000 pages is 100,000
// participants of QoS.
const defaultMaxPages = 10000

// Token is the next_page_token of the next page; "" for the first.
func (p *Pager) Token() string { return p.token }

// Done reports whether the walk has ended.
func (p *Pager) Done() bool { return p.done }

// Stopped says why the walk was cut short, if it was.
func (p *Pager) Stopped() StopReason { return p.stopped }

// Pages is the number of pages fetched since the walk (or its restart)
// began at the first page.
func (p *Pager) Pages() int64 { return p.pages }

// Reset starts the walk again at the first page, with its restarts.
func (p *Pager) Reset() { *p = Pager{MaxPages: p.MaxPages} }

// advance moves past a page of n items; it returns why the walk was cut
// short there, if it was.
func (p *Pager) advance(pg Page, n int) StopReason {
	p.pages++
	p.items += int64(n)
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	p.seen[p.token] = true
	next, limit := pg.NextPageToken, int64(defaultMaxPages)
	if p.MaxPages > 0 && pg.TotalRecords <= 0 && pg.PageCount <= 0 {
		limit = min(p.MaxPages, limit)
	}
	switch {
	case next == "":
		p.done = true
	case pg.TotalRecords > 0 && p.items >= pg.TotalRecords, pg.PageCount > 0 && p.pages >= pg.PageCount:
		p.done, p.stopped = true, StopPastCount
	case p.seen[next]:
		p.done, p.stopped = true, StopRepeatedToken
	case p.pages >= limit:
		p.done, p.stopped = true, StopMaxPages
	}
	p.token = next
	if p.done {
		p.token = ""
	}
	return p.stopped
}

// expire handles Zoom's refusal of the token (code 300): back to the
// first page, once; the second time the walk ends. It reports whether the
// walk goes on.
func (p *Pager) expire() bool {
	if p.restarts >= maxRestarts {
		p.done, p.stopped, p.token = true, StopRestarts, ""
		return false
	}
	restarts := p.restarts + 1
	p.Reset()
	p.restarts = restarts
	return true
}

// walked moves pg past one page call of r: past the page of n items when
// err is nil; back to the first page when Zoom refused pg's token (code
// 300) and a restart is left: the call's error is returned and pg is not
// Done, so the caller drops what the walk collected and goes on; on any
// other error the walk ends. It logs and counts a walk cut short.
func (c *Client) walked(r *request, pg *Pager, page Page, n int, err error) error {
	if err == nil {
		if why := pg.advance(page, n); why != "" {
			c.pagingStopped(r, pg, why, page)
		}
		return nil
	}
	switch {
	case !IsPageTokenExpired(err) || pg.Token() == "":
		pg.done, pg.token = true, ""
	case pg.expire():
		e, _ := asError(err)
		c.log.Info("zoom page token expired; restarting from the first page", "endpoint", r.endpoint(), "tracking_id", e.TrackingID)
	default:
		c.pagingStopped(r, pg, StopRestarts, Page{})
	}
	return err
}

func (c *Client) pagingStopped(r *request, pg *Pager, why StopReason, page Page) {
	i := 0
	for i < numStopReasons && StopReasons[i] != why {
		i++
	}
	level := slog.LevelDebug
	if c.paging[i].Add(1) == 1 {
		level = slog.LevelWarn // once per reason; the count says how often
	}
	c.log.Log(nil, level, "zoom paging did not end as lists do; stopping", "endpoint", r.endpoint(), "reason", string(why),
		"pages", pg.pages, "items", pg.items, "total_records", page.TotalRecords, "page_count", page.PageCount)
}

// PagingStops counts the walks cut short, by reason (every reason
// present).
func (c *Client) PagingStops() map[StopReason]int64 {
	m := make(map[StopReason]int64, numStopReasons)
	for i, why := range StopReasons {
		m[why] = c.paging[i].Load()
	}
	return m
}
