// Package fakeslack is the Slack that qoswatch's tests post to: slack-go's
// slacktest server answering chat.postMessage and chat.update, and an
// incoming-webhook endpoint, over real HTTP. It records what it accepted,
// answers faults on demand, and, like Slack, refuses a message that breaks
// Block Kit's limits (invalid_blocks, msg_blocks_too_long, msg_too_long),
// so a test that posts a message Slack would refuse fails.
//
// It keeps what was posted, with its message metadata, and answers
// conversations.history and conversations.replies over it as Slack does
// for an app outside the Marketplace: a channel id (not a name), messages
// after oldest, newest first (history: top-level messages only) or the
// thread in order (replies), at most 15 a call with has_more, metadata
// only with include_all_metadata, and one call a minute per method (429
// with Retry-After beyond).
package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
)

// WebhookPath is the incoming webhook's path on the server; the secret
// part is what a webhook URL must never leak.
const WebhookPath = "/services/T000/B000/XXXXsecretXXXX"

// Call is one request the fake Slack accepted.
type Call struct {
	Method   string          `json:"method"` // chat.postMessage, chat.update or webhook
	Channel  string          `json:"channel"`
	TS       string          `json:"ts,omitempty"`        // the message's ts (update: the updated one)
	ThreadTS string          `json:"thread_ts,omitempty"` // a reply: its thread
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks"`
	Metadata json.RawMessage `json:"metadata,omitempty"` // chat.postMessage's message metadata
	At       time.Time       `json:"-"`                  // the server's clock at the call
}

func (c Call) String() string {
	line, _, _ := strings.Cut(c.Text, "\n")
	return fmt.Sprintf("{%s %s ts=%s thread=%s %q}", c.Method, c.Channel, c.TS, c.ThreadTS, line)
}

// Refusal is a message the fake Slack refused for breaking a limit.
type Refusal struct {
	Method string
	Err    *LimitError
}

// Fault is how the fake answers a request instead of accepting it.
type Fault struct {
	Status     int    // HTTP status; 0 or 200 with SlackErr for ok:false
	RetryAfter string // Retry-After header
	SlackErr   string // {"ok":false,"error":...}
	Hangup     bool   // close the connection: a network error
	// Late accepts the message (it is posted, and visible in history)
	// but answers only after the client gave up waiting: Slack answering
	// after the client's timeout.
	Late bool
}

// Server is a running fake Slack.
type Server struct {
	srv *slacktest.Server
	now func() time.Time

	mu       sync.Mutex
	calls    []Call
	refused  []Refusal
	attempts []time.Time // the clock at every request counted by attempt, accepted or not
	tokens   map[string]bool
	seq      int
	fault    func(method string, v url.Values) *Fault
	refusals bool                 // refusals are expected: do not fail the test
	lookups  map[string]time.Time // conversations.* method → its last call (one a minute)

	responses   []Response           // posted to response_urls
	issued      map[string]time.Time // response_url key → when its payload was made
	groups      map[string][]string  // user group → members
	lookupCalls int                  // usergroups.users.list calls
	socket      socketState
	// files (files.go): between getUploadURLExternal and
	// completeUploadExternal, and shared
	pendingFiles map[string]*pendingFile
	uploads      []Upload
}

// New starts a fake Slack, stopped when the test ends. now stamps the
// calls (Call.At, Attempts): the test's clock, or nil for time.Now.
func New(tb testing.TB, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{now: now, tokens: map[string]bool{}, lookups: map[string]time.Time{}, groups: map[string][]string{}, issued: map[string]time.Time{}}
	s.socket.init()
	s.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", s.handle("chat.postMessage"))
		c.Handle("/chat.update", s.handle("chat.update"))
		c.Handle("/conversations.history", s.webMethod("conversations.history", s.read("conversations.history")))
		c.Handle("/conversations.replies", s.webMethod("conversations.replies", s.read("conversations.replies")))
		c.Handle(WebhookPath, s.webhook)
		c.Handle(responsePath, s.respond)
		c.Handle("/usergroups.users.list", s.userGroupMembers)
		c.Handle("/apps.connections.open", s.connectionsOpen)
		c.Handle(socketPath, s.socketConn)
		c.Handle("/files.getUploadURLExternal", s.webMethod("files.getUploadURLExternal", s.getUploadURL))
		c.Handle(uploadPath, s.upload)
		c.Handle("/files.completeUploadExternal", s.webMethod("files.completeUploadExternal", s.completeUpload))
	})
	s.srv.Start()
	tb.Cleanup(func() {
		s.closeSockets()
		s.srv.Stop()
		s.mu.Lock()
		defer s.mu.Unlock()
		// A message Slack would refuse is a bug wherever a test posts it.
		for _, r := range s.refused {
			if !s.refusals {
				tb.Errorf("fake Slack refused a %s: %v", r.Method, r.Err)
			}
		}
	})
	return s
}

