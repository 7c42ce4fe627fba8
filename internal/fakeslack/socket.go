package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode as Slack documents it
// (https://docs.slack.dev/apis/events-api/using-socket-mode): the app
// calls apps.connections.open with its app-level token (xapp-…, in the
// Authorization header) and gets a single-use wss URL; on connecting,
// Slack says hello; then it sends envelopes ({"envelope_id", "type":
// interactive | slash_commands | events_api, "payload",
// "accepts_response_payload"}) that the app acknowledges with
// {"envelope_id", "payload"?} within 3 seconds; it pings; and it asks
// the app to move to a new connection with {"type": "disconnect",
// "reason": "refresh_requested"} (or "warning", "link_disabled").

const socketPath = "/link/"

// SocketAck is an app's acknowledgement of an envelope.
type SocketAck struct {
	EnvelopeID string
	Payload    json.RawMessage // the response, for a slash command
	Took       time.Duration   // from sending the envelope to the ack
}

type socketConn struct {
	mu sync.Mutex // one writer at a time
	c  *websocket.Conn
}

func (c *socketConn) write(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.c.WriteJSON(v)
}

type socketState struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	tickets map[string]bool
	seq     int
	conns   []*socketConn // open, oldest first
	hellos  int           // connections ever greeted
	sent    map[string]time.Time
	acks    map[string]SocketAck
	closed  bool
}

func (st *socketState) init() {
	st.changed = make(chan struct{})
	st.tickets = map[string]bool{}
	st.sent = map[string]time.Time{}
	st.acks = map[string]SocketAck{}
}

// notify wakes the waiters; st.mu is held.
func (st *socketState) notify() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// wait waits until cond (called with st.mu held) holds or ctx ends.
func (st *socketState) wait(ctx context.Context, cond func() bool) error {
	for {
		st.mu.Lock()
		ok, ch := cond(), st.changed
		st.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// connectionsOpen answers apps.connections.open.
func (s *Server) connectionsOpen(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	f := s.attempt(r, "apps.connections.open", nil)
	s.mu.Unlock()
	switch {
	case f != nil:
		answerFault(w, f)
		return
	case !ok || tok == "":
		s.answer(w, map[string]any{"ok": false, "error": "not_authed"})
		return
	case !strings.HasPrefix(tok, "xapp-"):
		s.answer(w, map[string]any{"ok": false, "error": "not_allowed_token_type"})
		return
	}
	st := &s.socket
	st.mu.Lock()
	st.seq++
	ticket := fmt.Sprintf("ticket-%d", st.seq)
	st.tickets[ticket] = true
	st.mu.Unlock()
	u := "ws://" + strings.TrimSuffix(strings.TrimPrefix(s.srv.GetAPIURL(), "http://"), "/") + socketPath + "?ticket=" + ticket + "&app_id=" + AppID
	s.answer(w, map[string]any{"ok": true, "url": u})
}

// upgrader takes any Origin: slack-go sends https://api.slack.com, and Slack
// does not check it.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// socketConn serves one Socket Mode connection: hello, pings, acks.
func (s *Server) socketConn(w http.ResponseWriter, r *http.Request) {
	st := &s.socket
	ticket := r.URL.Query().Get("ticket")
	st.mu.Lock()
	valid := st.tickets[ticket] && !st.closed
	delete(st.tickets, ticket) // single use
	st.mu.Unlock()
	if !valid {
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &socketConn{c: ws}
	hello := map[string]any{"type": "hello", "num_connections": 1,
		"debug_info":      map[string]any{"host": "fakeslack", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": AppID}}
	if c.write(hello) != nil {
		ws.Close()
		return
	}
	st.mu.Lock()
	st.conns = append(st.conns, c)
	st.hellos++
	st.notify()
	st.mu.Unlock()

	done := make(chan struct{})
	defer close(done)
	go func() { // Slack pings; slack-go reconnects when it hears none for 30 s
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.mu.Lock()
				err := ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
				c.mu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := ws.ReadJSON(&ack); err != nil {
			break
		}
		st.mu.Lock()
		if sent, ok := st.sent[ack.EnvelopeID]; ok {
			if _, dup := st.acks[ack.EnvelopeID]; !dup {
				st.acks[ack.EnvelopeID] = SocketAck{EnvelopeID: ack.EnvelopeID, Payload: ack.Payload, Took: time.Since(sent)}
				st.notify()
			}
		}
		st.mu.Unlock()
	}
	ws.Close()
	st.mu.Lock()
	for i, x := range st.conns {
		if x == c {
			st.conns = append(st.conns[:i], st.conns[i+1:]...)
			break
		}
	}
	st.notify()
	st.mu.Unlock()
}

// ErrNoConnection is returned when no app is connected over Socket Mode.
var ErrNoConnection = errors.New("fakeslack: no Socket Mode connection")

// SocketSend sends an envelope of type typ (interactive, slash_commands)
// carrying payload on the newest connection and returns its envelope_id.
func (s *Server) SocketSend(typ string, payload json.RawMessage) (string, error) {
	st := &s.socket
	st.mu.Lock()
	if len(st.conns) == 0 {
		st.mu.Unlock()
		return "", ErrNoConnection
	}
	st.seq++
	id := fmt.Sprintf("env-%d", st.seq)
	c := st.conns[len(st.conns)-1]
	st.sent[id] = time.Now()
	st.mu.Unlock()
	env := map[string]any{"envelope_id": id, "type": typ, "payload": payload,
		"accepts_response_payload": typ == "slash_commands", "retry_attempt": 0, "retry_reason": ""}
	if err := c.write(env); err != nil {
		return "", fmt.Errorf("fakeslack: socket send: %w", err)
	}
	return id, nil
}

// WaitSocketAck waits for the app's ack of envelope id.
func (s *Server) WaitSocketAck(ctx context.Context, id string) (SocketAck, error) {
	st := &s.socket
	var ack SocketAck
	err := st.wait(ctx, func() bool {
		a, ok := st.acks[id]
		ack = a
		return ok
	})
	return ack, err
}

// WaitSocketConnections waits until apps have connected n times in all
// (hello sent) and one connection is open.
func (s *Server) WaitSocketConnections(ctx context.Context, n int) error {
	st := &s.socket
	return st.wait(ctx, func() bool { return st.hellos >= n && len(st.conns) > 0 })
}

// SocketConnections is how many connections were greeted, and how many
// are open.
func (s *Server) SocketConnections() (greeted, open int) {
	st := &s.socket
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.hellos, len(st.conns)
}

// SocketDisconnect asks every connected app to reconnect, as Slack does
// before it recycles a connection (reason refresh_requested, or warning),
// then closes the connections; reason "" drops them without a word (a
// network failure).
func (s *Server) SocketDisconnect(reason string) {
	st := &s.socket
	st.mu.Lock()
	conns := append([]*socketConn(nil), st.conns...)
	st.mu.Unlock()
	for _, c := range conns {
		if reason != "" {
			_ = c.write(map[string]any{"type": "disconnect", "reason": reason, "debug_info": map[string]any{"host": "fakeslack"}})
		}
		c.mu.Lock()
		_ = c.c.Close()
		c.mu.Unlock()
	}
}

// closeSockets ends every connection when the server stops.
func (s *Server) closeSockets() {
	st := &s.socket
	st.mu.Lock()
	st.closed = true
	conns := append([]*socketConn(nil), st.conns...)
	st.mu.Unlock()
	for _, c := range conns {
		c.mu.Lock()
		_ = c.c.Close()
		c.mu.Unlock()
	}
}
