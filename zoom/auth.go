package zoom

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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
	log      *slog.Logger
	cc       clientcredentials.Config
	endpoint string // "POST /oauth/token", for errors

	mu      sync.Mutex
	token   string
	expires time.Time // on the client's clock; zero: until Zoom refuses it
	asked   bool      // a grant was requested (and logged)
}

func newAuth(cfg *Config, log *slog.Logger) *auth {
	u, _ := url.Parse(cfg.OAuthURL) // validated
	return &auth{
		cfg:      cfg,
		log:      log,
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
// time, so a burst of calls makes one grant. A failed grant is an *Error
// whose message tells the operator what to check, and its reason.
func (a *auth) get(ctx context.Context) (token string, fetched bool, _ *Error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Clock.Now()
	if a.token != "" && (a.expires.IsZero() || now.Before(a.expires.Add(-time.Minute))) {
		return a.token, false, nil
	}
	if !a.asked {
		a.asked = true
		// Debug: the daemon says at info, once, what it checks at start.
		a.log.Debug("requesting a Zoom access token (Server-to-Server OAuth)", "oauth_url", a.cfg.OAuthURL,
			"account_id", a.cfg.AccountID, "client_id", a.cfg.ClientID, "api_url", a.cfg.APIURL)
	}
	// The token endpoint's answer, kept for the error: oauth2 says "cannot
	// parse json" of an HTML page, but not that it was one.
	var answer *http.Response
	base := a.cfg.HTTPClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc := *a.cfg.HTTPClient
	hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		if resp != nil {
			answer = resp
		}
		return resp, err
	})
	tok, err := a.cc.Token(context.WithValue(ctx, oauth2.HTTPClient, &hc))
	if err != nil {
		return "", true, a.error(ctx, err, answer)
	}
	a.token = tok.AccessToken
	a.expires = time.Time{}
	if !tok.Expiry.IsZero() {
		// oauth2 computes Expiry on the wall clock; keep the lifetime on ours.
		a.expires = now.Add(time.Until(tok.Expiry))
	}
	return a.token, true, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// invalidate drops the token Zoom refused, unless another call already
// replaced it.
func (a *auth) invalidate(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == token {
		a.token = ""
	}
}

// Why a grant failed, in the words of qoswatch_zoom_oauth_token_failures_total{reason}.
type tokenFailure uint8

const (
	tokenUnreachable tokenFailure = iota // no connection: DNS, refused, TLS
	tokenTimeout                         // no answer within the attempt's deadline
	tokenHTML                            // a web page, not the token endpoint
	tokenRefused                         // 4xx: the credentials or the account
	tokenRateLimited                     // 429
	tokenServerError                     // 5xx
	tokenBadAnswer                       // JSON, but no access token
	numTokenFailures
)

var tokenFailureNames = [numTokenFailures]string{"unreachable", "timeout", "html", "refused", "rate_limited", "server_error", "bad_answer"}

// error turns a failed grant into an *Error an operator can act on. What
// the endpoint said (its error code and reason) is kept only when it
// quotes no credential: an endpoint may echo what it was sent.
func (a *auth) error(ctx context.Context, err error, answer *http.Response) *Error {
	e := &Error{Endpoint: a.endpoint, token: true}
	if answer != nil {
		e.Status = answer.StatusCode
		e.TrackingID = answer.Header.Get("x-zm-trackingid")
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		re = &oauth2.RetrieveError{}
	}
	oauthURL := "ZOOM_OAUTH_URL=" + a.cfg.OAuthURL
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		e.Err = context.Canceled
		return e
	case ctx.Err() != nil:
		e.Message = fmt.Sprintf("no answer from %s within %v", oauthURL, a.cfg.Timeout)
		e.Err, e.failure = context.DeadlineExceeded, tokenTimeout
	case answer == nil:
		e.Message = "cannot reach " + oauthURL
		e.Err, e.failure = errors.New(a.clean(unwrapURLError(err).Error())), tokenUnreachable
	case isHTML(answer.Header.Get("Content-Type"), re.Body):
		e.Message = "the token endpoint answered HTML, not JSON: check " + oauthURL
		e.failure = tokenHTML
	case e.Status == http.StatusTooManyRequests:
		e.Message = "the token endpoint is rate limiting (retried)"
		e.failure = tokenRateLimited
	case e.Status >= 500:
		e.Message = a.said(re, "the token endpoint failed (Zoom's side; retried)")
		e.failure = tokenServerError
	case e.Status >= 400 || re.ErrorCode != "":
		hint := "check ZOOM_ACCOUNT_ID and that the Server-to-Server OAuth app is activated"
		if re.ErrorCode == "invalid_client" || e.Status == http.StatusUnauthorized {
			hint = "check ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (the app's App Credentials)"
		}
		e.Message = a.said(re, "the token endpoint refused the grant") + ": " + hint
		e.failure = tokenRefused
	default:
		// 2xx, but oauth2 found no token in it (not JSON, no access_token).
		e.Message = "the token endpoint answered without an access token: check " + oauthURL
		e.failure = tokenBadAnswer
	}
	return e
}

// said is what the endpoint's error says ("invalid_client: Invalid
// client_id or client_secret"), or def when it says nothing, or when it
// quotes a credential.
func (a *auth) said(re *oauth2.RetrieveError, def string) string {
	var zoom struct { // Zoom's own field beside OAuth's error and error_description
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(re.Body, &zoom)
	s := strings.Join(nonEmpty(re.ErrorCode, zoom.Reason, re.ErrorDescription), ": ")
	switch {
	case s == "":
		return def
	case a.clean(s) != s:
		return def + " (its reason quoted the credentials; not shown)"
	}
	return s
}

// clean removes the client secret and the Basic credentials made of it
// from s, so no error of ours carries them, whatever a server echoes.
func (a *auth) clean(s string) string {
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(a.cfg.ClientID) + ":" + url.QueryEscape(a.cfg.ClientSecret)))
	return redact(s, a.cfg.ClientSecret, url.QueryEscape(a.cfg.ClientSecret), basic)
}

// isHTML: a web page (a proxy's, a login page, a wrong URL), not an OAuth
// endpoint's JSON.
func isHTML(contentType string, body []byte) bool {
	return strings.Contains(strings.ToLower(contentType), "html") || bytes.HasPrefix(bytes.TrimSpace(body), []byte("<"))
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
