package zoom

// The access token as an operator meets it: what the client says when the
// token endpoint is wrong, refuses, or comes back; all through the real
// golang.org/x/oauth2 clientcredentials flow against httptest endpoints.

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/internal/promtest"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
)

const authSecret = "s3cr3t-Client-Secret-Value"

// authRig is a client of a token endpoint and an API, each a handler the
// test sets, with its metrics on a registry and its log in a buffer.
type authRig struct {
	c     *Client
	clock *fakeclock.Stepping
	reg   *prometheus.Registry
	logs  *syncbuf.Buffer
	token http.HandlerFunc
	api   http.HandlerFunc
}

// newAuthRig starts the endpoints; oauthURL overrides the token
// endpoint's URL when set (a closed port).
func newAuthRig(t *testing.T, oauthURL string) *authRig {
	t.Helper()
	r := &authRig{clock: fakeclock.NewStepping(time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)), reg: prometheus.NewRegistry(), logs: &syncbuf.Buffer{}}
	r.token = grantToken
	r.api = func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"participants":[]}`) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/oauth/token" {
			r.token(w, req)
			return
		}
		r.api(w, req)
	}))
	t.Cleanup(srv.Close)
	if oauthURL == "" {
		oauthURL = srv.URL + "/oauth/token"
	}
	c, err := NewClient(Config{
		APIURL: srv.URL + "/v2", OAuthURL: oauthURL, AccountID: "acct", ClientID: "client-id", ClientSecret: authSecret,
		Clock: r.clock, Registerer: r.reg, Logger: slogTo(r.logs), HealthWindow: 3 * time.Minute,
		Timeout: 5 * time.Second, BackoffBase: time.Second, BackoffMax: 4 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.c = c
	return r
}

// grantToken is a token endpoint that grants to client-id and authSecret.
func grantToken(w http.ResponseWriter, r *http.Request) {
	id, secret, _ := r.BasicAuth()
	if id != "client-id" || secret != authSecret || r.FormValue("grant_type") != "account_credentials" || r.FormValue("account_id") != "acct" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"reason":"Invalid client_id or client_secret","error":"invalid_client"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"access_token":"tok","token_type":"bearer","expires_in":3599}`)
}

func (r *authRig) call() error {
	_, err := r.c.Participants(context.Background(), engine.Webinar, "1", Live)
	return err
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// closedPort is a local URL nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/oauth/token"
}

