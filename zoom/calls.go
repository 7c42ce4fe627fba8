package zoom

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// Page sizes: Zoom's maxima.
const (
	SourcesPageSize      = 300
	ParticipantsPageSize = 300
	QoSPageSize          = 10
)

// Live and Past are the type of a query.
const (
	Live = "live"
	Past = "past"
)

// ListSources returns the live or past webinars (kind engine.Webinar) or
// meetings between from and to (Zoom needs both even for live; it reads
// them as dates), all pages. Resource-intensive.
func (c *Client) ListSources(ctx context.Context, kind engine.SourceKind, typ string, from, to time.Time) ([]SourceMetrics, error) {
	seg, err := kindPath(kind)
	if err != nil {
		return nil, err
	}
	if err := checkType(typ); err != nil {
		return nil, err
	}
	r := &request{cat: ListSourcesCategory, path: "/metrics/" + seg}
	q := url.Values{"type": {typ}, "from": {from.UTC().Format(time.DateOnly)}, "to": {to.UTC().Format(time.DateOnly)},
		"page_size": {strconv.Itoa(SourcesPageSize)}}
	if kind == engine.Webinar {
		return sweepAll(ctx, c, r, q, func(l *WebinarList) (Page, []SourceMetrics) { return l.Page, l.Webinars })
	}
	return sweepAll(ctx, c, r, q, func(l *MeetingList) (Page, []SourceMetrics) { return l.Page, l.Meetings })
}

// sweepAll returns every item of a list of L pages (items picks a page's),
// asked with r and the query q, all pages.
func sweepAll[L, T any](ctx context.Context, c *Client, r *request, q url.Values, items func(*L) (Page, []T)) ([]T, error) {
	var all []T
	err := c.sweep(r, func(token string) (Page, int, error) {
		r.query = maps.Clone(q)
		if token != "" {
			r.query.Set("next_page_token", token)
		}
		var l L
		if err := c.get(ctx, r, &l); err != nil {
			return Page{}, 0, err
		}
		page, got := items(&l)
		all = append(all, got...)
		return page, len(got), nil
	}, func() { all = all[:0] })
	return all, err
}

// ParticipantsQoS calls page for each page of the participants QoS list
// of a webinar or meeting (10 participants a page, one Heavy call each),
// until the last page or the first error page returns. id is the numeric
// id or the UUID. When Zoom says the page token expired (code 300) the
// sweep restarts from the first page once, so page may see a participant
// twice: the engine's cursors skip samples it has seen. The list passed
// to page is not reused; page may keep it.
func (c *Client) ParticipantsQoS(ctx context.Context, kind engine.SourceKind, id, typ string, page func(*ParticipantQoSList) error) error {
	path, err := sourcePath(kind, id)
	if err != nil {
		return err
	}
	if err := checkType(typ); err != nil {
		return err
	}
	r := &request{cat: ParticipantsQoSCategory, path: path + "/participants/qos"}
	return c.sweep(r, func(token string) (Page, int, error) {
		r.query = url.Values{"type": {typ}, "page_size": {strconv.Itoa(QoSPageSize)}}
		if token != "" {
			r.query.Set("next_page_token", token)
		}
		var l ParticipantQoSList
		if err := c.get(ctx, r, &l); err != nil {
			return Page{}, 0, err
		}
		if err := page(&l); err != nil {
			return Page{}, 0, &stopError{err}
		}
		return l.Page, len(l.Participants), nil
	}, nil)
}

// QoSPage fetches the page of the participants QoS list of src (its Kind
// and ID, or UUID when ID is blank) where pg stands, moves pg on (see
// Pager and Client.walked) and returns the page's samples, converted by
// d: the poller's hot path, one Heavy call. The samples' slice is reused
// by d's next use. After an error, pg is Done unless the walk restarted
// from the first page (an expired token).
func (c *Client) QoSPage(ctx context.Context, d *PageDecoder, src engine.Source, typ string, pg *Pager) ([]engine.Sample, error) {
	id := src.ID
	if id == "" {
		id = src.UUID
	}
	var l ParticipantQoSList
	if err := c.listPage(ctx, ParticipantsQoSCategory, src.Kind, id, "/participants/qos", typ, QoSPageSize, pg, &l); err != nil {
		return nil, err
	}
	return d.samplesOf(src, &l), nil
}

// Participants returns the participants list of a webinar or meeting (300
// a page, one Heavy call each): email, network type, data center, role,
// and Zoom's quality ratings where the account has them.
func (c *Client) Participants(ctx context.Context, kind engine.SourceKind, id, typ string) ([]ParticipantMetrics, error) {
	path, err := sourcePath(kind, id)
	if err != nil {
		return nil, err
	}
	if err := checkType(typ); err != nil {
		return nil, err
	}
	r := &request{cat: ParticipantsCategory, path: path + "/participants"}
	q := url.Values{"type": {typ}, "page_size": {strconv.Itoa(ParticipantsPageSize)}}
	return sweepAll(ctx, c, r, q, func(l *ParticipantList) (Page, []ParticipantMetrics) { return l.Page, l.Participants })
}

