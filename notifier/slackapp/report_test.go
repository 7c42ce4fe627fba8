package slackapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/internal/webinartest"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
	"github.com/qoswatch/qoswatch/report"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// endedWebinar plays a 20-minute webinar of 60 people, 45 of whom break
// up from minute 3 to 15 (more names than a message shows), into a bbolt
// file at path: its end queued the report. The store is closed.
func endedWebinar(t *testing.T, path string) {
	t.Helper()
	start := time.Date(2026, 3, 12, 13, 0, 0, 0, time.UTC)
	sc := zoomtest.Generate(zoomtest.Gen{ID: 81234567890, Topic: "Spring <launch> & Q&A", Start: start, Duration: 20 * time.Minute, Participants: 60, Seed: 9})
	for i, p := range sc.Participants {
		p.Join, p.Leave, p.Degradations = 0, 0, nil
		if i >= 10 && i < 55 {
			p.Degradations = []zoomtest.Degradation{
				{Kind: zoomtest.AudioLoss, From: 3 * time.Minute, To: 15 * time.Minute},
				{Kind: zoomtest.HighLatency, From: 3 * time.Minute, To: 15 * time.Minute}}
		}
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	webinartest.Run(t, sc, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func openStore(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newReporter(t *testing.T, db *store.DB, sender notifier.Sender, channel string, reg prometheus.Registerer) *notifier.Reporter {
	t.Helper()
	r, err := notifier.NewReporter(notifier.ReportOptions{Queue: db, Sender: sender, Channel: func() string { return channel }, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// When a webinar ends, its report is posted once to report.channel,
// within Slack's limits (the fake refuses what is not), and the chart and
// the whole report are shared in its thread through the real slack-go
// client's files upload v2; the bytes Slack got are the chart, decoded.
// A Slack failure mid-way costs nothing twice: after a restart the
// summary is not posted again and a file already shared is not
// uploaded again.
func TestReportPostedWithChartInThread(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qoswatch.db")
	endedWebinar(t, path)
	fs := newFakeSlack(t, newClock())
	bot, err := slackapp.NewBot("xoxb-report-token", slackapp.Options{APIURL: fs.url()})
	if err != nil {
		t.Fatal(err)
	}
	// Slack fails the second file's completion once: the pass stops there.
	completes := 0
	fs.setFault(func(method string, v url.Values) *fault {
		if method == "files.completeUploadExternal" {
			if completes++; completes == 2 {
				return &fault{status: 503}
			}
		}
		return nil
	})
	db := openStore(t, path)
	reg := prometheus.NewRegistry()
	r := newReporter(t, db, bot, "#webinar-reports", reg)
	if _, err := r.Pass(context.Background()); err == nil {
		t.Fatal("a pass whose upload Slack failed says nothing")
	}
	due, _ := db.DueReports(context.Background())
	if len(due) != 1 || due[0].Posted.TS == "" || due[0].Files != 1 {
		t.Fatalf("progress kept: %+v", due)
	}
	db.Close()

	// The restart: the summary is not posted again, the chart not uploaded again.
	db = openStore(t, path)
	r = newReporter(t, db, bot, "#webinar-reports", prometheus.NewRegistry())
	if _, err := r.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if due, _ := db.DueReports(context.Background()); len(due) != 0 {
		t.Errorf("still due after posting: %+v", due)
	}
	var posts []call
	for _, c := range fs.Calls() {
		if c.Method == "chat.postMessage" {
			posts = append(posts, c)
		}
	}
	if len(posts) != 1 || posts[0].Channel != "Cwebinar-reports" {
		t.Fatalf("posts %v, want one summary in #webinar-reports", posts)
	}
	sum := posts[0].Text
	for _, want := range []string{
		"Post-webinar report: Spring <launch> & Q&A (webinar:81234567890)",
		"60 participants", "45 of 60 (75%)", "choppy-audio", "… and ", "Worst minutes", "Shared causes found",
		"The chart and the whole report (everyone named) are in the thread.",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("the summary lacks %q:\n%s", want, sum)
		}
	}
	var blocks []struct {
		Text struct{ Text string } `json:"text"`
	}
	if err := json.Unmarshal(posts[0].Blocks, &blocks); err != nil || !strings.Contains(blocks[0].Text.Text, "Spring &lt;launch&gt; &amp; Q&amp;A") {
		t.Errorf("the topic is not escaped in the header: %s (%v)", posts[0].Blocks, err)
	}
	ups := fs.Uploads()
	if len(ups) != 2 {
		t.Fatalf("%d files shared, want the chart and the report", len(ups))
	}
	for _, u := range ups {
		if u.Channel != posts[0].Channel || u.ThreadTS != posts[0].TS || u.Length != len(u.Content) {
			t.Errorf("%s shared in %s thread %s (%d of %d bytes); want the summary's thread %s", u.Filename, u.Channel, u.ThreadTS, len(u.Content), u.Length, posts[0].TS)
		}
	}
	img, err := png.Decode(bytes.NewReader(ups[0].Content))
	if err != nil || ups[0].Filename != "qoswatch-report-webinar-81234567890.png" {
		t.Fatalf("the first file %s is not the chart: %v", ups[0].Filename, err)
	}
	if b := img.Bounds(); b.Dx() != report.ChartWidth || b.Dy() != report.ChartHeight {
		t.Errorf("chart %v", b)
	}
	md := string(ups[1].Content)
	for i := 10; i < 55; i++ { // everyone alerted is named in the file
		name := zoomtest.Generate(zoomtest.Gen{Participants: 60, Seed: 9}).Participants[i].UserName
		if !strings.Contains(md, name) {
			t.Errorf("the report file does not name %s", name)
		}
	}
	if !fs.SawToken("xoxb-report-token") {
		t.Error("the fake never saw the bot token")
	}
	if got := metric(t, reg, "qoswatch_reports_total", "result", "posted"); got != 0 {
		t.Errorf("the first reporter counted %v posted, want 0 (it failed)", got)
	}
}

// Without report.channel a report that falls due is dropped, not posted;
// a channel Slack says does not exist drops it too (counted failed).
func TestReportDroppedOrRefused(t *testing.T) {
	for _, c := range []struct {
		name, channel, slackErr, result string
	}{
		{"no report.channel", "", "", "dropped"},
		{"channel_not_found", "#gone", "channel_not_found", "failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "qoswatch.db")
			endedWebinar(t, path)
			fs := newFakeSlack(t, newClock())
			if c.slackErr != "" {
				fs.setFault(func(string, url.Values) *fault { return &fault{slackErr: c.slackErr} })
			}
			bot, err := slackapp.NewBot("xoxb-t", slackapp.Options{APIURL: fs.url()})
			if err != nil {
				t.Fatal(err)
			}
			db := openStore(t, path)
			reg := prometheus.NewRegistry()
			if _, err := newReporter(t, db, bot, c.channel, reg).Pass(context.Background()); err != nil {
				t.Fatal(err)
			}
			if due, _ := db.DueReports(context.Background()); len(due) != 0 || len(fs.Calls()) != 0 || len(fs.Uploads()) != 0 {
				t.Errorf("due %v, calls %v, uploads %d", due, fs.Calls(), len(fs.Uploads()))
			}
			if got := metric(t, reg, "qoswatch_reports_total", "result", c.result); got != 1 {
				t.Errorf("qoswatch_reports_total{result=%q} = %v", c.result, got)
			}
		})
	}
}
