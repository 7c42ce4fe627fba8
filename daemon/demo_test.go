package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
)

// TestDemoRefusesWhatItCannotHonour: flags under which the story cannot
// be told are refused before anything runs, each saying why and what
// would do.
func TestDemoRefusesWhatItCannotHonour(t *testing.T) {
	ok := DemoConfig{Speed: 60, Duration: 30 * time.Minute, Attendees: 300, Rules: qoswatch.ExampleRules}
	for _, tc := range []struct {
		change func(*DemoConfig)
		want   []string
	}{
		{func(d *DemoConfig) { d.Duration = 5 * time.Minute }, []string{"--duration 5m0s: the story runs to minute 18", "a storm at minute 8", "use at least 20m0s"}},
		{func(d *DemoConfig) { d.Attendees = 10 }, []string{"--attendees 10: the storm is 40 attendees (numbers 100 to 139): use at least 140"}},
		{func(d *DemoConfig) { d.Attendees, d.Speed = 100000, 600 }, []string{"--attendees 100000: qoswatch's budget", "use at most 3000"}},
		{func(d *DemoConfig) { d.Speed = 6000 }, []string{"--speed 6000: want above 0 and at most 600"}},
		{func(d *DemoConfig) { d.Speed, d.Attendees, d.Duration = 0, 5, time.Minute }, []string{"--speed 0", "--attendees 5", "--duration 1m0s"}},
	} {
		dc := ok
		tc.change(&dc)
		var out bytes.Buffer
		err := Demo(context.Background(), dc, &out, slog.New(slog.DiscardHandler))
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%+v: Demo = %v, want a ConfigError", dc, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("the refusal lacks %q: %v", w, err)
			}
		}
		if out.Len() > 0 {
			t.Errorf("a refused demo printed %q", out.String())
		}
	}
}

// TestDemoBannerFollowsTheScenario: the banner lists the turns of the
// scenario that was built, with its people's names, and the webinar's
// end at the minute --duration gives.
func TestDemoBannerFollowsTheScenario(t *testing.T) {
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	sc := demoScenario(start, 200, 40*time.Minute, 3)
	b := banner(sc, 40*time.Minute)
	for _, ev := range demoStory {
		for i := ev.first; i < ev.first+ev.n; i++ {
			p := sc.Participants[i]
			if len(p.Degradations) < len(ev.kinds) || p.Degradations[0].From != time.Duration(ev.from)*time.Minute {
				t.Errorf("participant %d (%s) does not degrade at minute %d as the banner says: %+v", i, p.UserName, ev.from, p.Degradations)
			}
		}
	}
	for _, want := range []string{
		"minute  2  " + sc.Participants[1].UserName + "'s video freezes (frozen-video)",
		"minute  3  " + sc.Participants[2].UserName + "'s CPU is pegged (zoom-cpu-hog)",
		"minute  4  " + sc.Participants[40].UserName + "'s Wi-Fi weakens (weak-wifi)",
		"minute  8  a storm: 40 attendees behind one congested link break up (one grouped message) (choppy-audio)",
		"minute 15  " + sc.Participants[0].UserName + "'s screen share stutters until the end (stuttering-screen-share)",
		"minute 40  the webinar ends",
	} {
		if !strings.Contains(b, want) {
			t.Errorf("banner lacks %q:\n%s", want, b)
		}
	}
}

// TestDemoFailsWhenTheStoryIsNotTold: when a promised turn is not told
// (here the rules lack frozen-video), the demo says which and returns an
// error, so `qoswatch demo` exits non-zero.
func TestDemoFailsWhenTheStoryIsNotTold(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	rules := bytes.Replace(qoswatch.ExampleRules, []byte("name: frozen-video"), []byte("name: frozen-video-renamed"), 1)
	rules = bytes.ReplaceAll(rules, []byte("source_rule: frozen-video"), []byte("source_rule: frozen-video-renamed")) // its inhibition follows it
	if bytes.Equal(rules, qoswatch.ExampleRules) {
		t.Fatal("the example has no frozen-video rule to rename")
	}
	var out syncbuf.Buffer
	dc := DemoConfig{Speed: 300, Duration: 20 * time.Minute, Attendees: 140, Rules: rules, Listen: "127.0.0.1:0", Seed: 1}
	err := Demo(context.Background(), dc, &out, slog.New(slog.DiscardHandler))
	var ce *ConfigError
	if err == nil || errors.As(err, &ce) || !strings.Contains(err.Error(), "the demo's check failed: frozen-video told for 0 of 1") {
		t.Errorf("Demo = %v; want the check to fail naming frozen-video\n%s", err, out.String())
	}
}

// TestDemoInteractive: with --interactive, the console shows the buttons
// and "ack N" typed on the input acknowledges what message #N is about:
// the message is updated on the console ("Acknowledged by you") as it
// would be in Slack, and the story is still told.
func TestDemoInteractive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	in, typeIn := io.Pipe()
	defer typeIn.Close()
	var out syncbuf.Buffer
	dc := DemoConfig{Speed: 2 * demoSpeed, Duration: 20 * time.Minute, Attendees: 140, Rules: qoswatch.ExampleRules, Listen: "127.0.0.1:0", Seed: 1,
		Interactive: true, Input: in}
	done := make(chan error, 1)
	go func() { done <- Demo(context.Background(), dc, &out, slog.New(slog.DiscardHandler)) }()
	first := regexp.MustCompile(`── #(\d+) to [^\n]*──\n[^\n]*Firing: frozen-video`)
	var n string
	deadline := time.Now().Add(2 * time.Minute)
	for n == "" {
		if m := first.FindStringSubmatch(out.String()); m != nil {
			n = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no frozen-video message:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := io.WriteString(typeIn, "ack "+n+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Demo: %v\n%s", err, out.String())
	}
	all := out.String()
	for _, want := range []string{
		"Type, then Enter", "[Acknowledge] [Silence ▾] [Not an issue]",
		"» ack " + n + "\nAcknowledged frozen-video for ",
		"── #" + n + " in ", "Acknowledged by you",
		"Check: every turn of the story was told.",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the interactive demo's output lacks %q", want)
		}
	}
	if t.Failed() || testing.Verbose() {
		i := strings.Index(all, "» ack")
		t.Log(all[max(0, i-1500):min(len(all), i+2500)])
	}
}
