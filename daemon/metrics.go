package daemon

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/qoswatch/qoswatch/engine"
)

// Metric names and help texts are a public interface (dashboards and
// alerts are built on them): testdata/metrics.golden lists every one, and
// TestMetricsDocumented fails when one changes.

// newRegistry is the registry /metrics serves: the Go and process
// collectors and qoswatch_build_info. Every part registers its own
// metrics on it.
func newRegistry(version, goVersion string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "qoswatch_build_info", Help: "The running build: always 1, with its version.",
		ConstLabels: prometheus.Labels{"version": version, "go_version": goVersion},
	})
	build.Set(1)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), build)
	return reg
}

// daemonMetrics are the daemon's own: rules reloads and how fresh each
// source's samples are.
type daemonMetrics struct {
	reloads    *prometheus.CounterVec
	lastReload prometheus.Gauge
	newest     *newestSamples
}

func newDaemonMetrics(reg prometheus.Registerer, clock engine.Clock) *daemonMetrics {
	m := &daemonMetrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qoswatch_rules_reloads_total", Help: "Rules file reloads, by outcome (a failed reload keeps the running rules).",
		}, []string{"outcome"}),
		lastReload: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "qoswatch_rules_last_reload_success", Help: "1 when the last rules reload succeeded, 0 when the file on disk is bad and older rules run.",
		}),
		newest: &newestSamples{clock: clock, at: map[string]time.Time{}},
	}
	m.lastReload.Set(1) // the first load succeeded, or the daemon did not start
	if reg != nil {
		reg.MustRegister(m.reloads, m.lastReload, m.newest)
	}
	return m
}

func (m *daemonMetrics) reloaded(err error) {
	if err != nil {
		m.reloads.WithLabelValues("error").Inc()
		m.lastReload.Set(0)
		return
	}
	m.reloads.WithLabelValues("ok").Inc()
	m.lastReload.Set(1)
}

// newestSamples is qoswatch_source_newest_sample_age_seconds: an age, so
// it is computed at scrape time from the newest sample time of each source.
type newestSamples struct {
	clock engine.Clock
	mu    sync.Mutex
	at    map[string]time.Time // Source.Key() → newest sample time
}

var newestDesc = prometheus.NewDesc("qoswatch_source_newest_sample_age_seconds", "Age of the newest QoS sample of each source.", []string{"source"}, nil)

func (n *newestSamples) Describe(ch chan<- *prometheus.Desc) { ch <- newestDesc }

func (n *newestSamples) Collect(ch chan<- prometheus.Metric) {
	now := n.clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	for src, t := range n.at {
		ch <- prometheus.MustNewConstMetric(newestDesc, prometheus.GaugeValue, now.Sub(t).Seconds(), src)
	}
}

func (n *newestSamples) saw(batch []engine.Sample) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range batch {
		k := batch[i].Source.Key()
		if batch[i].Time.After(n.at[k]) {
			n.at[k] = batch[i].Time
		}
	}
}

func (n *newestSamples) ended(src engine.Source) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.at, src.Key())
}

// engineCollector exports the engine's Stats() snapshot (the engine
// imports no Prometheus, DESIGN) and its alerts by rule, state and
// severity. One snapshot per scrape: Stats walks every alert.
type engineCollector struct {
	stats  func() engine.Stats
	alerts func() []engine.Alert
}

// engineMetric is one series of engine.Stats, named explicitly.
type engineMetric struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(*engine.Stats) float64
}

func counter(name, help string, labels prometheus.Labels, v func(*engine.Stats) uint64) engineMetric {
	return engineMetric{prometheus.NewDesc(name, help, nil, labels), prometheus.CounterValue, func(s *engine.Stats) float64 { return float64(v(s)) }}
}

func gauge(name, help string, labels prometheus.Labels, v func(*engine.Stats) int) engineMetric {
	return engineMetric{prometheus.NewDesc(name, help, nil, labels), prometheus.GaugeValue, func(s *engine.Stats) float64 { return float64(v(s)) }}
}

