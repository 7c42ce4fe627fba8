package zoom_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

const testSecret = "webhook-secret-token-for-tests"

// The example events' times (Zoom's reference examples, testdata/events):
// QSS minute 21:44:51Z on 13 July 2021.
var exampleMinute = time.Date(2021, 7, 13, 21, 44, 51, 0, time.UTC)

// pushRig is the real path: a signed request to the webhook handler, the
// inbox in a real bbolt file, the real engine with rules from YAML.
type pushRig struct {
	t      *testing.T
	clock  *fakeclock.Manual
	db     *store.DB
	eng    *engine.Engine
	events *zoom.Events
	reg    *prometheus.Registry
	poller *fakePoller
	srv    *httptest.Server
	ctx    context.Context
}

// fakePoller records what events ask of the poller.
type fakePoller struct {
	mu      sync.Mutex
	focused []engine.Source
	gaps    int
}

func (p *fakePoller) Focus(src engine.Source) {
	p.mu.Lock()
	p.focused = append(p.focused, src)
	p.mu.Unlock()
}
func (p *fakePoller) FillGap() { p.mu.Lock(); p.gaps++; p.mu.Unlock() }
func (p *fakePoller) counts() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.focused), p.gaps
}

// resolverFunc is a SourceResolver from a function.
type resolverFunc func(ctx context.Context, kind engine.SourceKind, uuid string) (engine.Source, error)

func (f resolverFunc) SourceByUUID(ctx context.Context, kind engine.SourceKind, uuid string) (engine.Source, error) {
	return f(ctx, kind, uuid)
}

const lossyRule = "rules:\n  - name: lossy\n    when: audio_input.avg_loss > 2\n    for: 0s\n    keep_firing_for: 0s\n"

func newPushRig(t *testing.T, mod func(*zoom.EventsConfig)) *pushRig {
	t.Helper()
	r := &pushRig{t: t, clock: fakeclock.NewManual(exampleMinute.Add(3 * time.Minute)), reg: prometheus.NewRegistry(),
		poller: &fakePoller{}, ctx: context.Background()}
	path := filepath.Join(t.TempDir(), "q.db")
	r.open(path, mod)
	return r
}

