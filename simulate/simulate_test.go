package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// 100 attendees on Pro: qoswatch sweeps everyone every minute, so it sees
// everyone within the coverage window, alerts on what the unlimited
// oracle alerts on, and gets no 429.
func TestSimulateSmallWebinarOnPro(t *testing.T) {
	rs, err := LoadRules("impairments")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Config{Participants: 100, Duration: 30 * time.Minute, Plan: "pro",
		Degraded: 0.1, QualityRatings: true, Seed: 7, Rules: rs, Baselines: []string{"naive", "oracle"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 3 {
		t.Fatalf("results %+v", rep.Results)
	}
	q, naive, oracle := rep.Results[0], rep.Results[1], rep.Results[2]
	if q.Poller != "qoswatch" || naive.Poller != "naive" || oracle.Poller != "oracle" {
		t.Fatalf("pollers %s %s %s", q.Poller, naive.Poller, oracle.Poller)
	}
	if q.QPS429 != 0 || q.Daily429 != 0 || q.DailyRefused != 0 {
		t.Errorf("qoswatch was throttled: %+v", q)
	}
	if q.CoverageMin != 1 {
		t.Errorf("coverage min %v, want everyone seen", q.CoverageMin)
	}
	if q.Degraded != 10 || oracle.Detected == 0 || q.Detected != oracle.Detected {
		t.Errorf("detected %d of %d, the oracle %d", q.Detected, q.Degraded, oracle.Detected)
	}
	if q.FalseAlerts != 0 {
		t.Errorf("%d false alerts", q.FalseAlerts)
	}
	if q.BudgetLeft <= 0 || q.BudgetLeft >= rep.Budget {
		t.Errorf("budget left %d of %d", q.BudgetLeft, rep.Budget)
	}
}

func TestSimulateMainJSON(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"--participants", "50", "--duration", "10m", "--plan", "pro",
		"--degraded", "10%", "--rules", "impairments", "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if rep.Participants != 50 || rep.Degraded != 0.1 || len(rep.Results) != 2 || rep.Results[0].Calls["Heavy"] == 0 {
		t.Errorf("report %+v", rep)
	}
}

func TestSimulateMainTable(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"--participants", "30", "--duration", "5m", "--plan", "pro"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"qoswatch", "naive", "429 QPS", "alerted within 5m of onset", "Heavy calls/s in a sweep"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSimulateBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--degraded", "200%"}, "-degraded"},
		{[]string{"--degraded", "NaN"}, "-degraded"},
		{[]string{"--plan", "free"}, "free"},
		{[]string{"--budget-share", "3"}, "--budget-share"},
		{[]string{"--start", "25:00"}, "--start"},
		{[]string{"--rules", "/nonexistent.yaml"}, "nonexistent"},
		{[]string{"--duration", "1m"}, "--duration"},
		{[]string{"extra"}, "extra"},
		{[]string{"--baselines", "naive,smart"}, "smart"},
	} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), tc.args, &out, &errb)
		if code == 0 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error naming %s", tc.args, code, errb.String(), tc.want)
		}
	}
}
