package zoom

// Edge cases a well-behaved fake does not produce, against small
// hand-written httptest servers: a token endpoint plus one handler.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
)

type testServer struct {
	*httptest.Server
	grants atomic.Int64
	conns  atomic.Int64 // connections opened
	clock  *recordingClock
}

// recordingClock is a stepping clock that remembers every wait.
type recordingClock struct {
	*fakeclock.Stepping
	mu    sync.Mutex
	slept []time.Duration
}

func (c *recordingClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	return c.Stepping.After(d)
}

func (c *recordingClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}

// newTestServer serves a token endpoint and api for everything under /v2.
func newTestServer(t *testing.T, api http.HandlerFunc) (*testServer, *Client) {
	t.Helper()
	ts := &testServer{clock: &recordingClock{Stepping: fakeclock.NewStepping(time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC))}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		r.ParseForm()
		if id != "id" || secret != "secret" || r.PostForm.Get("grant_type") != "account_credentials" || r.PostForm.Get("account_id") != "acct" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"reason":"Invalid client_id or client_secret","error":"invalid_client"}`)
			return
		}
		n := ts.grants.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok%d","token_type":"bearer","expires_in":3599}`, n)
	})
	mux.Handle("/v2/", http.StripPrefix("/v2", api))
	ts.Server = httptest.NewUnstartedServer(mux)
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ts.conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	c, err := NewClient(Config{
		APIURL: ts.URL + "/v2", OAuthURL: ts.URL + "/oauth/token",
		AccountID: "acct", ClientID: "id", ClientSecret: "secret", Plan: "business",
		Clock:       ts.clock,
		BackoffBase: 100 * time.Millisecond, BackoffMax: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ts, c
}

func qosPage(w http.ResponseWriter, pg Page, n int) {
	var b strings.Builder
	fmt.Fprintf(&b, `{"page_count":%d,"page_size":10,"total_records":%d,"next_page_token":%q,"participants":[`, pg.PageCount, pg.TotalRecords, pg.NextPageToken)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"user_id":"%d","user_qos":[]}`, i)
	}
	b.WriteString("]}")
	fmt.Fprint(w, b.String())
}

func countPages(t *testing.T, c *Client) (int, error) {
	t.Helper()
	pages := 0
	err := c.ParticipantsQoS(context.Background(), engine.Webinar, "1", Live, func(*ParticipantQoSList) error {
		pages++
		return nil
	})
	return pages, err
}

func TestPagingIsBounded(t *testing.T) {
	tests := []struct {
		name string
		page Page // every page answers this
		want int
	}{
		{"a repeated token, no totals", Page{NextPageToken: "same"}, 2},
		{"new tokens forever, total_records 30", Page{TotalRecords: 30}, 3},
		{"new tokens forever, page_count 4", Page{PageCount: 4}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			_, c := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				pg := tt.page
				if pg.NextPageToken == "" {
					pg.NextPageToken = fmt.Sprint("t", n)
				}
				qosPage(w, pg, 10)
			})
			pages, err := countPages(t, c)
			if err != nil || pages != tt.want {
				t.Errorf("pages = %d, %v; want %d", pages, err, tt.want)
			}
		})
	}
}

func TestPageCallbackErrorStopsTheSweep(t *testing.T) {
	_, c := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		qosPage(w, Page{NextPageToken: "next" + r.URL.Query().Get("next_page_token")}, 10)
	})
	stop := errors.New("store is full")
	pages := 0
	err := c.ParticipantsQoS(context.Background(), engine.Webinar, "1", Live, func(*ParticipantQoSList) error {
		pages++
		if pages == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || pages != 2 {
		t.Errorf("err = %v after %d pages; want the callback's error after 2", err, pages)
	}
}

func TestRequestsCarryTheRightQuery(t *testing.T) {
	var got []string
	var mu sync.Mutex
	_, c := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer tok1" {
			t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
		}
		fmt.Fprint(w, `{}`)
	})
	ctx := context.Background()
	from := time.Date(2026, 11, 27, 23, 0, 0, 0, time.FixedZone("x", -3600))
	c.ListSources(ctx, engine.Webinar, Live, from, from.Add(time.Hour))
	c.ParticipantsQoS(ctx, engine.Meeting, "/a//b==", Past, func(*ParticipantQoSList) error { return nil })
	c.Participants(ctx, engine.Webinar, "Xy+z/w==", Live)
	c.ParticipantQoS(ctx, engine.Meeting, "85", "16778240", Live)
	want := []string{
		"/metrics/webinars?from=2026-11-28&page_size=300&to=2026-11-28&type=live",
		"/metrics/meetings/%252Fa%252F%252Fb==/participants/qos?page_size=10&type=past", // starts with "/": twice
		"/metrics/webinars/Xy+z%2Fw==/participants?page_size=300&type=live",             // other UUIDs once
		"/metrics/meetings/85/participants/16778240/qos?type=live",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := c.Participants(ctx, "town-hall", "1", Live); err == nil || !strings.Contains(err.Error(), `"town-hall"`) {
		t.Errorf("bad kind: %v", err)
	}
	if _, err := c.Participants(ctx, engine.Webinar, "1", "pastOne"); err == nil || !strings.Contains(err.Error(), `"pastOne"`) {
		t.Errorf("bad type: %v", err)
	}
}

func TestA124AfterAFreshTokenIsAnAuthError(t *testing.T) {
	var calls atomic.Int64
	ts, c := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("x-zm-trackingid", "TRK1")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":124,"message":"Invalid access token."}`)
	})
	_, err := c.Participants(context.Background(), engine.Webinar, "1", Live)
	if !IsAuth(err) || calls.Load() != 2 || ts.grants.Load() != 2 {
		t.Errorf("err %v after %d calls and %d grants; want IsAuth after 2 and 2", err, calls.Load(), ts.grants.Load())
	}
	if !strings.Contains(err.Error(), "TRK1") || !strings.Contains(err.Error(), "code 124") {
		t.Errorf("err = %q; want the code and the tracking id", err)
	}
}

