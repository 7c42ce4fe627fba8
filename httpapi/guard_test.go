package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
)

const goodSilence = `{"matchers":[{"name":"rule","value":"choppy-audio"}],"ends_at":"2026-11-28T12:00:00Z","created_by":"ops","comment":"known"}`

// request sends one request with every header a test may set.
func request(h http.Handler, method, target string, hdr map[string]string, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func backupOK(_ context.Context, w io.Writer) (int64, error) {
	n, err := io.WriteString(w, "bbolt bytes")
	return int64(n), err
}

// TestEveryAPIEndpointNeedsTheToken: with a token set, every /api/v1
// endpoint, reads and backup included, answers 401 without it or with a
// wrong one, and the probes and /metrics stay open.
func TestEveryAPIEndpointNeedsTheToken(t *testing.T) {
	const token = "an-api-token-of-32-characters-xx"
	e := firingEngine(t)
	h := New(Options{Engine: e, Token: token, Backup: backupOK, Metrics: prometheus.NewRegistry(), Now: func() time.Time { return t0 }})
	for _, ep := range []struct{ method, path, body string }{
		{"GET", "/api/v1/alerts", ""},
		{"GET", "/api/v1/alerts?state=resolved", ""},
		{"GET", "/api/v1/silences", ""},
		{"POST", "/api/v1/silences", goodSilence},
		{"DELETE", "/api/v1/silences/ANYID", ""},
		{"GET", "/api/v1/backup", ""},
	} {
		for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", "Basic " + token, token} {
			rec := request(h, ep.method, "http://127.0.0.1:9797"+ep.path, map[string]string{"Authorization": auth, "Content-Type": "application/json"}, ep.body)
			if rec.Code != 401 || strings.Contains(rec.Body.String(), token) {
				t.Errorf("%s %s with Authorization %q = %d %s, want 401 without the token in it", ep.method, ep.path, auth, rec.Code, rec.Body)
			}
		}
	}
	if len(e.Silences()) != 0 {
		t.Fatal("a request without the token added a silence")
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if rec := request(h, "GET", "http://127.0.0.1:9797"+p, nil, ""); rec.Code != 200 {
			t.Errorf("%s without a token = %d, want 200 (probes and scrapers carry no token)", p, rec.Code)
		}
	}
	if rec := request(h, "GET", "http://127.0.0.1:9797/api/v1/alerts", map[string]string{"Authorization": "Bearer " + token}, ""); rec.Code != 200 {
		t.Errorf("alerts with the token = %d", rec.Code)
	}
}

