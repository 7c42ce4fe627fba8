package daemon

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

type readyz struct {
	code   int
	Ready  bool              `json:"ready"`
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func getReadyz(t *testing.T, addr string) readyz {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r readyz
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("/readyz is not JSON: %v", err)
	}
	r.code = resp.StatusCode
	return r
}

// waitReadyz polls /readyz until ok says so, or fails with the last answer.
func waitReadyz(t *testing.T, d *running, what string, ok func(readyz) bool) readyz {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := getReadyz(t, d.addr)
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never %s: last %d %+v\nlog:\n%s", what, r.code, r, d.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReadyzDegradedDuringDailyLimit: when Zoom answers Daily-limit, no
// call can be made until 00:00 UTC; /readyz says so (503, "degraded",
// with the time polling resumes) instead of ready.
func TestReadyzDegradedDuringDailyLimit(t *testing.T) {
	cfg, clock, _ := cpuHogWebinarWith(t, 8181, time.Hour, 0, func(o *zoomtest.Options) {
		l := zoomtest.PlanLimits(zoomtest.Business)
		l.Daily = 8 // a few polls, then Zoom's Daily-limit 429
		o.Limits = &l
	})
	d := startRun(t, cfg, Options{Clock: clock})
	waitReadyz(t, d, "ready at first", func(r readyz) bool { return r.code == 200 && r.Ready && r.Status == "ready" })
	r := waitReadyz(t, d, "degraded by the daily limit", func(r readyz) bool { return r.Status == "degraded" })
	if q := r.Checks["zoom_quota"]; r.code != 503 || r.Ready || !strings.Contains(q, "daily limit") || !strings.Contains(q, "00:00 UTC") {
		t.Errorf("/readyz = %d %+v; want 503 with the daily limit and when it ends", r.code, r)
	}
	for name, v := range r.Checks {
		if name != "zoom_quota" && v != "ok" {
			t.Errorf("check %s = %q during a daily-limit pause; want ok (only the quota is degraded)", name, v)
		}
	}
}

// TestProbesCarryNoParticipantData: /healthz, /readyz and /metrics stay
// open without the API token, so nothing a participant is known by may
// show there: not a name, an email, an IP address, a user id.
func TestProbesCarryNoParticipantData(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a simulated webinar")
	}
	clock := fakeclock.NewScaled(time.Now().UTC().Truncate(time.Minute), 300)
	start := clock.Now()
	sc := zoomtest.Generate(zoomtest.Gen{ID: 9191, Topic: "Probe webinar", Start: start, Duration: time.Hour, Participants: 12, Seed: 9})
	for _, p := range sc.Participants[1:4] {
		p.Join, p.Leave = 0, 0
		p.Degradations = []zoomtest.Degradation{{Kind: zoomtest.CPUHog, From: time.Minute, To: time.Hour}}
	}
	fake := zoomtest.NewServer(zoomtest.Options{Now: clock.Now, Scenarios: []*zoomtest.Scenario{sc}})
	fake.Start()
	t.Cleanup(fake.Close)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rules.yaml"), qoswatch.ExampleRules)
	cfg := Defaults()
	cfg.Zoom = zoomConfig(fake)
	cfg.Rules, cfg.DB, cfg.Listen, cfg.Watch = filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "db"), "127.0.0.1:0", []string{"webinars"}
	cfg.APIToken = "a-token-the-probes-never-need-0123"
	d := startRun(t, cfg, Options{Clock: clock})
	engine.Sleep(t.Context(), clock, start.Add(6*time.Minute).Sub(clock.Now()))
	waitMetric(t, d.addr, d.logs, `qoswatch_alerts{rule="zoom-cpu-hog",severity="info",state="firing"} 3`)

	var secrets []string
	for _, p := range sc.Participants {
		for _, v := range []string{p.UserName, p.Email, p.IPAddress, p.UserID, p.PCName} {
			if len(v) >= 4 {
				secrets = append(secrets, v)
			}
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get("http://" + d.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s without the token = %d, want 200 (probes and scrapers carry none)", path, resp.StatusCode)
		}
		for _, s := range secrets {
			if strings.Contains(string(body), s) {
				t.Errorf("%s shows participant data %q", path, s)
			}
		}
	}
	// The API itself has them, behind the token.
	req, _ := http.NewRequest("GET", "http://"+d.addr+"/api/v1/alerts", nil)
	req.Header.Set("Authorization", "Bearer "+cfg.APIToken.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), sc.Participants[1].UserName) {
		t.Errorf("the test proves nothing: the alerts do not name %s either", sc.Participants[1].UserName)
	}
}
