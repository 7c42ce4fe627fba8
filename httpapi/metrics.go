package httpapi

import (
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
)

// StatsSource is one component's counters: Stats returns its plain Stats()
// struct (numbers, durations, times, maps by a label, nested structs).
type StatsSource struct {
	Subsystem string // "engine", "store", "zoom", "notifier", "poller", "daemon"
	Stats     func() any
}

// Kind says how a stats field becomes a metric.
type Kind int

const (
	Gauge   Kind = iota
	Counter      // "_total" is appended when missing
	Age          // a time.Time, exported as seconds before now
	Info         // a string, exported as 1 with the string in the spec's one label
)

// Spec names one stats field's metric. Fields without a spec are still
// exported, as qoswatch_<subsystem>_<snake_case field>: a counter when the
// field is a uint64, else a gauge, so a counter added later is never lost.
type Spec struct {
	Name   string // full metric name
	Help   string
	Kind   Kind
	Labels []string // for map fields: the name of each map level's key
	// Const are fixed labels, so several fields can be one metric:
	// NotifiedFiring and NotifiedResolved → ..._total{kind="firing"|"resolved"}.
	Const prometheus.Labels
}

// Metrics is a collector fed at scrape time from the Stats() of the
// components that do not yet register their own metrics. It goes once
// every package registers its own (issue 10 item 7).
type Metrics struct {
	mu      sync.Mutex
	sources []StatsSource
	specs   map[string]Spec // "store.OutboxDepth"
	now     func() time.Time
}

var _ prometheus.Collector = (*Metrics)(nil)

// NewMetrics returns a collector with the built-in specs (DefaultSpecs)
// and no sources yet; register it on the registry /metrics serves.
func NewMetrics(now func() time.Time) *Metrics {
	if now == nil {
		now = time.Now
	}
	return &Metrics{specs: DefaultSpecs(), now: now}
}

// Add registers a component's stats.
func (m *Metrics) Add(src StatsSource) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sources = append(m.sources, src)
}

// Spec sets (or overrides) the metric of a stats field, "subsystem.Field"
// or "subsystem.Map.Field" for a field of a map's struct values.
func (m *Metrics) Spec(path string, s Spec) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.specs[path] = s
}

// Describe sends nothing: the metrics are built at each scrape from
// whatever the Stats structs hold (an "unchecked" collector).
func (m *Metrics) Describe(chan<- *prometheus.Desc) {}

// Collect walks every stats struct and emits its numbers.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	sources := append([]StatsSource(nil), m.sources...)
	specs := m.specs
	m.mu.Unlock()

	now := m.now()
	for _, src := range sources {
		w := walker{ch: ch, specs: specs, sub: src.Subsystem, now: now, seen: map[string]bool{}}
		w.walk(reflect.ValueOf(src.Stats()), src.Subsystem, nil, nil)
	}
}

type walker struct {
	ch    chan<- prometheus.Metric
	specs map[string]Spec
	sub   string
	now   time.Time
	seen  map[string]bool
}

var durationType = reflect.TypeOf(time.Duration(0))

// walk emits v (at path, under the map keys seen so far).
func (w *walker) walk(v reflect.Value, path string, labelNames, labelValues []string) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == timeType:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return
		}
		spec, ok := w.specs[path]
		if !ok {
			spec = Spec{Name: w.fallbackName(path) + "_timestamp_seconds", Help: "Stats field " + path + " (unix time).", Kind: Gauge}
		}
		val := float64(t.UnixNano()) / 1e9
		if spec.Kind == Age {
			val = w.now.Sub(t).Seconds()
		}
		w.emit(spec, prometheus.GaugeValue, val, labelNames, labelValues)
	case v.Type() == durationType:
		spec, ok := w.specs[path]
		if !ok {
			spec = Spec{Name: w.fallbackName(path) + "_seconds", Help: "Stats field " + path + " (seconds)."}
		}
		w.emit(spec, prometheus.GaugeValue, time.Duration(v.Int()).Seconds(), labelNames, labelValues)
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() {
				w.walk(v.Field(i), path+"."+f.Name, labelNames, labelValues)
			}
		}
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
		// A slice of records ({Category, Outcome string; N int64}): the
		// string fields are labels, the others values.
		for i := range v.Len() {
			el := v.Index(i)
			names := append([]string(nil), labelNames...)
			vals := append([]string(nil), labelValues...)
			for j := range el.NumField() {
				if f := el.Type().Field(j); f.IsExported() && f.Type.Kind() == reflect.String {
					names = append(names, snake(f.Name))
					vals = append(vals, el.Field(j).String())
				}
			}
			for j := range el.NumField() {
				if f := el.Type().Field(j); f.IsExported() && f.Type.Kind() != reflect.String {
					w.walk(el.Field(j), path+"."+f.Name, names, vals)
				}
			}
		}
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
		label := "key"
		if spec, ok := w.specs[path]; ok && len(spec.Labels) > len(labelNames) {
			label = spec.Labels[len(labelNames)]
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		names := append(append([]string(nil), labelNames...), label)
		for _, k := range keys {
			vals := append(append([]string(nil), labelValues...), k.String())
			w.walk(v.MapIndex(k), path, names, vals)
		}
	case v.Kind() == reflect.String:
		// Strings are labels, not values; a spec of Kind Info exports one
		// as `name{label="value"} 1` (the poller's mode).
		if spec, ok := w.specs[path]; ok && spec.Kind == Info && len(spec.Labels) == len(labelNames)+1 && v.String() != "" {
			w.emit(spec, prometheus.GaugeValue, 1, append(append([]string(nil), labelNames...), spec.Labels[len(labelNames)]), append(append([]string(nil), labelValues...), v.String()))
		}
	default:
		val, ok := number(v)
		if !ok {
			return
		}
		spec, has := w.specs[path]
		if !has {
			spec = Spec{Name: w.fallbackName(path), Help: "Stats field " + path + ".", Kind: Gauge}
			if v.Kind() == reflect.Uint64 {
				spec.Kind = Counter
			}
		}
		vt := prometheus.GaugeValue
		if spec.Kind == Counter {
			vt = prometheus.CounterValue
			if !strings.HasSuffix(spec.Name, "_total") {
				spec.Name += "_total"
			}
		}
		w.emit(spec, vt, val, labelNames, labelValues)
	}
}

func (w *walker) emit(spec Spec, vt prometheus.ValueType, val float64, labelNames, labelValues []string) {
	if math.IsNaN(val) {
		return
	}
	// The spec's label names win over the walker's defaults.
	names := labelNames
	if len(spec.Labels) == len(labelNames) {
		names = spec.Labels
	}
	desc := prometheus.NewDesc(spec.Name, spec.Help, names, spec.Const)
	m, err := prometheus.NewConstMetric(desc, vt, val, labelValues...)
	if err != nil {
		m = prometheus.NewInvalidMetric(desc, err)
	}
	w.ch <- m
}

// fallbackName is qoswatch_<path in snake_case>: "zoom.Calls.Heavy" →
// qoswatch_zoom_calls_heavy.
func (w *walker) fallbackName(path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		parts[i] = snake(p)
	}
	return "qoswatch_" + strings.Join(parts, "_")
}

// snake turns CamelCase into snake_case, keeping acronyms together:
// "QPS429s" → "qps429s", "BytesWritten" → "bytes_written".
func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			nextLower := i > 0 && i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func number(v reflect.Value) (float64, bool) {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	case reflect.Bool:
		if v.Bool() {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}
