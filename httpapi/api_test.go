package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
)

// lossOver is a hand-written Condition: audio_input.avg_loss > limit.
type lossOver float64

func (l lossOver) Eval(s *engine.Sample) (bool, error) { return s.AudioInput.AvgLoss > float64(l), nil }
func (l lossOver) Explain(s *engine.Sample) []engine.Term {
	return []engine.Term{{Field: "audio_input.avg_loss", Value: "3.5", Op: ">", Threshold: "2", Holds: s.AudioInput.AvgLoss > float64(l)}}
}

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// firingEngine returns a real engine (on the in-memory store) with one
// firing alert whose sample has missing (NaN) values.
func firingEngine(t *testing.T) *engine.Engine {
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
	for m := range 3 {
		s := engine.NewSample() // video and the rest stay NaN
		s.Source = engine.Source{Kind: engine.Webinar, ID: "812345", Topic: "All hands", Live: true}
		s.Participant = engine.Participant{UserID: "16778240", UserName: "Ada"}
		s.Time = t0.Add(time.Duration(m) * time.Minute)
		s.AudioInput.AvgLoss = 3.5
		s.Aggregate()
		if err := e.Ingest(ctx, []engine.Sample{s}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func do(t *testing.T, h http.Handler, method, path, token, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://127.0.0.1:9797"+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestHealthAndReadiness(t *testing.T) {
	tokenErr, quotaErr := error(nil), error(nil)
	h := New(Options{Engine: firingEngine(t), Ready: []Check{
		{Name: "store", Check: func(context.Context) error { return nil }},
		{Name: "zoom_token", Check: func(context.Context) error { return tokenErr }},
		{Name: "zoom_quota", Check: func(context.Context) error { return quotaErr }, Degraded: true},
	}})
	if code, body := do(t, h, "GET", "/healthz", "", ""); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	code, body := do(t, h, "GET", "/readyz", "", "")
	if code != 200 || !strings.Contains(body, `"ready": true`) {
		t.Errorf("/readyz = %d %s", code, body)
	}
	tokenErr = context.DeadlineExceeded
	code, body = do(t, h, "GET", "/readyz", "", "")
	if code != 503 || !strings.Contains(body, `"zoom_token": "context deadline exceeded"`) || !strings.Contains(body, `"store": "ok"`) ||
		!strings.Contains(body, `"status": "not_ready"`) {
		t.Errorf("/readyz with no Zoom token = %d %s", code, body)
	}
	// A pause that ends by itself is degraded, with its reason; with a
	// real failure beside it, not ready.
	tokenErr, quotaErr = nil, errors.New("Zoom daily limit reached; paused until 00:00 UTC")
	code, body = do(t, h, "GET", "/readyz", "", "")
	if code != 503 || !strings.Contains(body, `"status": "degraded"`) || !strings.Contains(body, `"zoom_quota": "degraded: Zoom daily limit reached; paused until 00:00 UTC"`) {
		t.Errorf("/readyz during a daily-limit pause = %d %s", code, body)
	}
	tokenErr = context.DeadlineExceeded
	if _, body = do(t, h, "GET", "/readyz", "", ""); !strings.Contains(body, `"status": "not_ready"`) {
		t.Errorf("/readyz with a pause and a failure = %s, want not_ready", body)
	}
}

func TestAlertsRenderMissingValuesAsNull(t *testing.T) {
	h := New(Options{Engine: firingEngine(t)})
	code, body := do(t, h, "GET", "/api/v1/alerts", "", "")
	if code != 200 {
		t.Fatalf("/api/v1/alerts = %d %s", code, body)
	}
	var resp struct {
		Alerts []struct {
			Rule        string             `json:"rule"`
			State       string             `json:"state"`
			Participant engine.Participant `json:"participant"`
			Source      engine.Source      `json:"source"`
			FiredAt     *time.Time         `json:"fired_at"`
			Explain     []TermJSON         `json:"explain"`
			Sample      map[string]any     `json:"sample"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	if len(resp.Alerts) != 1 {
		t.Fatalf("%d alerts, want 1:\n%s", len(resp.Alerts), body)
	}
	a := resp.Alerts[0]
	if a.Rule != "choppy-audio" || a.State != "firing" || a.Participant.UserName != "Ada" || a.Source.ID != "812345" || a.FiredAt == nil {
		t.Errorf("alert = %+v", a)
	}
	if len(a.Explain) != 1 || a.Explain[0].Text != "audio_input.avg_loss = 3.5 > 2 ✓" {
		t.Errorf("explain = %+v", a.Explain)
	}
	audio, _ := a.Sample["audio_input"].(map[string]any)
	video, _ := a.Sample["video_input"].(map[string]any)
	if got := audio["avg_loss"]; got != 3.5 {
		t.Errorf("sample.audio_input.avg_loss = %v, want 3.5", got)
	}
	if got := a.Sample["avg_loss"]; got != 3.5 {
		t.Errorf("sample.avg_loss (worst of streams) = %v, want 3.5", got)
	}
	if v, ok := video["bitrate"]; !ok || v != nil {
		t.Errorf("sample.video_input.bitrate = %v (present %v), want null for a missing value", v, ok)
	}

	for _, q := range []struct {
		query string
		n     int
	}{{"?state=firing", 1}, {"?state=pending", 0}, {"?rule=choppy-audio", 1}, {"?rule=other", 0}} {
		_, body := do(t, h, "GET", "/api/v1/alerts"+q.query, "", "")
		if n := strings.Count(body, `"rule": "choppy-audio"`); n != q.n {
			t.Errorf("%s: %d alerts, want %d", q.query, n, q.n)
		}
	}
	if code, body := do(t, h, "GET", "/api/v1/alerts?state=burning", "", ""); code != 400 || !strings.Contains(body, `state \"burning\"`) {
		t.Errorf("bad state = %d %s", code, body)
	}
}

func TestSilencesNeedTheToken(t *testing.T) {
	const token = "s3cret-api-token-value"
	e := firingEngine(t)
	h := New(Options{Engine: e, Token: token, Now: func() time.Time { return t0 }})
	add := `{"matchers":[{"name":"rule","value":"choppy-audio"}],"ends_at":"2026-11-28T12:00:00Z","created_by":"ops","comment":"known bad venue wifi"}`

	for _, tok := range []string{"", "wrong"} {
		code, body := do(t, h, "POST", "/api/v1/silences", tok, add)
		if code != 401 || strings.Contains(body, token) {
			t.Errorf("POST with token %q = %d %s, want 401 without the token in it", tok, code, body)
		}
	}
	if len(e.Silences()) != 0 {
		t.Fatal("an unauthorized POST added a silence")
	}
	code, body := do(t, h, "POST", "/api/v1/silences", token, add)
	if code != 200 {
		t.Fatalf("POST = %d %s", code, body)
	}
	var s engine.Silence
	if err := json.Unmarshal([]byte(body), &s); err != nil || s.ID == "" || s.StartsAt != t0 {
		t.Fatalf("POST answer %s: %v", body, err)
	}
	if code, _ := do(t, h, "GET", "/api/v1/silences", "", ""); code != 401 {
		t.Errorf("GET silences without the token = %d, want 401: reads need it too", code)
	}
	if _, body := do(t, h, "GET", "/api/v1/silences", token, ""); !strings.Contains(body, s.ID) || !strings.Contains(body, "known bad venue wifi") {
		t.Errorf("GET silences does not list %s: %s", s.ID, body)
	}
	if code, _ := do(t, h, "DELETE", "/api/v1/silences/"+s.ID, "", ""); code != 401 {
		t.Errorf("DELETE without token = %d, want 401", code)
	}
	if code, body := do(t, h, "DELETE", "/api/v1/silences/"+s.ID, token, ""); code != 200 {
		t.Errorf("DELETE = %d %s", code, body)
	}
	if got := e.Silences(); len(got) != 1 || !got[0].EndsAt.Equal(t0) {
		t.Errorf("after DELETE the silence is %+v, want it ended now", got)
	}
	if code, body := do(t, h, "DELETE", "/api/v1/silences/nope", token, ""); code != 404 || !strings.Contains(body, `silence \"nope\": not found`) {
		t.Errorf("DELETE unknown = %d %s", code, body)
	}
}

func TestSilenceValidation(t *testing.T) {
	h := New(Options{Engine: firingEngine(t), Now: func() time.Time { return t0 }})
	for _, tc := range []struct{ body, want string }{
		{`{`, "not valid JSON"},
		{`{"matchers":[{"name":"rule","value":"x"}],"ends_at":"2026-11-28T12:00:00Z","comment":"x","color":"red"}`, `unknown field \"color\"`},
		{`{"matchers":[],"ends_at":"2026-11-28T12:00:00Z","comment":"x"}`, "no matchers"},
		{`{"matchers":[{"name":"rule","value":"x"}],"comment":"x"}`, "ends_at is required"},
		{`{"matchers":[{"name":"rule","value":"x"}],"ends_at":"2026-11-28T09:00:00Z","comment":"x"}`, "not after starts_at"},
		{`{"matchers":[{"name":"rule","value":"x"}],"ends_at":"2026-11-28T12:00:00Z"}`, "comment is required"},
		{`{"matchers":[{"name":"rule","value":"(","is_regex":true}],"ends_at":"2026-11-28T12:00:00Z","comment":"x"}`, "missing closing )"},
		{`{"matchers":[{"name":"","value":"x"}],"ends_at":"2026-11-28T12:00:00Z","comment":"x"}`, "matcher 1: name and value are required"},
		{`{"matchers":[{"name":"rule","value":"x"}],"starts_at":"2026-11-28T08:00:00Z","ends_at":"2026-11-28T09:00:00Z","comment":"x"}`, "ends_at 2026-11-28T09:00:00Z is in the past"},
	} {
		code, body := do(t, h, "POST", "/api/v1/silences", "", tc.body)
		if code != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s = %d %s, want 400 with %q", tc.body, code, body, tc.want)
		}
	}
}

// The engine's clock decides when a silence starts and whether it is over
// (the demo runs it ahead of the wall clock): one the engine refuses is
// the client's mistake, a 400 that says why, not a 500.
func TestSilenceTheEngineRefusesIsABadRequest(t *testing.T) {
	h := New(Options{Engine: firingEngine(t), Now: func() time.Time { return t0.Add(-2 * time.Hour) }})
	code, body := do(t, h, "POST", "/api/v1/silences", "", `{"matchers":[{"name":"rule","value":"x"}],"ends_at":"2026-11-28T09:30:00Z","comment":"x"}`)
	if want := `silence: ends_at 2026-11-28T09:30:00Z is not after starts_at 2026-11-28T10:00:00Z`; code != 400 || !strings.Contains(body, want) {
		t.Errorf("POST = %d %s, want 400 with %q (the start is the engine's now)", code, body, want)
	}
	if _, body := do(t, h, "GET", "/api/v1/silences", "", ""); strings.Contains(body, `"id"`) {
		t.Errorf("a refused silence is listed: %s", body)
	}
}

func TestBackupNeedsTheToken(t *testing.T) {
	h := New(Options{Engine: firingEngine(t), Token: "tok", Backup: func(_ context.Context, w io.Writer) (int64, error) {
		n, err := io.WriteString(w, "bbolt bytes")
		return int64(n), err
	}})
	if code, _ := do(t, h, "GET", "/api/v1/backup", "", ""); code != 401 {
		t.Errorf("backup without the token = %d, want 401", code)
	}
	if code, body := do(t, h, "GET", "/api/v1/backup", "tok", ""); code != 200 || body != "bbolt bytes" {
		t.Errorf("backup = %d %q", code, body)
	}
	h = New(Options{Engine: firingEngine(t), Backup: func(context.Context, io.Writer) (int64, error) { return 0, io.ErrUnexpectedEOF }})
	if code, body := do(t, h, "GET", "/api/v1/backup", "", ""); code != 500 || !strings.Contains(body, "unexpected EOF") {
		t.Errorf("failed backup = %d %q, want a 500, not a short file", code, body)
	}
}

// GET /api/v1/sources/{source}/minutes answers what the store kept, with
// the token only, and says what is wrong with a bad or unknown source.
func TestSourceMinutes(t *testing.T) {
	kept := map[string][]engine.MinuteStats{"webinar:42": {{Source: "webinar:42", Minute: t0, Seen: 7}}}
	h := New(Options{Engine: firingEngine(t), Token: "tok", Minutes: func(_ context.Context, src string) ([]engine.MinuteStats, error) {
		return kept[src], nil
	}})
	for _, c := range []struct {
		path, token string
		code        int
		want        string
	}{
		{"/api/v1/sources/webinar:42/minutes", "", http.StatusUnauthorized, ""},
		{"/api/v1/sources/webinar:42/minutes", "tok", http.StatusOK, `"seen": 7`},
		{"/api/v1/sources/webinar:43/minutes", "tok", http.StatusNotFound, "no minutes kept for webinar:43"},
		{"/api/v1/sources/42/minutes", "tok", http.StatusBadRequest, "want webinar:ID or meeting:ID"},
	} {
		code, body := do(t, h, http.MethodGet, c.path, c.token, "")
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("GET %s = %d %s; want %d %q", c.path, code, body, c.code, c.want)
		}
	}
}
