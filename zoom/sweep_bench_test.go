package zoom_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// A full sweep on the wall clock: the Heavy calls a second the quota's
// pace achieves against Business's 40 (from the first Heavy call of a
// sweep to its last), and the 429s it draws (want none). 2,000
// participants: 200 pages a sweep.
func BenchmarkSweepRateWallClock(b *testing.B) {
	now := time.Now().UTC()
	sc := zoomtest.Generate(zoomtest.Gen{Participants: 2000, Start: now.Add(-10 * time.Minute), Duration: 24 * time.Hour, Seed: 9})
	srv := zoomtest.New(b, zoomtest.Options{Plan: zoomtest.Business, Scenarios: []*zoomtest.Scenario{sc}})
	var mu sync.Mutex
	var first, last time.Time
	heavy := 0
	next := http.DefaultTransport
	hc := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		if strings.Contains(r.URL.Path, "/participants") {
			mu.Lock()
			t := time.Now()
			if first.IsZero() {
				first = t
			}
			last = t
			heavy++
			mu.Unlock()
		}
		return next.RoundTrip(r)
	})}
	c, err := zoom.NewClient(zoom.Config{
		APIURL: srv.APIURL(), OAuthURL: srv.TokenURL(), HTTPClient: hc,
		AccountID: srv.AccountID, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, Plan: "business",
		Quota: zoom.QuotaConfig{Share: 1},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var calls int
	var spent time.Duration
	for b.Loop() {
		mu.Lock()
		first, heavy = time.Time{}, 0
		mu.Unlock()
		err := c.ParticipantsQoS(ctx, engine.Webinar, strconv.FormatInt(sc.ID, 10), zoom.Live, func(*zoom.ParticipantQoSList) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		calls += heavy - 1
		spent += last.Sub(first)
		mu.Unlock()
	}
	zs := srv.Stats()
	b.ReportMetric(float64(calls)/spent.Seconds(), "heavy-calls/s")
	b.ReportMetric(float64(zs.PeakPerWindow[zoom.Heavy]), "peak-heavy/1s")
	b.ReportMetric(float64(zs.Throttled[zoom.Heavy]+zs.DailyLimited), "429s")
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
