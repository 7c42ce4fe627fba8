package zoom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
)

// Zoom WebSockets: the app opens an outbound connection to
// wss://ws.zoom.us/ws?subscriptionId=…&access_token=… with its
// Server-to-Server token, sends {"module":"heartbeat"} every 30 seconds,
// and receives each event as {"module":"message","content":"<the event
// JSON>"}. No public endpoint is needed. Zoom does not replay what it sent
// while the connection was down, so after a reconnect the poller fills
// the gap.
//
// Network liveness runs on wall time (the heartbeat Zoom expects is 30 real
// seconds whatever clock the rest of qoswatch runs on); only the wait
// between reconnects is on the handler's clock.

// DefaultWSURL is Zoom's WebSocket endpoint; ZOOM_WS_URL overrides it.
const DefaultWSURL = "wss://ws.zoom.us/ws"

// WSConfig configures the WebSocket client. SubscriptionID is required.
type WSConfig struct {
	URL            string        // ZOOM_WS_URL; default DefaultWSURL
	SubscriptionID string        // ZOOM_WS_SUBSCRIPTION_ID: the event subscription's id
	Heartbeat      time.Duration // default 30s, as Zoom's docs say
	// Silence is how long a connection may stay without any frame (events
	// or heartbeat answers) before it is taken for dead and reopened;
	// default 2×Heartbeat + 10s.
	Silence    time.Duration
	BackoffMin time.Duration // first wait before a reconnect; default 1s
	BackoffMax time.Duration // the longest wait; default 2m
	Dialer     *websocket.Dialer
}

// TokenSource gives the Server-to-Server access token the connection opens
// with. *Client implements it.
type TokenSource interface {
	AccessToken(ctx context.Context) (string, error)
	// InvalidateToken drops a token Zoom refused, so the next connection
	// fetches a new one.
	InvalidateToken(token string)
}

func (c WSConfig) withDefaults() (WSConfig, error) {
	if c.URL == "" {
		c.URL = DefaultWSURL
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "wss" && u.Scheme != "ws") || u.Host == "" || u.User != nil {
		return c, errors.New("zoom websocket: ZOOM_WS_URL: want a ws:// or wss:// URL without credentials")
	}
	if strings.TrimSpace(c.SubscriptionID) == "" {
		return c, errors.New("zoom websocket: ZOOM_WS_SUBSCRIPTION_ID is blank")
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 30 * time.Second
	}
	if c.Silence <= 0 {
		c.Silence = 2*c.Heartbeat + 10*time.Second
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = time.Second
	}
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = max(c.BackoffMin, 2*time.Minute)
	}
	if c.Dialer == nil {
		c.Dialer = &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 30 * time.Second}
	}
	return c, nil
}

// RunWebSocket keeps a WebSocket to Zoom open until ctx ends, storing every
// event it carries through Accept (the same path as webhooks: dedup,
// disk, then the engine). It reconnects with exponential backoff and a
// fresh token, and asks the poller to fill the gap after each reconnect.
func (h *Events) RunWebSocket(ctx context.Context, tokens TokenSource, cfg WSConfig) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	log := h.log.With("transport", "websocket", "url", cfg.URL)
	wait, everUp := cfg.BackoffMin, false
	for {
		up, err := h.wsSession(ctx, tokens, cfg, everUp)
		if ctx.Err() != nil {
			return nil
		}
		if up {
			everUp, wait = true, cfg.BackoffMin
		}
		// Jitter, so that several qoswatch instances (or a restart storm)
		// do not reconnect in step.
		d := wait/2 + rand.N(wait/2+1)
		log.Warn("Zoom WebSocket closed; reconnecting", "error", err, "in", d)
		if engine.Sleep(ctx, h.cfg.Clock, d) != nil {
			return nil
		}
		wait = min(2*wait, cfg.BackoffMax)
	}
}

// WebSocketConnected reports whether the Zoom WebSocket is open now.
func (h *Events) WebSocketConnected() bool { return h.wsUp.Load() }

// wsFrame is what Zoom sends over the connection.
type wsFrame struct {
	Module  string          `json:"module"`
	Success *bool           `json:"success,omitempty"`
	Content json.RawMessage `json:"content,omitempty"`
}

