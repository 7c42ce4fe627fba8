package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/httpapi"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/rules"
)

func TestParseMatcher(t *testing.T) {
	for in, want := range map[string]engine.Matcher{
		"rule=choppy-audio":   {Name: "rule", Value: "choppy-audio"},
		"source=webinar:123":  {Name: "source", Value: "webinar:123"},
		"participant=~1677.*": {Name: "participant", Value: "1677.*", IsRegex: true},
		"team=support=ops":    {Name: "team", Value: "support=ops"},
	} {
		got, err := parseMatcher(in)
		if err != nil || got != want {
			t.Errorf("parseMatcher(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"rule", "=x", "rule=", "rule=~"} {
		if _, err := parseMatcher(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("parseMatcher(%q) = %v, want an error naming it", bad, err)
		}
	}
}

func TestDefaultURLFromListen(t *testing.T) {
	for listen, want := range map[string]string{
		"": "http://127.0.0.1:9797", ":9797": "http://127.0.0.1:9797", "0.0.0.0:8080": "http://127.0.0.1:8080",
		"10.0.0.5:9797": "http://10.0.0.5:9797", "[::]:9797": "http://127.0.0.1:9797", "[::1]:9797": "http://[::1]:9797",
	} {
		if got := defaultURL(envOf(map[string]string{"QOSWATCH_LISTEN": listen})); got != want {
			t.Errorf("QOSWATCH_LISTEN=%q: %s, want %s", listen, got, want)
		}
	}
}

func TestHealthcheckFailsWhenNothingListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // now nothing listens there
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"qoswatch", "healthcheck", "--url", "http://" + addr}, &out, &errOut, envOf(nil))
	if code != 1 || !strings.Contains(errOut.String(), "unhealthy: GET http://"+addr+"/healthz") {
		t.Errorf("healthcheck = %d %s", code, errOut.String())
	}
}

func TestSilenceAddNeedsAComment(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"qoswatch", "silence", "add", "rule=x"}, &out, &errOut, envOf(nil))
	if code != 2 || !strings.Contains(errOut.String(), "--comment is required") {
		t.Errorf("silence add without comment = %d %s", code, errOut.String())
	}
}

// TestAlertsListsByState runs `qoswatch alerts` against the real HTTP API
// over a real engine: the default lists what is going on, --state
// resolved lists what is over.
func TestAlertsListsByState(t *testing.T) {
	set, err := rules.Parse("r.yaml", []byte("rules:\n  - name: lossy\n    when: avg_loss > 2\n    for: 0s\n    keep_firing_for: 0s\n"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	eng, err := engine.New(engine.NewMemoryStore(), engine.Options{Clock: fakeclock.NewManual(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetRules(context.Background(), set.Rules()); err != nil {
		t.Fatal(err)
	}
	sample := func(user string, m int, loss float64) engine.Sample {
		s := engine.NewSample()
		s.Source = engine.Source{Kind: engine.Webinar, ID: "777", Topic: "Town hall"}
		s.Participant = engine.Participant{UserID: user, UserName: "Name " + user}
		s.Time = t0.Add(time.Duration(m) * time.Minute)
		s.AudioInput.AvgLoss = loss
		s.Aggregate()
		return s
	}
	// u1 fires and recovers; u2 fires and stays.
	for m, batch := range [][]engine.Sample{
		{sample("u1", 0, 5), sample("u2", 0, 5)},
		{sample("u1", 1, 0), sample("u2", 1, 5)},
	} {
		if err := eng.Ingest(context.Background(), batch); err != nil {
			t.Fatalf("minute %d: %v", m, err)
		}
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Engine: eng}))
	defer srv.Close()

	list := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), append([]string{"qoswatch", "alerts", "--url", srv.URL}, args...), &out, &errOut, envOf(nil)); code != 0 {
			t.Fatalf("alerts %v = %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	now := list()
	if !strings.Contains(now, "lossy  firing") || !strings.Contains(now, "Name u2") || strings.Contains(now, "Name u1") {
		t.Errorf("alerts (default) =\n%s\nwant u2 firing only", now)
	}
	over := list("--state", "resolved")
	if !strings.Contains(over, "lossy  resolved") || !strings.Contains(over, "Name u1") || strings.Contains(over, "Name u2") {
		t.Errorf("alerts --state resolved =\n%s\nwant u1 resolved only", over)
	}
	if !strings.Contains(now, "webinar:777 Town hall") || !strings.Contains(now, "avg_loss = 5 > 2 ✓") {
		t.Errorf("alerts lacks the source or the reason:\n%s", now)
	}
}

// TestSilenceListPagesAndShowsTheZone: silence list follows the API's
// pages (more silences than one page holds) and prints each end with its
// time zone, so a list read in another zone is not an hour off.
func TestSilenceListPagesAndShowsTheZone(t *testing.T) {
	eng, err := engine.New(engine.NewMemoryStore(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := httpapi.DefaultPage + 3
	for i := range n {
		if _, err := eng.AddSilence(context.Background(), engine.Silence{
			Matchers: []engine.Matcher{{Name: "rule", Value: fmt.Sprint("r", i)}}, EndsAt: time.Now().Add(time.Hour), Comment: "x", CreatedBy: "ops",
		}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Engine: eng}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"qoswatch", "silence", "list", "--url", srv.URL}, &out, &errOut, envOf(nil)); code != 0 {
		t.Fatalf("silence list = %d %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != n+1 {
		t.Errorf("silence list printed %d silences, want all %d (pages followed)", len(lines)-1, n)
	}
	zone, _ := time.Now().Zone()
	if !regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ` + regexp.QuoteMeta(zone) + `\s`).MatchString(lines[1]) {
		t.Errorf("the end time has no zone (%s): %q", zone, lines[1])
	}
}

// TestBackupCutShortLeavesNoFile: a backup whose download breaks off
// fails naming the file, and leaves neither a file that looks like a
// backup nor a part of one.
func TestBackupCutShortLeavesNoFile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "4096")
		w.Write([]byte("the first bytes of a bbolt file"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	dst := filepath.Join(dir, "qoswatch-backup.db")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"qoswatch", "backup", "--url", srv.URL, dst}, &out, &errOut, envOf(nil))
	if code != 1 || !strings.Contains(errOut.String(), "qoswatch backup: "+dst+": ") {
		t.Errorf("backup cut short = %d\n%s%s", code, &out, &errOut)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("a failed backup left %v", left)
	}
}
