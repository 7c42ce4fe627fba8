package notifier_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/internal/promtest"
)

// noWaiting is a clock that stands still and must never be waited on: the
// console needs no pacing.
type noWaiting struct{ t time.Time }

func (c noWaiting) Now() time.Time { return c.t }

func (noWaiting) After(time.Duration) <-chan time.Time { panic("the console needs no waiting") }

// metric reads a metric as /metrics shows it.
func metric(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	return promtest.Value(t, reg, name, labels...)
}
