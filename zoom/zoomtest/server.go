package zoomtest

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/zoom"
)

// Options configure a Server. The zero value is a Business account on the
// wall clock with no sources.
type Options struct {
	// Now is the fake's clock: samples, access and page tokens and rate
	// limits follow it. Default time.Now; tests pass a fake clock's Now
	// (internal/fakeclock).
	Now func() time.Time

	Scenarios []*Scenario // the webinars and meetings the account has

	Plan     Plan    // Business (default) or Pro: which limits apply
	Limits   *Limits // overrides the plan's limits
	NoLimits bool    // count calls but never answer 429

	// NoQualityScores makes the participants list answer "" for
	// audio_quality, video_quality and screen_share_quality, as Zoom does
	// for accounts without quality scores.
	NoQualityScores bool

	LiveWindow   time.Duration // minutes a live QoS list returns per participant; default 5m
	TokenTTL     time.Duration // access token lifetime; default 1h (expires_in 3600)
	PageTokenTTL time.Duration // next_page_token lifetime; default 15m

	ClientID, ClientSecret, AccountID string // credentials; defaults are fixed fake values
}

// Server is the fake Zoom. It serves both the OAuth token endpoint and the
// API; all methods are safe for concurrent use.
type Server struct {
	// The credentials the token endpoint accepts.
	ClientID, ClientSecret, AccountID string

	opts Options
	now  func() time.Time
	ts   *httptest.Server

	mu          sync.Mutex
	sources     []*source
	tokens      map[string]time.Time // access token -> expiry
	lim         limiter
	faults      []*Fault
	seq         uint64 // tracking ids, access and page tokens
	minPageSeq  uint64 // page tokens issued before this are expired
	stats       Stats
	dailyPreset int

	ws wsHub // the WebSocket endpoint (ws.go)
}

// source is a scenario on the server, with its run-time end.
type source struct {
	sc  *Scenario
	end time.Time // zero: still running
}

// New starts a fake Zoom on a local httptest server. When tb is not nil
// the server is closed when the test ends; otherwise call Close.
func New(tb testing.TB, opts Options) *Server {
	s := NewServer(opts)
	s.ts = httptest.NewServer(s)
	if tb != nil {
		tb.Helper()
		tb.Cleanup(s.Close)
	}
	return s
}

