// Package crashtest kills qoswatch's pipeline (the real engine, the bbolt
// store, the notifier and slack-go) with SIGKILL at random points, many
// times, and checks what Slack received: every notification the scenario
// implies, none twice except the one message in flight at each kill.
package crashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
	"github.com/qoswatch/qoswatch/store"
)

// The scenario: one webinar, 40 participants, 30 minutes. Every minute
// the poller reads the QoS list in pages of 10 participants, each page
// carrying the last 3 minutes (overlapping polls, as a real poller does).
// Then the webinar ends.
const (
	participants = 40
	minutes      = 30
	pageSize     = 10
	overlap      = 2
)

var (
	t0     = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	source = engine.Source{Kind: engine.Webinar, ID: "81234567890", Topic: "All hands", Live: true}
)

// loss is a participant's audio loss at a minute: deterministic bad
// stretches of varying length, and single-minute spikes.
func loss(p, m int) float64 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%d", p, m/4) // 4-minute weather
	w := h.Sum32()
	switch {
	case w%5 == 0:
		return 5 // bad for the stretch: fires after 2m
	case (p*7+m)%23 == 0:
		return 9 // a spike
	}
	return 0.2
}

func participant(p int) engine.Participant {
	return engine.Participant{UserID: fmt.Sprintf("u%02d", p), UserName: fmt.Sprintf("Person %02d", p)}
}

// pages is the whole scenario, in poll order.
func pages() [][]engine.Sample {
	var out [][]engine.Sample
	for m := range minutes {
		for first := 0; first < participants; first += pageSize {
			var pg []engine.Sample
			for p := first; p < first+pageSize; p++ {
				for mm := max(0, m-overlap); mm <= m; mm++ {
					s := engine.NewSample()
					s.Source, s.Participant = source, participant(p)
					s.Time = t0.Add(time.Duration(mm) * time.Minute)
					s.AudioInput.AvgLoss = loss(p, mm)
					s.Aggregate()
					pg = append(pg, s)
				}
			}
			out = append(out, pg)
		}
	}
	return out
}

type cond float64

func (c cond) Eval(s *engine.Sample) (bool, error) { return s.AvgLoss > float64(c), nil }
func (c cond) Explain(s *engine.Sample) []engine.Term {
	return []engine.Term{{Field: "avg_loss", Value: strconv.FormatFloat(s.AvgLoss, 'g', -1, 64), Op: ">",
		Threshold: strconv.FormatFloat(float64(c), 'g', -1, 64), Holds: s.AvgLoss > float64(c)}}
}

// tag renders a summary that names the notification, so the fake Slack
// can tell which one each message is: "crash firing lossy-audio u07 540".
type tag struct{}

func (tag) Render(n *engine.Notification) (string, error) {
	return fmt.Sprintf("crash %s %s %s %d", n.Kind, n.Key.Rule, n.Key.Participant, int(n.At.Sub(t0).Seconds())), nil
}

var tagRe = regexp.MustCompile(`crash (firing|repeat|resolved) ([a-z-]+) (u\d+) (\d+)`)

// A resolve does not show the summary (it was written for the firing): its
// tag is read from what it does show, the rule, the person and when it
// ended ("[RESOLVED] lossy-audio: ✅ Resolved: Person 07, after 23m
// (09:03:00 UTC–09:26:00 UTC)", or "… Person 07 · … (09:03:00 UTC–09:26:00 UTC)").
var resolvedRe = regexp.MustCompile(`\[RESOLVED\] (?:[a-z]+ )?([a-z-]+): (?:✅ Resolved: )?Person (\d+)\b.*?\(\d\d:\d\d:\d\d UTC–(\d\d:\d\d:\d\d) UTC\)`)

// tagOf is the notification a message carries, as tag renders it.
func tagOf(text, blocks string) string {
	if t := tagRe.FindString(text + " " + blocks); t != "" {
		return t
	}
	m := resolvedRe.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	end, err := time.Parse("15:04:05", m[3])
	if err != nil {
		return ""
	}
	at := time.Date(t0.Year(), t0.Month(), t0.Day(), end.Hour(), end.Minute(), end.Second(), 0, time.UTC)
	return fmt.Sprintf("crash resolved %s u%s %d", m[1], m[2], int(at.Sub(t0).Seconds()))
}

