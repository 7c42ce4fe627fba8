package rules

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestCheck: a good file gives one summary line and exit 0; a bad one
// every error with its source line and a caret, and exit 1.
func TestCheck(t *testing.T) {
	var out bytes.Buffer
	if code := Check(context.Background(), &out, "../rules.example.yaml"); code != 0 {
		t.Fatalf("exit %d: %s", code, &out)
	}
	if got, want := out.String(), "../rules.example.yaml: OK: 11 rules, 3 routes, 3 inhibitions\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	out.Reset()
	if code := Check(context.Background(), &out, "testdata/bad/many-errors.yaml", "testdata/bad/missing.yaml"); code != 1 {
		t.Fatalf("exit %d", code)
	}
	golden(t, "testdata/check-many-errors.out", out.Bytes())
}

// TestExplain: every rule against each sample, with every comparison's
// value and unit; missing values say so.
func TestExplain(t *testing.T) {
	set, err := Load("../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 15, 4, 0, 0, time.UTC)
	jane := sample(func(s *engine.Sample) {
		s.Time = at
		s.Participant.Device, s.Participant.NetworkType = "Mac", "Wifi"
		s.AudioInput.AvgLoss, s.AudioInput.Latency, s.AudioInput.Jitter = 3.5, 163, 18
		s.WiFiRSSI.AvgRSSI = -74
		s.CPUUsage.ZoomAvgCPUUsage, s.CPUUsage.SystemMaxCPUUsage = 14, 41
	})
	kim := sample(func(s *engine.Sample) {
		s.Time = at
		s.Participant = engine.Participant{UserID: "16779264", UserName: "Dr. Kim", Role: engine.RolePanelist}
		s.AudioInput.AvgLoss, s.AudioInput.Latency, s.AudioInput.Jitter = 1.5, 90, 10
		s.VideoInput.FrameRate = 3
	})
	var out bytes.Buffer
	if err := Explain(context.Background(), &out, set, []engine.Sample{*jane, *kim}); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/explain.out", out.Bytes())
	for _, want := range []string{
		"HOLDS  choppy-audio             audio_input.avg_loss = 3.5% > 2% ✓, latency = 163 ms > 150 ms ✓",
		`HOLDS  speaker-degraded         participant.role = "panelist" in ["host", "panelist"] ✓`,
		"video_input.frame_rate = missing < 5 fps ✗",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain lacks %q", want)
		}
	}
}

// TestExplainInhibitions: on one webinar's newest minutes, the presenter
// inhibition of the example says whom speaker-degraded holds for and how
// many attendees' alerts it would fold; nothing to fold without them.
func TestExplainInhibitions(t *testing.T) {
	set, err := Load("../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 15, 4, 0, 0, time.UTC)
	host := sample(func(s *engine.Sample) {
		s.Time = at
		s.Participant = engine.Participant{UserID: "1", UserName: "Dana Host", Role: engine.RoleHost}
		s.AudioInput.AvgLoss = 4
	})
	samples := []engine.Sample{*host}
	for _, id := range []string{"2", "3", "4"} {
		samples = append(samples, *sample(func(s *engine.Sample) {
			s.Time = at
			s.Participant = engine.Participant{UserID: id, Role: engine.RoleAttendee}
			s.AudioOutput.AvgLoss = 6
		}))
	}
	var out bytes.Buffer
	if err := ExplainInhibitions(context.Background(), &out, set, samples); err != nil {
		t.Fatal(err)
	}
	want := `  speaker-degraded folds choppy-incoming-audio, audience-hears-breakup (match source, window 2m): speaker-degraded holds for Dana Host (host); the alerts of 3 others who hold a target would be folded into it, not posted ("3 receive it degraded")`
	if !strings.Contains(out.String(), want+"\n") {
		t.Errorf("got\n%s\nwant a line\n%s", &out, want)
	}
	out.Reset()
	if err := ExplainInhibitions(context.Background(), &out, set, samples[:1]); err != nil {
		t.Fatal(err)
	}
	if want := "speaker-degraded holds for Dana Host (host); no one else holds a target: nothing to fold"; !strings.Contains(out.String(), want) {
		t.Errorf("got\n%s\nwant %q", &out, want)
	}
}
