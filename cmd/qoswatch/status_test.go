package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/daemon"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/httpapi"
)

// TestStatusSaysWhatFeedsEachSource runs `qoswatch status` against the
// real HTTP API: a QSS-fed webinar and an events-fed meeting are told
// apart, the transports are said, and the token is sent.
func TestStatusSaysWhatFeedsEachSource(t *testing.T) {
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	st := daemon.Status{
		Poller: daemon.PollerStatus{Mode: "triage"},
		Push:   &daemon.PushStatus{Webhook: "[::]:8080", WebSocket: "connected", Lifecycle: true},
		Sources: []daemon.SourceStatus{
			{Source: "meeting:42", Topic: "Stand-up", Live: true, Feed: "events", LastEvent: at},
			{Source: "webinar:777", Topic: "Town hall", Live: true, Feed: "qss", LastEvent: at},
		},
	}
	const token = "status-test-token-0123456789"
	eng, err := engine.New(engine.NewMemoryStore(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Engine: eng, Token: token, Status: func(context.Context) any { return st }}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	env := envOf(map[string]string{"QOSWATCH_API_TOKEN": token})
	if code := run(context.Background(), []string{"qoswatch", "status", "--url", srv.URL}, &out, &errOut, env); code != 0 {
		t.Fatalf("status = %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"poller: triage", "webhooks on [::]:8080 · websocket connected · started/ended events flow",
		"webinar:777  Town hall", "qss (QoS pushed, not polled)", "meeting:42   Stand-up", "events (QoS polled)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"qoswatch", "status", "--url", srv.URL}, &out, &errOut, envOf(nil)); code != 1 ||
		!strings.Contains(errOut.String(), "401") {
		t.Errorf("status without the token = %d: %s", code, errOut.String())
	}
}
