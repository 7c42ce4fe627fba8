package fakeslack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The interactive side of Slack: what Slack sends an app when someone
// clicks a button or types a slash command (to the app's Request URLs,
// signed with the app's signing secret, or over Socket Mode), and the
// response_url an app answers through. Payloads follow Slack's
// documented shapes:
// https://docs.slack.dev/reference/interaction-payloads/block_actions-payload,
// https://docs.slack.dev/interactivity/implementing-slash-commands,
// https://docs.slack.dev/authentication/verifying-requests-from-slack.

// Team and app the fake's payloads come from.
const (
	TeamID   = "T0QOSWATCH"
	TeamName = "qoswatch-test"
	AppID    = "A0QOSWATCH"
)

// User is a person in the fake workspace.
type User struct {
	ID   string // "U…"
	Name string // the username
}

// Response is a message an app sent to a response_url.
type Response struct {
	Key             string // which payload's response_url
	ResponseType    string `json:"response_type"` // ephemeral, in_channel
	ReplaceOriginal bool   `json:"replace_original"`
	Text            string `json:"text"`
	Blocks          json.RawMessage
	At              time.Time
}

// responsePath is where the fake's response_urls point; Slack's are
// https://hooks.slack.com/actions/T…/… (valid for 30 minutes, 5 uses).
const responsePath = "/actions/" + TeamID + "/"

// ResponseURL is the response_url of the payload key, valid from now.
func (s *Server) ResponseURL(key string) string {
	s.mu.Lock()
	s.issued[key] = s.now()
	s.mu.Unlock()
	return strings.TrimSuffix(s.srv.GetAPIURL(), "/") + responsePath + url.PathEscape(key)
}

// A response_url takes at most 5 messages within 30 minutes of its
// payload (Slack documents the limit, not the error: the fake answers
// 404, and counts the refusal as a test failure like any other).
const (
	maxResponses    = 5
	responseURLLife = 30 * time.Minute
)

// respond records a message posted to a response_url.
func (s *Server) respond(w http.ResponseWriter, r *http.Request) {
	key, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, responsePath))
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<22))
	s.mu.Lock()
	issued, known := s.issued[key]
	uses := 0
	for _, x := range s.responses {
		if x.Key == key {
			uses++
		}
	}
	if !known || uses >= maxResponses || s.now().Sub(issued) > responseURLLife {
		s.refused = append(s.refused, Refusal{Method: "response_url", Err: &LimitError{"expired_url", fmt.Sprintf("response_url %s: unknown, used %d times, or older than 30 minutes", key, uses)}})
		s.mu.Unlock()
		http.Error(w, "expired_url", http.StatusNotFound)
		return
	}
	s.mu.Unlock()
	var m struct {
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
	}
	if !s.takeJSON(w, "response_url", body, &m) {
		return
	}
	s.mu.Lock()
	s.responses = append(s.responses, Response{Key: key, ResponseType: m.ResponseType, ReplaceOriginal: m.ReplaceOriginal, Text: m.Text, Blocks: m.Blocks, At: s.now()})
	s.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

// Responses returns what apps posted to response_urls, in order.
func (s *Server) Responses() []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Response(nil), s.responses...)
}

// SetUserGroup makes group (an "S…" id) have members, for
// usergroups.users.list.
func (s *Server) SetUserGroup(group string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[group] = members
}

// userGroupMembers answers usergroups.users.list: the members of the
// usergroup parameter, or no_such_subteam.
func (s *Server) userGroupMembers(w http.ResponseWriter, r *http.Request) {
	v, ok := form(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	members, found := s.groups[v.Get("usergroup")]
	s.lookupCalls++
	s.mu.Unlock()
	if !found {
		s.answer(w, map[string]any{"ok": false, "error": "no_such_subteam"})
		return
	}
	s.answer(w, map[string]any{"ok": true, "users": members})
}

// UserGroupLookups is how many usergroups.users.list calls were made.
func (s *Server) UserGroupLookups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookupCalls
}

// Click is one click on a message's element.
type Click struct {
	User     User
	ActionID string // the element's action_id
	// Option is the value of the option chosen in a select; "" for a
	// button.
	Option string
	// ActionTS is the click's action_ts; "" takes the clock's time.
	ActionTS string
}

