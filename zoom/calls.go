package zoom

import (
	"context"
	"fmt"
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

// maxPages bounds a sweep whatever the server says: 10,000 pages is
// 100,000 participants of QoS.
const maxPages = 10000

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
	var all []SourceMetrics
	r := &request{cat: ListSourcesCategory, path: "/metrics/" + seg}
	err = c.sweep(r, func(token string) (Page, int, error) {
		r.query = url.Values{"type": {typ}, "from": {from.UTC().Format(time.DateOnly)}, "to": {to.UTC().Format(time.DateOnly)},
			"page_size": {strconv.Itoa(SourcesPageSize)}}
		if token != "" {
			r.query.Set("next_page_token", token)
		}
		if kind == engine.Webinar {
			var l WebinarList
			if err := c.get(ctx, r, &l); err != nil {
				return Page{}, 0, err
			}
			all = append(all, l.Webinars...)
			return l.Page, len(l.Webinars), nil
		}
		var l MeetingList
		if err := c.get(ctx, r, &l); err != nil {
			return Page{}, 0, err
		}
		all = append(all, l.Meetings...)
		return l.Page, len(l.Meetings), nil
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

// QoSPage fetches one page of the participants QoS list of src (its Kind
// and ID, or UUID when ID is blank) from token ("" for the first page)
// and returns its paging fields and samples, converted by d: the poller's
// hot path, one Heavy call. The samples' slice is reused by d's next use.
// An expired token is an *Error with Code CodePageTokenExpired.
func (c *Client) QoSPage(ctx context.Context, d *PageDecoder, src engine.Source, typ, token string) (Page, []engine.Sample, error) {
	id := src.ID
	if id == "" {
		id = src.UUID
	}
	path, err := sourcePath(src.Kind, id)
	if err != nil {
		return Page{}, nil, err
	}
	if err := checkType(typ); err != nil {
		return Page{}, nil, err
	}
	r := &request{cat: ParticipantsQoSCategory, path: path + "/participants/qos",
		query: url.Values{"type": {typ}, "page_size": {strconv.Itoa(QoSPageSize)}}}
	if token != "" {
		r.query.Set("next_page_token", token)
	}
	var l ParticipantQoSList
	if err := c.get(ctx, r, &l); err != nil {
		return Page{}, nil, err
	}
	return l.Page, d.samplesOf(src, &l), nil
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
	var all []ParticipantMetrics
	r := &request{cat: ParticipantsCategory, path: path + "/participants"}
	err = c.sweep(r, func(token string) (Page, int, error) {
		l, err := c.ParticipantsPage(ctx, kind, id, typ, token)
		if err != nil {
			return Page{}, 0, err
		}
		all = append(all, l.Participants...)
		return l.Page, len(l.Participants), nil
	}, func() { all = all[:0] })
	return all, err
}

// ParticipantsPage fetches one page of the participants list from token
// ("" for the first page): one Heavy call, for a caller that spends its
// calls one at a time (the poller). An expired token is an *Error that
// IsPageTokenExpired.
func (c *Client) ParticipantsPage(ctx context.Context, kind engine.SourceKind, id, typ, token string) (*ParticipantList, error) {
	path, err := sourcePath(kind, id)
	if err != nil {
		return nil, err
	}
	if err := checkType(typ); err != nil {
		return nil, err
	}
	r := &request{cat: ParticipantsCategory, path: path + "/participants",
		query: url.Values{"type": {typ}, "page_size": {strconv.Itoa(ParticipantsPageSize)}}}
	if token != "" {
		r.query.Set("next_page_token", token)
	}
	var l ParticipantList
	if err := c.get(ctx, r, &l); err != nil {
		return nil, err
	}
	return &l, nil
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

// sweep fetches pages until the end. It stops on an empty token, and also
// once total_records items or page_count pages have come, or the token
// repeats, so a server that repeats a token cannot keep it looping. An
// expired page token (code 300) restarts the sweep once; reset (optional)
// clears what the pages collected.
func (c *Client) sweep(r *request, fetch func(token string) (Page, int, error), reset func()) error {
	expired, err := c.sweepOnce(r, fetch)
	if expired {
		e, _ := asError(err)
		c.log.Info("zoom page token expired; restarting the sweep", "endpoint", e.Endpoint, "tracking_id", e.TrackingID)
		if reset != nil {
			reset()
		}
		_, err = c.sweepOnce(r, fetch)
	}
	if se, ok := err.(*stopError); ok {
		return se.err
	}
	return err
}

// sweepOnce fetches the pages from the first. expired reports that Zoom
// refused a next_page_token (code 300).
func (c *Client) sweepOnce(r *request, fetch func(token string) (Page, int, error)) (expired bool, err error) {
	token := ""
	var items int64
	for pages := int64(1); ; pages++ {
		pg, n, err := fetch(token)
		if err != nil {
			e, ok := asError(err)
			return ok && token != "" && e.Code == CodePageTokenExpired, err
		}
		items += int64(n)
		next := pg.NextPageToken
		switch {
		case next == "":
			return false, nil
		case pg.TotalRecords > 0 && items >= pg.TotalRecords, pg.PageCount > 0 && pages >= pg.PageCount:
			return false, nil // Zoom sometimes sends a token with the last page
		case next == token || pages >= maxPages:
			c.log.Warn("zoom paging did not end; stopping", "endpoint", r.endpoint(), "pages", pages, "items", items,
				"total_records", pg.TotalRecords, "page_count", pg.PageCount)
			return false, nil
		}
		token = next
	}
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
