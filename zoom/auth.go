package zoom

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// auth holds the Server-to-Server OAuth access token. Zoom's tokens live
// an hour; one is reused until a minute before it expires, or until Zoom
// answers 401 code 124.
type auth struct {
	cfg      *Config
	cc       clientcredentials.Config
	endpoint string // "POST /oauth/token", for errors

	mu      sync.Mutex
	token   string
	expires time.Time // on the client's clock; zero: until Zoom refuses it
}

func newAuth(cfg *Config) *auth {
	u, _ := url.Parse(cfg.OAuthURL) // validated
	return &auth{
		cfg:      cfg,
		endpoint: "POST " + u.Path,
		cc: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.OAuthURL,
			// Zoom's S2S grant: clientcredentials lets grant_type be overridden.
			EndpointParams: url.Values{"grant_type": {"account_credentials"}, "account_id": {cfg.AccountID}},
			AuthStyle:      oauth2.AuthStyleInHeader,
		},
	}
}

// get returns a valid access token, fetching one when needed, within
// ctx (the calling attempt's deadline). Callers wait for one fetch at a
// time, so a burst of calls makes one grant.
func (a *auth) get(ctx context.Context) (string, bool, *Error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Clock.Now()
	if a.token != "" && (a.expires.IsZero() || now.Before(a.expires.Add(-time.Minute))) {
		return a.token, false, nil
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
	tok, err := a.cc.Token(ctx)
	if err != nil {
		return "", true, a.error(err)
	}
	a.token = tok.AccessToken
	a.expires = time.Time{}
	if !tok.Expiry.IsZero() {
		// oauth2 computes Expiry on the wall clock; keep the lifetime on ours.
		a.expires = now.Add(time.Until(tok.Expiry))
	}
	return a.token, true, nil
}

// invalidate drops the token Zoom refused, unless another call already
// replaced it.
func (a *auth) invalidate(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == token {
		a.token = ""
	}
}

// error turns a token failure into an *Error. The raw response body and
// oauth2's messages are not kept: they are not ours to trust with secrets.
func (a *auth) error(err error) *Error {
	e := &Error{Endpoint: a.endpoint, token: true}
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		if re.Response != nil {
			e.Status = re.Response.StatusCode
			e.TrackingID = re.Response.Header.Get("x-zm-trackingid")
		}
		// Zoom: {"reason":"Invalid client_id or client_secret","error":"invalid_client"}
		var body struct {
			Reason string `json:"reason"`
			Error  string `json:"error"`
		}
		_ = json.Unmarshal(re.Body, &body)
		e.Message = strings.TrimSpace(strings.Join(nonEmpty(re.ErrorCode, body.Reason, re.ErrorDescription), ": "))
		if e.Message == "" && e.Status >= 500 {
			e.Message = "the token endpoint failed"
		} else if e.Message == "" {
			e.Message = "the token endpoint refused the grant"
		}
	case errors.Is(err, context.DeadlineExceeded):
		e.Message = "no token in time"
		e.Err = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		e.Err = context.Canceled
	default:
		e.Message = "token request failed"
		e.Err = errors.New(redact(err.Error(), a.cfg.ClientSecret))
	}
	return e
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" && (len(out) == 0 || out[len(out)-1] != s) {
			out = append(out, s)
		}
	}
	return out
}

// redact removes the given secrets from s.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