func rules() []engine.Rule {
	return []engine.Rule{
		{Name: "lossy-audio", When: cond(2), For: 2 * time.Minute, KeepFiringFor: time.Minute,
			RepeatInterval: 1000 * time.Hour, Severity: engine.SeverityWarning, Summary: tag{}},
		{Name: "loss-spike", When: cond(8), RepeatInterval: 1000 * time.Hour, Severity: engine.SeverityCritical, Summary: tag{}},
	}
}

type route struct{}

func (route) Route(*engine.Notification) engine.Route { return engine.Route{Channel: "#qos"} }

// implied runs the scenario in memory, without a crash: what it tells is
// what the crashed runs together must tell.
func implied(t *testing.T) []string {
	ctx := context.Background()
	mem := engine.NewMemoryStore()
	e, err := engine.New(mem, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetRules(ctx, rules()); err != nil {
		t.Fatal(err)
	}
	for _, pg := range pages() {
		if err := e.Ingest(ctx, pg); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.EndSource(ctx, source, t0.Add(minutes*time.Minute)); err != nil {
		t.Fatal(err)
	}
	ns, err := mem.Pending(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range ns {
		s, _ := tag{}.Render(&ns[i])
		out = append(out, s)
	}
	return out
}

// TestCrashChild is the child process: it runs the whole scenario against
// the store and the Slack server its environment names, and exits 0 once
// everything is ingested and delivered. The parent kills it on the way.
func TestCrashChild(t *testing.T) {
	dbPath := os.Getenv("CRASHTEST_DB")
	if dbPath == "" {
		t.Skip("the child of TestCrashAnywhere")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, e, d := openChild(t, ctx, dbPath)
	go d.Run(ctx)

	// Every run ingests the whole scenario from the start: the stored
	// cursors skip what an earlier run already ingested, as they skip the
	// overlap of two polls.
	for _, pg := range pages() {
		if err := e.Ingest(ctx, pg); err != nil {
			t.Fatal(err)
		}
		d.Wake()
	}
	if err := e.EndSource(ctx, source, t0.Add(minutes*time.Minute)); err != nil {
		t.Fatal(err)
	}
	d.Wake()
	fmt.Println("ingest-done") // the parent tells kills in ingest from kills in the drain
	for db.Stats().OutboxDepth > 0 {
		time.Sleep(5 * time.Millisecond)
	}
}

// openChild opens what a child process runs: the bbolt file at dbPath,
// the engine with the scenario's rules, and a dispatcher posting through
// slack-go to the fake Slack named by CRASHTEST_SLACK, tagged with the
// run (CRASHTEST_RUN). The file is closed when the test ends.
func openChild(t *testing.T, ctx context.Context, dbPath string) (*store.DB, *engine.Engine, *notifier.Dispatcher) {
	t.Helper()
	db, err := store.Open(dbPath, store.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e, err := engine.New(db, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetRules(ctx, rules()); err != nil {
		t.Fatal(err)
	}
	bot, err := slackapp.NewBot("xoxb-crash-test", slackapp.Options{
		APIURL:     os.Getenv("CRASHTEST_SLACK"),
		HTTPClient: &http.Client{Transport: runHeader{os.Getenv("CRASHTEST_RUN")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := notifier.New(notifier.Options{Outbox: db, Router: route{}, Sender: bot,
		ChannelInterval: time.Millisecond, PollInterval: 5 * time.Millisecond, StormThreshold: -1})
	if err != nil {
		t.Fatal(err)
	}
	return db, e, d
}

// runHeader tells the fake Slack which run sent a request.
type runHeader struct{ run string }

func (h runHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Crash-Run", h.run)
	return http.DefaultTransport.RoundTrip(r)
}

// post is one chat.postMessage or chat.update the fake Slack answered ok.
type post struct {
	Run      int
	Method   string
	Tag      string // the notification it carries
	TS       string // the message's ts (for an update: the updated one)
	ThreadTS string
	Text     string
}

// fakeSlack answers chat.postMessage and chat.update like Slack, with
// increasing ts values, and records each call. It takes latency per call,
// as Slack does, so a kill can land while a message is on the way.
type fakeSlack struct {
	latency time.Duration
	mu      sync.Mutex
	posts   []post
	seq     int
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	run, _ := strconv.Atoi(r.Header.Get("X-Crash-Run"))
	method := strings.TrimPrefix(r.URL.Path, "/")
	tagText := tagOf(r.Form.Get("text"), r.Form.Get("blocks"))
	time.Sleep(f.latency / 2)       // the request travels
	defer time.Sleep(f.latency / 2) // the answer travels: a kill now loses it
	f.mu.Lock()
	defer f.mu.Unlock()
	p := post{Run: run, Method: method, Tag: tagText, ThreadTS: r.Form.Get("thread_ts"), Text: r.Form.Get("text")}
	switch method {
	case "chat.postMessage":
		f.seq++
		p.TS = fmt.Sprintf("1764320400.%06d", f.seq)
	case "chat.update":
		p.TS = r.Form.Get("ts")
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":false,"error":"unknown_method"}`)
		return
	}
	f.posts = append(f.posts, p)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "C0QOS", "ts": p.TS, "text": r.Form.Get("text")})
}

// TestCrashAnywhere runs the child, kills it with SIGKILL after a random
// time (during ingest, delivery, or both), restarts it, many times; then
// lets it finish and checks what Slack got.
func TestCrashAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: runs a child process ~30 times")
	}
	if os.Getenv("CRASHTEST_DB") != "" {
		t.Skip("in the child")
	}
	want := implied(t)
	if len(want) < 20 {
		t.Fatalf("the scenario implies only %d notifications; make it richer", len(want))
	}
	slackSrv := &fakeSlack{latency: 8 * time.Millisecond}
	srv := httptest.NewServer(slackSrv)
	defer srv.Close()
	dbPath := filepath.Join(t.TempDir(), "qoswatch.db")

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CRASHTEST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (CRASHTEST_SEED=%d reproduces the kill times)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	start := func(run int) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "CRASHTEST_DB="+dbPath, "CRASHTEST_SLACK="+srv.URL+"/",
			"CRASHTEST_RUN="+strconv.Itoa(run))
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	const iterations = 30
	budget := time.Now().Add(3 * time.Minute) // bounded: a slow machine runs fewer kills
	kills, inIngest, finishedEarly := 0, 0, 0
	for run := 1; run <= iterations && time.Now().Before(budget); run++ {
		cmd := start(run)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Early kills land in ingest and the first deliveries, late ones in
		// the drain of the outbox.
		delay := time.Duration(5+rng.IntN(200)) * time.Millisecond
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d failed on its own: %v\n%s", run, err, cmd.Stdout)
			}
			finishedEarly++
		case <-time.After(delay):
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-done
			kills++
			if !strings.Contains(cmd.Stdout.(*strings.Builder).String(), "ingest-done") {
				inIngest++
			}
		}
	}
	// The last run goes to the end.
	final := kills + finishedEarly + 1
	cmd := start(final)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("final run: %v\n%s", err, cmd.Stdout)
		}
	case <-time.After(3 * time.Minute): // a hang guard, not a speed check
		cmd.Process.Kill()
		<-done
		slackSrv.mu.Lock()
		n := len(slackSrv.posts)
		slackSrv.mu.Unlock()
		t.Fatalf("the final run did not drain the outbox within 3 minutes (%d messages posted so far)", n)
	}
	t.Logf("%d runs killed with SIGKILL (%d while ingesting and delivering, %d while draining the outbox), %d finished before their kill time, then a final run",
		kills, inIngest, kills-inIngest, finishedEarly)
	if kills < 10 {
		t.Errorf("only %d of %d runs were killed: the scenario is too short for the kill times", kills, iterations)
	}

	slackSrv.mu.Lock()
	posts := slices.Clone(slackSrv.posts)
	slackSrv.mu.Unlock()
	check(t, want, posts, final)

	// What the file holds after all that: an empty outbox, every alert of
	// the ended webinar resolved, and a thread ref for each.
	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if n, err := db.Pending(ctx, 0); err != nil || len(n) != 0 {
		t.Errorf("outbox after the final run: %d entries, %v", len(n), err)
	}
	snap, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range snap.Alerts {
		if a.State != engine.StateResolved {
			t.Errorf("alert %s is %s after the webinar ended", a.Key, a.State)
		}
		if _, ok, err := db.Ref(ctx, a.Key); !ok || err != nil {
			t.Errorf("alert %s has no message ref (%v)", a.Key, err)
		}
	}
	// One cursor per participant, plus the end mark EndSource leaves (a
	// cursor with no participant) so late pages of the ended webinar are
	// never evaluated after a restart.
	seen, ends := 0, 0
	for _, c := range snap.Cursors {
		if c.Participant == "" {
			ends++
		} else {
			seen++
		}
	}
	if seen != participants || ends != 1 {
		t.Errorf("%d participant cursors and %d end marks stored, want %d and 1", seen, ends, participants)
	}
}

func check(t *testing.T, want []string, posts []post, final int) {
	// Messages: how often each notification was posted, and by which runs.
	count := map[string]int{}
	var order []string
	firstTS := map[string][]string{} // "rule participant" → ts of its firing posts
	for _, p := range posts {
		if p.Method != "chat.postMessage" {
			continue
		}
		if p.Tag == "" {
			t.Errorf("run %d posted a message without the scenario's tag", p.Run)
			continue
		}
		if count[p.Tag] == 0 {
			order = append(order, p.Tag)
		}
		count[p.Tag]++
		if f := strings.Fields(p.Tag); f[1] == "firing" {
			firstTS[f[2]+" "+f[3]] = append(firstTS[f[2]+" "+f[3]], p.TS)
		}
	}

	// Nothing lost, nothing that was not decided.
	wantSet := map[string]bool{}
	for _, w := range want {
		wantSet[w] = true
		if count[w] == 0 {
			t.Errorf("never delivered: %s", w)
		}
	}
	for tag := range count {
		if !wantSet[tag] {
			t.Errorf("delivered but not implied by the scenario: %s", tag)
		}
	}
	// An alert's messages in order: its firing before its resolve.
	seen := map[string]bool{}
	for _, tag := range order {
		f := strings.Fields(tag)
		k := f[2] + " " + f[3]
		if f[1] == "resolved" && !seen[k+" firing"] {
			// the resolve of a later incident may follow an earlier firing;
			// what must never happen is a resolve before any firing.
			t.Errorf("%s was posted before any firing of %s", tag, k)
		}
		seen[k+" "+f[1]] = true
	}

	// Nothing twice, except the message in flight at a kill: a post is "in
	// flight" when the same notification was posted again later (the run
	// died before it recorded the delivery). At most one per run.
	inFlight := map[int][]string{}
	last := map[string]int{}
	for i, p := range posts {
		if p.Method == "chat.postMessage" {
			last[p.Tag] = i
		}
	}
	dups := 0
	for i, p := range posts {
		if p.Method == "chat.postMessage" && last[p.Tag] != i {
			inFlight[p.Run] = append(inFlight[p.Run], p.Tag)
			dups++
		}
	}
	for run, tags := range inFlight {
		if len(tags) > 1 || run == final {
			t.Errorf("run %d posted %d messages that were posted again later (at most 1 per kill, none in the final run): %v", run, len(tags), tags)
		}
	}

	// Resolves thread under their alert's first message, and update it,
	// across restarts.
	updated := map[string]bool{}
	for _, p := range posts {
		if p.Method == "chat.update" {
			updated[p.TS] = true
		}
	}
	for _, p := range posts {
		if p.Method != "chat.postMessage" || p.Tag == "" {
			continue
		}
		f := strings.Fields(p.Tag)
		if f[1] != "resolved" {
			continue
		}
		firsts := firstTS[f[2]+" "+f[3]]
		if !slices.Contains(firsts, p.ThreadTS) {
			t.Errorf("%s (run %d) is not in its alert's thread: thread_ts %q, firing messages %v", p.Tag, p.Run, p.ThreadTS, firsts)
		}
		if !updated[p.ThreadTS] {
			t.Errorf("%s: the first message %s was never updated", p.Tag, p.ThreadTS)
		}
	}
	t.Logf("%d notifications implied, %d messages posted, %d duplicates (in flight at a kill)", len(want), len(order)+dups, dups)
}
