package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// recordingSlack is a Slack-compatible server that records chat.postMessage.
type recordingSlack struct {
	srv   *slacktest.Server
	mu    sync.Mutex
	texts []string
	seq   int
}

func newRecordingSlack(t *testing.T) *recordingSlack {
	rs := &recordingSlack{}
	handle := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v, _ := url.ParseQuery(string(body))
		rs.mu.Lock()
		rs.seq++
		rs.texts = append(rs.texts, v.Get("text")+"\n"+v.Get("blocks"))
		ts := fmt.Sprintf("1773324000.%06d", rs.seq)
		rs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": v.Get("channel"), "ts": ts})
	}
	rs.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", handle)
		c.Handle("/chat.update", handle)
	})
	rs.srv.Start()
	t.Cleanup(rs.srv.Stop)
	return rs
}

func (rs *recordingSlack) all() string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return strings.Join(rs.texts, "\n")
}

// daemonProc is the built binary running `qoswatch run`.
type daemonProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	addr chan string
	done chan error
}

func startDaemon(t *testing.T, bin string, env []string) *daemonProc {
	t.Helper()
	d := &daemonProc{cmd: exec.Command(bin, "run"), addr: make(chan string, 1), done: make(chan error, 1)}
	d.cmd.Env = env // only what a new user would set
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stdout = io.Discard
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listen := regexp.MustCompile(`msg="qoswatch running" .*\blisten=(\S+)`)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			if m := listen.FindStringSubmatch(sc.Text()); m != nil {
				d.addr <- m[1]
			}
		}
		d.done <- d.cmd.Wait()
	}()
	t.Cleanup(func() { d.cmd.Process.Kill() })
	return d
}

func (d *daemonProc) logs() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

func baseEnv(t *testing.T, fake *zoomtest.Server, slackURL, dir string) []string {
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, qoswatch.ExampleRules, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"ZOOM_ACCOUNT_ID=" + fake.AccountID, "ZOOM_CLIENT_ID=" + fake.ClientID, "ZOOM_CLIENT_SECRET=" + fake.ClientSecret,
		"ZOOM_API_URL=" + fake.APIURL(), "ZOOM_OAUTH_URL=" + fake.TokenURL(), "ZOOM_PLAN=business",
		"SLACK_BOT_TOKEN=xoxb-binary-test-token-42", "SLACK_API_URL=" + slackURL,
		"QOSWATCH_RULES=" + rules, "QOSWATCH_DB=" + filepath.Join(dir, "qoswatch.db"),
		"QOSWATCH_LISTEN=127.0.0.1:0", "QOSWATCH_POLL_INTERVAL=10s", "QOSWATCH_WATCH=webinars",
		"QOSWATCH_API_TOKEN=binary-api-token", "QOSWATCH_LOG_FORMAT=text",
	}
}