var engineMetrics = func() []engineMetric {
	const decided = "Notifications the engine put in the outbox, by kind."
	const records = "Alert records the engine holds, by state."
	kind := func(k string) prometheus.Labels { return prometheus.Labels{"kind": k} }
	state := func(s string) prometheus.Labels { return prometheus.Labels{"state": s} }
	return []engineMetric{
		counter("qoswatch_samples_ingested_total", "QoS samples evaluated against the rules.", nil, func(s *engine.Stats) uint64 { return s.SamplesIngested }),
		counter("qoswatch_samples_skipped_total", "Samples skipped because their participant's cursor had seen them (poll overlap, restarts).", nil, func(s *engine.Stats) uint64 { return s.SamplesSkipped }),
		counter("qoswatch_samples_invalid_total", "Samples without a source id, participant or time.", nil, func(s *engine.Stats) uint64 { return s.SamplesInvalid }),
		counter("qoswatch_rule_evaluations_total", "Rule conditions evaluated.", nil, func(s *engine.Stats) uint64 { return s.Evaluations }),
		counter("qoswatch_rule_evaluation_errors_total", "Rule evaluations that failed (each disables its rule until a reload).", nil, func(s *engine.Stats) uint64 { return s.EvalErrors }),
		counter("qoswatch_summary_render_errors_total", "Rule summaries that failed to render.", nil, func(s *engine.Stats) uint64 { return s.RenderErrors }),
		counter("qoswatch_engine_commits_total", "Ingest batches committed to the store.", nil, func(s *engine.Stats) uint64 { return s.Commits }),
		counter("qoswatch_engine_commit_errors_total", "Ingest batches whose commit failed (the batch is retried).", nil, func(s *engine.Stats) uint64 { return s.CommitErrors }),
		counter("qoswatch_notifications_decided_total", decided, kind("firing"), func(s *engine.Stats) uint64 { return s.NotifiedFiring }),
		counter("qoswatch_notifications_decided_total", decided, kind("repeat"), func(s *engine.Stats) uint64 { return s.NotifiedRepeat }),
		counter("qoswatch_notifications_decided_total", decided, kind("resolved"), func(s *engine.Stats) uint64 { return s.NotifiedResolved }),
		counter("qoswatch_notifications_decided_total", decided, kind("action"), func(s *engine.Stats) uint64 { return s.NotifiedAction }),
		counter("qoswatch_notifications_silenced_total", "Notifications held back by a silence.", nil, func(s *engine.Stats) uint64 { return s.Silenced }),
		counter("qoswatch_alerts_inhibited_total", "Firing alerts held back by an inhibition (rules file inhibit:): folded into the alert of its source rule, recorded, not posted.", nil, func(s *engine.Stats) uint64 { return s.Inhibited }),
		gauge("qoswatch_alert_records", records, state("pending"), func(s *engine.Stats) int { return s.Pending }),
		gauge("qoswatch_alert_records", records, state("firing"), func(s *engine.Stats) int { return s.Firing }),
		gauge("qoswatch_alert_records", records, state("resolving"), func(s *engine.Stats) int { return s.Resolving }),
		gauge("qoswatch_alert_records", records, state("resolved"), func(s *engine.Stats) int { return s.Resolved }),
		gauge("qoswatch_participants_tracked", "Participants with a cursor (seen recently).", nil, func(s *engine.Stats) int { return s.Participants }),
		gauge("qoswatch_sources_tracked", "Webinars and meetings the engine has samples of.", nil, func(s *engine.Stats) int { return s.Sources }),
		gauge("qoswatch_rules_loaded", "Rules in the running rule set.", nil, func(s *engine.Stats) int { return s.Rules }),
		gauge("qoswatch_silences", "Silences kept (active, pending and recently expired).", nil, func(s *engine.Stats) int { return s.Silences }),
		gauge("qoswatch_silences_active", "Silences in force now.", nil, func(s *engine.Stats) int { return s.ActiveSilences }),
	}
}()

var (
	alertsDesc         = prometheus.NewDesc("qoswatch_alerts", "Alerts by rule, state and severity, now.", []string{"rule", "state", "severity"}, nil)
	ruleDisablesDesc   = prometheus.NewDesc("qoswatch_rule_disabled_total", "Times a rule was disabled because evaluating it failed (an error, its evaluation budget), by rule.", []string{"rule"}, nil)
	ruleDismissalsDesc = prometheus.NewDesc("qoswatch_rule_dismissals_total", "Alerts responders dismissed as not an issue (false positives), by rule; kept in the store across restarts.", []string{"rule"}, nil)
	ruleDisabledDesc   = prometheus.NewDesc("qoswatch_rule_disabled", "1 while a rule is disabled because evaluating it failed (a rules reload enables it again), 0 otherwise.", []string{"rule"}, nil)
)

func (c engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range engineMetrics {
		ch <- m.desc
	}
	ch <- alertsDesc
	ch <- ruleDisablesDesc
	ch <- ruleDisabledDesc
	ch <- ruleDismissalsDesc
}

func (c engineCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	for _, m := range engineMetrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.typ, m.value(&s))
	}
	for rule, n := range s.RuleDisables {
		ch <- prometheus.MustNewConstMetric(ruleDisablesDesc, prometheus.CounterValue, float64(n), rule)
	}
	for rule, n := range s.RuleDismissals {
		ch <- prometheus.MustNewConstMetric(ruleDismissalsDesc, prometheus.CounterValue, float64(n), rule)
	}
	for rule, off := range s.RuleDisabled {
		v := 0.0
		if off {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(ruleDisabledDesc, prometheus.GaugeValue, v, rule)
	}
	type key struct{ rule, state, sev string }
	counts := map[key]int{}
	for _, a := range c.alerts() {
		if a.State != engine.StateInactive {
			counts[key{a.Key.Rule, a.State.String(), string(a.Severity)}]++
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(alertsDesc, prometheus.GaugeValue, float64(n), k.rule, k.state, k.sev)
	}
}
