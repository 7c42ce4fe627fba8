package daemon

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// checkObject reads one JSON object from dec (its '{' already read) and
// reports keys it repeats and keys with an empty value, at any depth.
func checkObject(dec *json.Decoder, path string, problems *[]string) {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			*problems = append(*problems, err.Error())
			return
		}
		key := tok.(string)
		if seen[key] {
			*problems = append(*problems, "repeats "+path+key)
		}
		seen[key] = true
		val, err := dec.Token()
		if err != nil {
			*problems = append(*problems, err.Error())
			return
		}
		switch v := val.(type) {
		case json.Delim:
			if v == '{' {
				checkObject(dec, path+key+".", problems)
			} else {
				var depth = 1
				for depth > 0 {
					t, err := dec.Token()
					if err != nil {
						return
					}
					if d, ok := t.(json.Delim); ok {
						if d == '[' || d == '{' {
							depth++
						} else {
							depth--
						}
					}
				}
			}
		case string:
			if v == "" {
				*problems = append(*problems, "empty "+path+key)
			}
		}
	}
	dec.Token() // '}'
}

// lineProblems are what is wrong with one JSON log line.
func lineProblems(line string) []string {
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return []string{"not a JSON object"}
	}
	var problems []string
	checkObject(dec, "", &problems)
	return problems
}

func TestLineProblems(t *testing.T) {
	for line, want := range map[string]string{
		`{"msg":"ok","component":"zoom","n":1,"g":{"a":"b"}}`:       "",
		`{"msg":"x","component":"zoom","component":"zoom"}`:         "repeats component",
		`{"msg":"x","source":""}`:                                   "empty source",
		`{"msg":"x","g":{"k":"v","k":"w"},"list":[{"a":""}],"y":2}`: "repeats g.k",
	} {
		if got := strings.Join(lineProblems(line), ","); got != want {
			t.Errorf("lineProblems(%s) = %q, want %q", line, got, want)
		}
	}
}

// TestEveryLogLineIsClean runs the daemon against the fake Zoom through
// a firing, a resolve, a Zoom fault, a bad and a good reload and a
// shutdown, logging JSON at debug level, and checks every line: no key
// twice (component=zoom component=zoom), no empty value (source=).
func TestEveryLogLineIsClean(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a simulated webinar")
	}
	cfg, clock, start := cpuHogWebinarWith(t, 7171, 12*time.Minute, 6*time.Minute, func(o *zoomtest.Options) {
		l := zoomtest.PlanLimits(zoomtest.Business)
		l.Daily = 12 // Zoom's Daily-limit after a few minutes: the client's and poller's warnings too
		o.Limits = &l
	})
	var logs syncbuf.Buffer
	hup := make(chan os.Signal, 1)
	d := startRun(t, cfg, Options{Clock: clock, HUP: hup, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	engine.Sleep(t.Context(), clock, start.Add(5*time.Minute).Sub(clock.Now()))
	writeFile(t, cfg.Rules, []byte("rules:\n  - name: x\n    when: lantecy > 1\n"))
	hup <- syscall.SIGHUP
	engine.Sleep(t.Context(), clock, time.Minute)
	writeFile(t, cfg.Rules, qoswatch.ExampleRules)
	hup <- syscall.SIGHUP
	engine.Sleep(t.Context(), clock, start.Add(13*time.Minute).Sub(clock.Now()))
	if err := d.stop(t, time.Minute); err != nil {
		t.Fatal(err)
	}
	text := logs.String()
	for _, want := range []string{"qoswatch starting", "checking the Zoom app", "qoswatch running", "rules reload failed", "rules reloaded", "stopped cleanly"} {
		if !strings.Contains(text, want) {
			t.Errorf("the log never says %q", want)
		}
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		n++
		if p := lineProblems(line); len(p) > 0 {
			t.Errorf("%s: %s", strings.Join(p, ", "), line)
		}
	}
	t.Logf("%d log lines checked", n)
	if t.Failed() {
		t.Log(text)
	}
}

// TestStartupSaysWhatItTries: with Zoom's token endpoint unreachable the
// first call takes many seconds of retries; the log says at once, at
// info, what the daemon is trying and where.
func TestStartupSaysWhatItTries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // a port nobody answers on
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rules.yaml"), qoswatch.ExampleRules)
	cfg := Defaults()
	cfg.Zoom = ZoomConfig{AccountID: "acct", ClientID: "client", ClientSecret: "a-client-secret-of-32-characters",
		APIURL: "http://" + closed + "/v2", OAuthURL: "http://" + closed + "/oauth/token", Plan: "pro"}
	cfg.Rules, cfg.DB, cfg.Listen = filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "db"), "127.0.0.1:0"
	var logs syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Console: io.Discard, HUP: make(chan os.Signal)})
	}()
	defer func() { cancel(); <-done }()
	want := "checking the Zoom app: getting a token and listing live webinars"
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("5s into the start the log does not say what it tries (%q):\n%s", want, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	line := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, want) {
			line = l
		}
	}
	if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "oauth_url=http://"+closed+"/oauth/token") {
		t.Errorf("the line does not name the token endpoint at info: %s", line)
	}
}
