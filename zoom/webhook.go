package zoom

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// WebhookPath is where the events listener serves Zoom's webhooks.
const WebhookPath = "/zoom/events"

// WebhookMaxBody is the largest webhook body read; a larger one is
// answered 413. A QSS event (one participant, one minute, every leg) is
// a few kB, a QoS summary some 20 kB.
const WebhookMaxBody = 256 << 10

// WebhookMaxSkew is how far a request's x-zm-request-timestamp may be from
// qoswatch's clock: an older (or future) signed request is a replay.
const WebhookMaxSkew = 5 * time.Minute

// Webhook returns the http.Handler of POST /zoom/events: it verifies the
// signature (x-zm-signature: "v0=" + hex HMAC-SHA256 of
// "v0:{x-zm-request-timestamp}:{body}" with the app's secret token) in
// constant time, refuses a timestamp more than WebhookMaxSkew off, answers
// endpoint.url_validation, and answers 200 to an event only once it is
// stored (Accept). Every refusal is counted in
// qoswatch_zoom_events_rejected_total and stores nothing.
//
//	405 not a POST · 401 a header missing, the signature wrong, the
//	timestamp unreadable or off · 413 a body over WebhookMaxBody · 400 JSON
//	that is no event · 503 the store failed (Zoom retries 5xx) · 200 else
func (h *Events) Webhook(secretToken string) http.Handler {
	return &webhook{h: h, secret: []byte(secretToken), logEvery: rate.Sometimes{Interval: time.Minute}}
}

type webhook struct {
	h        *Events
	secret   []byte
	logEvery rate.Sometimes // refusals are logged once a minute; all are counted
}

func (wh *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now() // the answer's latency: wall time, whatever the clock
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		wh.refuse(w, r, http.StatusMethodNotAllowed, "method", "POST only")
		return
	}
	sig, ts := r.Header.Get("x-zm-signature"), r.Header.Get("x-zm-request-timestamp")
	if sig == "" || ts == "" {
		wh.refuse(w, r, http.StatusUnauthorized, "missing_header", "x-zm-signature and x-zm-request-timestamp are required")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, WebhookMaxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			wh.refuse(w, r, http.StatusRequestEntityTooLarge, "too_large", "body over "+strconv.Itoa(WebhookMaxBody)+" bytes")
			return
		}
		wh.refuse(w, r, http.StatusBadRequest, "read_error", "could not read the body")
		return
	}
	if !hmac.Equal([]byte(sig), []byte(Signature(wh.secret, ts, body))) {
		wh.refuse(w, r, http.StatusUnauthorized, "bad_signature", "x-zm-signature does not match")
		return
	}
	at, ok := parseRequestTimestamp(ts)
	if !ok {
		wh.refuse(w, r, http.StatusUnauthorized, "bad_timestamp", "x-zm-request-timestamp is not a Unix time")
		return
	}
	if d := wh.h.cfg.Clock.Now().Sub(at); d > WebhookMaxSkew || d < -WebhookMaxSkew {
		wh.refuse(w, r, http.StatusUnauthorized, "stale_timestamp", "x-zm-request-timestamp is more than 5 minutes off")
		return
	}
	ev, out, err := wh.h.Accept(r.Context(), "webhook", body)
	switch {
	case errors.Is(err, errNotEvent):
		wh.logRefusal(r, "not_an_event", err)
		http.Error(w, "not a Zoom event: "+err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		wh.h.log.Error("a Zoom webhook could not be stored; answered 503 so that Zoom retries", "error", err)
		http.Error(w, "could not store the event; retry later", http.StatusServiceUnavailable)
		return
	case out == Validation:
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"plainToken": ev.Payload.PlainToken, "encryptedToken": hexHMAC(wh.secret, []byte(ev.Payload.PlainToken)),
		})
		wh.h.log.Info("answered Zoom's webhook endpoint validation")
	default:
		w.WriteHeader(http.StatusOK)
	}
	wh.h.m.ack.Observe(time.Since(start).Seconds())
}

func (wh *webhook) refuse(w http.ResponseWriter, r *http.Request, status int, reason, msg string) {
	wh.h.m.rejected.WithLabelValues("webhook", reason).Inc()
	wh.logRefusal(r, reason, errors.New(msg))
	http.Error(w, msg, status)
}

func (wh *webhook) logRefusal(r *http.Request, reason string, err error) {
	wh.logEvery.Do(func() {
		wh.h.log.Warn("refused a request to the Zoom webhook endpoint (logged once a minute; all are counted)",
			"reason", reason, "remote", r.RemoteAddr, "error", err)
	})
}

// Signature is the x-zm-signature Zoom sends with a webhook: "v0=" and the
// hex HMAC-SHA256, keyed with the secret token, of "v0:{timestamp}:{body}".
func Signature(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("v0:" + timestamp + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func hexHMAC(secret, msg []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// parseRequestTimestamp reads x-zm-request-timestamp: Unix seconds (Zoom's
// docs show "1739923528"); milliseconds are read too.
func parseRequestTimestamp(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	if n > 1e11 { // milliseconds
		return time.UnixMilli(n), true
	}
	return time.Unix(n, 0), true
}
