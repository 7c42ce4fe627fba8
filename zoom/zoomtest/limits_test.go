package zoomtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/zoom"
)

func TestPerSecondLimitsOnTheFakeClock(t *testing.T) {
	s, clock, tok := fixture(t, Options{Plan: Pro})
	clock.Set(t0.Add(30*time.Minute + 100*time.Millisecond))
	qos := "/metrics/webinars/81234567890/participants/qos"
	var v zoom.ParticipantQoSList
	for i := range 10 {
		if st, ae, _ := get(t, s, tok, qos, &v); st != 200 {
			t.Fatalf("call %d of 10 in one second: %d %+v", i+1, st, ae)
		}
	}
	st, ae, h := get(t, s, tok, qos, &v)
	if st != 429 || h.Get("X-RateLimit-Type") != "QPS" || h.Get("X-RateLimit-Category") != "Heavy" || ae.Code != 429 {
		t.Errorf("11th Heavy call in a second on Pro: %d %+v %v", st, ae, h)
	}
	clock.Advance(900 * time.Millisecond) // the next second
	if st, _, _ := get(t, s, tok, qos, &v); st != 200 {
		t.Errorf("next second: %d", st)
	}

	// Resource-intensive: 10 a minute on Pro.
	list := "/metrics/webinars?type=live&from=2026-11-28&to=2026-11-28"
	var wl zoom.WebinarList
	for i := range 10 {
		if st, _, _ := get(t, s, tok, list, &wl); st != 200 {
			t.Fatalf("list call %d: %d", i+1, st)
		}
		clock.Advance(time.Second)
	}
	if st, _, h := get(t, s, tok, list, &wl); st != 429 || h.Get("X-RateLimit-Category") != "Resource-intensive" {
		t.Errorf("11th list call in a minute: %d %v", st, h)
	}

	got := s.Stats()
	if got.Calls[zoom.Heavy] != 11 || got.Throttled[zoom.Heavy] != 1 || got.Calls[zoom.ResourceIntensive] != 10 || got.Throttled[zoom.ResourceIntensive] != 1 {
		t.Errorf("calls %v, throttled %v", got.Calls, got.Throttled)
	}
	if got.PeakPerWindow[zoom.Heavy] != 10 || got.DailyUsed != 21 || got.DailyLimit != 30000 {
		t.Errorf("peak %v, daily used %d of %d", got.PeakPerWindow, got.DailyUsed, got.DailyLimit)
	}
	if got.ByEndpoint["GET /metrics/webinars/{id}/participants/qos"] != 11 {
		t.Errorf("by endpoint: %v", got.ByEndpoint)
	}
}

func TestDailyCapSharedByHeavyAndResourceIntensive(t *testing.T) {
	s, clock, _ := fixture(t, Options{})
	clock.Set(time.Date(2026, 11, 28, 23, 59, 0, 0, time.UTC))
	tok := token(t, s)
	s.EndAt(s.sources[0].sc, time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC))
	s.SpendDaily(59999) // other apps on the account
	var v zoom.ParticipantQoSList
	qos := "/metrics/webinars/81234567890/participants/qos"
	st, _, h := get(t, s, tok, qos, &v)
	if st != 200 || h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Limit") != "60000" {
		t.Fatalf("the last call of the day: %d, %v", st, h)
	}
	for _, path := range []string{qos, "/metrics/webinars?type=live&from=2026-11-28&to=2026-11-28"} {
		var any map[string]any
		st, ae, h := get(t, s, tok, path, &any)
		if st != 429 || h.Get("X-RateLimit-Type") != "Daily-limit" || h.Get("Retry-After") != "2026-11-29T00:00:00Z" {
			t.Errorf("%s over the cap: %d %+v %v", path, st, ae, h)
		}
	}
	clock.Set(time.Date(2026, 11, 29, 0, 0, 1, 0, time.UTC)) // reset at 00:00 UTC
	if st, ae, _ := get(t, s, tok, qos, &v); st != 200 {
		t.Errorf("after midnight UTC: %d %+v", st, ae)
	}
	if got := s.Stats(); got.DailyLimited != 2 || got.DailyUsed != 1 {
		t.Errorf("daily limited %d, used %d", got.DailyLimited, got.DailyUsed)
	}
}

func TestNoLimitsStillCounts(t *testing.T) {
	s, _, tok := fixture(t, Options{NoLimits: true, Plan: Pro})
	var v zoom.ParticipantQoSList
	for range 25 {
		if st, _, _ := get(t, s, tok, "/metrics/webinars/81234567890/participants/qos", &v); st != 200 {
			t.Fatalf("NoLimits answered %d", st)
		}
	}
	if got := s.Stats(); got.Calls[zoom.Heavy] != 25 || got.PeakPerWindow[zoom.Heavy] != 25 {
		t.Errorf("stats %+v", got)
	}
}

func TestFaults(t *testing.T) {
	s, _, tok := fixture(t, Options{})
	qos := "/metrics/webinars/81234567890/participants/qos"
	var v zoom.ParticipantQoSList

	s.Inject(Fault{Path: "/participants/qos", Status: 503, Times: 2})
	for i := range 2 {
		if st, _, h := get(t, s, tok, qos, &v); st != 503 || h.Get("x-zm-trackingid") == "" {
			t.Errorf("fault %d: %d", i, st)
		}
	}
	var parts zoom.ParticipantList
	if st, _, _ := get(t, s, tok, "/metrics/webinars/81234567890/participants", &parts); st != 200 {
		t.Errorf("another path under a QoS fault: %d", st)
	}
	if st, _, _ := get(t, s, tok, qos, &v); st != 200 {
		t.Errorf("after Times ran out: %d", st)
	}

	s.Inject(Fault{Malformed: true})
	resp := rawGet(t, s, tok, qos)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(body, &v); err == nil || resp.StatusCode != 200 {
		t.Errorf("malformed: status %d, decodes without error: %q", resp.StatusCode, body)
	}
	s.ClearFaults()

	s.Inject(Fault{Delay: 2 * time.Second, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.APIURL()+qos, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow answer: err = %v, want the caller's deadline", err)
	}

	s.Inject(Fault{Path: "/oauth/token", Status: 500, Times: 1})
	resp2, _ := http.Post(s.TokenURL(), "application/x-www-form-urlencoded", strings.NewReader("grant_type=account_credentials"))
	if resp2.StatusCode != 500 {
		t.Errorf("token endpoint fault: %d", resp2.StatusCode)
	}
	resp2.Body.Close()
	if got := s.Stats().Faults; got != 5 {
		t.Errorf("faults = %d, want 5", got)
	}
}

func rawGet(t *testing.T, s *Server, tok, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", s.APIURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestInProcessTransport(t *testing.T) {
	clock := fakeclock.NewManual(t0.Add(30 * time.Minute))
	s := NewServer(Options{Now: clock.Now, Scenarios: []*Scenario{handBuilt()}})
	c := s.HTTPClient()
	resp, err := c.PostForm(s.TokenURL(), nil)
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("token without credentials: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", s.APIURL()+"/metrics/webinars/81234567890/participants/qos", nil)
	resp, err = c.Do(req)
	if err != nil || resp.StatusCode != 401 || resp.Header.Get("x-zm-trackingid") == "" {
		t.Fatalf("in-process API call: %v %v", resp, err)
	}
	resp.Body.Close()
}
