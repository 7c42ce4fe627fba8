package scrub

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestWholeTokensOnly(t *testing.T) {
	const sec = "Zs3cr3tV4lue_0123"
	hook := "https://hooks.slack.com/services/T0AAAA/B0BBBB/abcdefghijklmnopqrstuvwx"
	s := New(sec, hook, "")
	for in, want := range map[string]string{
		"dial tcp 10.0.0.1:443: connect: no such host":             "dial tcp 10.0.0.1:443: connect: no such host",
		"reason: Invalid client_secret " + sec:                     "reason: Invalid client_secret [redacted]",
		"client_secret=" + sec + "&grant_type=account_credentials": "client_secret=[redacted]&grant_type=account_credentials",
		`"` + sec + `"`:              `"[redacted]"`,
		sec + sec:                    sec + sec, // not this secret as a token
		"x" + sec:                    "x" + sec,
		sec + "-more":                sec + "-more",
		"Post \"" + hook + "\": EOF": "Post \"[redacted]\": EOF",
		"POST /services/T0AAAA/B0BBBB/abcdefghijklmnopqrstuvwx 404": "POST [redacted] 404",
		"token abcdefghijklmnopqrstuvwx":                            "token [redacted]",
		"a%2Fb " + "Zs3cr3tV4lue_0123.":                             "a%2Fb [redacted].",
	} {
		if got := s.String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (*Scrubber)(nil).String("x"); got != "x" {
		t.Errorf("nil scrubber changed text: %q", got)
	}
}

// A secret with characters a URL escapes is scrubbed in its escaped form
// too (a form body or a query an error quotes).
func TestEscapedForm(t *testing.T) {
	s := New("p@ss/w0rd+long-enough")
	if got := s.String("body client_secret=p%40ss%2Fw0rd%2Blong-enough&x=1"); strings.Contains(got, "w0rd") {
		t.Errorf("escaped secret kept: %q", got)
	}
}

type secretStruct struct{ Token string }

func TestHandlerScrubsEveryPart(t *testing.T) {
	const sec = "xoxb-1111-2222-abcdefabcdef"
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		var base slog.Handler = slog.NewTextHandler(&buf, nil)
		if format == "json" {
			base = slog.NewJSONHandler(&buf, nil)
		}
		log := slog.New(New(sec).Handler(base))
		log = log.With("pre", "bearer "+sec).WithGroup("g")
		log.Error("posting with "+sec+" failed", "error", fmt.Errorf("wrap: %w", errors.New("token "+sec+" invalid")),
			"value", secretStruct{sec}, "n", 3, slog.Group("inner", "k", sec), "plain", "dial tcp")
		out := buf.String()
		if strings.Contains(out, "abcdefabcdef") {
			t.Errorf("%s: the secret shows: %s", format, out)
		}
		for _, want := range []string{"dial tcp", "[redacted]", "n"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %q is missing: %s", format, want, out)
			}
		}
	}
}
