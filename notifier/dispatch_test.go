package notifier_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// noWaiting is a clock that stands still and must never be waited on: the
// console needs no pacing.
type noWaiting struct{ t time.Time }

func (c noWaiting) Now() time.Time { return c.t }

func (noWaiting) After(time.Duration) <-chan time.Time { panic("the console needs no waiting") }

// metric reads a metric as /metrics shows it: its name and label pairs;
// 0 when it has no sample with those labels.
func metric(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				if !found {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
