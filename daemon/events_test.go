package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

const testWebhookSecret = "daemon-test-webhook-secret"

// TestPushWebhooksToAlert runs the daemon with the public listener and
// sends a webinar's events as Zoom would (signed, QSS on). The webinar is
// not on the fake's API: what fires comes by push alone. A forged request
// is refused and changes nothing.
func TestPushWebhooksToAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a simulated webinar")
	}
	start := time.Now().UTC().Truncate(time.Minute)
	clock := fakeclock.NewScaled(start, 120)
	sc := zoomtest.Generate(zoomtest.Gen{ID: 5150, Topic: "Pushed webinar", Start: start, Duration: 12 * time.Minute, Participants: 6, Seed: 3})
	sc.Participants[1].Join, sc.Participants[1].Leave = 0, 0
	sc.Participants[1].Degradations = []zoomtest.Degradation{{Kind: zoomtest.CPUHog, From: time.Minute, To: 7 * time.Minute}}
	fake := zoomtest.New(t, zoomtest.Options{Now: clock.Now}) // no scenario: polling finds nothing
	dir := t.TempDir()
	cfg := Defaults()
	cfg.Zoom = zoomConfig(fake)
	cfg.Rules, cfg.DB, cfg.Listen, cfg.Watch = filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "db"), "127.0.0.1:0", []string{"webinars"}
	writeFile(t, cfg.Rules, qoswatch.ExampleRules)
	cfg.Events = EventsConfig{Listen: "127.0.0.1:0", WebhookSecret: testWebhookSecret}

	var logs, console syncbuf.Buffer
	addrc, apic := make(chan string, 1), make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Clock: clock, Console: &console,
			EventsListening: func(a string) { addrc <- a }, Listening: func(a string) { apic <- a }, HUP: make(chan os.Signal)})
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("Run: %v\n%s", err, logs.String())
	}
	sender := &zoomtest.WebhookSender{URL: "http://" + addr + zoom.WebhookPath, Secret: testWebhookSecret, Now: clock.Now}

	resp, err := sender.Send(sc.Events(start, start.Add(time.Minute), zoomtest.PushOptions{})[0].Body, zoomtest.SendBadSignature)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged webhook: %s, want 401", resp.Status)
	}
	for _, ev := range sc.Events(start, start.Add(10*time.Minute), zoomtest.PushOptions{QSS: true}) {
		engine.Sleep(context.Background(), clock, ev.At.Sub(clock.Now()))
		if _, status, err := sender.Deliver(ev.Body); err != nil || status != http.StatusOK {
			t.Fatalf("%s: %d %v\n%s", ev.Name, status, err, logs.String())
		}
	}
	name := sc.Participants[1].UserName
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(console.String(), "zoom-cpu-hog") || !strings.Contains(console.String(), name) {
		if time.Now().After(deadline) {
			t.Fatalf("no zoom-cpu-hog alert for %s on the console:\n%s\nlog:\n%s", name, console.String(), logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// qoswatch status: the webinar is QSS-fed.
	resp, err = http.Get("http://" + <-apic + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st.Push == nil || st.Push.Webhook != addr || st.Push.WebSocket != "off" || !st.Push.Lifecycle ||
		len(st.Sources) != 1 || st.Sources[0].Source != "webinar:5150" || st.Sources[0].Feed != "qss" || !st.Sources[0].Live {
		t.Errorf("status: %+v %+v", st.Push, st.Sources)
	}
	if !strings.Contains(console.String(), "Zoom flagged: High CPU occupation") {
		t.Errorf("the firing does not show Zoom's own alert (webinar.alert 90s after the onset):\n%s", console.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if strings.Contains(logs.String(), testWebhookSecret) {
		t.Error("the webhook secret reached the log")
	}
}

// TestEventsListenerCutsSlowClients: the public listener's timeouts end a
// request whose headers or body trickle in (a slowloris), and nothing is
// stored from it.
func TestEventsListenerCutsSlowClients(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the listener's timeouts (10s)")
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // after the parallel subtests
	set, err := rules.Parse("r.yaml", qoswatch.ExampleRules)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(db, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng.SetRules(context.Background(), set.Rules())
	ev, err := zoom.NewEvents(zoom.EventsConfig{Queue: db, Sink: eng})
	if err != nil {
		t.Fatal(err)
	}
	srv := eventsServer(publicMux(ev, testWebhookSecret, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	slow := func(t *testing.T, head string, trickle string, limit time.Duration) {
		t.Parallel()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		began := time.Now()
		io.WriteString(c, head)
		go func() { // one byte a second, never the whole
			for i := 0; i < len(trickle); i++ {
				if _, err := c.Write([]byte{trickle[i]}); err != nil {
					return
				}
				time.Sleep(time.Second)
			}
		}()
		c.SetReadDeadline(time.Now().Add(limit + 5*time.Second))
		// The server answers an error or just closes: either way the read
		// ends, before our deadline.
		_, err = bufio.NewReader(c).ReadString(0)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("still connected after %v", time.Since(began))
		}
		if took := time.Since(began); took > limit+2*time.Second {
			t.Errorf("cut after %v, want within %v", took, limit)
		}
	}
	t.Run("headers", func(t *testing.T) {
		slow(t, "POST /zoom/events HTTP/1.1\r\nHost: x\r\n", strings.Repeat("X-Slow: y\r\n", 30), srv.ReadHeaderTimeout)
	})
	t.Run("body", func(t *testing.T) {
		slow(t, "POST /zoom/events HTTP/1.1\r\nHost: x\r\nx-zm-signature: v0=00\r\nx-zm-request-timestamp: 1\r\nContent-Length: 100000\r\n\r\n",
			strings.Repeat("{", 60), srv.ReadTimeout)
	})
	t.Cleanup(func() {
		if n, _ := db.InboxDepth(context.Background()); n != 0 {
			t.Errorf("%d events stored from slow clients", n)
		}
	})
}

// TestEventSettings: every mistake in the push settings is named, and no
// secret is quoted.
func TestEventSettings(t *testing.T) {
	base := Defaults()
	base.Zoom = ZoomConfig{AccountID: "a", ClientID: "c", ClientSecret: "client-secret-123456", APIURL: "https://api.zoom.us/v2", OAuthURL: "https://zoom.us/oauth/token", Plan: "pro"}
	for _, c := range []struct {
		name string
		ev   EventsConfig
		want string
	}{
		{"listener without a secret", EventsConfig{Listen: ":8080"}, "set ZOOM_WEBHOOK_SECRET_TOKEN"},
		{"secret without a listener", EventsConfig{WebhookSecret: testWebhookSecret}, "QOSWATCH_EVENTS_LISTEN is not"},
		{"short secret", EventsConfig{Listen: ":8080", WebhookSecret: "short"}, "ZOOM_WEBHOOK_SECRET_TOKEN is 5 characters"},
		{"not host:port", EventsConfig{Listen: "8080", WebhookSecret: testWebhookSecret}, "QOSWATCH_EVENTS_LISTEN=\"8080\""},
		{"the admin port", EventsConfig{Listen: base.Listen, WebhookSecret: testWebhookSecret}, "need their own ports"},
		{"ws url with credentials", EventsConfig{WSSubscription: "sub", WSURL: "wss://u:" + testWebhookSecret + "@ws.zoom.us/ws"}, "ZOOM_WS_URL is not"},
		{"ws url not ws", EventsConfig{WSSubscription: "sub", WSURL: "https://ws.zoom.us/ws"}, "ZOOM_WS_URL is not"},
	} {
		cfg := base
		cfg.Events = c.ev
		if cfg.Events.WSURL == "" {
			cfg.Events.WSURL = zoom.DefaultWSURL
		}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), testWebhookSecret) {
			t.Errorf("%s: %v, want %q (and no secret)", c.name, err, c.want)
		}
	}
	ok := base
	ok.Events = EventsConfig{Listen: ":8080", WebhookSecret: testWebhookSecret, WSSubscription: "sub", WSURL: zoom.DefaultWSURL}
	if err := ok.Validate(); err != nil {
		t.Errorf("good settings: %v", err)
	}
}
