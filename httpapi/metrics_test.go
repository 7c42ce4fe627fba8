package httpapi

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// widgetStats stands for a component's Stats() that has no specs: every
// field must still come out.
type widgetStats struct {
	Mode        string
	CallsMade   uint64
	QueueLength int
	ByCategory  map[string]uint64
	LastSweep   time.Time
	Backoff     time.Duration
	Nested      struct{ Retries uint64 }
	Records     []record
}

type record struct {
	Category, Outcome string
	N                 int64
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	h := New(Options{Engine: firingEngine(t), Metrics: reg})
	code, body := do(t, h, "GET", "/metrics", "", "")
	if code != 200 {
		t.Fatalf("/metrics = %d\n%s", code, body)
	}
	return body
}

func TestMetricsFromStatsStructs(t *testing.T) {
	now := t0.Add(10 * time.Minute)
	m := NewMetrics(func() time.Time { return now })
	m.Add(StatsSource{"store", func() any { return struct{ OutboxDepth int }{4} }})
	m.Add(StatsSource{"daemon", func() any {
		return struct{ NewestSample map[string]time.Time }{map[string]time.Time{"webinar:812345": now.Add(-90 * time.Second)}}
	}})
	m.Spec("store.OutboxDepth", Spec{Name: "qoswatch_outbox_depth", Help: "Notifications waiting for delivery."})
	m.Spec("daemon.NewestSample", Spec{Name: "qoswatch_source_newest_sample_age_seconds", Help: "Age.", Kind: Age, Labels: []string{"source"}})
	m.Spec("widget.Mode", Spec{Name: "qoswatch_widget_mode", Help: "The widget's mode.", Kind: Info, Labels: []string{"mode"}})
	w := widgetStats{Mode: "triage", CallsMade: 7, QueueLength: 3, ByCategory: map[string]uint64{"heavy": 5, "light": 2}, LastSweep: now, Backoff: 1500 * time.Millisecond}
	w.Nested.Retries = 4
	w.Records = []record{{"heavy", "ok", 9}, {"heavy", "rate_limited", 1}}
	m.Add(StatsSource{"widget", func() any { return &w }})

	body := scrape(t, m)
	for _, want := range []string{
		"qoswatch_outbox_depth 4",
		`qoswatch_source_newest_sample_age_seconds{source="webinar:812345"} 90`,
		// fallbacks for a struct without specs
		"qoswatch_widget_calls_made_total 7",
		"qoswatch_widget_queue_length 3",
		`qoswatch_widget_by_category_total{key="heavy"} 5`,
		"qoswatch_widget_backoff_seconds 1.5",
		"qoswatch_widget_nested_retries_total 4",
		`qoswatch_widget_mode{mode="triage"} 1`,
		`qoswatch_widget_records_n{category="heavy",outcome="rate_limited"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !strings.Contains(body, "# TYPE qoswatch_widget_calls_made_total counter\n") {
		t.Error("a uint64 field without a spec is not a counter")
	}

	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "qoswatch_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"SamplesIngested": "samples_ingested", "QPS429s": "qps429s", "HTTPCalls": "http_calls",
		"OutboxDepth": "outbox_depth", "ID": "id", "Calls": "calls",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}

// A stats field whose metric collides with another (the same series
// twice) costs that series, never the whole scrape.
func TestMetricsSurviveACollision(t *testing.T) {
	m := NewMetrics(nil)
	m.Add(StatsSource{"a", func() any { return struct{ Depth int }{3} }})
	m.Spec("a.Depth", Spec{Name: "qoswatch_outbox_depth", Help: "x"})
	m.Add(StatsSource{"b", func() any { return struct{ Depth int }{4} }})
	m.Spec("b.Depth", Spec{Name: "qoswatch_outbox_depth", Help: "x"})
	m.Add(StatsSource{"c", func() any { return struct{ Fine uint64 }{9} }})
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	if _, err := reg.Gather(); err == nil {
		t.Fatal("no collision: the test proves nothing")
	}
	body := scrape(t, m)
	if !strings.Contains(body, "qoswatch_c_fine_total 9\n") {
		t.Errorf("a collision elsewhere broke the scrape:\n%s", body)
	}
}
