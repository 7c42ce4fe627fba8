package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// moreRules are appended to rules.example.yaml's nine single-sample rules (its `rules:`
// list is the file's last section) to make the 20 of a realistic file:
// eleven further rules of rules/testdata/twenty.rules.yaml, with the
// severities, labels, `for` and summaries a real file has, so a
// notification renders its template as it does in production.
const moreRules = `
  - name: high-jitter
    when: jitter > 60
    labels: {team: support}
    summary: "{{ .participant.user_name }}: {{ num .jitter }} ms jitter"
  - name: high-latency
    when: latency > 300
    for: 3m
    labels: {team: support}
    summary: "{{ .participant.user_name }}: {{ num .latency }} ms latency"
  - name: burst-loss
    when: max_loss > 20 && avg_loss > 2
    labels: {team: support}
    summary: "{{ .participant.user_name }} loses packets in bursts ({{ num .max_loss }}% max, {{ num .avg_loss }}% average)"
  - name: low-audio-bitrate
    when: audio_input.bitrate < 12 && known(audio_input.bitrate)
    severity: info
    labels: {team: av}
    summary: "{{ .participant.user_name }} sends audio at {{ num .audio_input.bitrate }} kbps"
  - name: low-video-resolution
    when: video_input.height < 180 && video_input.frame_rate > 10
    severity: info
    labels: {team: av}
    summary: "{{ .participant.user_name }} sends video at {{ .video_input.resolution }}"
  - name: system-cpu-maxed
    when: cpu_usage.system_max_cpu_usage > 98
    severity: info
    labels: {team: it}
    summary: "{{ .participant.user_name }}'s {{ .participant.device }} runs at {{ num .cpu_usage.system_max_cpu_usage }}% CPU"
  - name: wifi-and-loss
    when: wifi_rssi.min_rssi < -80 && avg_loss > 1
    labels: {team: it}
    summary: "{{ .participant.user_name }} loses {{ num .avg_loss }}% on Wi-Fi at {{ num .wifi_rssi.min_rssi }} dBm"
  - name: cellular-loss
    when: 'participant.network_type startsWith "Cellular" && avg_loss > 3'
    severity: info
    labels: {team: support}
    summary: "{{ .participant.user_name }} loses {{ num .avg_loss }}% on a cellular network"
  - name: host-video-frozen
    when: 'participant.role == "host" && video_input.frame_rate < 10'
    for: 1m
    severity: critical
    labels: {team: av}
    summary: "The host's video is frozen ({{ num .video_input.frame_rate }} fps)"
  - name: poor-quality-rating
    when: 'participant.audio_quality in ["poor", "bad"]'
    for: 3m
    severity: info
    labels: {team: support}
    summary: "Zoom rates {{ .participant.user_name }}'s audio {{ .participant.audio_quality }}"
  - name: old-client-loss
    when: 'participant.version < "5.15" && avg_loss > 2'
    severity: info
    labels: {team: it}
    summary: "{{ .participant.user_name }} runs Zoom {{ .participant.version }} and loses {{ num .avg_loss }}%"
`

// benchRules compiles rules.example.yaml plus moreRules: 20 rules that
// read single samples (the example's windowed and webinar-level rules are
// left out, so the figures stay comparable with those before them; their
// cost is in rules' BenchmarkWindowRule).
func benchRules(tb testing.TB) []engine.Rule {
	tb.Helper()
	example := filepath.Join("..", "..", "rules.example.yaml")
	data, err := os.ReadFile(example)
	if err != nil {
		tb.Fatal(err)
	}
	set, err := rules.Parse(example+" + moreRules", append(data, moreRules...))
	if err != nil {
		tb.Fatal(err)
	}
	rs := slices.DeleteFunc(set.Rules(), func(r engine.Rule) bool { return r.Window != nil })
	kept := map[string]bool{}
	for _, r := range rs {
		kept[r.Name] = true
	}
	for i := range rs { // an inhibition keeps the targets that are left
		var ins []engine.Inhibition
		for _, in := range rs[i].Inhibits {
			in.Targets = slices.DeleteFunc(slices.Clone(in.Targets), func(t string) bool { return !kept[t] })
			ins = append(ins, in)
		}
		rs[i].Inhibits = ins
	}
	if len(rs) != 20 {
		tb.Fatalf("%d rules, want 20", len(rs))
	}
	return rs
}