// BlockActions is the block_actions payload Slack sends when c clicks an
// element of the message msg (a posted or updated message): the message
// as Slack has it now, the element as the message carries it (its
// block_id, value, selected option), the container and a response_url
// keyed by the click. It fails when the message has no such element:
// Slack cannot send a click on a button that is not there.
func (s *Server) BlockActions(msg Call, c Click) (json.RawMessage, string, error) {
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string          `json:"type"`
			ActionID string          `json:"action_id"`
			Text     json.RawMessage `json:"text"`
			Value    string          `json:"value"`
			Options  []struct {
				Text  json.RawMessage `json:"text"`
				Value string          `json:"value"`
			} `json:"options"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(msg.Blocks, &blocks); err != nil {
		return nil, "", fmt.Errorf("message %s: blocks: %w", msg.TS, err)
	}
	ts := c.ActionTS
	if ts == "" {
		now := s.now()
		ts = fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
	}
	var action map[string]any
	for _, b := range blocks {
		for _, e := range b.Elements {
			if b.Type != "actions" || e.ActionID != c.ActionID {
				continue
			}
			action = map[string]any{"type": e.Type, "action_id": e.ActionID, "block_id": b.BlockID, "action_ts": ts}
			switch e.Type {
			case "button":
				action["text"] = e.Text
				if e.Value != "" {
					action["value"] = e.Value
				}
			case "static_select":
				for _, o := range e.Options {
					if o.Value == c.Option {
						action["selected_option"] = map[string]any{"text": o.Text, "value": o.Value}
					}
				}
				if action["selected_option"] == nil {
					return nil, "", fmt.Errorf("message %s: %s has no option %q", msg.TS, c.ActionID, c.Option)
				}
			}
		}
	}
	if action == nil {
		return nil, "", fmt.Errorf("message %s has no element %q", msg.TS, c.ActionID)
	}
	key := msg.TS + "/" + c.User.ID + "/" + ts
	user := map[string]any{"id": c.User.ID, "username": c.User.Name, "name": c.User.Name, "team_id": TeamID}
	payload := map[string]any{
		"type": "block_actions", "token": "verification-token-deprecated", "api_app_id": AppID,
		"team":         map[string]any{"id": TeamID, "domain": TeamName},
		"user":         user,
		"trigger_id":   "trigger-" + key,
		"container":    map[string]any{"type": "message", "message_ts": msg.TS, "channel_id": msg.Channel, "is_ephemeral": false},
		"channel":      map[string]any{"id": msg.Channel, "name": strings.TrimPrefix(msg.Channel, "C")},
		"message":      map[string]any{"type": "message", "ts": msg.TS, "text": msg.Text, "blocks": msg.Blocks, "bot_id": "B0QOSWATCH"},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": s.ResponseURL(key),
		"actions":      []any{action},
	}
	js, err := json.Marshal(payload)
	return js, key, err
}

// Message returns the message at ts as it is now: as posted, with its
// latest update applied; false when none was posted.
func (s *Server) Message(ts string) (Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out Call
	found := false
	for _, c := range s.calls {
		switch {
		case c.TS != ts:
		case c.Method == "chat.postMessage":
			out, found = c, true
		case c.Method == "chat.update" && found:
			out.Text, out.Blocks, out.At = c.Text, c.Blocks, c.At
		}
	}
	return out, found
}

// SlashCommand is the form Slack posts for a slash command, as
// url.Values (HTTP) and as the JSON object Socket Mode carries.
func (s *Server) SlashCommand(u User, channel, command, text string) (url.Values, string) {
	now := s.now()
	key := fmt.Sprintf("cmd-%s-%d", u.ID, now.UnixNano())
	v := url.Values{
		"token": {"verification-token-deprecated"}, "team_id": {TeamID}, "team_domain": {TeamName},
		"channel_id": {channel}, "channel_name": {strings.TrimPrefix(channel, "C")},
		"user_id": {u.ID}, "user_name": {u.Name}, "command": {command}, "text": {text},
		"api_app_id": {AppID}, "is_enterprise_install": {"false"},
		"response_url": {s.ResponseURL(key)}, "trigger_id": {"trigger-" + key},
	}
	return v, key
}

// SocketPayload is a slash command's form as Socket Mode carries it: a
// JSON object of the same fields, every value a string (even
// is_enterprise_install: "false").
func SocketPayload(v url.Values) json.RawMessage {
	m := map[string]string{}
	for k := range v {
		m[k] = v.Get(k)
	}
	js, _ := json.Marshal(m)
	return js
}

// Sign returns the headers Slack signs a request with: the timestamp
// and v0= hex HMAC-SHA256 of "v0:{timestamp}:{body}" under secret.
func Sign(secret string, at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", ts)
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	return h
}

// Delivery is an app's answer to a request Slack sent it.
type Delivery struct {
	Status int
	Body   []byte
	Took   time.Duration
}

// Post sends body to an app's Request URL as Slack does, with headers
// (Sign's, or forged ones), and returns the app's answer. Slack gives up
// after 3 seconds; so does Post.
func Post(ctx context.Context, target string, h http.Header, body []byte) (Delivery, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(string(body)))
	if err != nil {
		return Delivery{}, err
	}
	req.Header = h.Clone()
	began := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Delivery{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return Delivery{Status: resp.StatusCode, Body: b, Took: time.Since(began)}, nil
}

// InteractionBody is the form body of an interaction: payload=<json>.
func InteractionBody(payload json.RawMessage) []byte {
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}
