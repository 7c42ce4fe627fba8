package rules

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

func mustParse(t testing.TB, src string) *Set {
	t.Helper()
	set, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func sample(set func(s *engine.Sample)) *engine.Sample {
	s := engine.NewSample()
	s.Source = engine.Source{Kind: engine.Webinar, ID: "81234567890", Topic: "All-hands"}
	s.Participant = engine.Participant{UserID: "16778240", UserName: "Jane Doe", Role: engine.RoleAttendee}
	set(&s)
	s.Aggregate()
	return &s
}

func TestEval(t *testing.T) {
	tests := []struct {
		when string
		s    *engine.Sample
		want bool
	}{
		{"audio_input.avg_loss > 2 && latency > 150", sample(func(s *engine.Sample) { s.AudioInput.AvgLoss, s.AudioInput.Latency = 3.5, 160 }), true},
		{"audio_input.avg_loss > 2 && latency > 150", sample(func(s *engine.Sample) { s.AudioInput.AvgLoss, s.AudioInput.Latency = 3.5, 120 }), false},
		// Missing values are NaN: every comparison is false, either way round.
		{"video_input.frame_rate < 5", sample(func(s *engine.Sample) {}), false},
		{"video_input.frame_rate >= 5", sample(func(s *engine.Sample) {}), false},
		{"known(video_input.frame_rate)", sample(func(s *engine.Sample) {}), false},
		{"known(video_input.frame_rate)", sample(func(s *engine.Sample) { s.VideoInput.FrameRate = 0 }), true},
		{"!known(participant.device)", sample(func(s *engine.Sample) {}), true},
		{`participant.role in ["host", "panelist"]`, sample(func(s *engine.Sample) { s.Participant.Role = "panelist" }), true},
		{`participant.role in ["host", "panelist"]`, sample(func(s *engine.Sample) {}), false},
		{`source.kind == "webinar" && participant.user_name startsWith "Jane"`, sample(func(s *engine.Sample) {}), true},
		{`source.kind in ["meeting"]`, sample(func(s *engine.Sample) {}), false},
		{`source.kind != "meeting"`, sample(func(s *engine.Sample) {}), true},
		// latency is the worst of the streams present.
		{"latency > 150", sample(func(s *engine.Sample) { s.AudioInput.Latency, s.VideoOutput.Latency = 20, 180 }), true},
	}
	for _, tt := range tests {
		set := mustParse(t, "rules:\n  - name: r\n    when: '"+tt.when+"'\n")
		got, err := set.Rules()[0].When.Eval(tt.s)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %v, %v; want %v", tt.when, got, err, tt.want)
		}
	}
}