func (r *pushRig) open(path string, mod func(*zoom.EventsConfig)) {
	t := r.t
	db, err := store.Open(path, store.Options{Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	set, err := rules.Parse("r.yaml", []byte(lossyRule))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(db, engine.Options{Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetRules(r.ctx, set.Rules()); err != nil {
		t.Fatal(err)
	}
	cfg := zoom.EventsConfig{Queue: db, Sink: eng, Poller: r.poller, Clock: r.clock, Registerer: r.reg}
	if mod != nil {
		mod(&cfg)
	}
	ev, err := zoom.NewEvents(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.srv != nil {
		r.srv.Close()
	}
	r.db, r.eng, r.events = db, eng, ev
	r.srv = httptest.NewServer(ev.Webhook(testSecret))
	t.Cleanup(r.srv.Close)
}

// example returns a documented example event's body.
func example(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// qssBody is a webinar.participant_qos event for the example's webinar
// and participant with the given audio loss at a minute.
func qssBody(user string, at time.Time, loss float64) []byte {
	return qssBodyTS(at.Add(10*time.Second).UnixMilli(), user, at, loss)
}

// qssBodyTS is qssBody with the event's event_ts (ms).
func qssBodyTS(eventTS int64, user string, at time.Time, loss float64) []byte {
	return fmt.Appendf(nil, `{"event":"webinar.participant_qos","event_ts":%d,"payload":{"account_id":"AAAAAABBBB","object":{"uuid":"4444AAAiAAAAAiAiAiiAii==","participant":{"user_id":%q,"email":"user@example.com","qos":[{"date_time":%q,"type":"audio_input","details":{"bitrate":"63 kbps","latency":"134 ms","jitter":"6 ms","avg_loss":"%.1f%%","max_loss":"9.0%%"}}]}}}}`,
		eventTS, user, at.Format(time.RFC3339), loss)
}

// post sends body signed now (on the rig's clock) as Zoom does.
func (r *pushRig) post(body []byte) *http.Response {
	ts := strconv.FormatInt(r.clock.Now().Unix(), 10)
	return r.postWith(body, map[string]string{"x-zm-request-timestamp": ts, "x-zm-signature": sign(testSecret, ts, body)})
}

func (r *pushRig) postWith(body []byte, headers map[string]string) *http.Response {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.srv.URL+zoom.WebhookPath, bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// sign computes x-zm-signature independently of the code under test.
func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func (r *pushRig) mustPost(body []byte) {
	r.t.Helper()
	if resp := r.post(body); resp.StatusCode != http.StatusOK {
		r.t.Fatalf("POST: %s", resp.Status)
	}
}

func (r *pushRig) apply() {
	r.t.Helper()
	if err := r.events.Apply(r.ctx); err != nil {
		r.t.Fatal(err)
	}
}

func (r *pushRig) stored() int {
	r.t.Helper()
	n, err := r.db.InboxDepth(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

func (r *pushRig) counter(name string, labels ...string) float64 {
	r.t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return total
}

func (r *pushRig) notifications() []engine.Notification {
	r.t.Helper()
	n, err := r.db.Pending(r.ctx, 100)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

func (r *pushRig) alert(participant string) (engine.Alert, bool) {
	for _, a := range r.eng.Alerts() {
		if a.Key.Participant == participant {
			return a, true
		}
	}
	return engine.Alert{}, false
}

// TestWebhookEventsReachTheEngine: started, joined and a bad QSS minute
// fire an alert that carries the name from the join; the leave resolves
// it at once (no stale_after wait) and ended resolves the rest.
func TestWebhookEventsReachTheEngine(t *testing.T) {
	r := newPushRig(t, nil)
	r.mustPost(example(t, "webinar.started"))
	joined := bytes.ReplaceAll(example(t, "webinar.participant_joined"), []byte("55555AAAiAAAAAiAiAiiAii\""), []byte("1234567890\""))
	r.mustPost(joined)
	r.mustPost(qssBody("1234567890", exampleMinute, 3.5))
	r.mustPost(qssBody("2222", exampleMinute, 4.5))
	if r.stored() != 4 {
		t.Fatalf("%d events stored, want 4 (answered 200 only once stored)", r.stored())
	}
	r.apply()
	if r.stored() != 0 {
		t.Errorf("%d events left after applying", r.stored())
	}
	a, ok := r.alert("1234567890")
	if !ok || a.State != engine.StateFiring {
		t.Fatalf("alert of 1234567890: %+v %v", a, ok)
	}
	if a.Participant.UserName != "Jill Chill" || a.Source.Topic != "My Webinar" || a.Source.ID != "1234567890" {
		t.Errorf("alert context: participant %+v source %+v: want the join's name and the start's topic", a.Participant, a.Source)
	}
	if n := r.notifications(); len(n) != 2 || n[0].Kind != engine.KindFiring {
		t.Fatalf("notifications: %+v", n)
	}

	left := bytes.ReplaceAll(example(t, "webinar.participant_left"), []byte("55555AAAiAAAAAiAiAiiAii\""), []byte("1234567890\""))
	left = bytes.ReplaceAll(left, []byte("2021-07-13T22:50:51Z"), []byte("2021-07-13T21:46:00Z"))
	r.mustPost(left)
	r.apply()
	if a, _ := r.alert("1234567890"); a.State != engine.StateResolved || a.Reason != engine.ReasonLeft {
		t.Errorf("after the leave: %v %v, want resolved (left)", a.State, a.Reason)
	}
	r.mustPost(example(t, "webinar.ended"))
	r.apply()
	if a, _ := r.alert("2222"); a.State != engine.StateResolved || a.Reason != engine.ReasonEnded {
		t.Errorf("after the end: %v %v, want resolved (ended)", a.State, a.Reason)
	}
	if got := r.counter("qoswatch_zoom_events_received_total", "transport", "webhook"); got != 6 {
		t.Errorf("received counter %v, want 6", got)
	}
}

// TestWebhookRetryIsAppliedOnce: Zoom retries with the same body under a
// new timestamp and signature; the retry is answered 200, stored once.
func TestWebhookRetryIsAppliedOnce(t *testing.T) {
	r := newPushRig(t, nil)
	r.mustPost(example(t, "webinar.started"))
	body := qssBody("u1", exampleMinute, 3.5)
	r.mustPost(body)
	r.clock.Advance(5 * time.Minute) // Zoom's first retry
	r.mustPost(body)
	r.clock.Advance(80 * time.Minute) // its last
	r.mustPost(body)
	if got := r.stored(); got != 2 {
		t.Errorf("%d stored, want 2 (the start and one QSS)", got)
	}
	if got := r.counter("qoswatch_zoom_events_duplicate_total"); got != 2 {
		t.Errorf("duplicates counted %v, want 2", got)
	}
	r.apply()
	if n := r.notifications(); len(n) != 1 {
		t.Errorf("%d notifications, want 1", len(n))
	}
	// After the dedup retention the same body is new again: the engine's
	// cursor still skips its sample.
	r.clock.Advance(store.DedupRetention + time.Hour)
	r.mustPost(body)
	r.apply()
	if s := r.eng.Stats(); s.SamplesSkipped != 1 || len(r.notifications()) != 1 {
		t.Errorf("the old sample again: skipped %d, notifications %d", s.SamplesSkipped, len(r.notifications()))
	}
}

// TestSameQSSMinuteTwice: two deliveries of the same minute that differ
// (not a retry): both stored, the second sample is a duplicate to the
// engine's cursor: one alert, one message.
func TestSameQSSMinuteTwice(t *testing.T) {
	r := newPushRig(t, nil)
	r.mustPost(example(t, "webinar.started"))
	r.mustPost(qssBody("u1", exampleMinute, 3.5))
	r.apply()
	r.mustPost(qssBody("u1", exampleMinute, 7.5))
	r.apply()
	if s := r.eng.Stats(); s.SamplesIngested != 1 || s.SamplesSkipped != 1 {
		t.Errorf("ingested %d skipped %d, want 1 and 1", s.SamplesIngested, s.SamplesSkipped)
	}
	if n := r.notifications(); len(n) != 1 {
		t.Errorf("%d notifications, want 1", len(n))
	}
}

// TestQSSForAnUnknownSource: QSS for a uuid no event announced is looked
// up once; what Zoom cannot name is counted and dropped, not retried for
// every participant; what it names is applied.
func TestQSSForAnUnknownSource(t *testing.T) {
	calls := 0
	r := newPushRig(t, func(c *zoom.EventsConfig) {
		c.Resolver = resolverFunc(func(_ context.Context, kind engine.SourceKind, uuid string) (engine.Source, error) {
			calls++
			if uuid == "known-uuid" {
				return engine.Source{Kind: kind, ID: "98765", Topic: "Found by uuid"}, nil
			}
			return engine.Source{}, errors.New("zoom: 404 code 3001: Webinar does not exist")
		})
	})
	r.mustPost(qssBody("u1", exampleMinute, 3.5))
	r.mustPost(qssBody("u2", exampleMinute, 3.5))
	r.apply()
	if r.stored() != 0 || len(r.eng.Alerts()) != 0 {
		t.Errorf("unknown source: %d stored, %d alerts", r.stored(), len(r.eng.Alerts()))
	}
	if got := r.counter("qoswatch_zoom_events_unknown_source_total"); got != 2 || calls != 1 {
		t.Errorf("unknown counted %v, resolver called %d times: want 2 and 1", got, calls)
	}
	known := bytes.ReplaceAll(qssBody("u3", exampleMinute, 3.5), []byte("4444AAAiAAAAAiAiAiiAii=="), []byte("known-uuid"))
	r.mustPost(known)
	r.apply()
	if a, ok := r.alert("u3"); !ok || a.Source.Key() != "webinar:98765" || a.Source.Topic != "Found by uuid" {
		t.Errorf("alert of a resolved source: %+v", a.Source)
	}
}

// TestWebhookRefusesBadRequests: every refusal has its status and its
// counter, and stores nothing.
func TestWebhookRefusesBadRequests(t *testing.T) {
	r := newPushRig(t, nil)
	body := qssBody("u1", exampleMinute, 3.5)
	now := strconv.FormatInt(r.clock.Now().Unix(), 10)
	old := strconv.FormatInt(r.clock.Now().Add(-6*time.Minute).Unix(), 10)
	future := strconv.FormatInt(r.clock.Now().Add(6*time.Minute).Unix(), 10)
	big := append([]byte(`{"event":"webinar.started","pad":"`), bytes.Repeat([]byte("x"), zoom.WebhookMaxBody)...)
	big = append(big, `"}`...)
	signed := func(b []byte, ts string) map[string]string {
		return map[string]string{"x-zm-request-timestamp": ts, "x-zm-signature": sign(testSecret, ts, b)}
	}
	cases := []struct {
		name    string
		method  string
		body    []byte
		headers map[string]string
		status  int
		reason  string
	}{
		{"forged signature", "", body, map[string]string{"x-zm-request-timestamp": now, "x-zm-signature": "v0=" + strings.Repeat("ab", 32)}, 401, "bad_signature"},
		{"another app's secret", "", body, map[string]string{"x-zm-request-timestamp": now, "x-zm-signature": sign("other-secret", now, body)}, 401, "bad_signature"},
		{"body changed after signing", "", append(bytes.Clone(body), ' '), signed(body, now), 401, "bad_signature"},
		{"replay, 6 minutes old", "", body, signed(body, old), 401, "stale_timestamp"},
		{"from the future", "", body, signed(body, future), 401, "stale_timestamp"},
		{"timestamp not a number", "", body, signed(body, "yesterday"), 401, "bad_timestamp"},
		{"no signature", "", body, map[string]string{"x-zm-request-timestamp": now}, 401, "missing_header"},
		{"no timestamp", "", body, map[string]string{"x-zm-signature": sign(testSecret, now, body)}, 401, "missing_header"},
		{"oversized body", "", big, signed(big, now), 413, "too_large"},
		{"garbage JSON", "", []byte(`{"event":"webinar.partic`), signed([]byte(`{"event":"webinar.partic`), now), 400, "not_an_event"},
		{"JSON that is no event", "", []byte(`{"hello":"world"}`), signed([]byte(`{"hello":"world"}`), now), 400, "not_an_event"},
		{"GET", http.MethodGet, nil, nil, 405, "method"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := r.counter("qoswatch_zoom_events_rejected_total", "reason", c.reason)
			var resp *http.Response
			if c.method == http.MethodGet {
				var err error
				resp, err = http.Get(r.srv.URL + zoom.WebhookPath)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			} else {
				resp = r.postWith(c.body, c.headers)
			}
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d", resp.StatusCode, c.status)
			}
			if got := r.counter("qoswatch_zoom_events_rejected_total", "reason", c.reason) - before; got != 1 {
				t.Errorf("rejected{reason=%s} rose by %v, want 1", c.reason, got)
			}
			if r.stored() != 0 {
				t.Errorf("%d events stored", r.stored())
			}
		})
	}
	r.apply()
	if len(r.eng.Alerts()) != 0 {
		t.Errorf("alerts after refused requests: %d", len(r.eng.Alerts()))
	}
}

// TestWebhookURLValidation answers Zoom's challenge with the hex
// HMAC-SHA256 of plainToken, and stores nothing.
func TestWebhookURLValidation(t *testing.T) {
	r := newPushRig(t, nil)
	resp := r.post(example(t, "endpoint.url_validation"))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("validation: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	var got map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte("qgg8vlvZRS6UYooatFL8Aw"))
	if got["plainToken"] != "qgg8vlvZRS6UYooatFL8Aw" || got["encryptedToken"] != hex.EncodeToString(m.Sum(nil)) {
		t.Errorf("answer %v", got)
	}
	if r.stored() != 0 {
		t.Errorf("validation stored %d events", r.stored())
	}
}

// TestWebhookUnusedTypeIsAnswered: a type qoswatch does not use is
// answered 200 (or Zoom would retry it) and counted, not stored.
func TestWebhookUnusedTypeIsAnswered(t *testing.T) {
	r := newPushRig(t, nil)
	resp := r.post([]byte(`{"event":"recording.completed","event_ts":1626230691572,"payload":{"object":{"id":1}}}`))
	if resp.StatusCode != http.StatusOK || r.stored() != 0 || r.counter("qoswatch_zoom_events_unused_total") != 1 {
		t.Errorf("unused type: %s, %d stored, counter %v", resp.Status, r.stored(), r.counter("qoswatch_zoom_events_unused_total"))
	}
}

// TestWebhookStoreFailureIs503: when the event cannot be put on disk the
// answer is a 5xx, which Zoom retries (it does not retry 4xx).
func TestWebhookStoreFailureIs503(t *testing.T) {
	r := newPushRig(t, nil)
	r.db.Close()
	resp := r.post(example(t, "webinar.started"))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %s, want 503", resp.Status)
	}
	if got := r.counter("qoswatch_zoom_events_rejected_total", "reason", "store_error"); got != 1 {
		t.Errorf("store_error counted %v", got)
	}
}

// TestStoredEventsSurviveARestart: what was answered 200 is applied after
// a crash before the engine saw it.
func TestStoredEventsSurviveARestart(t *testing.T) {
	r := newPushRig(t, nil)
	path := r.db.Path()
	r.mustPost(example(t, "webinar.started"))
	r.mustPost(qssBody("u1", exampleMinute, 3.5))
	r.db.Close() // killed before applying
	r.reg = prometheus.NewRegistry()
	r.open(path, nil)
	r.apply()
	if a, ok := r.alert("u1"); !ok || a.State != engine.StateFiring || a.Source.Topic != "My Webinar" {
		t.Errorf("after a restart: %+v %v", a, ok)
	}
}

// TestAlertEventFocusesThePoller: Zoom's issue flag asks the poller for a
// focused poll of that source, and its issues are kept for the samples
// around it.
func TestAlertEventFocusesThePoller(t *testing.T) {
	r := newPushRig(t, nil)
	r.mustPost(example(t, "webinar.alert"))
	r.apply()
	if f, _ := r.poller.counts(); f != 1 || r.poller.focused[0].Key() != "webinar:1234567890" {
		t.Fatalf("focused %v", r.poller.focused)
	}
	at := time.UnixMilli(1626230691572)
	if got := r.events.Issues("webinar:1234567890", at.Add(2*time.Minute)); len(got) != 1 || got[0] != "Unstable audio quality" {
		t.Errorf("issues near the alert: %v", got)
	}
	if got := r.events.Issues("webinar:1234567890", at.Add(time.Hour)); len(got) != 0 {
		t.Errorf("issues an hour later: %v", got)
	}
}

// TestRunAppliesWhatIsAccepted runs the applier as the daemon does.
func TestRunAppliesWhatIsAccepted(t *testing.T) {
	r := newPushRig(t, func(c *zoom.EventsConfig) { c.Clock = engine.SystemClock{} })
	r.clock.Set(time.Now()) // requests are signed on the rig's clock
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.events.Run(ctx) }()
	defer func() { cancel(); <-done }()
	r.mustPost(example(t, "webinar.started"))
	r.mustPost(qssBody("u1", time.Now().UTC().Truncate(time.Minute), 3.5))
	deadline := time.Now().Add(10 * time.Second)
	for len(r.notifications()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no notification 10s after the webhook was answered")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLiveWithoutAStartedEvent: qoswatch started after the webinar did; a
// join or QSS says it is live (and QSS-fed); an event older than its end
// does not bring it back.
func TestLiveWithoutAStartedEvent(t *testing.T) {
	r := newPushRig(t, nil)
	r.mustPost(example(t, "webinar.participant_joined"))
	r.apply()
	if live, flowing := r.events.Lifecycle(); len(live) != 1 || live[0].Key() != "webinar:1234567890" || flowing {
		t.Errorf("after a join: live %v, lifecycle flowing %v: want the webinar live, no started/ended seen", live, flowing)
	}
	r.mustPost(qssBody("u1", exampleMinute, 0.5))
	r.apply()
	if !r.events.QSSFed("webinar:1234567890") {
		t.Error("QSS arrived: the source is QSS-fed")
	}
	r.mustPost(example(t, "webinar.ended"))
	r.apply()
	if live, flowing := r.events.Lifecycle(); len(live) != 0 || !flowing || r.events.QSSFed("webinar:1234567890") {
		t.Errorf("after the end: live %v, flowing %v", live, flowing)
	}
	r.mustPost(example(t, "webinar.alert")) // event_ts no later than the end: a straggler
	r.apply()
	if live, _ := r.events.Lifecycle(); len(live) != 0 {
		t.Errorf("a straggler revived the webinar: %v", live)
	}
	if got := r.events.Sources(); len(got) != 1 || got[0].Live || got[0].QSS {
		t.Errorf("Sources() = %+v", got)
	}
}

// TestQSSExpectedForANewSource: on an account whose QSS flows, a webinar
// that just started counts as QSS-fed for QSSFresh (its first minute is
// on its way: no polling for it); without QSS by then, polling takes it.
func TestQSSExpectedForANewSource(t *testing.T) {
	r := newPushRig(t, nil)
	r.mustPost(example(t, "webinar.started"))
	r.mustPost(qssBody("u1", exampleMinute, 0.5))
	other := bytes.ReplaceAll(example(t, "meeting.started"), []byte("1234567890"), []byte("5550001"))
	other = bytes.ReplaceAll(other, []byte("4444AAAiAAAAAiAiAiiAii=="), []byte("other-uuid"))
	r.mustPost(other)
	r.apply()
	if !r.events.QSSFed("meeting:5550001") {
		t.Error("a meeting that just started on an account with QSS is not taken as QSS-fed")
	}
	r.clock.Advance(zoom.QSSFresh)
	if r.events.QSSFed("meeting:5550001") {
		t.Error("still QSS-fed after QSSFresh without a QSS event")
	}
}

// TestPushMemorySurvivesARestart: after a restart, qoswatch still knows
// the account's QSS and started/ended events flow (the store remembers
// when they last came), so a webinar that starts before the first QSS
// minute after the restart is not swept, and no listing is needed to
// learn what is live.
func TestPushMemorySurvivesARestart(t *testing.T) {
	withMemory := func(c *zoom.EventsConfig) { c.Memory = c.Queue.(*store.DB) }
	r := newPushRig(t, withMemory)
	path := r.db.Path()
	r.mustPost(example(t, "webinar.started"))
	r.mustPost(qssBody("u1", exampleMinute, 0.5))
	r.apply()
	r.db.Close()

	r.clock.Advance(6 * time.Hour) // restarted the same day, no event since
	r.reg = prometheus.NewRegistry()
	r.open(path, withMemory)
	if _, flowing := r.events.Lifecycle(); !flowing {
		t.Error("after a restart, started/ended events are not known to flow")
	}
	other := bytes.ReplaceAll(example(t, "meeting.started"), []byte("1234567890"), []byte("5550001"))
	other = bytes.ReplaceAll(other, []byte("4444AAAiAAAAAiAiAiiAii=="), []byte("other-uuid"))
	r.mustPost(other)
	r.apply()
	if !r.events.QSSFed("meeting:5550001") {
		t.Error("after a restart, a meeting that just started on an account with QSS is not taken as QSS-fed")
	}

	// Without the memory, the same restart learns it anew: the meeting
	// would be swept until its first QSS minute.
	r.db.Close()
	r.reg = prometheus.NewRegistry()
	r.open(path, nil)
	r.mustPost(bytes.ReplaceAll(other, []byte("5550001"), []byte("5550002")))
	r.apply()
	if r.events.QSSFed("meeting:5550002") {
		t.Error("QSS-fed without a memory and without a QSS event since the start")
	}
}

// TestJoinedNamesSurviveARestart: QSS events carry ids, not names; the
// names come from the joins. After a restart in the middle of a webinar
// (the fake Zoom's, its events signed through the webhook into a real
// file), QSS-fed alerts still name the participant; a leave is not
// undone by a restart, and an end forgets the webinar's roster.
func TestJoinedNamesSurviveARestart(t *testing.T) {
	var r *pushRig
	fake := zoomtest.New(t, zoomtest.Options{Now: func() time.Time { return r.clock.Now() }})
	client, err := zoom.NewClient(zoom.Config{APIURL: fake.APIURL(), OAuthURL: fake.TokenURL(),
		AccountID: fake.AccountID, ClientID: fake.ClientID, ClientSecret: fake.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	// After a restart a QSS event's uuid is unknown until Zoom names it.
	withZoom := func(c *zoom.EventsConfig) { c.Resolver = client }
	r = newPushRig(t, withZoom)
	path := r.db.Path()
	restart := func() {
		r.db.Close()
		r.reg = prometheus.NewRegistry()
		r.open(path, withZoom)
	}
	start := r.clock.Now().Truncate(time.Minute).Add(time.Minute)
	lossy := []zoomtest.Degradation{{Kind: zoomtest.AudioLoss, From: 0, To: time.Hour}}
	sc := &zoomtest.Scenario{Kind: zoomtest.Webinar, ID: 81234567890, Topic: "All hands", Start: start, Participants: []*zoomtest.Participant{
		{UserID: "16778240", UserName: "Jill Chill", Email: "jill@example.com", Degradations: lossy},
		{UserID: "16779264", UserName: "Bob Gone", Email: "bob@example.com", Leave: 2 * time.Minute, Degradations: lossy},
	}}
	fake.Add(sc)
	// send delivers what Zoom sends in [from, to), each event when Zoom
	// sends it, and applies it.
	send := func(from, to time.Time) {
		t.Helper()
		for _, e := range fake.PushEvents(from, to, zoomtest.PushOptions{QSS: true, NoAlerts: true}) {
			r.clock.Set(e.At)
			r.mustPost(e.Body)
		}
		r.apply()
	}
	roster := func() []string {
		t.Helper()
		got, err := r.db.Roster(r.ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range got {
			names = append(names, e.Participant.UserName)
		}
		return names
	}

	send(start, start.Add(30*time.Second)) // started, both joins
	restart()
	send(start.Add(30*time.Second), start.Add(2*time.Minute+30*time.Second)) // QSS minutes 0 and 1; Bob leaves at 2:00
	for user, name := range map[string]string{"16778240": "Jill Chill", "16779264": "Bob Gone"} {
		a, ok := r.alert(user)
		if !ok || a.Participant.UserName != name || a.Participant.Email == "" {
			t.Errorf("after a restart, the alert of %s: %+v %v: want it named %q from the join", user, a.Participant, ok, name)
		}
	}
	if a, _ := r.alert("16779264"); a.State != engine.StateResolved || a.Reason != engine.ReasonLeft {
		t.Errorf("Bob's alert after his leave: %v %v", a.State, a.Reason)
	}
	var firing []string
	for _, n := range r.notifications() {
		if n.Kind == engine.KindFiring {
			firing = append(firing, n.Participant.UserName)
		}
	}
	if slices.Sort(firing); !slices.Equal(firing, []string{"Bob Gone", "Jill Chill"}) {
		t.Errorf("firing messages name %q, want both participants", firing)
	}

	restart()
	if got := roster(); !slices.Equal(got, []string{"Jill Chill"}) {
		t.Errorf("roster after Bob's leave and a restart: %q, want only Jill", got)
	}
	fake.EndAt(sc, start.Add(4*time.Minute))
	send(start.Add(2*time.Minute+30*time.Second), start.Add(5*time.Minute))
	restart()
	if got := roster(); len(got) != 0 {
		t.Errorf("roster after the webinar ended and a restart: %q, want none", got)
	}
}
