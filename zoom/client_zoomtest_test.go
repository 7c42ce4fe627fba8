package zoom_test

// The client against zoomtest, the fake Zoom: every behaviour of issue 2
// that the fake can show. Time is virtual: the fake and the client share
// a stepping clock (internal/fakeclock), and the client's waits advance
// it, so rate limits and back-offs take no wall time.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

// webinar is a 25-person webinar whose UUID needs double encoding: a
// guest (blank id), an audio-only attendee, five who join late.
func webinar() *zoomtest.Scenario {
	sc := &zoomtest.Scenario{Kind: zoomtest.Webinar, ID: 81234567890, UUID: "/ab//cdEFgh12345678==", Topic: "All hands", Start: t0, Duration: 2 * time.Hour, Seed: 7}
	for i := range 25 {
		p := &zoomtest.Participant{UserID: fmt.Sprint(16778240 + i), ID: fmt.Sprintf("u%03d", i), UserName: fmt.Sprintf("Person %d", i)}
		switch i {
		case 0:
			p.Role = "host"
		case 2:
			p.ID = "" // guest
		case 3:
			p.AudioOnly = true
		}
		if i >= 20 {
			p.Join = time.Duration(i-15) * time.Minute
		}
		sc.Participants = append(sc.Participants, p)
	}
	return sc
}

// env is a fake Zoom, a client of it, and what the client logged.
type env struct {
	srv    *zoomtest.Server
	cfg    zoom.Config
	clock  *fakeclock.Stepping
	client *zoom.Client
	logs   *syncbuf.Buffer
	tokens *tokenRecorder
}

type envOpts struct {
	fake   zoomtest.Options
	mutate func(*zoom.Config)
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	clock := fakeclock.NewStepping(t0.Add(30 * time.Minute))
	o.fake.Now = clock.Now
	if o.fake.Scenarios == nil {
		o.fake.Scenarios = []*zoomtest.Scenario{webinar()}
	}
	srv := zoomtest.New(t, o.fake)
	logs := &syncbuf.Buffer{}
	rec := &tokenRecorder{next: http.DefaultTransport}
	cfg := zoom.Config{
		APIURL: srv.APIURL(), OAuthURL: srv.TokenURL(),
		AccountID: srv.AccountID, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret,
		Plan:       "business",
		HTTPClient: &http.Client{Transport: rec},
		Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:      clock,
		Timeout:    2 * time.Second,
	}
	if o.mutate != nil {
		o.mutate(&cfg)
	}
	c, err := zoom.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, cfg: cfg, clock: clock, client: c, logs: logs, tokens: rec}
}

// qos sweeps the webinar's live participants QoS list and returns the
// participants seen, in order, and the number of pages.
func (e *env) qos(t *testing.T, id string) ([]string, int, error) {
	t.Helper()
	var seen []string
	pages := 0
	err := e.client.ParticipantsQoS(context.Background(), engine.Webinar, id, zoom.Live, func(l *zoom.ParticipantQoSList) error {
		pages++
		if len(l.Participants) > zoom.QoSPageSize {
			t.Errorf("page of %d participants, want at most %d", len(l.Participants), zoom.QoSPageSize)
		}
		for _, p := range l.Participants {
			seen = append(seen, p.UserID)
		}
		return nil
	})
	return seen, pages, err
}

