package zoom

import (
	"context"
	"net/url"

	"github.com/qoswatch/qoswatch/engine"
)

// The client's part in push: the token the WebSocket opens with, and the
// source a QSS event's uuid names.

var (
	_ TokenSource    = (*Client)(nil)
	_ SourceResolver = (*Client)(nil)
)

// AccessToken returns the Server-to-Server access token, fetching one when
// the cached one is missing or about to expire.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	tok, _, err := c.auth.get(ctx)
	if err != nil {
		return "", err
	}
	return tok, nil
}

// InvalidateToken drops a token Zoom refused.
func (c *Client) InvalidateToken(token string) { c.auth.invalidate(token) }

// SourceByUUID returns the live webinar or meeting a uuid names (GET
// /metrics/{webinars|meetings}/{uuid}: one Heavy call).
func (c *Client) SourceByUUID(ctx context.Context, kind engine.SourceKind, uuid string) (engine.Source, error) {
	path, err := sourcePath(kind, uuid)
	if err != nil {
		return engine.Source{}, err
	}
	var m SourceMetrics
	if err := c.get(ctx, &request{cat: Heavy, path: path, query: url.Values{"type": {Live}}}, &m); err != nil {
		return engine.Source{}, err
	}
	return SourceOf(kind, true, &m), nil
}
