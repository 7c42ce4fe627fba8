package simulate

import (
	"context"
	"testing"
	"time"
)

// TestSimulatePush: with QSS the covered webinar gets no QoS call once
// its first QSS minute has come, every degradation is alerted about as
// fast as a full sweep every minute sees it, and the idle day after costs
// the safety listings only; without QSS the events still replace the
// minute-by-minute listing.
func TestSimulatePush(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two simulations")
	}
	rs, err := LoadRules("impairments")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"qss", "events"} {
		t.Run(mode, func(t *testing.T) {
			rep, err := Run(context.Background(), Config{Participants: 300, Duration: 40 * time.Minute, Plan: "business",
				Degraded: 0.1, QualityRatings: mode == "qss", Seed: 3, Rules: rs, Baselines: []string{"oracle"}, Push: mode})
			if err != nil {
				t.Fatal(err)
			}
			q, oracle := rep.Results[0], rep.Results[1]
			if q.Push != mode || oracle.Push != "" {
				t.Fatalf("push %q and %q", q.Push, oracle.Push)
			}
			if q.IdleRICalls < 0 || q.IdleRICalls > 100 {
				t.Errorf("%d Resource-intensive calls in the idle day after, want at most 100", q.IdleRICalls)
			}
			if q.Detected < oracle.Detected*9/10 {
				t.Errorf("alerted %d, the oracle %d", q.Detected, oracle.Detected)
			}
			qos := q.CallsFor["full_sweep"] + q.CallsFor["watch"] + q.CallsFor["detail"] + q.CallsFor["sweep"] + q.CallsFor["past"]
			if mode == "qss" {
				// 300 participants are 30 QoS pages: the first minutes' sweeps at most.
				if qos > 2*30 {
					t.Errorf("%d QoS calls for a QSS-fed webinar, want at most its first minute's", qos)
				}
				if q.Within5m < q.Degraded*99/100 {
					t.Errorf("%d of %d alerted within 5m", q.Within5m, q.Degraded)
				}
			} else if qos == 0 {
				t.Error("no QoS polled without QSS")
			}
		})
	}
}