func TestOAuthGrantIsReused(t *testing.T) {
	e := newEnv(t, envOpts{})
	for range 3 {
		if _, _, err := e.qos(t, "81234567890"); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.srv.Stats().TokensIssued; got != 1 {
		t.Errorf("tokens issued = %d for 3 sweeps, want 1 (reused until it expires)", got)
	}
	// The token lives an hour: a new one is fetched before it expires.
	e.clock.Advance(59*time.Minute + 30*time.Second)
	if _, _, err := e.qos(t, "81234567890"); err != nil {
		t.Fatal(err)
	}
	if s := e.srv.Stats(); s.TokensIssued != 2 || s.Unauthorized != 0 {
		t.Errorf("after 59m30s: tokens issued %d, 401s %d; want 2 and 0 (refreshed before expiry)", s.TokensIssued, s.Unauthorized)
	}
}

func TestRevokedTokenIsFetchedAnewAndCallRetried(t *testing.T) {
	e := newEnv(t, envOpts{})
	if _, _, err := e.qos(t, "81234567890"); err != nil {
		t.Fatal(err)
	}
	e.srv.RevokeAccessTokens()
	seen, _, err := e.qos(t, "81234567890")
	if err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if len(seen) != 25 {
		t.Errorf("after revocation saw %d participants, want 25", len(seen))
	}
	s := e.srv.Stats()
	if s.TokensIssued != 2 || s.Unauthorized != 1 {
		t.Errorf("tokens issued %d, 401s %d; want 2 and 1", s.TokensIssued, s.Unauthorized)
	}
}

func TestBadCredentialsAreAnAuthError(t *testing.T) {
	e := newEnv(t, envOpts{mutate: func(c *zoom.Config) { c.ClientSecret = "wrong-secret-value" }})
	_, _, err := e.qos(t, "81234567890")
	if !zoom.IsAuth(err) || zoom.IsRateLimited(err) || zoom.IsNotFound(err) || zoom.IsServerError(err) {
		t.Fatalf("err = %v; want only IsAuth", err)
	}
	if !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("err = %q; want Zoom's reason and no secret", err)
	}
	if calls := e.srv.Stats().Calls[zoom.Heavy]; calls != 0 {
		t.Errorf("%d API calls without a token, want 0", calls)
	}
}

func TestPagingToTheEnd(t *testing.T) {
	e := newEnv(t, envOpts{})
	seen, pages, err := e.qos(t, "81234567890")
	if err != nil {
		t.Fatal(err)
	}
	// At minute 30, the 20 who joined at the start and those who joined
	// at minutes 5..9 are in: 25, in 3 pages.
	if len(seen) != 25 || pages != 3 {
		t.Errorf("saw %d participants in %d pages, want 25 in 3", len(seen), pages)
	}
	uniq := map[string]bool{}
	for _, id := range seen {
		uniq[id] = true
	}
	if len(uniq) != len(seen) {
		t.Errorf("saw %d participants but only %d distinct", len(seen), len(uniq))
	}
	list, err := e.client.Participants(context.Background(), engine.Webinar, "81234567890", zoom.Live)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(seen) {
		t.Errorf("participants list has %d, QoS list %d", len(list), len(seen))
	}
}

