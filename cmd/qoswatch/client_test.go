package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/qoswatch/qoswatch/engine"
)

func TestParseMatcher(t *testing.T) {
	for in, want := range map[string]engine.Matcher{
		"rule=choppy-audio":   {Name: "rule", Value: "choppy-audio"},
		"source=webinar:123":  {Name: "source", Value: "webinar:123"},
		"participant=~1677.*": {Name: "participant", Value: "1677.*", IsRegex: true},
		"team=support=ops":    {Name: "team", Value: "support=ops"},
	} {
		got, err := parseMatcher(in)
		if err != nil || got != want {
			t.Errorf("parseMatcher(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"rule", "=x", "rule=", "rule=~"} {
		if _, err := parseMatcher(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("parseMatcher(%q) = %v, want an error naming it", bad, err)
		}
	}
}

func TestDefaultURLFromListen(t *testing.T) {
	for listen, want := range map[string]string{
		"": "http://127.0.0.1:9797", ":9797": "http://127.0.0.1:9797", "0.0.0.0:8080": "http://127.0.0.1:8080",
		"10.0.0.5:9797": "http://10.0.0.5:9797", "[::]:9797": "http://127.0.0.1:9797", "[::1]:9797": "http://[::1]:9797",
	} {
		if got := defaultURL(envOf(map[string]string{"QOSWATCH_LISTEN": listen})); got != want {
			t.Errorf("QOSWATCH_LISTEN=%q: %s, want %s", listen, got, want)
		}
	}
}

func TestHealthcheckFailsWhenNothingListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // now nothing listens there
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"qoswatch", "healthcheck", "--url", "http://" + addr}, &out, &errOut, envOf(nil))
	if code != 1 || !strings.Contains(errOut.String(), "unhealthy: GET http://"+addr+"/healthz") {
		t.Errorf("healthcheck = %d %s", code, errOut.String())
	}
}

func TestSilenceAddNeedsAComment(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"qoswatch", "silence", "add", "rule=x"}, &out, &errOut, envOf(nil))
	if code != 2 || !strings.Contains(errOut.String(), "--comment is required") {
		t.Errorf("silence add without comment = %d %s", code, errOut.String())
	}
}
