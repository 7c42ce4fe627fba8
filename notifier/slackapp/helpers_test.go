package slackapp_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/internal/fakeslack"
	"github.com/qoswatch/qoswatch/internal/promtest"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/store"
)

// newClock is the injected clock: every wait advances it at once, so a
// 10-minute outage takes no wall time.
func newClock() *fakeclock.Stepping {
	return fakeclock.NewStepping(time.Date(2026, 3, 12, 14, 0, 0, 0, time.UTC))
}

// metric reads a metric as /metrics shows it.
func metric(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	return promtest.Value(t, reg, name, labels...)
}

// call is one request the fake Slack accepted.
type call = fakeslack.Call

// fault is how the fake Slack answers a request instead of ok.
type fault struct {
	status     int    // HTTP status; 200 with slackErr for ok:false
	retryAfter string // Retry-After header
	slackErr   string // {"ok":false,"error":...}
	hangup     bool   // close the connection: a network error
	late       bool   // post it, but answer only after the client gave up
}

// fakeSlack is internal/fakeslack on the test's clock: slacktest's server
// recording calls, assigning ts values, refusing what breaks Slack's
// Block Kit limits, and answering faults on demand; the real slack-go
// client talks to it.
type fakeSlack struct{ *fakeslack.Server }

func newFakeSlack(t *testing.T, clock *fakeclock.Stepping) *fakeSlack {
	return &fakeSlack{fakeslack.New(t, clock.Now)}
}

func (fs *fakeSlack) url() string { return fs.APIURL() }

func (fs *fakeSlack) setFault(f func(method string, v url.Values) *fault) {
	fs.SetFault(func(method string, v url.Values) *fakeslack.Fault {
		x := f(method, v)
		if x == nil {
			return nil
		}
		return &fakeslack.Fault{Status: x.status, RetryAfter: x.retryAfter, SlackErr: x.slackErr, Hangup: x.hangup, Late: x.late}
	})
}

// queue is the engine's store and outbox: engine.MemoryStore, or the
// real bbolt store where a test restarts.
type queue interface {
	engine.Store
	engine.Outbox
}

// box adds test helpers to a queue.
type box struct {
	queue
	t *testing.T
}

func memBox(t *testing.T) box { return box{engine.NewMemoryStore(), t} }

// boltBox is the real bbolt store in a temp dir (it remembers group refs).
func boltBox(t *testing.T) box {
	db, err := store.Open(filepath.Join(t.TempDir(), "qoswatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return box{db, t}
}

// add commits notifications to the outbox, as the engine does.
func (b box) add(ns ...engine.Notification) {
	b.t.Helper()
	if err := b.Commit(context.Background(), engine.Changes{Notifications: ns}); err != nil {
		b.t.Fatal(err)
	}
}

func (b box) len() int {
	b.t.Helper()
	p, err := b.Pending(context.Background(), 0)
	if err != nil {
		b.t.Fatal(err)
	}
	return len(p)
}

// routerFunc is a tiny Router for tests; the rules package has the real one.
type routerFunc func(n *engine.Notification) engine.Route

func (f routerFunc) Route(n *engine.Notification) engine.Route { return f(n) }

func toChannel(ch string) routerFunc {
	return func(*engine.Notification) engine.Route { return engine.Route{Channel: ch} }
}

// logBuffer captures slog output.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var (
	t0      = time.Date(2026, 3, 12, 13, 41, 0, 0, time.UTC)
	webinar = engine.Source{Kind: engine.Webinar, ID: "86129471123", UUID: "4444AAAiAAAAAiAiAiiAii==", Topic: "Q1 All-Hands", Host: "events@example.com", Live: true}
	rule    = engine.RuleInfo{Name: "choppy-audio", Description: "Sending audio with loss over a slow path.", Severity: engine.SeverityWarning, Labels: map[string]string{"team": "av"}, For: 2 * time.Minute}
)

type person struct {
	id, name, email, loc, network, client, ip string
	loss, latency                             float64
}

var people = []person{
	{"16778240", "Alice Example", "alice@example.com", "Paris (FR)", "Wifi", "5.17.5", "203.0.113.7", 3.5, 180},
	{"16779264", "Bob Guest", "", "London (GB)", "Wired", "5.16.10", "198.51.100.23", 6.2, 240},
	{"16780288", "Chandra Rao", "chandra@example.org", "Paris (FR)", "Wifi", "5.17.5", "192.0.2.45", 2.4, 160},
	{"16781312", "Dmitri K", "", "Berlin (DE)", "Cellular", "5.15.2", "203.0.113.99", 9.8, 410},
	{"16782336", "Eve Larsen", "eve@example.com", "Paris (FR)", "Wifi", "5.17.5", "198.51.100.77", 4.1, 205},
	{"16783360", "Farid N", "", "London (GB)", "Wifi", "5.16.10", "192.0.2.12", 2.9, 170},
}

// notif builds a notification of p for rule r, as the engine would.
func notif(kind engine.NotificationKind, p person, r engine.RuleInfo, at time.Time) engine.Notification {
	part := engine.Participant{UserID: p.id, ID: "u" + p.id, UserName: p.name, Email: p.email, Device: "Windows", Client: "Zoom", Version: p.client,
		Location: p.loc, IPAddress: p.ip, NetworkType: p.network, DataCenter: "Amsterdam (NL)", JoinTime: t0.Add(-25 * time.Minute),
		PCName: "LAPTOP-" + p.id, MacAddr: "00:1a:2b:3c:4d:5e", Role: engine.RoleAttendee}
	s := engine.NewSample()
	s.Source, s.Participant, s.Time = webinar, part, at
	s.AudioInput.AvgLoss, s.AudioInput.Latency = p.loss, p.latency
	s.Aggregate()
	n := engine.Notification{
		Kind: kind, Key: engine.AlertKey{Rule: r.Name, Source: webinar.Key(), Participant: part.Key()},
		Rule: r, Source: webinar, Participant: part, Sample: s,
		Explain: []engine.Term{
			{Field: "audio_input.avg_loss", Value: strconv.FormatFloat(p.loss, 'f', -1, 64), Op: ">", Threshold: "2", Holds: true},
			{Field: "latency", Value: strconv.FormatFloat(p.latency, 'f', -1, 64), Op: ">", Threshold: "150", Holds: true},
		},
		Summary: fmt.Sprintf("%s sends audio with %v%% loss", p.name, p.loss),
		Since:   t0, At: at, Created: at,
	}
	if kind == engine.KindResolved {
		// As the engine makes it: the firing's comparisons in Fired, the
		// latest (recovered) sample's in Explain, and the summary
		// template rendered on the latest sample.
		n.Reason = engine.ReasonRecovered
		n.Fired = n.Explain
		n.Summary = fmt.Sprintf("%s sends audio with 0.4%% loss", p.name)
		n.Explain = []engine.Term{
			{Field: "audio_input.avg_loss", Value: "0.4", Op: ">", Threshold: "2", Holds: false},
			{Field: "latency", Value: "95", Op: ">", Threshold: "150", Holds: false},
		}
	}
	return n
}

// byMethod counts calls by method.
func byMethod(calls []call) map[string]int {
	m := map[string]int{}
	for _, c := range calls {
		m[c.Method]++
	}
	return m
}

var _ notifier.GroupRefs = (*store.DB)(nil)

func notifierRef(ch, ts string) engine.MessageRef { return engine.MessageRef{Channel: ch, TS: ts} }