// wsSession runs one connection; up reports that it opened.
func (h *Events) wsSession(ctx context.Context, tokens TokenSource, cfg WSConfig, reconnect bool) (up bool, err error) {
	m := &h.m.ws
	tok, err := tokens.AccessToken(ctx)
	if err != nil {
		m.connects.WithLabelValues("token_error").Inc()
		return false, fmt.Errorf("zoom websocket: access token: %w", err)
	}
	q := url.Values{"subscriptionId": {cfg.SubscriptionID}, "access_token": {tok}}
	conn, resp, err := cfg.Dialer.DialContext(ctx, cfg.URL+"?"+q.Encode(), nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		// The error never carries the URL's query (the token): gorilla's
		// handshake errors do not, and net errors name host:port only.
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			tokens.InvalidateToken(tok)
			m.connects.WithLabelValues("refused").Inc()
			return false, fmt.Errorf("zoom websocket: Zoom refused the connection (HTTP %d): check ZOOM_WS_SUBSCRIPTION_ID and the app's scopes", resp.StatusCode)
		}
		m.connects.WithLabelValues("error").Inc()
		return false, fmt.Errorf("zoom websocket: connect: %w", err)
	}
	defer conn.Close()
	m.connects.WithLabelValues("ok").Inc()
	m.connected.Set(1)
	h.wsUp.Store(true)
	defer func() { m.connected.Set(0); h.wsUp.Store(false) }()
	h.log.Info("Zoom WebSocket connected", "reconnect", reconnect)
	if reconnect && h.cfg.Poller != nil {
		h.cfg.Poller.FillGap() // what Zoom sent while we were away is lost
	}

	// Events go to a committer that stores each backlog in one write, in
	// order: one fsync per event would cap a connection at ~100 events a
	// second. What was read is stored even when the session ends.
	msgs := make(chan []byte, 4096)
	committed := make(chan struct{})
	storeCtx := context.WithoutCancel(ctx)
	go func() { defer close(committed); h.wsCommit(storeCtx, msgs) }()
	defer func() { close(msgs); <-committed }()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // the heartbeat; the only writer, so writes never overlap
		t := time.NewTicker(cfg.Heartbeat)
		defer t.Stop()
		for {
			werr := conn.SetWriteDeadline(time.Now().Add(cfg.Heartbeat))
			if werr == nil {
				werr = conn.WriteMessage(websocket.TextMessage, []byte(`{"module":"heartbeat"}`))
			}
			if werr != nil {
				conn.Close() // the reader returns
				return
			}
			select {
			case <-ctx.Done():
				conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				conn.Close()
				return
			case <-t.C:
			}
		}
	}()

	for {
		conn.SetReadDeadline(time.Now().Add(cfg.Silence))
		mt, data, err := conn.ReadMessage()
		if err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				m.silent.Inc()
				return true, fmt.Errorf("zoom websocket: nothing received for %s (no heartbeat answer): %w", cfg.Silence, err)
			}
			return true, fmt.Errorf("zoom websocket: read: %w", err)
		}
		if mt != websocket.TextMessage {
			m.frames.WithLabelValues("unknown").Inc()
			continue
		}
		var f wsFrame
		if err := json.Unmarshal(data, &f); err != nil {
			m.frames.WithLabelValues("unknown").Inc()
			continue
		}
		switch f.Module {
		case "message":
			m.frames.WithLabelValues("message").Inc()
			msgs <- wsContent(f.Content)
		case "heartbeat":
			m.frames.WithLabelValues("heartbeat").Inc()
		case "build_connection":
			m.frames.WithLabelValues("build_connection").Inc()
			if f.Success != nil && !*f.Success {
				tokens.InvalidateToken(tok)
				return true, errors.New("zoom websocket: Zoom did not build the connection (success false): check ZOOM_WS_SUBSCRIPTION_ID and the token's scopes")
			}
		default:
			m.frames.WithLabelValues("unknown").Inc()
		}
	}
}

// wsContent is the event a message carries: the event JSON as a string
// (Zoom's docs); an object is read too.
func wsContent(content json.RawMessage) []byte {
	var s string
	if json.Unmarshal(content, &s) == nil {
		return []byte(s)
	}
	return content
}

// wsCommit stores the events read, each backlog (what arrived while the
// last write was on its way to disk) in one write.
func (h *Events) wsCommit(ctx context.Context, msgs <-chan []byte) {
	for body := range msgs {
		batch := [][]byte{body}
	gather:
		for len(batch) < 1000 {
			select {
			case b, ok := <-msgs:
				if !ok {
					break gather
				}
				batch = append(batch, b)
			default:
				break gather
			}
		}
		_, _, errs := h.AcceptAll(ctx, "websocket", batch)
		for _, err := range errs {
			switch {
			case err == nil:
			case errors.Is(err, errNotEvent):
				h.log.Warn("a Zoom WebSocket message is no event; dropped", "error", err)
			default:
				// Nobody to answer 503 to: Zoom will not resend. Said loudly.
				h.log.Error("a Zoom WebSocket event could not be stored and is lost", "error", err)
			}
		}
	}
}

type wsMetrics struct {
	connects  *prometheus.CounterVec // outcome
	frames    *prometheus.CounterVec // module
	silent    prometheus.Counter
	connected prometheus.Gauge
}

func newWSMetrics() wsMetrics {
	m := wsMetrics{
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qoswatch_zoom_websocket_connects_total",
			Help: "Attempts to open the Zoom WebSocket, by outcome (ok, refused, error, token_error)."}, []string{"outcome"}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qoswatch_zoom_websocket_frames_total",
			Help: "Frames received on the Zoom WebSocket, by module (message, heartbeat, build_connection, unknown)."}, []string{"module"}),
		silent: prometheus.NewCounter(prometheus.CounterOpts{Name: "qoswatch_zoom_websocket_silent_total",
			Help: "Zoom WebSocket connections closed because nothing, not even a heartbeat answer, arrived in time."}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "qoswatch_zoom_websocket_connected",
			Help: "1 while the Zoom WebSocket is open."}),
	}
	for _, o := range []string{"ok", "refused", "error", "token_error"} {
		m.connects.WithLabelValues(o)
	}
	for _, f := range []string{"message", "heartbeat", "build_connection", "unknown"} {
		m.frames.WithLabelValues(f)
	}
	return m
}

func (m *wsMetrics) register(reg prometheus.Registerer) {
	reg.MustRegister(m.connects, m.frames, m.silent, m.connected)
}
