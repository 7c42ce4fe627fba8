package zoomtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The fake's Zoom WebSocket endpoint, at /ws on the server's listener
// (WSURL): it checks the subscription id and the access token (one the
// token endpoint issued, not expired), says build_connection, answers
// each {"module":"heartbeat"} and sends events as {"module":"message",
// "content": "<event JSON>"}. The faults: stop answering heartbeats, drop
// the connection in the middle of a message, send frames of no known
// module.

// SubscriptionID is the event subscription the fake's WebSocket accepts.
const SubscriptionID = "fakeSubscriptionID"

// WSStats counts what the WebSocket endpoint saw.
type WSStats struct {
	Connects   int // connections opened
	Refused    int // handshakes refused (subscription or token)
	Heartbeats int // heartbeats received
	Open       int // connections open now
}

type wsHub struct {
	mu               sync.Mutex
	conns            map[*wsConn]struct{}
	ignoreHeartbeats bool
	stats            WSStats
}

type wsConn struct {
	mu sync.Mutex // one writer at a time
	c  *websocket.Conn
}

func (c *wsConn) write(mt int, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.c.WriteMessage(mt, data)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// WSURL is the fake's "wss://ws.zoom.us/ws" (ZOOM_WS_URL).
func (s *Server) WSURL() string {
	return "ws" + strings.TrimPrefix(s.URL(), "http") + "/ws"
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	h := &s.ws
	q := r.URL.Query()
	if q.Get("subscriptionId") != SubscriptionID {
		h.refuse()
		http.Error(w, `{"code":404,"message":"subscription not found"}`, http.StatusNotFound)
		return
	}
	if code, msg, ok := s.authorizeToken(q.Get("access_token")); !ok {
		h.refuse()
		writeError(w, http.StatusUnauthorized, code, msg)
		return
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	conn := &wsConn{c: c}
	h.mu.Lock()
	if h.conns == nil {
		h.conns = map[*wsConn]struct{}{}
	}
	h.conns[conn] = struct{}{}
	h.stats.Connects++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, conn)
		h.mu.Unlock()
		c.Close()
	}()
	conn.write(websocket.TextMessage, []byte(`{"module":"build_connection","success":true,"content":"ok"}`))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		var f struct {
			Module string `json:"module"`
		}
		if json.Unmarshal(data, &f) != nil || f.Module != "heartbeat" {
			continue
		}
		h.mu.Lock()
		h.stats.Heartbeats++
		ignore := h.ignoreHeartbeats
		h.mu.Unlock()
		if !ignore {
			conn.write(websocket.TextMessage, []byte(`{"module":"heartbeat","success":true}`))
		}
	}
}

func (h *wsHub) refuse() {
	h.mu.Lock()
	h.stats.Refused++
	h.mu.Unlock()
}

func (h *wsHub) each(f func(*wsConn)) int {
	h.mu.Lock()
	conns := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		f(c)
	}
	return len(conns)
}

// PushWS sends an event (its JSON) to every open WebSocket, as Zoom does:
// the JSON as a string in "content". It returns how many got it.
func (s *Server) PushWS(body []byte) int {
	frame, _ := json.Marshal(map[string]string{"module": "message", "content": string(body)})
	return s.SendWSFrame(websocket.TextMessage, frame)
}

// SendWSFrame sends a raw frame (any type, any content) to every open
// WebSocket.
func (s *Server) SendWSFrame(messageType int, data []byte) int {
	n := 0
	s.ws.each(func(c *wsConn) {
		if c.write(messageType, data) == nil {
			n++
		}
	})
	return n
}

// WSIgnoreHeartbeats makes the endpoint stop (or resume) answering
// heartbeats: a connection that looks open and is dead.
func (s *Server) WSIgnoreHeartbeats(ignore bool) {
	s.ws.mu.Lock()
	s.ws.ignoreHeartbeats = ignore
	s.ws.mu.Unlock()
}

// WSDropMidMessage starts a message to every open WebSocket, sends a
// part of it, and cuts the connection.
func (s *Server) WSDropMidMessage(body []byte) {
	frame, _ := json.Marshal(map[string]string{"module": "message", "content": string(body)})
	s.ws.each(func(c *wsConn) {
		c.mu.Lock()
		defer c.mu.Unlock()
		// A text frame's header announcing the whole length (RFC 6455:
		// 0x81, then 126 and a 16-bit length), then half of it.
		n := min(len(frame), 65535)
		hdr := []byte{0x81, 126, byte(n >> 8), byte(n)}
		nc := c.c.NetConn()
		nc.Write(append(hdr, frame[:n/2]...))
		nc.Close()
	})
}

// WSDisconnect closes every open WebSocket (Zoom restarting, a network
// blip).
func (s *Server) WSDisconnect() {
	s.ws.each(func(c *wsConn) { c.c.NetConn().Close() })
}

// WSStats returns the WebSocket endpoint's counts.
func (s *Server) WSStats() WSStats {
	s.ws.mu.Lock()
	defer s.ws.mu.Unlock()
	st := s.ws.stats
	st.Open = len(s.ws.conns)
	return st
}