// NewServer returns the fake without a listener: use it as an
// http.Handler, or through Transport / HTTPClient with URL() ==
// InProcessURL, when no socket is wanted (the simulator). Start adds one.
func NewServer(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LiveWindow <= 0 {
		opts.LiveWindow = 5 * time.Minute
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.PageTokenTTL <= 0 {
		opts.PageTokenTTL = 15 * time.Minute
	}
	if opts.ClientID == "" {
		opts.ClientID = "fakeClientID"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "fakeClientSecret-do-not-log"
	}
	if opts.AccountID == "" {
		opts.AccountID = "fakeAccountID"
	}
	lim := PlanLimits(opts.Plan)
	if opts.Limits != nil {
		lim = *opts.Limits
	}
	s := &Server{
		ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, AccountID: opts.AccountID,
		opts: opts, now: opts.Now,
		tokens: map[string]time.Time{},
		lim:    newLimiter(lim, opts.NoLimits),
	}
	s.stats = newStats()
	for _, sc := range opts.Scenarios {
		s.Add(sc)
	}
	return s
}

// Start starts a listener for a server made with NewServer.
func (s *Server) Start() {
	if s.ts == nil {
		s.ts = httptest.NewServer(s)
	}
}

// Close shuts the listener down.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// InProcessURL is the base URL of a server without a listener; requests
// to it go through Transport.
const InProcessURL = "http://zoomtest.invalid"

// URL is the server's base URL ("http://127.0.0.1:port"), or InProcessURL
// when it has no listener.
func (s *Server) URL() string {
	if s.ts == nil {
		return InProcessURL
	}
	return s.ts.URL
}

// APIURL is the API base, the fake's "https://api.zoom.us/v2".
func (s *Server) APIURL() string { return s.URL() + "/v2" }

// TokenURL is the fake's "https://zoom.us/oauth/token".
func (s *Server) TokenURL() string { return s.URL() + "/oauth/token" }

// Transport returns a RoundTripper that serves every request in process,
// whatever its host: no sockets, for the simulator and benchmarks.
func (s *Server) Transport() http.RoundTripper { return inProcess{s} }

// HTTPClient returns an *http.Client that uses Transport.
func (s *Server) HTTPClient() *http.Client { return &http.Client{Transport: s.Transport()} }

type inProcess struct{ s *Server }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.s.ServeHTTP(rec, r)
	if r.Body != nil {
		r.Body.Close()
	}
	if err := r.Context().Err(); err != nil {
		return nil, err // a slow answer outlived the caller's deadline
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// Add puts a scenario on the account.
func (s *Server) Add(sc *Scenario) {
	sc.init()
	s.mu.Lock()
	s.sources = append(s.sources, &source{sc: sc, end: sc.End()})
	s.mu.Unlock()
}

// EndAt makes the scenario's source end at t, truncated to the minute (on
// the fake's clock): live lists stop showing it then, the past endpoints
// start answering, and Truth is cut there.
func (s *Server) EndAt(sc *Scenario, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, src := range s.sources {
		if src.sc == sc {
			src.end = t.UTC().Truncate(time.Minute)
		}
	}
}

// ServeHTTP serves the token endpoint and the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seq++
	w.Header().Set("x-zm-trackingid", "v=2.0;clid=fake;rid=FAKE_"+strconv.FormatUint(s.seq, 10))
	s.mu.Unlock()

	path := r.URL.EscapedPath()
	switch {
	case path == "/oauth/token":
		if answered, _ := s.fault(w, r, path, true); answered {
			return
		}
		s.token(w, r)
	case strings.HasPrefix(path, "/v2/"):
		s.api(w, r, strings.TrimPrefix(path, "/v2"))
	case path == "/ws":
		s.serveWS(w, r)
	default:
		writeError(w, http.StatusNotFound, 404, "Not found: "+path)
	}
}

// token is POST /oauth/token with grant_type=account_credentials.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "Method not allowed")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(id), []byte(s.ClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.ClientSecret)) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client_id or client_secret")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Bad form")
		return
	}
	if g := r.PostForm.Get("grant_type"); g != "account_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported grant type")
		return
	}
	if r.PostForm.Get("account_id") != s.AccountID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Invalid account_id")
		return
	}
	s.mu.Lock()
	s.seq++
	tok := "fake-access-" + base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(s.seq, 10)+"."+strconv.FormatInt(s.now().UnixNano(), 10)))
	s.tokens[tok] = s.now().Add(s.opts.TokenTTL)
	s.stats.TokensIssued++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "bearer",
		"expires_in":   int(s.opts.TokenTTL / time.Second),
		"scope":        "dashboard_meetings:read:admin dashboard_webinars:read:admin",
		"api_url":      s.URL(),
	})
}

// authorize checks the bearer token: Zoom answers 401 with code 124.
func (s *Server) authorize(r *http.Request) (code int, msg string, ok bool) {
	tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !found {
		return 124, "Invalid access token.", false
	}
	return s.authorizeToken(tok)
}

// authorizeToken checks an access token the token endpoint issued.
func (s *Server) authorizeToken(tok string) (code int, msg string, ok bool) {
	if tok == "" {
		return 124, "Invalid access token.", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, known := s.tokens[tok]
	switch {
	case !known:
		return 124, "Invalid access token.", false
	case !s.now().Before(exp):
		return 124, "Access token is expired.", false
	}
	return 0, "", true
}

// RevokeAccessTokens invalidates every access token issued so far: the
// next API call answers 401 code 124 until a new token is fetched.
func (s *Server) RevokeAccessTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// ExpirePageTokens makes every next_page_token issued so far answer
// code 300 (as one older than 15 minutes does).
func (s *Server) ExpirePageTokens() {
	s.mu.Lock()
	s.minPageSeq = s.seq + 1
	s.mu.Unlock()
}

// SpendDaily counts n Heavy/Resource-intensive calls against today's cap,
// as other apps on the same account would.
func (s *Server) SpendDaily(n int) {
	s.mu.Lock()
	s.lim.roll(s.now())
	s.lim.dailyUse += n
	s.mu.Unlock()
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, status, b)
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeError writes Zoom's error body {"code": N, "message": "..."}.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, zoom.APIError{Code: code, Message: msg})
}

func writeOAuthError(w http.ResponseWriter, status int, errCode, reason string) {
	writeJSON(w, status, map[string]string{"reason": reason, "error": errCode})
}

// unescape decodes one path segment.
func unescape(seg string) (string, bool) {
	v, err := url.PathUnescape(seg)
	return v, err == nil
}