// TestWritesRefuseABrowser: a page the operator visits cannot add a
// silence: it can only send a "simple" request (text/plain, a form) or
// one marked with its own Origin; only JSON from no or the same origin is
// taken.
func TestWritesRefuseABrowser(t *testing.T) {
	e := firingEngine(t)
	h := New(Options{Engine: e, Now: func() time.Time { return t0 }})
	const target = "http://127.0.0.1:9797/api/v1/silences"
	for _, tc := range []struct {
		hdr  map[string]string
		want int
	}{
		{map[string]string{"Content-Type": "text/plain"}, 415},
		{map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, 415},
		{map[string]string{}, 415},
		{map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, 403},
		{map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403},
		{map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:9798"}, 403},
		{map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403},
		{map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example"}, 403},
	} {
		if rec := request(h, "POST", target, tc.hdr, goodSilence); rec.Code != tc.want {
			t.Errorf("POST with %v = %d %s, want %d", tc.hdr, rec.Code, rec.Body, tc.want)
		}
	}
	if rec := request(h, "DELETE", target+"/X", map[string]string{"Origin": "http://evil.example"}, ""); rec.Code != 403 {
		t.Errorf("DELETE from a foreign origin = %d, want 403", rec.Code)
	}
	if n := len(e.Silences()); n != 0 {
		t.Fatalf("%d silences added by a browser", n)
	}
	// The CLI (no Origin) and a same-origin page are taken.
	for _, hdr := range []map[string]string{
		{"Content-Type": "application/json"},
		{"Content-Type": "application/json; charset=utf-8", "Origin": "http://127.0.0.1:9797", "Sec-Fetch-Site": "same-origin"},
	} {
		if rec := request(h, "POST", target, hdr, goodSilence); rec.Code != 200 {
			t.Errorf("POST with %v = %d %s, want 200", hdr, rec.Code, rec.Body)
		}
	}
}

// TestHostIsChecked: a DNS-rebinding page reaches the API under its own
// name; every request naming a host that is not an IP address, localhost
// or a configured name is refused, probes included.
func TestHostIsChecked(t *testing.T) {
	h := New(Options{Engine: firingEngine(t), Hosts: []string{"qoswatch.internal"}, Metrics: prometheus.NewRegistry()})
	for _, host := range []string{"127.0.0.1:9797", "localhost:9797", "[::1]:9797", "10.1.2.3:9797", "qoswatch.internal:9797", "QOSWATCH.internal", "app.localhost:9797"} {
		for _, p := range []string{"/healthz", "/api/v1/alerts"} {
			if rec := request(h, "GET", "http://"+host+p, nil, ""); rec.Code != 200 {
				t.Errorf("GET %s with Host %s = %d %s", p, host, rec.Code, rec.Body)
			}
		}
	}
	for _, host := range []string{"evil.example:9797", "rebind.attacker.test", "localhost.evil.example:9797", "qoswatch.internal.evil.example"} {
		for _, p := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/alerts", "/api/v1/silences"} {
			rec := request(h, "GET", "http://"+host+p, nil, "")
			if rec.Code != http.StatusMisdirectedRequest || !strings.Contains(rec.Body.String(), "QOSWATCH_ALLOWED_HOSTS") {
				t.Errorf("GET %s with Host %s = %d %s, want 421 naming QOSWATCH_ALLOWED_HOSTS", p, host, rec.Code, rec.Body)
			}
		}
	}
}

// TestBodyOverTheLimitIs413: a silence body over MaxBody is refused as
// too large, not read whole.
func TestBodyOverTheLimitIs413(t *testing.T) {
	e := firingEngine(t)
	h := New(Options{Engine: e, Now: func() time.Time { return t0 }})
	big := `{"matchers":[{"name":"rule","value":"choppy-audio"}],"ends_at":"2026-11-28T12:00:00Z","created_by":"ops","comment":"` + strings.Repeat("x", MaxBody) + `"}`
	rec := request(h, "POST", "http://127.0.0.1:9797/api/v1/silences", map[string]string{"Content-Type": "application/json"}, big)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), fmt.Sprint(MaxBody)) {
		t.Errorf("POST of %d bytes = %d %s, want 413 naming the limit", len(big), rec.Code, rec.Body)
	}
	if len(e.Silences()) != 0 {
		t.Error("the oversized silence was added")
	}
}

