package zoom

import (
	"context"
	"net/url"
	"strconv"

	"github.com/qoswatch/qoswatch/engine"
)

// One page at a time, for the poller: it paces every Heavy call itself,
// counts each against its budget, and resumes a rotation sweep from the
// page token where the last interval stopped, which the all-pages calls
// of calls.go cannot do.

// participantsPage fetches one page of the participants list from token
// ("" for the first page).
func (c *Client) participantsPage(ctx context.Context, kind engine.SourceKind, id, typ, token string) (*ParticipantList, error) {
	path, err := sourcePath(kind, id)
	if err != nil {
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

// qosPage fetches one page of the participants QoS list from token.
func (c *Client) qosPage(ctx context.Context, kind engine.SourceKind, id, typ, token string) (*ParticipantQoSList, error) {
	path, err := sourcePath(kind, id)
	if err != nil {
		return nil, err
	}
	r := &request{cat: ParticipantsQoSCategory, path: path + "/participants/qos",
		query: url.Values{"type": {typ}, "page_size": {strconv.Itoa(QoSPageSize)}}}
	if token != "" {
		r.query.Set("next_page_token", token)
	}
	var l ParticipantQoSList
	if err := c.get(ctx, r, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// isPageTokenExpired: Zoom refused a next_page_token (code 300).
func isPageTokenExpired(err error) bool {
	e, ok := asError(err)
	return ok && e.Code == CodePageTokenExpired
}