// Issue 14 items 1-2: each way the token fails says what to check, is
// counted by reason (never as a grant), and keeps Health failing.
func TestTokenFailuresSayWhatToCheck(t *testing.T) {
	closed := closedPort(t)
	tests := []struct {
		name     string
		oauthURL string
		token    http.HandlerFunc
		reason   string
		attempts float64 // failed grants of one call (retried or not)
		want     []string
		auth     bool // IsAuth: the credentials are wrong, the start stops
	}{
		{name: "closed port", oauthURL: closed, reason: "unreachable", attempts: 4,
			want: []string{"cannot reach ZOOM_OAUTH_URL=" + closed, "connection refused"}},
		{name: "HTML", reason: "html", attempts: 1, token: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><html><body>Sign in</body></html>`)
		}, want: []string{"the token endpoint answered HTML, not JSON: check ZOOM_OAUTH_URL=http://"}},
		{name: "HTML 404", reason: "html", attempts: 1, token: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<html><body>Not Found</body></html>`)
		}, want: []string{"404 Not Found", "answered HTML, not JSON: check ZOOM_OAUTH_URL="}},
		{name: "401 invalid_client", reason: "refused", attempts: 1, auth: true, token: func(w http.ResponseWriter, r *http.Request) {
			r.SetBasicAuth("client-id", "wrong")
			grantToken(w, r)
		}, want: []string{"401 Unauthorized", "invalid_client: Invalid client_id or client_secret", "check ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET"}},
		{name: "400 invalid_request", reason: "refused", attempts: 1, auth: true, token: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"reason":"Invalid request : Bad Request","error":"invalid_request"}`)
		}, want: []string{"invalid_request: Invalid request : Bad Request", "check ZOOM_ACCOUNT_ID"}},
		{name: "no token in the answer", reason: "bad_answer", attempts: 1, token: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"status":"ok"}`)
		}, want: []string{"answered without an access token: check ZOOM_OAUTH_URL="}},
		{name: "503", reason: "server_error", attempts: 4, token: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, want: []string{"503 Service Unavailable", "the token endpoint failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAuthRig(t, tt.oauthURL)
			if tt.token != nil {
				r.token = tt.token
			}
			if err := r.c.Health(); err == nil || !strings.Contains(err.Error(), "no call was made") {
				t.Errorf("Health before any call = %v", err)
			}
			err := r.call()
			if err == nil {
				t.Fatal("the call succeeded")
			}
			health := r.c.Health()
			for _, s := range append(tt.want, "POST /oauth/token") {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
				if health == nil || !strings.Contains(health.Error(), s) {
					t.Errorf("Health = %v, does not say %q", health, s)
				}
			}
			if IsAuth(err) != tt.auth {
				t.Errorf("IsAuth = %v, want %v", IsAuth(err), tt.auth)
			}
			if n := promtest.Value(t, r.reg, "qoswatch_zoom_oauth_token_failures_total", "reason", tt.reason); n != tt.attempts {
				t.Errorf("token failures{reason=%q} = %v, want %v", tt.reason, n, tt.attempts)
			}
			if n := promtest.Value(t, r.reg, "qoswatch_zoom_oauth_token_fetches_total"); n != 0 {
				t.Errorf("token fetches = %v after failed grants, want 0", n)
			}
			// Said at once, before any failure: what the client is trying.
			first, _, _ := strings.Cut(r.logs.String(), "\n")
			if !strings.Contains(first, "requesting a Zoom access token") || !strings.Contains(first, "oauth_url=") || !strings.Contains(first, "account_id=acct") {
				t.Errorf("first log line = %q; want the grant being tried", first)
			}
		})
	}
}

// A Zoom that recovers: the token endpoint fails, then grants; the API
// fails past the health window, then answers. Health follows, and grants
// and failures are counted apart.
func TestHealthFollowsAZoomThatRecovers(t *testing.T) {
	r := newAuthRig(t, "")
	var tokenDown, apiDown atomic.Bool
	tokenDown.Store(true)
	r.token = func(w http.ResponseWriter, req *http.Request) {
		if tokenDown.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		grantToken(w, req)
	}
	r.api = func(w http.ResponseWriter, _ *http.Request) {
		if apiDown.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, `{"participants":[]}`)
	}
	if err := r.call(); err == nil {
		t.Fatal("a call without a token succeeded")
	}
	if err := r.c.Health(); err == nil || !strings.Contains(err.Error(), "no Zoom access token yet") || !strings.Contains(err.Error(), "502") {
		t.Errorf("Health with the token endpoint down = %v", err)
	}

	tokenDown.Store(false)
	if err := r.call(); err != nil {
		t.Fatal(err)
	}
	if err := r.c.Health(); err != nil {
		t.Errorf("Health after a token and an answer = %v, want nil", err)
	}
	if g, f := promtest.Value(t, r.reg, "qoswatch_zoom_oauth_token_fetches_total"), promtest.Value(t, r.reg, "qoswatch_zoom_oauth_token_failures_total", "reason", "server_error"); g != 1 || f != 4 {
		t.Errorf("grants %v, failures %v; want 1 and 4", g, f)
	}

	// Zoom fails: within the window the daemon stays ready, past it not.
	apiDown.Store(true)
	answered := r.clock.Now()
	if err := r.call(); err == nil {
		t.Fatal("a 500 succeeded")
	}
	if err := r.c.Health(); err != nil {
		t.Errorf("Health %v after Zoom answered; want nil within the window", r.clock.Now().Sub(answered))
	}
	r.clock.Advance(3 * time.Minute)
	if err := r.call(); err == nil {
		t.Fatal("a 500 succeeded")
	}
	err := r.c.Health()
	if err == nil || !strings.Contains(err.Error(), "Zoom has not answered a call since "+answered.Format(time.RFC3339)) || !strings.Contains(err.Error(), "500 Internal Server Error") {
		t.Errorf("Health past the window = %v", err)
	}

	apiDown.Store(false)
	if err := r.call(); err != nil {
		t.Fatal(err)
	}
	if err := r.c.Health(); err != nil {
		t.Errorf("Health after Zoom answered again = %v", err)
	}
	if !strings.Contains(r.logs.String(), `msg="Zoom access token obtained"`) {
		t.Error("the token obtained is not logged")
	}
}

