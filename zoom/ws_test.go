package zoom_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// wsRig is the WebSocket path: the fake Zoom's endpoint, a real client
// for the S2S token, the handler with its real store and engine, running
// as the daemon runs it.
type wsRig struct {
	*pushRig
	fake   *zoomtest.Server
	client *zoom.Client
	logs   *syncbuf.Buffer
	cancel context.CancelFunc
	done   chan struct{}
}

func newWSRig(t *testing.T, cfg zoom.WSConfig) *wsRig {
	t.Helper()
	logs := &syncbuf.Buffer{}
	r := &wsRig{logs: logs}
	r.pushRig = newPushRig(t, func(c *zoom.EventsConfig) {
		c.Clock = engine.SystemClock{} // the waits between reconnects
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	r.fake = zoomtest.New(t, zoomtest.Options{})
	client, err := zoom.NewClient(zoom.Config{APIURL: r.fake.APIURL(), OAuthURL: r.fake.TokenURL(),
		AccountID: r.fake.AccountID, ClientID: r.fake.ClientID, ClientSecret: r.fake.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	r.client = client
	if cfg.URL == "" {
		cfg.URL = r.fake.WSURL()
	}
	if cfg.SubscriptionID == "" {
		cfg.SubscriptionID = zoomtest.SubscriptionID
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 50 * time.Millisecond
	}
	cfg.BackoffMin, cfg.BackoffMax = 10*time.Millisecond, 50*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		if err := r.events.RunWebSocket(ctx, client, cfg); err != nil {
			t.Errorf("RunWebSocket: %v", err)
		}
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *wsRig) stop() {
	r.cancel()
	<-r.done
}

// eventually waits (wall time, up to 10s) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after 10s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *wsRig) connected(n int) func() bool {
	return func() bool { s := r.fake.WSStats(); return s.Connects >= n && s.Open == 1 }
}

func TestWebSocketEventsReachTheEngine(t *testing.T) {
	r := newWSRig(t, zoom.WSConfig{})
	eventually(t, "connected", r.connected(1))
	r.fake.PushWS(example(t, "webinar.started"))
	r.fake.PushWS(qssBody("u1", exampleMinute, 3.5))
	r.fake.PushWS(qssBody("u1", exampleMinute, 3.5)) // a duplicate delivery
	eventually(t, "two events stored", func() bool { return r.stored() == 2 })
	r.apply()
	if a, ok := r.alert("u1"); !ok || a.State != engine.StateFiring || a.Source.Topic != "My Webinar" {
		t.Errorf("alert over the WebSocket: %+v %v", a, ok)
	}
	eventually(t, "heartbeats sent and answered", func() bool {
		return r.fake.WSStats().Heartbeats >= 2 && r.counter("qoswatch_zoom_websocket_frames_total", "module", "heartbeat") >= 2
	})
	if got := r.counter("qoswatch_zoom_events_duplicate_total", "transport", "websocket"); got != 1 {
		t.Errorf("duplicates %v, want 1", got)
	}
	if r.counter("qoswatch_zoom_websocket_connected") != 1 {
		t.Error("connected gauge is not 1")
	}
	if _, gaps := r.poller.counts(); gaps != 0 {
		t.Errorf("the first connection asked for %d gap fills", gaps)
	}
}

// TestWebSocketDropMidMessage: the connection breaks inside a message:
// nothing half-read is stored, the client reconnects, the poller is
// asked to fill the gap, and what follows arrives.
func TestWebSocketDropMidMessage(t *testing.T) {
	r := newWSRig(t, zoom.WSConfig{})
	eventually(t, "connected", r.connected(1))
	r.fake.WSDropMidMessage(example(t, "webinar.started"))
	eventually(t, "reconnected", r.connected(2))
	eventually(t, "gap fill asked", func() bool { _, g := r.poller.counts(); return g == 1 })
	if r.stored() != 0 {
		t.Errorf("%d events stored from a broken message", r.stored())
	}
	r.fake.PushWS(example(t, "webinar.started"))
	eventually(t, "the next event stored", func() bool { return r.stored() == 1 })
}

// TestWebSocketThatNeverAnswersAHeartbeat is taken for dead after the
// silence and reopened.
func TestWebSocketThatNeverAnswersAHeartbeat(t *testing.T) {
	r := newWSRig(t, zoom.WSConfig{Heartbeat: 50 * time.Millisecond, Silence: 200 * time.Millisecond})
	eventually(t, "connected", r.connected(1))
	r.fake.WSIgnoreHeartbeats(true)
	eventually(t, "reopened after the silence", func() bool {
		return r.counter("qoswatch_zoom_websocket_silent_total") >= 1 && r.fake.WSStats().Connects >= 2
	})
	r.fake.WSIgnoreHeartbeats(false)
	eventually(t, "connected again", r.connected(2))
	r.fake.PushWS(example(t, "webinar.started"))
	eventually(t, "events flow again", func() bool { return r.stored() == 1 })
}

// TestWebSocketUnknownFrames are counted and skipped; the connection
// stays up.
func TestWebSocketUnknownFrames(t *testing.T) {
	r := newWSRig(t, zoom.WSConfig{})
	eventually(t, "connected", r.connected(1))
	r.fake.SendWSFrame(websocket.BinaryMessage, []byte{0, 1, 2})
	r.fake.SendWSFrame(websocket.TextMessage, []byte(`{"module":"surprise","content":"x"}`))
	r.fake.SendWSFrame(websocket.TextMessage, []byte(`not json`))
	r.fake.SendWSFrame(websocket.TextMessage, []byte(`{"module":"message","content":"{\"hello\":1}"}`))
	r.fake.PushWS(example(t, "webinar.started"))
	eventually(t, "the event after them stored", func() bool { return r.stored() == 1 })
	if got := r.counter("qoswatch_zoom_websocket_frames_total", "module", "unknown"); got != 3 {
		t.Errorf("unknown frames %v, want 3", got)
	}
	if got := r.counter("qoswatch_zoom_events_rejected_total", "transport", "websocket", "reason", "not_an_event"); got != 1 {
		t.Errorf("message that is no event counted %v, want 1", got)
	}
	if s := r.fake.WSStats(); s.Connects != 1 {
		t.Errorf("%d connections, want the first one kept", s.Connects)
	}
}

// TestWebSocketRefreshesARefusedToken: Zoom refuses the token the client
// cached (revoked); the client drops it, fetches a new one, connects. The
// token never reaches a log line.
func TestWebSocketRefreshesARefusedToken(t *testing.T) {
	r := newWSRig(t, zoom.WSConfig{})
	eventually(t, "connected", r.connected(1))
	tok, err := r.client.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r.fake.RevokeAccessTokens()
	r.fake.WSDisconnect()
	eventually(t, "reconnected with a new token", r.connected(2))
	if s := r.fake.WSStats(); s.Refused < 1 {
		t.Errorf("refused %d handshakes, want the revoked token refused", s.Refused)
	}
	if r.counter("qoswatch_zoom_websocket_connects_total", "outcome", "refused") < 1 {
		t.Error("refused connect not counted")
	}
	r.stop()
	if strings.Contains(r.logs.String(), tok) || strings.Contains(r.logs.String(), "fake-access-") {
		t.Errorf("a token reached the log:\n%s", r.logs.String())
	}
}

// TestWebSocketConfigErrors name the setting.
func TestWebSocketConfigErrors(t *testing.T) {
	r := newPushRig(t, nil)
	for _, c := range []zoom.WSConfig{
		{SubscriptionID: ""},
		{SubscriptionID: "s", URL: "https://ws.zoom.us/ws"},
		{SubscriptionID: "s", URL: "wss://user:pw@ws.zoom.us/ws"},
	} {
		err := r.events.RunWebSocket(context.Background(), nil, c)
		if err == nil || !strings.Contains(err.Error(), "ZOOM_WS_") || strings.Contains(err.Error(), "pw") {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