func TestRetryAfterAndDailyReset(t *testing.T) {
	t.Run("QPS with Retry-After seconds", func(t *testing.T) {
		var calls atomic.Int64
		ts, c := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.Header().Set("X-RateLimit-Type", "QPS")
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			fmt.Fprint(w, `{}`)
		})
		if _, err := c.Participants(context.Background(), engine.Webinar, "1", Live); err != nil {
			t.Fatal(err)
		}
		if !sleptFor(ts.clock.waits(), time.Second) {
			t.Errorf("slept %v, want a 1s wait for Retry-After", ts.clock.waits())
		}
	})
	t.Run("429 without a type is QPS, bounded", func(t *testing.T) {
		var calls atomic.Int64
		_, c := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(http.StatusTooManyRequests)
		})
		_, err := c.Participants(context.Background(), engine.Webinar, "1", Live)
		if !IsRateLimited(err) || IsDailyLimit(err) || calls.Load() != 4 {
			t.Errorf("err %v after %d calls; want rate limited after 4", err, calls.Load())
		}
	})
	t.Run("Daily-limit without Retry-After lasts to 00:00 UTC", func(t *testing.T) {
		var calls atomic.Int64
		ts, c := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.Header().Set("X-RateLimit-Type", "Daily-limit")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			fmt.Fprint(w, `{}`)
		})
		_, err := c.Participants(context.Background(), engine.Webinar, "1", Live)
		var ze *Error
		midnight := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
		if !errors.As(err, &ze) || !ze.RetryAfter.Equal(midnight) {
			t.Fatalf("err = %v; want retry after %v", err, midnight)
		}
		if until, ok := c.Quota().Blocked(); !ok || !until.Equal(midnight) {
			t.Errorf("Quota().Blocked() = %v, %v", until, ok)
		}
		ts.clock.Set(midnight)
		if _, err := c.Participants(context.Background(), engine.Webinar, "1", Live); err != nil {
			t.Errorf("at midnight: %v", err)
		}
	})
}

func sleptFor(got []time.Duration, want time.Duration) bool {
	for _, d := range got {
		if d == want {
			return true
		}
	}
	return false
}

