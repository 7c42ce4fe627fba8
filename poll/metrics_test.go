package poll_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/qoswatch/qoswatch/poll"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// The poller registers its metrics and the quota's: what a scrape shows is
// what Stats says and what Zoom counted, and promlint finds nothing.
func TestPollerMetrics(t *testing.T) {
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 300, Start: start, Duration: time.Hour, Seed: 15})
	r := newRig(t, zoomtest.Business, start.Add(10*time.Minute), sc)
	reg := prometheus.NewRegistry()
	p := r.poller(t, poll.Config{Registerer: reg})
	r.runFor(t, p, 3*time.Minute, nil)

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{} // name{label=value} → value
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			got[key] = value(m)
		}
	}
	st, zs := p.Stats(), r.srv.Stats()
	counted := float64(zs.Calls[zoom.Heavy] + zs.Calls[zoom.ResourceIntensive])
	src := "webinar:" + itoa(sc.ID)
	for key, want := range map[string]float64{
		"qoswatch_poller_calls_total{purpose=full_sweep}":                            float64(st.Calls["full_sweep"]),
		"qoswatch_poller_calls_total{purpose=discovery}":                             float64(st.Calls["discovery"]),
		"qoswatch_polls_total":                                                       3,
		"qoswatch_budget_spent_calls":                                                counted,
		"qoswatch_zoom_daily_calls_used":                                             counted,
		"qoswatch_zoom_daily_calls_limit":                                            60000,
		"qoswatch_zoom_daily_calls_remaining":                                        60000 - counted,
		"qoswatch_budget_daily_calls":                                                30000,
		"qoswatch_budget_left_calls":                                                 30000 - counted,
		"qoswatch_poller_mode{mode=full}":                                            1,
		"qoswatch_poller_degraded":                                                   0,
		"qoswatch_poller_coverage_window_seconds":                                    300,
		"qoswatch_source_participants{source=" + src + "}{topic=" + sc.Topic + "}":   float64(st.Sources[0].Participants),
		"qoswatch_source_coverage_ratio{source=" + src + "}{topic=" + sc.Topic + "}": 1,
		"qoswatch_zoom_paging_stopped_total{reason=repeated_token}":                  0,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
	if got["qoswatch_budget_allowed_calls_per_minute"] <= 0 {
		t.Errorf("allowed pace %v", got["qoswatch_budget_allowed_calls_per_minute"])
	}
	for key := range got {
		if strings.HasPrefix(key, "qoswatch_zoom_daily_pause_until") {
			t.Errorf("%s present without a pause", key)
		}
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %+v", err, problems)
	}
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return -1
}