// TestEvalConcurrent evaluates one condition from many goroutines, as the
// engine and an explain may: the pooled VMs must not mix runs (-race).
func TestEvalConcurrent(t *testing.T) {
	set := mustParse(t, "rules:\n  - name: r\n    when: audio_input.avg_loss > 2 && latency > 150\n")
	c := set.Rules()[0].When
	hot := sample(func(s *engine.Sample) { s.AudioInput.AvgLoss, s.AudioInput.Latency = 3.5, 160 })
	cold := sample(func(s *engine.Sample) { s.AudioInput.AvgLoss, s.AudioInput.Latency = 0, 160 })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				s, want := hot, true
				if (g+i)%2 == 0 {
					s, want = cold, false
				}
				if got, err := c.Eval(s); got != want || err != nil {
					t.Errorf("got %v, %v; want %v", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestExplainTerms(t *testing.T) {
	set := mustParse(t, `rules:
  - name: r
    when: >-
      participant.role in ["host", "panelist"] && (audio_input.avg_loss > 2 || latency > 150)
      && known(video_input.frame_rate) && 100 < audio_input.bitrate
`)
	s := sample(func(s *engine.Sample) {
		s.Participant.Role = "host"
		s.AudioInput.AvgLoss, s.AudioInput.Latency, s.AudioInput.Bitrate = 3.5, 120, 80
	})
	var got []string
	for _, term := range set.Rules()[0].When.Explain(s) {
		got = append(got, term.String()+" | "+withUnits(term))
	}
	// The terms are plain, as engine.Term documents; the tool adds units.
	want := []string{
		`participant.role = "host" in ["host", "panelist"] ✓ | participant.role = "host" in ["host", "panelist"] ✓`,
		`audio_input.avg_loss = 3.5 > 2 ✓ | audio_input.avg_loss = 3.5% > 2% ✓`,
		`latency = 120 > 150 ✗ | latency = 120 ms > 150 ms ✗`,
		`video_input.frame_rate = missing is known ✗ | video_input.frame_rate = missing is known ✗`,
		`100 = 100 < audio_input.bitrate (80) ✗ | 100 = 100 < audio_input.bitrate (80) ✗`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDefaultsInherited(t *testing.T) {
	set := mustParse(t, `defaults: {for: 90s, keep_firing_for: 30s, repeat_interval: 2h, severity: critical, channel: "#x"}
rules:
  - name: a
    when: latency > 150
  - name: b
    when: latency > 150
    for: 0s
    severity: info
    labels: {team: support}
`)
	r := set.Rules()
	if r[0].For != 90*time.Second || r[0].KeepFiringFor != 30*time.Second || r[0].RepeatInterval != 2*time.Hour || r[0].Severity != engine.SeverityCritical {
		t.Errorf("a did not inherit the defaults: %+v", r[0])
	}
	if r[1].For != 0 || r[1].KeepFiringFor != 30*time.Second || r[1].Severity != engine.SeverityInfo || r[1].Labels["team"] != "support" {
		t.Errorf("b: %+v", r[1])
	}
	if r[0].Clear != nil || r[0].Summary != nil {
		t.Errorf("a has a clear or a summary it did not write")
	}
	bare := mustParse(t, "rules:\n  - name: a\n    when: latency > 150\n").Rules()[0]
	if bare.For != DefaultFor || bare.KeepFiringFor != DefaultKeepFiringFor || bare.RepeatInterval != DefaultRepeatInterval || bare.Severity != DefaultSeverity {
		t.Errorf("built-in defaults: %+v", bare)
	}
}

// ack_expiry: a default of 1h, a defaults value every rule inherits, a
// rule's own, and 0s for an ack that holds until the alert resolves.
func TestAckExpiry(t *testing.T) {
	if bare := mustParse(t, "rules:\n  - name: a\n    when: latency > 150\n").Rules()[0]; bare.AckExpiry != time.Hour {
		t.Errorf("built-in ack_expiry = %s, want 1h", bare.AckExpiry)
	}
	r := mustParse(t, `defaults: {ack_expiry: 30m}
rules:
  - name: a
    when: latency > 150
  - name: b
    when: latency > 150
    ack_expiry: 0s
  - name: c
    when: latency > 150
    ack_expiry: 4h
`).Rules()
	if r[0].AckExpiry != 30*time.Minute || r[1].AckExpiry != 0 || r[2].AckExpiry != 4*time.Hour {
		t.Errorf("ack_expiry = %s, %s, %s; want 30m, 0s, 4h", r[0].AckExpiry, r[1].AckExpiry, r[2].AckExpiry)
	}
}

func TestRoute(t *testing.T) {
	set := mustParse(t, `defaults: {channel: "#fallback"}
routes:
  - when: severity == "critical" && labels.team == "av"
    channel: "#av-oncall"
    mention: "<!here>"
  - when: participant.role == "host" || source.topic contains "Board"
    channel: "#vip"
    redact: [ip_address, email]
  - when: rule == "weak-wifi"
rules:
  - name: a
    when: latency > 150
`)
	n := func(rule string, sev engine.Severity, labels map[string]string, role, topic string) *engine.Notification {
		return &engine.Notification{
			Rule:        engine.RuleInfo{Name: rule, Severity: sev, Labels: labels},
			Source:      engine.Source{Kind: engine.Webinar, ID: "1", Topic: topic},
			Participant: engine.Participant{UserID: "u", Role: role},
		}
	}
	tests := []struct {
		n    *engine.Notification
		want string
	}{
		{n("a", engine.SeverityCritical, map[string]string{"team": "av"}, "", ""), "#av-oncall <!here> []"},
		{n("a", engine.SeverityCritical, nil, "host", ""), "#vip  [ip_address email]"},                     // first match wins; nil labels do not fail
		{n("a", engine.SeverityWarning, nil, "", "Board meeting"), "#vip  [ip_address email]"},             // source
		{n("weak-wifi", engine.SeverityInfo, nil, "", ""), "#fallback  []"},                                // a route without channel takes defaults.channel
		{n("a", engine.SeverityWarning, map[string]string{"team": "av"}, "attendee", ""), "#fallback  []"}, // no match
	}
	for i, tt := range tests {
		r := set.Route(tt.n)
		if got := r.Channel + " " + r.Mention + " " + strings.Join(strings.Fields("["+strings.Join(r.Redact, " ")+"]"), " "); got != tt.want {
			t.Errorf("%d: got %q, want %q", i, got, tt.want)
		}
	}
}

func TestSummaryRender(t *testing.T) {
	set := mustParse(t, `rules:
  - name: a
    when: latency > 150
    labels: {team: support}
    summary: "{{ .participant.user_name }} sends {{ num .audio_input.avg_loss }}% loss, video {{ num .video_input.frame_rate }} fps ({{ .labels.team }})"
`)
	n := &engine.Notification{Rule: engine.RuleInfo{Name: "a", Labels: map[string]string{"team": "support"}},
		Participant: engine.Participant{UserName: "Jane Doe"}, Sample: engine.NewSample()}
	n.Sample.AudioInput.AvgLoss = 3.456
	got, err := set.Rules()[0].Summary.Render(n)
	if want := "Jane Doe sends 3.5% loss, video missing fps (support)"; got != want || err != nil {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
}

// TestNoPanicOnGarbage feeds the loader bytes that are not a rules file.
func TestNoPanicOnGarbage(t *testing.T) {
	for _, src := range []string{
		"", "\x00\xff", "[1, 2", "- a\n- b\n", "rules: 5", "rules: [5]", "rules:\n  - 5\n", "rules: {a: b}",
		"defaults: [1]\nrules:\n  - name: a\n    when: latency > 1\n",
		"rules:\n  - &x {name: a, when: 'latency > 1'}\n  - *x\n",
		"rules:\n  - name: a\n    when: latency > 1\n    labels: {a: [1]}\n",
		"---\nrules: []\n---\nrules: []\n", "rules:\n  - name: a\n    when: '\"' \n",
	} {
		if _, err := Parse("g.yaml", []byte(src)); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
	if !math.IsNaN(engine.NaN) {
		t.Fatal("NaN")
	}
}

// TestAnchors: authors share thresholds with YAML anchors, kept under an
// x- key or on a rule, and override merged keys.
func TestAnchors(t *testing.T) {
	set := mustParse(t, `x-speaker: &speaker {severity: critical, for: 1m, labels: {team: av}}
rules:
  - &base {name: choppy-audio, when: 'audio_input.avg_loss > 2', severity: warning}
  - <<: *base
    name: choppy-audio-strict
    when: audio_input.avg_loss > 1
  - <<: *speaker
    name: speaker-jitter
    when: audio_input.jitter > 40
`)
	r := set.Rules()
	if len(r) != 3 {
		t.Fatalf("%d rules", len(r))
	}
	if r[1].Name != "choppy-audio-strict" || r[1].When.(*Condition).String() != "audio_input.avg_loss > 1" || r[1].Severity != engine.SeverityWarning {
		t.Errorf("merge override: %+v", r[1])
	}
	if r[2].Severity != engine.SeverityCritical || r[2].For != time.Minute || r[2].Labels["team"] != "av" {
		t.Errorf("x- anchor: %+v", r[2])
	}
}

// report.channel turns the post-webinar report on; check says where it
// goes; a blank one is an error at its position; without it, no report.
func TestReportChannel(t *testing.T) {
	const body = "defaults: {channel: \"#av\"}\nrules:\n  - name: lossy\n    when: avg_loss > 2\n"
	set, err := Parse("r.yaml", []byte(body+"report:\n  channel: \"#webinar-reports\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.ReportChannel(); got != "#webinar-reports" {
		t.Errorf("ReportChannel() = %q", got)
	}
	if set, err := Parse("r.yaml", []byte(body)); err != nil || set.ReportChannel() != "" {
		t.Errorf("without report: %q, %v", set.ReportChannel(), err)
	}
	_, err = Parse("r.yaml", []byte(body+"report:\n  channel: \"  \"\n"))
	if err == nil || !strings.Contains(err.Error(), "r.yaml:6:") || !strings.Contains(err.Error(), "report.channel: blank") {
		t.Errorf("blank report.channel: %v", err)
	}
	_, err = Parse("r.yaml", []byte(body+"report:\n  chanel: \"#x\"\n"))
	if err == nil || !strings.Contains(err.Error(), "chanel") {
		t.Errorf("misspelt key under report: %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(path, []byte(body+"report: {channel: \"#webinar-reports\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := Check(t.Context(), &out, path); code != 0 || !strings.Contains(out.String(), "OK: 1 rules, 0 routes, the report to #webinar-reports") {
		t.Errorf("check = %d: %s", code, out.String())
	}
}