// AllowRefusals is for a test that posts over a limit on purpose: the
// refusals no longer fail it.
func (s *Server) AllowRefusals() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = true
}

// Close stops the server now (a Slack that went away); New stops it at
// the end of the test anyway.
func (s *Server) Close() { s.srv.Stop() }

// APIURL is the Web API base to give slack-go (bot mode).
func (s *Server) APIURL() string { return s.srv.GetAPIURL() }

// WebhookURL is the incoming webhook's URL (webhook mode).
func (s *Server) WebhookURL() string {
	return strings.TrimSuffix(s.srv.GetAPIURL(), "/") + WebhookPath
}

// SetFault makes the fake answer f's fault whenever f returns one; nil
// accepts everything (within the limits).
func (s *Server) SetFault(f func(method string, v url.Values) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Calls returns the accepted calls in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Refused returns the messages refused for breaking a limit.
func (s *Server) Refused() []Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refusal(nil), s.refused...)
}

// Attempts returns the clock's time of every Web API call, webhook post,
// upload and connections.open, accepted or not (usergroups.users.list and
// response_url posts aside).
func (s *Server) Attempts() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.attempts...)
}

// SawToken reports whether a request carried token (as a bearer token or
// the form's token field).
func (s *Server) SawToken(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[token]
}

// Tokens returns every credential seen, for tests that check none leaked.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.tokens {
		out = append(out, k)
	}
	return out
}

// form reads a Web API call's form body; one that does not parse is
// answered 400 and ok is false.
func form(w http.ResponseWriter, r *http.Request) (v url.Values, ok bool) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<22))
	v, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	return v, true
}

// webMethod serves a Web API method: it reads the form and, holding s.mu,
// counts the attempt, notes the token and answers a fault the test
// injected; answer does the method's own work, s.mu held.
func (s *Server) webMethod(method string, answer func(w http.ResponseWriter, v url.Values)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := form(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if f := s.attempt(r, method, v); f != nil {
			answerFault(w, f)
			return
		}
		answer(w, v)
	}
}

// answer writes a Web API method's JSON answer.
func (s *Server) answer(w http.ResponseWriter, m map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(m)
}

func (s *Server) handle(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := form(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		f := s.attempt(r, method, v)
		if f != nil && !f.Late {
			s.mu.Unlock()
			answerFault(w, f)
			return
		}
		c := Call{Method: method, Channel: v.Get("channel"), ThreadTS: v.Get("thread_ts"), Text: v.Get("text"), Blocks: json.RawMessage(v.Get("blocks")), At: s.now()}
		if md := v.Get("metadata"); md != "" && method == "chat.postMessage" {
			var m struct {
				EventType    string         `json:"event_type"`
				EventPayload map[string]any `json:"event_payload"`
			}
			if err := json.Unmarshal([]byte(md), &m); err != nil || m.EventType == "" || m.EventPayload == nil {
				s.mu.Unlock()
				s.answer(w, map[string]any{"ok": false, "error": "invalid_metadata_format"})
				return
			}
			c.Metadata = json.RawMessage(md)
		}
		if lerr := Validate(c.Blocks, c.Text); lerr != nil {
			s.refused = append(s.refused, Refusal{Method: method, Err: lerr})
			s.mu.Unlock()
			s.answer(w, map[string]any{"ok": false, "error": lerr.Code, "response_metadata": map[string]any{"messages": []string{"[ERROR] " + lerr.Detail}}})
			return
		}
		if method == "chat.update" {
			c.TS, c.ThreadTS = v.Get("ts"), ""
		} else {
			// Slack's ts is the time it stored the message (seconds and
			// microseconds); the sequence keeps it unique and ordered.
			s.seq++
			c.TS = fmt.Sprintf("%d.%06d", c.At.Unix(), s.seq)
		}
		if strings.HasPrefix(c.Channel, "#") {
			c.Channel = "C" + c.Channel[1:] // Slack answers with the channel id
		}
		s.calls = append(s.calls, c)
		s.mu.Unlock()
		if f != nil && f.Late {
			<-r.Context().Done() // the client gave up; Slack answers into the void
		}
		s.answer(w, map[string]any{"ok": true, "channel": c.Channel, "ts": c.TS})
	}
}