// manyAlerts is an engine with n firing alerts (one per participant).
func manyAlerts(t *testing.T, n int) *engine.Engine {
	t.Helper()
	e, err := engine.New(engine.NewMemoryStore(), engine.Options{Clock: fakeclock.NewManual(t0)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rule := engine.Rule{Name: "choppy-audio", When: lossOver(2), For: time.Minute, KeepFiringFor: time.Minute, RepeatInterval: time.Hour, Severity: engine.SeverityWarning}
	if err := e.SetRules(ctx, []engine.Rule{rule}); err != nil {
		t.Fatal(err)
	}
	for m := range 2 {
		batch := make([]engine.Sample, n)
		for i := range batch {
			s := engine.NewSample()
			s.Source = engine.Source{Kind: engine.Webinar, ID: "812345", Live: true}
			s.Participant = engine.Participant{UserID: fmt.Sprint(16778240 + i), UserName: fmt.Sprint("P", i)}
			s.Time = t0.Add(time.Duration(m) * time.Minute)
			s.AudioInput.AvgLoss = 3.5
			s.Aggregate()
			batch[i] = s
		}
		if err := e.Ingest(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// TestListsArePaged: a long list comes in pages of ?limit= with a "next"
// cursor; following it lists every alert and silence exactly once.
func TestListsArePaged(t *testing.T) {
	e := manyAlerts(t, 23)
	h := New(Options{Engine: e, Now: func() time.Time { return t0 }})
	for range 7 {
		if rec := request(h, "POST", "http://127.0.0.1:9797/api/v1/silences", map[string]string{"Content-Type": "application/json"},
			`{"matchers":[{"name":"rule","value":"nothing"}],"ends_at":"2026-11-28T12:00:00Z","comment":"x"}`); rec.Code != 200 {
			t.Fatal(rec.Body)
		}
	}
	for _, tc := range []struct {
		path, field string
		want        int
	}{{"/api/v1/alerts", "alerts", 23}, {"/api/v1/silences", "silences", 7}} {
		seen := map[string]int{}
		after, pages := "", 0
		for {
			q := url.Values{"limit": {"5"}}
			if after != "" {
				q.Set("after", after)
			}
			rec := request(h, "GET", "http://127.0.0.1:9797"+tc.path+"?"+q.Encode(), nil, "")
			var resp map[string]json.RawMessage
			if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
				t.Fatalf("%s = %d %s", tc.path, rec.Code, rec.Body)
			}
			var items []map[string]any
			json.Unmarshal(resp[tc.field], &items)
			if len(items) > 5 {
				t.Fatalf("%s?limit=5 answered %d", tc.path, len(items))
			}
			for _, it := range items {
				seen[fmt.Sprint(it["id"], it["participant"])]++
			}
			pages++
			after = ""
			json.Unmarshal(resp["next"], &after)
			if after == "" || pages > 10 {
				break
			}
		}
		if len(seen) != tc.want || pages != (tc.want+4)/5 {
			t.Errorf("%s: %d distinct in %d pages, want %d in %d", tc.path, len(seen), pages, tc.want, (tc.want+4)/5)
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("%s: %s listed %d times", tc.path, k, n)
			}
		}
	}
	for _, bad := range []string{"limit=0", "limit=abc", fmt.Sprintf("limit=%d", MaxPage+1)} {
		if rec := request(h, "GET", "http://127.0.0.1:9797/api/v1/alerts?"+bad, nil, ""); rec.Code != 400 {
			t.Errorf("?%s = %d, want 400", bad, rec.Code)
		}
	}
	// With no limit a page is DefaultPage long.
	rec := request(h, "GET", "http://127.0.0.1:9797/api/v1/alerts", nil, "")
	if strings.Contains(rec.Body.String(), `"next"`) {
		t.Error("23 alerts do not fit one default page?")
	}
}

// TestEngineLimitsAreBadRequests: the engine's caps on silences (matchers,
// regex size, how long) come back as a 400 that names the limit, never a
// 500, and nothing is kept.
func TestEngineLimitsAreBadRequests(t *testing.T) {
	e := firingEngine(t)
	h := New(Options{Engine: e, Now: func() time.Time { return t0 }})
	many := make([]string, engine.DefaultSilenceLimits.MaxMatchers+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"name":"rule","value":"r%d"}`, i)
	}
	for _, body := range []string{
		`{"matchers":[` + strings.Join(many, ",") + `],"ends_at":"2026-11-28T12:00:00Z","comment":"x"}`,
		`{"matchers":[{"name":"rule","value":"` + strings.Repeat("a", engine.DefaultSilenceLimits.MaxValueLen+1) + `","is_regex":true}],"ends_at":"2026-11-28T12:00:00Z","comment":"x"}`,
		`{"matchers":[{"name":"rule","value":".*","is_regex":true}],"ends_at":"9999-01-01T00:00:00Z","comment":"forever"}`,
	} {
		rec := request(h, "POST", "http://127.0.0.1:9797/api/v1/silences", map[string]string{"Content-Type": "application/json"}, body)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "maximum") {
			t.Errorf("POST %.80s… = %d %s, want a 400 naming the limit", body, rec.Code, rec.Body)
		}
	}
	if n := len(e.Silences()); n != 0 {
		t.Errorf("%d silences kept past the limits", n)
	}
}
