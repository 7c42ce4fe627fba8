package main

import (
	"bytes"
	"context"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/httpapi"
	"github.com/qoswatch/qoswatch/internal/webinartest"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// reportDB plays a 20-minute webinar of 20 people, 6 of whom break up
// from minute 4 to 12, with the example rules into a bbolt file, ends it,
// and returns the engine and the open store.
func reportDB(t *testing.T, path string) (*engine.Engine, *store.DB) {
	t.Helper()
	start := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	sc := zoomtest.Generate(zoomtest.Gen{ID: 555, Topic: "Town hall", Start: start, Duration: 20 * time.Minute, Participants: 20, Seed: 5})
	for i, p := range sc.Participants {
		p.Join, p.Leave, p.Degradations = 0, 0, nil
		if i >= 5 && i < 11 {
			p.Degradations = []zoomtest.Degradation{
				{Kind: zoomtest.AudioLoss, From: 4 * time.Minute, To: 12 * time.Minute},
				{Kind: zoomtest.HighLatency, From: 4 * time.Minute, To: 12 * time.Minute}}
		}
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return webinartest.Run(t, sc, db), db
}

// qoswatch report prints the same Markdown from a database file (--db)
// and from a running daemon's API, writes the chart with --png, and says
// clearly what is wrong with a bad source, an unknown one, or a file a
// daemon holds.
func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "qoswatch.db")
	eng, db := reportDB(t, path)

	// A daemon: the API on the open store.
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Engine: eng, Minutes: db.Minutes, Token: "s3cret"}))
	defer srv.Close()
	env := envOf(map[string]string{"QOSWATCH_API_TOKEN": "s3cret"})
	var apiOut, errOut bytes.Buffer
	if code := run(context.Background(), []string{"qoswatch", "report", "--url", srv.URL, "--source", "webinar:555"}, &apiOut, &errOut, env); code != 0 {
		t.Fatalf("report via the API = %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"# Post-webinar report: Town hall (webinar:555)",
		"- **When:** 2026-03-02 15:00–15:20 UTC (20 min), ended",
		"- **Attendees:** 20 participants",
		"- **Participants with any alert:** 6 of 20 (30%)",
		"| choppy-audio | 6 | 6 | 30% (6) at 15:04 | 8 |",
	} {
		if !strings.Contains(apiOut.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, apiOut.String())
		}
	}

	// The daemon holds the file: --db says so and what to do.
	errOut.Reset()
	if code := run(context.Background(), []string{"qoswatch", "report", "--db", path, "--source", "webinar:555"}, &bytes.Buffer{}, &errOut, envOf(nil)); code != 1 ||
		!strings.Contains(errOut.String(), "locked") || !strings.Contains(errOut.String(), "without --db") {
		t.Errorf("--db on a held file = %d: %s", code, errOut.String())
	}
	srv.Close()
	db.Close()

	// The daemon stopped: the file, and the chart.
	chart := filepath.Join(dir, "chart.png")
	var fileOut bytes.Buffer
	errOut.Reset()
	if code := run(context.Background(), []string{"qoswatch", "report", "--db", path, "--source", "webinar:555", "--png", chart}, &fileOut, &errOut, envOf(nil)); code != 0 {
		t.Fatalf("report --db = %d: %s", code, errOut.String())
	}
	if fileOut.String() != apiOut.String() {
		t.Errorf("--db and the API disagree:\n%s\n---\n%s", fileOut.String(), apiOut.String())
	}
	b, err := os.ReadFile(chart)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() < 600 {
		t.Errorf("--png wrote %d bytes: %v %v", len(b), err, img)
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--source", "555"}, 2, `--source "555": want webinar:ID or meeting:ID`},
		{[]string{"--source", "webinar:999", "--db", path}, 1, "report of webinar:999: no minutes kept for this source"},
	} {
		errOut.Reset()
		code := run(context.Background(), append([]string{"qoswatch", "report"}, c.args...), &bytes.Buffer{}, &errOut, envOf(nil))
		if code != c.code || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("report %v = %d: %s; want %d and %q", c.args, code, errOut.String(), c.code, c.want)
		}
	}
}