// feed hands out the QoS pages of one minute after another of a generated
// webinar, every participant with the newest minute Zoom published. The
// webinar runs 2h; after 100 minutes the feed continues with the same
// scenario started 100 minutes later, so time never goes back and the
// engine sees one endless webinar with the same participants.
type feed struct {
	gen    zoomtest.Gen
	sc     *zoomtest.Scenario
	minute int // minutes since sc's start of the next pages
}

const (
	firstMinute = 10 // everyone has joined (they join in the first five minutes)
	lapMinutes  = 100
)

func newFeed(g zoomtest.Gen) *feed {
	f := &feed{gen: g, minute: firstMinute}
	f.sc = zoomtest.Generate(g)
	return f
}

// next returns the pages of the next minute and the time they were
// fetched at (the engine's wall clock).
func (f *feed) next() (at time.Time, pages [][]byte) {
	if f.minute == firstMinute+lapMinutes {
		f.gen.Start = f.sc.Start.Add(lapMinutes * time.Minute)
		f.sc = zoomtest.Generate(f.gen)
		f.minute = firstMinute
	}
	at = f.sc.Start.Add(time.Duration(f.minute) * time.Minute)
	f.minute++
	return at, f.sc.QoSPages(at, 10)
}

// source is the webinar as the poller hands it to the engine.
func (f *feed) source() engine.Source {
	return engine.Source{Kind: engine.Webinar, ID: strconv.FormatInt(f.sc.ID, 10), UUID: f.sc.UUID, Topic: f.sc.Topic, Live: true}
}

// pipe is the daemon's hot path for one source: decode a page with a
// reused decoder, ingest its samples in one call.
type pipe struct {
	dec zoom.PageDecoder
	eng *engine.Engine
	src engine.Source
}

// page decodes and ingests one page and returns how many samples it had.
func (p *pipe) page(ctx context.Context, body []byte) (int, error) {
	_, samples, err := p.dec.Decode(body, p.src)
	if err != nil {
		return 0, err
	}
	return len(samples), p.eng.Ingest(ctx, samples)
}

// TestPipelineFires runs a small webinar's page, minute after minute,
// through the same pipeline the benchmark measures, until the CPU rules'
// `for` has passed: a participant whose CPU zoomtest hogs must be told as
// firing (by a CPU rule), and only such participants.
func TestPipelineFires(t *testing.T) {
	ctx := context.Background()
	f := newFeed(zoomtest.Gen{Participants: 10, Degraded: 1, Kinds: []zoomtest.Impairment{zoomtest.CPUHog},
		MinBad: 8 * time.Minute, MaxBad: 10 * time.Minute, Duration: 30 * time.Minute, Seed: 7})
	f.minute = 0
	clock := fakeclock.NewManual(time.Time{})
	store := engine.NewMemoryStore()
	eng, err := engine.New(store, engine.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetRules(ctx, benchRules(t)); err != nil {
		t.Fatal(err)
	}
	p := &pipe{eng: eng, src: f.source()}
	// zoomtest's CPU hog also drops the camera to 3-8 fps, so frozen video
	// is a true alert on a hogged participant too.
	cpuRules := []string{"zoom-cpu-hog", "system-cpu-maxed", "frozen-video"}
	var fired []engine.Notification
	for range 25 {
		at, pages := f.next()
		clock.Set(at)
		if len(pages) != 1 {
			t.Fatalf("%d pages for 10 participants", len(pages))
		}
		if _, err := p.page(ctx, pages[0]); err != nil {
			t.Fatal(err)
		}
		for _, n := range store.Drain() {
			if n.Kind == engine.KindFiring {
				fired = append(fired, n)
			}
		}
	}
	if len(fired) == 0 {
		t.Fatalf("no firing notification after 25 minutes of 10 CPU-hogged participants; stats %+v", eng.Stats())
	}
	hogs := map[string]bool{}
	for _, pt := range f.sc.Participants {
		if len(pt.Degradations) > 0 {
			hogs[pt.UserID] = true
		}
	}
	cpuFired := false
	for _, n := range fired {
		if !slices.Contains(cpuRules, n.Rule.Name) || !hogs[n.Participant.UserID] {
			t.Errorf("fired %s for %s (%s): not a CPU rule on a hogged participant", n.Rule.Name, n.Participant.UserID, n.Summary)
		}
		cpuFired = cpuFired || n.Rule.Name != "frozen-video"
	}
	if !cpuFired {
		t.Errorf("no CPU rule fired on a hogged participant, only frozen video")
	}
	t.Logf("%d firing notifications, e.g. %s: %s", len(fired), fired[0].Rule.Name, fired[0].Summary)
}