func TestExpiredPageTokenRestartsTheSweepOnce(t *testing.T) {
	e := newEnv(t, envOpts{})
	pages := 0
	var seen []string
	err := e.client.ParticipantsQoS(context.Background(), engine.Webinar, "81234567890", zoom.Live, func(l *zoom.ParticipantQoSList) error {
		pages++
		if pages == 1 {
			e.srv.ExpirePageTokens() // the token of page 1 now answers code 300
		}
		for _, p := range l.Participants {
			seen = append(seen, p.UserID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("sweep with one expired token: %v", err)
	}
	if pages != 4 || len(seen) != 35 {
		t.Errorf("pages %d, participants %d; want page 1, then a full restart: 4 pages, 35", pages, len(seen))
	}

	// A token that expires on every page: restarted once, then the error.
	err = e.client.ParticipantsQoS(context.Background(), engine.Webinar, "81234567890", zoom.Live, func(*zoom.ParticipantQoSList) error {
		e.srv.ExpirePageTokens()
		return nil
	})
	var ze *zoom.Error
	if !errors.As(err, &ze) || ze.Code != zoom.CodePageTokenExpired {
		t.Errorf("tokens always expiring: err = %v, want code 300", err)
	}
}

// A server whose paging misbehaves (zoomtest's token faults) cannot keep
// a sweep going: a repeated token ends it at the repeat, tokens that always
// expire after one restart; each walk cut short is counted by reason and
// the first of each reason is logged.
func TestPagingFaultsEndTheSweep(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.srv.Inject(zoomtest.Fault{Path: "/participants/qos", Token: zoomtest.TokenRepeat})
	for range 2 {
		_, pages, err := e.qos(t, "81234567890")
		if err != nil || pages != 2 {
			t.Fatalf("repeated token: %d pages, %v; want 2 and no error", pages, err)
		}
	}
	e.srv.ClearFaults()
	e.srv.Inject(zoomtest.Fault{Path: "/participants/qos", Token: zoomtest.TokenExpired})
	before := e.srv.Stats().Calls[zoom.Heavy]
	_, pages, err := e.qos(t, "81234567890")
	if !zoom.IsPageTokenExpired(err) || pages != 2 || e.srv.Stats().Calls[zoom.Heavy]-before != 4 {
		t.Errorf("tokens always expired: %d pages, %d calls, %v; want page 1 twice (4 calls) and code 300",
			pages, e.srv.Stats().Calls[zoom.Heavy]-before, err)
	}
	stops := e.client.PagingStops()
	if stops[zoom.StopRepeatedToken] != 2 || stops[zoom.StopRestarts] != 1 || stops[zoom.StopPastCount] != 0 || stops[zoom.StopMaxPages] != 0 {
		t.Errorf("paging stops %v", stops)
	}
	warns := 0
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, "zoom paging did not end") && strings.Contains(line, `"level":"WARN"`) {
			warns++
		}
	}
	if warns != 2 {
		t.Errorf("%d warnings, want one per reason:\n%s", warns, e.logs.String())
	}
}

func TestUUIDsAreEncodedAsZoomWants(t *testing.T) {
	plain := webinar()
	plain.ID, plain.UUID = 81234567891, "Xy7+k9QaRZ2w3j1kGk5w0Q=="
	e := newEnv(t, envOpts{fake: zoomtest.Options{Scenarios: []*zoomtest.Scenario{webinar(), plain}}})
	for _, id := range []string{"/ab//cdEFgh12345678==", "Xy7+k9QaRZ2w3j1kGk5w0Q==", "81234567890"} {
		seen, _, err := e.qos(t, id)
		if err != nil || len(seen) != 25 {
			t.Errorf("QoS of %q: %d participants, %v", id, len(seen), err)
		}
		if _, err := e.client.ParticipantQoS(context.Background(), engine.Webinar, id, "16778241", zoom.Live); err != nil {
			t.Errorf("participant QoS of %q: %v", id, err)
		}
	}
	if n := e.srv.Stats().UnderEncoded; n != 0 {
		t.Errorf("fake saw %d UUIDs encoded once that needed it twice", n)
	}
	if got := zoom.EscapeID("/ab//cd=="); got != "%252Fab%252F%252Fcd==" {
		t.Errorf("EscapeID = %q", got)
	}
}

func TestErrorsSayWhatHappened(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()

	_, err := e.client.Participants(ctx, engine.Webinar, "999", zoom.Live)
	if !zoom.IsNotFound(err) || zoom.IsAuth(err) || zoom.IsRateLimited(err) || zoom.IsServerError(err) {
		t.Errorf("unknown webinar: %v; want only IsNotFound", err)
	}
	var ze *zoom.Error
	if !errors.As(err, &ze) || ze.Status != 404 || ze.Code != 3001 || ze.TrackingID == "" || ze.Endpoint != "GET /metrics/webinars/999/participants" {
		t.Errorf("unknown webinar: %+v", ze)
	}

	e.srv.Inject(zoomtest.Fault{Path: "/participants", Status: 503})
	_, err = e.client.Participants(ctx, engine.Webinar, "81234567890", zoom.Live)
	if !zoom.IsServerError(err) || zoom.IsNotFound(err) || zoom.IsRateLimited(err) || zoom.IsAuth(err) {
		t.Errorf("503 every time: %v; want only IsServerError", err)
	}
	if got := e.srv.Stats().Faults; got != 4 {
		t.Errorf("503 every time: %d attempts, want MaxAttempts (4)", got)
	}
	e.srv.ClearFaults()

	e.srv.Inject(zoomtest.Fault{Path: "/participants", Status: 502, Times: 2})
	before := e.client.Stats().Retries
	if _, err := e.client.Participants(ctx, engine.Webinar, "81234567890", zoom.Live); err != nil {
		t.Errorf("two 502s then ok: %v", err)
	}
	if got := e.client.Stats().Retries - before; got != 2 {
		t.Errorf("two 502s: %d retries, want 2", got)
	}
}

func TestSlowAnswersTimeOutAndRetry(t *testing.T) {
	// The timeout is long enough for a loaded CI machine to answer a fast
	// call under -race, and far shorter than the fault's delay.
	e := newEnv(t, envOpts{mutate: func(c *zoom.Config) { c.Timeout = 500 * time.Millisecond }})
	e.srv.Inject(zoomtest.Fault{Path: "/participants", Delay: time.Minute, Times: 1})
	if _, err := e.client.Participants(context.Background(), engine.Webinar, "81234567890", zoom.Live); err != nil {
		t.Errorf("one slow answer then ok: %v", err)
	}
	e.srv.Inject(zoomtest.Fault{Path: "/participants", Delay: time.Minute})
	_, err := e.client.Participants(context.Background(), engine.Webinar, "81234567890", zoom.Live)
	if !zoom.IsServerError(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("always slow: %v; want a timeout (IsServerError)", err)
	}
}

func TestGarbageBodyIsAnErrorNamingTheEndpoint(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.srv.Inject(zoomtest.Fault{Path: "/participants/qos", Malformed: true, Times: 1})
	_, _, err := e.qos(t, "81234567890")
	if err == nil || !strings.Contains(err.Error(), "GET /metrics/webinars/81234567890/participants/qos") || !strings.Contains(err.Error(), "decoding") {
		t.Errorf("malformed body: err = %v; want a decoding error naming the endpoint", err)
	}
	if zoom.IsServerError(err) || zoom.IsAuth(err) {
		t.Errorf("malformed body classified as server or auth error: %v", err)
	}
}

func TestQPSLimitBacksOffAndRetries(t *testing.T) {
	// The fake allows 2 Heavy calls a second; the client believes the
	// Business plan's 40. Zoom's 429 QPS must be obeyed.
	lim := zoomtest.PlanLimits(zoomtest.Business)
	lim.Heavy = 2
	e := newEnv(t, envOpts{fake: zoomtest.Options{Limits: &lim}, mutate: func(c *zoom.Config) {
		c.BackoffBase, c.BackoffMax, c.MaxAttempts = 200*time.Millisecond, time.Second, 8
	}})
	for range 4 {
		if _, _, err := e.qos(t, "81234567890"); err != nil {
			t.Fatal(err)
		}
	}
	fs, cs := e.srv.Stats(), e.client.Stats()
	if fs.Throttled[zoom.Heavy] == 0 || cs.QPS429 != int64(fs.Throttled[zoom.Heavy]) || cs.Retries < cs.QPS429 {
		t.Errorf("fake throttled %d, client saw %d 429s and retried %d times", fs.Throttled[zoom.Heavy], cs.QPS429, cs.Retries)
	}
	if fs.PeakPerWindow[zoom.Heavy] > 2 {
		t.Errorf("fake admitted %d Heavy calls in one second, limit 2", fs.PeakPerWindow[zoom.Heavy])
	}
}

func TestHeavyCallsArePacedJustUnderThePlanRate(t *testing.T) {
	for _, plan := range []struct {
		name string
		fake zoomtest.Plan
		rate int
	}{{"pro", zoomtest.Pro, 10}, {"business", zoomtest.Business, 40}} {
		t.Run(plan.name, func(t *testing.T) {
			e := newEnv(t, envOpts{fake: zoomtest.Options{Plan: plan.fake}, mutate: func(c *zoom.Config) { c.Plan = plan.name }})
			start := e.clock.Now()
			for range 3 * plan.rate {
				if _, err := e.client.ParticipantQoS(context.Background(), engine.Webinar, "81234567890", "16778241", zoom.Live); err != nil {
					t.Fatal(err)
				}
			}
			elapsed := e.clock.Now().Sub(start)
			fs := e.srv.Stats()
			if fs.Throttled[zoom.Heavy] != 0 || fs.PeakPerWindow[zoom.Heavy] > plan.rate {
				t.Errorf("429s %d, peak %d a second; want none and at most %d", fs.Throttled[zoom.Heavy], fs.PeakPerWindow[zoom.Heavy], plan.rate)
			}
			// 3*rate calls spaced at 95% of the limit: a little over 3 s
			// (3.05 s on Pro, 3.13 s on Business). Slower means the limit
			// is not used fully.
			if want := time.Duration(float64(3*plan.rate-1) / (0.95 * float64(plan.rate)) * float64(time.Second)); elapsed > want+time.Millisecond {
				t.Errorf("%d calls took %v of virtual time, want %v", 3*plan.rate, elapsed, want)
			}
		})
	}
}

func TestDailyLimitStopsHeavyCallsUntilReset(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	e.srv.SpendDaily(60000) // other apps used the account's whole day
	midnight := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	for range 5 {
		_, err := e.client.Participants(ctx, engine.Webinar, "81234567890", zoom.Live)
		var ze *zoom.Error
		if !zoom.IsDailyLimit(err) || !zoom.IsRateLimited(err) || !errors.As(err, &ze) || !ze.RetryAfter.Equal(midnight) {
			t.Fatalf("err = %v; want the daily limit until %v", err, midnight)
		}
	}
	if got := e.srv.Stats().DailyLimited; got != 1 {
		t.Errorf("fake answered %d Daily-limit 429s, want 1: the client stops calling", got)
	}
	if got := strings.Count(e.logs.String(), "daily API limit reached"); got != 1 {
		t.Errorf("the daily limit was logged %d times, want once", got)
	}
	if got := e.client.Quota().Stats(); got.DailyRemaining != 0 || got.DailyUsed != 0 || !got.PausedUntil.Equal(midnight) {
		t.Errorf("quota while paused: %+v; want nothing counted (Zoom refused the call), 0 remaining, paused until %v", got, midnight)
	}
	if cs := e.client.Stats(); cs.Daily429 != 1 {
		t.Errorf("stats: %d daily 429s", cs.Daily429)
	}

	// After 00:00 UTC (and the fake's reset) calls resume, at the full cap.
	e.clock.Set(midnight.Add(time.Second))
	e.srv.Add(&zoomtest.Scenario{Kind: zoomtest.Webinar, ID: 5, Start: midnight, Participants: []*zoomtest.Participant{{UserID: "1"}}})
	e.clock.Set(midnight.Add(2 * time.Minute))
	if _, err := e.client.Participants(ctx, engine.Webinar, "5", zoom.Live); err != nil {
		t.Fatalf("after midnight: %v", err)
	}
	if got := e.client.Quota().Stats().DailyRemaining; got != 60000-1 {
		t.Errorf("DailyRemaining after midnight and one call = %d, want 59999", got)
	}
}

// ZOOM_DAILY_LIMIT and QOSWATCH_BUDGET_SHARE make qoswatch's share: the
// client makes no call beyond it, whoever asks.
func TestTheShareOfTheDailyLimitIsEnforcedByTheClient(t *testing.T) {
	e := newEnv(t, envOpts{mutate: func(c *zoom.Config) { c.DailyLimit, c.Quota.Share = 6, 0.5 }})
	ctx := context.Background()
	for i := range 3 {
		if _, err := e.client.Participants(ctx, engine.Webinar, "81234567890", zoom.Live); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got := e.client.Quota().Stats(); got.Left != int64(2-i) || got.DailyRemaining != int64(5-i) {
			t.Errorf("after %d calls: %+v", i+1, got)
		}
	}
	_, err := e.client.Participants(ctx, engine.Webinar, "81234567890", zoom.Live)
	if !zoom.IsDailyLimit(err) {
		t.Errorf("4th call with a share of 3: %v, want the daily limit", err)
	}
	if got := e.srv.Stats().Calls[zoom.Heavy]; got != 3 {
		t.Errorf("fake saw %d Heavy calls, want 3", got)
	}
	e.client.Participants(ctx, engine.Webinar, "81234567890", zoom.Live)
	if got := strings.Count(e.logs.String(), "share of Zoom's daily cap is spent"); got != 1 {
		t.Errorf("the spent share was logged %d times for 2 refused calls, want once", got)
	}
	if err := e.client.Quota().Health(); err == nil || !strings.Contains(err.Error(), "(3 of 6 calls) is spent; paused until 00:00 UTC") {
		t.Errorf("health: %v", err)
	}
}

func TestListSources(t *testing.T) {
	meeting := &zoomtest.Scenario{Kind: zoomtest.Meeting, ID: 42, Start: t0, Participants: []*zoomtest.Participant{{UserID: "1"}}}
	e := newEnv(t, envOpts{fake: zoomtest.Options{Scenarios: []*zoomtest.Scenario{webinar(), meeting}}})
	ws, err := e.client.ListSources(context.Background(), engine.Webinar, zoom.Live, e.clock.Now(), e.clock.Now())
	if err != nil || len(ws) != 1 || ws[0].ID != 81234567890 || ws[0].UUID != "/ab//cdEFgh12345678==" {
		t.Fatalf("live webinars = %+v, %v", ws, err)
	}
	src := zoom.SourceOf(engine.Webinar, true, &ws[0])
	if src.Key() != "webinar:81234567890" || src.Topic != "All hands" {
		t.Errorf("source = %+v", src)
	}
	ms, err := e.client.ListSources(context.Background(), engine.Meeting, zoom.Live, e.clock.Now(), e.clock.Now())
	if err != nil || len(ms) != 1 || ms[0].ID != 42 {
		t.Errorf("live meetings = %+v, %v", ms, err)
	}
	if got := e.srv.Stats().Calls[zoom.ResourceIntensive]; got != 2 {
		t.Errorf("fake counted %d Resource-intensive calls, want 2", got)
	}
}

// The whole path a poller takes: a page of the fake's QoS list to samples.
func TestFakePagesBecomeSamples(t *testing.T) {
	e := newEnv(t, envOpts{})
	src := engine.Source{Kind: engine.Webinar, ID: "81234567890", Live: true}
	before := zoom.ParseStats()
	var samples []engine.Sample
	err := e.client.ParticipantsQoS(context.Background(), engine.Webinar, src.ID, zoom.Live, func(l *zoom.ParticipantQoSList) error {
		for i := range l.Participants {
			samples = zoom.AppendSamples(samples, src, &l.Participants[i])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := zoom.ParseStats(); s.Unparseable != before.Unparseable || s.Impossible != before.Impossible {
		t.Errorf("%d unparseable and %d impossible values in the fake's answers", s.Unparseable-before.Unparseable, s.Impossible-before.Impossible)
	}
	if len(samples) == 0 {
		t.Fatal("no samples")
	}
	for _, s := range samples {
		if s.Participant.UserID == "16778243" { // audio-only
			if !isNaN(s.VideoInput.Bitrate) || isNaN(s.AudioInput.Bitrate) {
				t.Errorf("audio-only attendee: video %v, audio %v", s.VideoInput.Bitrate, s.AudioInput.Bitrate)
			}
		}
		if s.Time.IsZero() || isNaN(s.Latency) {
			t.Errorf("sample without time or latency: %+v", s)
			break
		}
	}
}

func isNaN(f float64) bool { return f != f }

// tokenRecorder remembers every access token the client sent.
type tokenRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]bool
}

func (r *tokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok && tok != "" {
		r.mu.Lock()
		if r.seen == nil {
			r.seen = map[string]bool{}
		}
		r.seen[tok] = true
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func (r *tokenRecorder) tokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for t := range r.seen {
		out = append(out, t)
	}
	return out
}

// QoSPage, page by page with the fast decoder, sees what ParticipantsQoS
// and AppendSamples see.
func TestQoSPageMatchesTheSweep(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	src := engine.Source{Kind: engine.Webinar, ID: "81234567890", Live: true}
	var want []engine.Sample
	err := e.client.ParticipantsQoS(ctx, engine.Webinar, src.ID, zoom.Live, func(l *zoom.ParticipantQoSList) error {
		for i := range l.Participants {
			want = zoom.AppendSamples(want, src, &l.Participants[i])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var d zoom.PageDecoder
	var got []engine.Sample
	var pg zoom.Pager
	pages := 0
	for !pg.Done() {
		samples, err := e.client.QoSPage(ctx, &d, src, zoom.Live, &pg)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, samples...)
	}
	if pages != 3 || len(got) != len(want) || len(got) == 0 {
		t.Fatalf("QoSPage: %d pages, %d samples; the sweep %d samples", pages, len(got), len(want))
	}
	for i := range got {
		// %+v prints every field, NaN as NaN.
		if g, w := fmt.Sprintf("%+v", got[i]), fmt.Sprintf("%+v", want[i]); g != w {
			t.Fatalf("sample %d differs:\n got %s\nwant %s", i, g, w)
		}
	}
}

// A webinar that ended: live calls say "not found", past calls answer.
func TestEndedWebinarIsNotFoundLiveAndAnswersPast(t *testing.T) {
	sc := webinar()
	e := newEnv(t, envOpts{fake: zoomtest.Options{Scenarios: []*zoomtest.Scenario{sc}}})
	ctx := context.Background()
	e.srv.EndAt(sc, t0.Add(20*time.Minute))
	_, _, err := e.qos(t, "81234567890")
	if !zoom.IsNotFound(err) {
		t.Errorf("live QoS of an ended webinar: %v, want not found", err)
	}
	var pages, minutes int
	err = e.client.ParticipantsQoS(ctx, engine.Webinar, "81234567890", zoom.Past, func(l *zoom.ParticipantQoSList) error {
		pages++
		for _, p := range l.Participants {
			minutes += len(p.UserQoS)
		}
		return nil
	})
	if err != nil || pages == 0 || minutes <= 20 {
		t.Errorf("past QoS: %d pages, %d minutes, %v; want the whole session", pages, minutes, err)
	}
	guest, err := e.client.ParticipantQoS(ctx, engine.Webinar, "81234567890", "16778242", zoom.Past)
	if err != nil || guest.ID != "" || len(guest.UserQoS) == 0 {
		t.Errorf("a guest's past QoS by user_id: %+v, %v", guest, err)
	}
}

// End to end: a generated webinar with Zoom's other spellings of values
// ("27.15kbps", "1.2 Mbps", "0ms", "-"), read past: every value parses, the
// poller's QoSPage gives the samples the sweep gives, and the numbers say
// what the fake's ground truth says.
func TestGeneratedWebinarParsesAndMatchesTruth(t *testing.T) {
	start := t0.Add(-3 * time.Hour)
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 30, Degraded: 0.3, AudioOnly: 0.2, Guests: 0.2, Churn: 0.2,
		Kinds: []zoomtest.Impairment{zoomtest.AudioLoss, zoomtest.HighLatency}, Start: start, Duration: 40 * time.Minute, Quirks: true, Seed: 11})
	e := newEnv(t, envOpts{fake: zoomtest.Options{Scenarios: []*zoomtest.Scenario{sc}}})
	ctx := context.Background()
	src := engine.Source{Kind: engine.Webinar, ID: fmt.Sprint(sc.ID)}

	before := zoom.ParseStats()
	var slow []engine.Sample
	err := e.client.ParticipantsQoS(ctx, engine.Webinar, src.ID, zoom.Past, func(l *zoom.ParticipantQoSList) error {
		for i := range l.Participants {
			slow = zoom.AppendSamples(slow, src, &l.Participants[i])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var d zoom.PageDecoder
	var fast []engine.Sample
	for pg := (zoom.Pager{}); !pg.Done(); {
		s, err := e.client.QoSPage(ctx, &d, src, zoom.Past, &pg)
		if err != nil {
			t.Fatal(err)
		}
		fast = append(fast, s...)
	}
	if s := zoom.ParseStats(); s.Unparseable != before.Unparseable || s.Impossible != before.Impossible {
		t.Errorf("%d unparseable and %d impossible values in the fake's answers", s.Unparseable-before.Unparseable, s.Impossible-before.Impossible)
	}
	if len(fast) != len(slow) || len(fast) < 30*20 {
		t.Fatalf("fast %d samples, slow %d; want the same, over 600", len(fast), len(slow))
	}
	for i := range fast {
		if f, s := fmt.Sprintf("%+v", fast[i]), fmt.Sprintf("%+v", slow[i]); f != s {
			t.Fatalf("sample %d:\nfast %s\nslow %s", i, f, s)
		}
	}

	truth := e.srv.Truth()
	if len(truth) == 0 {
		t.Fatal("no degraded participants in the scenario")
	}
	for _, tr := range truth {
		bad, good := 0, 0
		for _, s := range fast {
			if s.Participant.UserID != tr.UserID {
				continue
			}
			in := !s.Time.Before(tr.From) && s.Time.Before(tr.To)
			var hit bool
			switch tr.What {
			case zoomtest.AudioLoss:
				hit = s.AudioInput.AvgLoss > 2
			case zoomtest.HighLatency:
				hit = s.Latency > 250
			}
			switch {
			case in && !hit:
				bad++
			case !in && hit:
				good++
			}
		}
		if bad > 0 || good > 0 {
			t.Errorf("%s %s from %v to %v: %d bad minutes without the sign, %d healthy minutes with it",
				tr.UserID, tr.What, tr.From.Format("15:04"), tr.To.Format("15:04"), bad, good)
		}
	}
}