// Issue 15 item 16: a token endpoint that echoes the credentials in its
// reason: no error, no Health and no log line carries the secret (or the
// Basic credentials made of it); the reason is replaced, the hint stays.
func TestEchoedCredentialsNeverLeaveTheClient(t *testing.T) {
	r := newAuthRig(t, "")
	basic := base64.StdEncoding.EncodeToString([]byte("client-id:" + authSecret))
	r.token = func(w http.ResponseWriter, req *http.Request) {
		id, secret, _ := req.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"invalid_client","reason":"client %s with secret %s (Authorization: %s) is not allowed","error_description":"%s"}`,
			id, secret, req.Header.Get("Authorization"), secret)
	}
	err := r.call()
	if err == nil {
		t.Fatal("the call succeeded")
	}
	for _, text := range []string{err.Error(), fmt.Sprint(r.c.Health()), r.logs.String()} {
		for _, s := range []string{authSecret, basic} {
			if strings.Contains(text, s) {
				t.Errorf("%q carries a credential", text)
			}
		}
	}
	if !strings.Contains(err.Error(), "its reason quoted the credentials; not shown") || !strings.Contains(err.Error(), "check ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET") {
		t.Errorf("error = %q; want the reason withheld and the hint", err)
	}
}

// The client's metrics are registered on the Registerer it is given, with
// the names and help texts of docs/operations.md.
func TestClientMetricsAreRegistered(t *testing.T) {
	r := newAuthRig(t, "")
	if err := r.call(); err != nil {
		t.Fatal(err)
	}
	parse("200%", dimPercent)
	for _, m := range []struct {
		name   string
		labels []string
		min    float64
	}{
		{"qoswatch_zoom_api_calls_total", []string{"category", "heavy", "outcome", "ok"}, 1},
		{"qoswatch_zoom_oauth_token_fetches_total", nil, 1},
		{"qoswatch_qos_values_missing_total", []string{"cause", "impossible"}, 1},
	} {
		if got := promtest.Value(t, r.reg, m.name, m.labels...); got < m.min {
			t.Errorf("%s%v = %v, want at least %v", m.name, m.labels, got, m.min)
		}
	}
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, mf := range mfs {
		series[mf.GetName()] = len(mf.GetMetric())
	}
	for name, n := range map[string]int{"qoswatch_zoom_oauth_token_failures_total": int(numTokenFailures), "qoswatch_zoom_api_429_total": 2,
		"qoswatch_qos_values_missing_total": 3, "qoswatch_qos_bad_times_total": 1, "qoswatch_zoom_api_retries_total": 1} {
		if series[name] != n {
			t.Errorf("%s has %d series, want %d (every label value, zero included)", name, series[name], n)
		}
	}
	if _, err := NewClient(Config{AccountID: "a", ClientID: "b", ClientSecret: "c", Registerer: r.reg}); err == nil {
		t.Error("a second client registered the same metrics on the same registry")
	}
}