// webhook answers an incoming webhook post the way Slack does: "ok", or a
// 400 whose body is the error code.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Text     string          `json:"text"`
		Blocks   json.RawMessage `json:"blocks"`
		ThreadTS string          `json:"thread_ts"`
		Channel  string          `json:"channel"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<22))
	s.mu.Lock()
	f := s.attempt(r, "webhook", nil)
	if f != nil && !f.Late {
		s.mu.Unlock()
		answerFault(w, f)
		return
	}
	s.mu.Unlock()
	if !s.takeJSON(w, "webhook", body, &m) {
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: "webhook", Channel: m.Channel, ThreadTS: m.ThreadTS, Text: m.Text, Blocks: m.Blocks, At: s.now()})
	s.mu.Unlock()
	if f != nil && f.Late {
		<-r.Context().Done()
	}
	_, _ = w.Write([]byte("ok"))
}

// takeJSON decodes a message POSTed as JSON (to a webhook or a
// response_url) into m and checks it against Slack's limits (Validate).
// It answers what Slack does not take the way Slack does, 400 with
// invalid_payload or the limit's code (a refusal, recorded under method),
// and reports whether the message was taken.
func (s *Server) takeJSON(w http.ResponseWriter, method string, body []byte, m any) bool {
	var msg struct { // what Slack checks, in every such message
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if json.Unmarshal(body, m) != nil || json.Unmarshal(body, &msg) != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return false
	}
	lerr := Validate(msg.Blocks, msg.Text)
	if lerr == nil {
		return true
	}
	s.mu.Lock()
	s.refused = append(s.refused, Refusal{Method: method, Err: lerr})
	s.mu.Unlock()
	http.Error(w, lerr.Code, http.StatusBadRequest)
	return false
}

// history is one message as conversations.history and .replies show it.
type history struct {
	Type     string          `json:"type"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	Text     string          `json:"text"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// maxRead is the most messages a conversations.history or .replies call
// returns to an app outside the Slack Marketplace.
const maxRead = 15

// read answers conversations.history and conversations.replies from the
// messages posted so far; s.mu is held.
func (s *Server) read(method string) func(w http.ResponseWriter, v url.Values) {
	return func(w http.ResponseWriter, v url.Values) {
		now := s.now()
		if last, ok := s.lookups[method]; ok && now.Sub(last) < time.Minute {
			// Tier 1 for apps outside the Marketplace: one call a minute.
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil((time.Minute - now.Sub(last)).Seconds()))))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		s.lookups[method] = now
		ch, thread := v.Get("channel"), v.Get("ts")
		known := false
		for _, c := range s.calls {
			known = known || (c.Method == "chat.postMessage" && c.Channel == ch)
		}
		if !known { // a name ("#general") is not a conversation id
			s.answer(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		ts := func(x string) float64 { f, _ := strconv.ParseFloat(x, 64); return f }
		oldest, latest := ts(v.Get("oldest")), ts(v.Get("latest"))
		inclusive := v.Get("inclusive") == "1" || v.Get("inclusive") == "true"
		inRange := func(t float64) bool {
			if inclusive {
				return t >= oldest && (latest == 0 || t <= latest)
			}
			return t > oldest && (latest == 0 || t < latest)
		}
		withMeta := v.Get("include_all_metadata") == "1" || v.Get("include_all_metadata") == "true"
		var msgs []history
		parent := false
		for _, c := range s.calls {
			if c.Method != "chat.postMessage" || c.Channel != ch {
				continue
			}
			switch {
			case method == "conversations.history" && c.ThreadTS != "":
				continue // replies are not in the channel's history
			case method == "conversations.replies" && c.TS != thread && c.ThreadTS != thread:
				continue
			}
			parent = parent || c.TS == thread
			if !inRange(ts(c.TS)) {
				continue
			}
			h := history{Type: "message", TS: c.TS, ThreadTS: c.ThreadTS, Text: c.Text}
			if withMeta {
				h.Metadata = c.Metadata
			}
			msgs = append(msgs, h)
		}
		if method == "conversations.replies" && !parent {
			s.answer(w, map[string]any{"ok": false, "error": "thread_not_found"})
			return
		}
		if method == "conversations.history" {
			slices.Reverse(msgs) // newest first
		}
		limit, _ := strconv.Atoi(v.Get("limit"))
		if limit <= 0 || limit > maxRead {
			limit = maxRead
		}
		more := len(msgs) > limit
		msgs = msgs[:min(limit, len(msgs))]
		s.answer(w, map[string]any{"ok": true, "messages": msgs, "has_more": more})
	}
}

// attempt counts a request (Attempts), notes the credentials it carried
// and returns the fault the test injected for it, if any; s.mu is held.
func (s *Server) attempt(r *http.Request, method string, v url.Values) *Fault {
	s.attempts = append(s.attempts, s.now())
	s.noteToken(r, v.Get("token"))
	return s.faultFor(method, v)
}

// faultFor asks the fault function; s.mu is held.
func (s *Server) faultFor(method string, v url.Values) *Fault {
	if s.fault == nil {
		return nil
	}
	return s.fault(method, v)
}

func answerFault(w http.ResponseWriter, f *Fault) {
	switch {
	case f.Hangup:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	case f.Status != 0 && f.Status != http.StatusOK:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte("<html>busy</html>"))
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": f.SlackErr})
	}
}
