package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// refusingSender is a Slack whose every channel is gone: each delivery
// fails for good, so the permanent-failure metric has a series.
type refusingSender struct{}

func (refusingSender) Post(context.Context, string, string, notifier.Message) (engine.MessageRef, error) {
	return engine.MessageRef{}, &notifier.DeliveryError{Class: notifier.Permanent, Code: "channel_not_found", Err: errors.New("channel_not_found")}
}

func (refusingSender) Update(context.Context, engine.MessageRef, notifier.Message) error {
	return errors.ErrUnsupported
}

type metricDoc struct{ typ, help string }

func readGolden(t *testing.T) map[string]metricDoc {
	t.Helper()
	f, err := os.Open("testdata/metrics.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	docs := map[string]metricDoc{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			f := strings.SplitN(line, "\t", 3)
			if len(f) != 3 {
				t.Fatalf("metrics.golden: %q: want name, type and help separated by tabs", line)
			}
			docs[f[0]] = metricDoc{f[1], f[2]}
		}
	}
	return docs
}

// TestMetricsDocumented runs the daemon against a fake Zoom account until
// every metric has a series (an alert fires, Slack refuses it for good,
// Zoom's daily cap is hit), scrapes /metrics as Prometheus would, and
// checks every documented metric is there with its documented type and
// help, that nothing undocumented is, and that promlint finds nothing.
func TestMetricsDocumented(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a simulated webinar")
	}
	cfg, clock, _ := cpuHogWebinarWith(t, 6161, 30*time.Minute, 20*time.Minute, func(o *zoomtest.Options) {
		l := zoomtest.PlanLimits(zoomtest.Business)
		l.Daily = 40 // a few minutes of polling, then Zoom's Daily-limit
		o.Limits = &l
	})
	cfg.Events = EventsConfig{Listen: "127.0.0.1:0", WebhookSecret: "a-webhook-secret-token"} // the push side's metrics
	// Answering from Slack, for the Slack app's metrics (the bot token only passes validation: Sender is the test's).
	cfg.Slack = SlackConfig{BotToken: testBotToken, APIURL: "http://127.0.0.1:1/", SigningSecret: testSigningSecret}
	d := startRun(t, cfg, Options{Clock: clock, Sender: refusingSender{}})
	defer func() {
		if err := d.stop(t, time.Minute); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	addr, logs := d.addr, d.logs

	// Every family any scrape showed counts: a source's series live only
	// while it is live, and on a slow machine Zoom's daily cap may be hit
	// after the webinar ended, so no single scrape need show them all.
	// Each scrape that showed a new family is linted.
	docs := readGolden(t)
	families := map[string]*dtoFamily{}
	var bodies []string
	deadline := time.Now().Add(3 * time.Minute) // a bound, not a pace: the loop ends when all are seen
	for {
		body := scrape(t, addr)
		for name, f := range parseFamilies(t, body) {
			if families[name] == nil {
				families[name] = f
				if len(bodies) == 0 || bodies[len(bodies)-1] != body {
					bodies = append(bodies, body)
				}
			}
		}
		missing := []string{}
		for name := range docs {
			if families[name] == nil {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never had %v\nlog:\n%s", missing, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name, f := range families {
		if !strings.HasPrefix(name, "qoswatch_") {
			continue
		}
		d, ok := docs[name]
		switch {
		case !ok:
			t.Errorf("%s is not in testdata/metrics.golden (nor, so, in docs/operations.md): document it", name)
		case d.typ != f.typ || d.help != f.help:
			t.Errorf("%s: %s %q, documented as %s %q (names and help texts are a public interface)", name, f.typ, f.help, d.typ, d.help)
		}
	}
	for _, body := range bodies {
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
}

type dtoFamily struct{ typ, help string }

func parseFamilies(t *testing.T, body string) map[string]*dtoFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	out := map[string]*dtoFamily{}
	for name, mf := range mfs {
		out[name] = &dtoFamily{typ: strings.ToLower(mf.GetType().String()), help: mf.GetHelp()}
	}
	return out
}

// TestEngineMetricsExportEveryStat: every field of engine.Stats reaches
// /metrics. A field the engine adds and the daemon forgets would
// otherwise count in silence.
func TestEngineMetricsExportEveryStat(t *testing.T) {
	var s engine.Stats
	v := reflect.ValueOf(&s).Elem()
	want := map[float64]string{}
	for i := range v.NumField() {
		val := 1000 + i
		switch f := v.Field(i); f.Kind() {
		case reflect.Uint64:
			f.SetUint(uint64(val))
		case reflect.Int:
			f.SetInt(int64(val))
		case reflect.Map: // by rule: a count, or 1 labelled by the rule
			if f.Type().Elem().Kind() == reflect.Bool {
				f.Set(reflect.ValueOf(map[string]bool{fmt.Sprint(val): true}))
			} else {
				f.Set(reflect.ValueOf(map[string]uint64{"r": uint64(val)}))
			}
		default:
			t.Fatalf("engine.Stats.%s is a %s: export it in engineMetrics and teach this test", v.Type().Field(i).Name, f.Kind())
		}
		want[float64(val)] = v.Type().Field(i).Name
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(engineCollector{stats: func() engine.Stats { return s }, alerts: func() []engine.Alert { return nil }})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			delete(want, m.GetCounter().GetValue()+m.GetGauge().GetValue())
			for _, l := range m.GetLabel() {
				if v, err := strconv.Atoi(l.GetValue()); err == nil {
					delete(want, float64(v))
				}
			}
		}
	}
	for _, field := range want {
		t.Errorf("engine.Stats.%s reaches no metric: add it to engineMetrics and testdata/metrics.golden", field)
	}
}

// TestEveryMetricIsInTheOperationsDoc: each metric of metrics.golden is
// named, in full, on docs/operations.md, where operators look.
func TestEveryMetricIsInTheOperationsDoc(t *testing.T) {
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range readGolden(t) {
		if !strings.Contains(string(doc), "`"+name+"`") && !strings.Contains(string(doc), "`"+name+"{") {
			t.Errorf("docs/operations.md does not name %s", name)
		}
	}
}