// ParticipantsPage fetches the page of the participants list where pg
// stands and moves pg on (see Pager and Client.walked): one Heavy call, for
// a caller that spends its calls one at a time (the poller). After an
// error, pg is Done unless the walk restarted from the first page (an
// expired token).
func (c *Client) ParticipantsPage(ctx context.Context, kind engine.SourceKind, id, typ string, pg *Pager) ([]ParticipantMetrics, error) {
	var l ParticipantList
	if err := c.listPage(ctx, ParticipantsCategory, kind, id, "/participants", typ, ParticipantsPageSize, pg, &l); err != nil {
		return nil, err
	}
	return l.Participants, nil
}

// pageOfList is a page of one of a source's lists.
type pageOfList interface {
	page() (Page, int) // its Page and how many it lists
}

func (l *ParticipantList) page() (Page, int)    { return l.Page, len(l.Participants) }
func (l *ParticipantQoSList) page() (Page, int) { return l.Page, len(l.Participants) }

// listPage fetches into l the page of a source's list (its path under the
// source) where pg stands and moves pg on. A source or type that cannot
// be asked about is an error, and pg is Done.
func (c *Client) listPage(ctx context.Context, cat Category, kind engine.SourceKind, id, list, typ string, size int, pg *Pager, l pageOfList) error {
	path, err := sourcePath(kind, id)
	if err == nil {
		err = checkType(typ)
	}
	if err != nil {
		pg.done = true
		return err
	}
	r := &request{cat: cat, path: path + list, query: url.Values{"type": {typ}, "page_size": {strconv.Itoa(size)}}}
	if pg.Token() != "" {
		r.query.Set("next_page_token", pg.Token())
	}
	err = c.get(ctx, r, l)
	page, n := l.page()
	return c.walked(r, pg, page, n, err)
}

// IsPageTokenExpired reports whether Zoom refused a next_page_token (code
// 300: older than 15 minutes, or not one of its own).
func IsPageTokenExpired(err error) bool {
	e, ok := asError(err)
	return ok && e.Code == CodePageTokenExpired
}

// ParticipantQoS returns one participant's QoS (one Heavy call).
// participantID is the participant's user_id, Zoom's per-meeting id
// (guests have one too; their id is blank).
func (c *Client) ParticipantQoS(ctx context.Context, kind engine.SourceKind, id, participantID, typ string) (*ParticipantQoS, error) {
	path, err := sourcePath(kind, id)
	if err != nil {
		return nil, err
	}
	if err := checkType(typ); err != nil {
		return nil, err
	}
	if participantID == "" {
		return nil, fmt.Errorf("zoom: %s %s: participant id is blank", kind, id)
	}
	r := &request{cat: ParticipantQoSCategory, path: path + "/participants/" + url.PathEscape(participantID) + "/qos",
		query: url.Values{"type": {typ}}}
	var p ParticipantQoS
	if err := c.get(ctx, r, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// stopError is the caller's error from a page callback: returned as is,
// never retried or restarted.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }

// sweep fetches every page with a Pager; reset (optional) clears what
// the pages collected when the sweep restarts from the first page.
func (c *Client) sweep(r *request, fetch func(token string) (Page, int, error), reset func()) error {
	var pg Pager
	for !pg.Done() {
		page, n, err := fetch(pg.Token())
		if se, ok := err.(*stopError); ok {
			return se.err
		}
		if err := c.walked(r, &pg, page, n, err); err != nil {
			if pg.Done() {
				return err
			}
			if reset != nil {
				reset() // restarted from the first page
			}
		}
	}
	return nil
}

// kindPath is the path segment of a source kind.
func kindPath(kind engine.SourceKind) (string, error) {
	switch kind {
	case engine.Webinar:
		return "webinars", nil
	case engine.Meeting:
		return "meetings", nil
	}
	return "", fmt.Errorf("zoom: source kind %q: want webinar or meeting", kind)
}

func checkType(typ string) error {
	if typ != Live && typ != Past {
		return fmt.Errorf("zoom: type %q: want live or past", typ)
	}
	return nil
}

// sourcePath is "/metrics/webinars/{id}" with the id escaped: a UUID that
// starts with "/" or contains "//" is encoded twice, as Zoom requires;
// numeric ids and other UUIDs once.
func sourcePath(kind engine.SourceKind, id string) (string, error) {
	seg, err := kindPath(kind)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("zoom: %s id is blank", kind)
	}
	return "/metrics/" + seg + "/" + EscapeID(id), nil
}

// EscapeID escapes a webinar or meeting id or UUID for a path.
func EscapeID(id string) string {
	e := url.PathEscape(id)
	if strings.HasPrefix(id, "/") || strings.Contains(id, "//") {
		e = url.PathEscape(e)
	}
	return e
}
