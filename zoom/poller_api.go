package zoom

import (
	"context"
	"net/url"
	"strconv"

	"github.com/qoswatch/qoswatch/engine"
)

// One page at a time, for the poller: it paces every Heavy call itself and
// counts each against its budget, which the all-pages calls of calls.go
// cannot do. (QoS pages: Client.QoSPage.)

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

// isPageTokenExpired: Zoom refused a next_page_token (code 300).
func isPageTokenExpired(err error) bool {
	e, ok := asError(err)
	return ok && e.Code == CodePageTokenExpired
}