func TestConcurrentCallsShareOneGrant(t *testing.T) {
	ts, c := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) })
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Participants(context.Background(), engine.Webinar, "1", Live); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if g := ts.grants.Load(); g != 1 {
		t.Errorf("%d grants for 20 concurrent calls, want 1", g)
	}
	s := c.Stats()
	if len(s.Calls) != 1 || s.Calls[0] != (CallCount{Category: "heavy", Outcome: "ok", N: 20}) || c.Quota().Stats().DailyUsed != 20 || s.TokenFetches != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestCanceledContextStopsRetries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	_, c := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		cancel()
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	_, err := c.Participants(ctx, engine.Webinar, "1", Live)
	if err == nil || calls.Load() != 1 {
		t.Errorf("err %v after %d calls; want an error after 1", err, calls.Load())
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	ok := Config{AccountID: "a", ClientID: "b", ClientSecret: "very-secret"}
	tests := []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) { c.ClientSecret = "" }, "ClientSecret (ZOOM_CLIENT_SECRET)"},
		{func(c *Config) { c.AccountID = " " }, "AccountID (ZOOM_ACCOUNT_ID)"},
		{func(c *Config) { c.ClientID = "" }, "ClientID (ZOOM_CLIENT_ID)"},
		{func(c *Config) { c.Plan = "free" }, `Plan (ZOOM_PLAN): "free"`},
		{func(c *Config) { c.DailyLimit = -1 }, "DailyLimit (ZOOM_DAILY_LIMIT)"},
		{func(c *Config) { c.APIURL = "api.zoom.us" }, `APIURL (ZOOM_API_URL): "api.zoom.us"`},
		{func(c *Config) { c.OAuthURL = "ftp://zoom.us/oauth/token" }, "OAuthURL (ZOOM_OAUTH_URL)"},
		{func(c *Config) { c.OAuthURL = "ftp://id:very-secret@zoom.us/oauth/token" }, "OAuthURL (ZOOM_OAUTH_URL)"},
		{func(c *Config) { c.APIURL = "https://id:very-secret@api.zoom.us/v2" }, "must not contain credentials"},
		{func(c *Config) { c.APIURL = "https://id:very-secret%zz@api.zoom.us/v2" }, "APIURL (ZOOM_API_URL)"},
	}
	for _, tt := range tests {
		cfg := ok
		tt.mutate(&cfg)
		_, err := NewClient(cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want it to name %s", err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "very-secret") {
			t.Errorf("error %q contains the secret", err)
		}
	}
	c, err := NewClient(ok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits() != ProLimits || c.cfg.APIURL != DefaultAPIURL || c.cfg.OAuthURL != DefaultOAuthURL {
		t.Errorf("defaults: limits %+v, urls %s %s", c.Limits(), c.cfg.APIURL, c.cfg.OAuthURL)
	}
	ok.Plan, ok.DailyLimit = "Enterprise", 1000
	c, _ = NewClient(ok)
	if l := c.Limits(); l.Heavy != 40 || l.Daily != 1000 || c.Quota().Stats().DailyRemaining != 1000 {
		t.Errorf("enterprise with DailyLimit 1000: %+v", l)
	}
}

func TestBodiesAreBoundedDrainedAndClosed(t *testing.T) {
	var calls atomic.Int64
	ts, c := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) % 3 {
		case 0: // an error with a body the client does not need
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"code":300,"message":"Invalid field.","padding":%q}`, strings.Repeat("x", 8000))
		case 1:
			fmt.Fprint(w, `{"participants":[]}`)
		default: // too big
			fmt.Fprintf(w, `{"participants":[],"padding":%q}`, strings.Repeat("x", 4000))
		}
	})
	c.maxBody = 2048
	var tooBig error
	for range 9 {
		_, err := c.Participants(context.Background(), engine.Webinar, "1", Live)
		if err != nil && strings.Contains(err.Error(), "larger than 2048 bytes") {
			tooBig = err
		}
	}
	if tooBig == nil {
		t.Error("a body over the limit was read")
	}
	// The token and 9 calls, answered in full, refused or too big: bodies
	// drained and closed reuse one connection (6 without the draining).
	if n := ts.conns.Load(); n > 2 {
		t.Errorf("%d connections for 10 requests; bodies are not drained", n)
	}
}

// dribble answers 200 and then sends the body a byte at a time, never
// finishing, until the client hangs up: a slow-loris Zoom.
func dribble(calls *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"participants":[`)
		w.(http.Flusher).Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
				fmt.Fprint(w, " ")
				w.(http.Flusher).Flush()
			}
		}
	}
}

// A body that dribbles in is cut at the attempt's deadline, and the call
// ends there: retrying would hold the poller for MaxAttempts × Timeout.
func TestSlowBodyEndsTheCallAtTheAttemptDeadline(t *testing.T) {
	var calls atomic.Int64
	_, c := newTestServer(t, dribble(&calls))
	c.cfg.Timeout = 300 * time.Millisecond
	_, err := c.Participants(context.Background(), engine.Webinar, "1", Live)
	if !errors.Is(err, context.DeadlineExceeded) || !IsServerError(err) || !strings.Contains(err.Error(), "reading the body") {
		t.Errorf("err = %v; want a timeout reading the body (IsServerError)", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the dribbling answer was asked for %d times, want once", n)
	}
	if n := c.Stats().Retries; n != 0 {
		t.Errorf("%d retries of a dribbling answer, want 0", n)
	}
}