// TestBinaryAlertsAndStopsOnSIGTERM starts the binary built as the
// Dockerfile builds it, configured only by environment variables, against
// a fake Zoom and a fake Slack on loopback: it alerts, answers its HTTP
// API and the client subcommands, and exits 0 on SIGTERM.
func TestBinaryAlertsAndStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildLikeDocker(t)
	// A webinar that started 10 minutes ago; one panelist's CPU has been
	// pegged all along, so the first poll sees enough bad minutes to fire.
	start := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	sc := zoomtest.Generate(zoomtest.Gen{ID: 87654321012, Topic: "Binary test webinar", Start: start, Duration: 2 * time.Hour, Participants: 25, Seed: 3})
	sc.Participants[1].Join, sc.Participants[1].Leave = 0, 0
	sc.Participants[1].Degradations = []zoomtest.Degradation{{Kind: zoomtest.CPUHog, From: 0, To: 2 * time.Hour}}
	fake := zoomtest.NewServer(zoomtest.Options{Scenarios: []*zoomtest.Scenario{sc}, Plan: zoomtest.Business})
	fake.Start()
	defer fake.Close()
	slack := newRecordingSlack(t)
	dir := t.TempDir()
	env := baseEnv(t, fake, slack.srv.GetAPIURL(), dir)

	d := startDaemon(t, bin, env)
	var addr string
	select {
	case addr = <-d.addr:
	case err := <-d.done:
		t.Fatalf("the daemon exited at start: %v\n%s", err, d.logs())
	case <-time.After(60 * time.Second):
		t.Fatalf("the daemon did not start listening\n%s", d.logs())
	}
	name := sc.Participants[1].UserName
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(slack.all(), name) {
		if time.Now().After(deadline) {
			t.Fatalf("no Slack message about %s\nSlack: %s\nlog:\n%s", name, slack.all(), d.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The operator's view: health, readiness, metrics, and the CLI.
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get("/readyz"); code != 200 {
		t.Errorf("/readyz = %d %s", code, body)
	}
	if _, body := get("/metrics"); !strings.Contains(body, `qoswatch_alerts{rule="zoom-cpu-hog",severity="info",state="firing"} 1`) ||
		!strings.Contains(body, `version="dockerfile-test"`) ||
		!strings.Contains(body, `qoswatch_zoom_api_calls_total{category="heavy",outcome="ok"}`) {
		t.Errorf("/metrics lacks the firing alert or the Zoom calls:\n%s", grepLines(body, "qoswatch_alerts|qoswatch_zoom_api_calls"))
	}
	cliEnv := []string{"QOSWATCH_URL=http://" + addr, "PATH=" + os.Getenv("PATH"), "USER=tester"}
	if out, err := runBin(bin, cliEnv, "alerts"); err == nil || !strings.Contains(out, "401") {
		t.Errorf("alerts without the API token: %v %s; want a 401 (reads need it too)", err, out)
	}
	tokenEnv := append(cliEnv[:len(cliEnv):len(cliEnv)], "QOSWATCH_API_TOKEN=binary-api-token")
	out, err := runBin(bin, tokenEnv, "alerts")
	if err != nil || !strings.Contains(out, "zoom-cpu-hog") || !strings.Contains(out, name) {
		t.Errorf("qoswatch alerts: %v\n%s", err, out)
	}
	if out, err := runBin(bin, cliEnv, "silence", "add", "--comment", "known", "rule=zoom-cpu-hog"); err == nil || !strings.Contains(out, "401") {
		t.Errorf("silence add without the API token: %v %s; want a 401", err, out)
	}
	out, err = runBin(bin, tokenEnv, "silence", "add", "--comment", "known laptop", "rule=zoom-cpu-hog")
	if err != nil {
		t.Errorf("silence add: %v\n%s", err, out)
	}
	if list, _ := runBin(bin, tokenEnv, "silence", "list"); !strings.Contains(list, strings.TrimSpace(out)) || !strings.Contains(list, "known laptop") {
		t.Errorf("silence list does not show %q:\n%s", strings.TrimSpace(out), list)
	}
	// A hot backup opens like the database and holds the alert and the silence.
	backup := filepath.Join(dir, "backup.db")
	if out, err := runBin(bin, cliEnv, "backup", backup); err == nil || !strings.Contains(out, "401") {
		t.Errorf("backup without the API token: %v %s; want a 401", err, out)
	}
	if out, err := runBin(bin, tokenEnv, "backup", backup); err != nil {
		t.Errorf("backup: %v\n%s", err, out)
	} else if db, err := store.Open(backup, store.Options{}); err != nil {
		t.Errorf("the backup does not open: %v", err)
	} else {
		snap, err := db.Load(context.Background())
		db.Close()
		if err != nil || len(snap.Silences) != 1 || !slices.ContainsFunc(snap.Alerts, func(a engine.Alert) bool { return a.Key.Rule == "zoom-cpu-hog" && a.Notified }) {
			t.Errorf("the backup lacks the told alert or the silence: %v, %d alerts, %d silences", err, len(snap.Alerts), len(snap.Silences))
		}
	}
	if out, err := runBin(bin, []string{"QOSWATCH_LISTEN=" + addr, "PATH=" + os.Getenv("PATH")}, "healthcheck"); err != nil {
		t.Errorf("healthcheck: %v %s", err, out)
	}

	// SIGTERM: a clean stop, exit 0.
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, d.logs())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM\n%s", d.logs())
	}
	if !strings.Contains(d.logs(), "stopped cleanly") {
		t.Errorf("no clean-stop line in the log:\n%s", d.logs())
	}
	for _, secret := range []string{"xoxb-binary-test-token-42", fake.ClientSecret, "binary-api-token"} {
		if strings.Contains(d.logs(), secret) {
			t.Errorf("the log contains a secret (%s...)", secret[:5])
		}
	}

	// A second daemon on a database another one holds: one clear line, at
	// once, non-zero.
	holder := startDaemon(t, bin, env)
	select {
	case <-holder.addr:
	case <-time.After(60 * time.Second):
		t.Fatalf("the first daemon did not start\n%s", holder.logs())
	}
	second := exec.Command(bin, "run")
	second.Env = env
	out2, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out2), "QOSWATCH_DB=") || strings.Count(strings.TrimSpace(string(out2)), "\n") > 1 {
		t.Errorf("second daemon on a held database: %v\n%s", err, out2)
	}
	holder.cmd.Process.Signal(syscall.SIGTERM)
	<-holder.done
}

func TestBinaryBadConfigExitsWithOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildLikeDocker(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "ZOOM_ACCOUNT_ID is not set"},
		{[]string{"ZOOM_ACCOUNT_ID=a", "ZOOM_CLIENT_ID=b", "ZOOM_CLIENT_SECRET=very-secret-value", "QOSWATCH_RULES=" + filepath.Join(dir, "missing.yaml"), "QOSWATCH_DB=" + filepath.Join(dir, "db")}, "QOSWATCH_RULES="},
		{[]string{"ZOOM_ACCOUNT_ID=a", "ZOOM_CLIENT_ID=b", "ZOOM_CLIENT_SECRET=very-secret-value", "QOSWATCH_POLL_INTERVAL=often"}, `QOSWATCH_POLL_INTERVAL="often": not a valid duration`},
		{[]string{"ZOOM_ACCOUNT_ID=a", "ZOOM_CLIENT_ID=b", "ZOOM_CLIENT_SECRET_FILE=" + filepath.Join(dir, "nope")}, "ZOOM_CLIENT_SECRET_FILE: read"},
	} {
		out, err := runBin(bin, tc.env, "run")
		if err == nil || !strings.Contains(out, tc.want) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("env %v: %v\n%s\nwant one line with %q", tc.env, err, out, tc.want)
		}
		if strings.Contains(out, "very-secret-value") {
			t.Errorf("the error shows the client secret: %s", out)
		}
	}
}

func runBin(bin string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func grepLines(s, pattern string) string {
	re := regexp.MustCompile(pattern)
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if re.MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
