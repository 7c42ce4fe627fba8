package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/httpapi"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/store"
)

// TestAckCommand: `qoswatch ack` against the real HTTP API over a real
// engine on bbolt acknowledges the alert named as messages name it;
// again, it says who has it and exits 1; `alerts` shows who acknowledged;
// `actions` lists both; a malformed alert is a usage error.
func TestAckCommand(t *testing.T) {
	set, err := rules.Parse("r.yaml", []byte("rules:\n  - name: lossy\n    when: avg_loss > 2\n    for: 0s\n"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Minute) // silence list tells expired from active on the wall clock
	db, err := store.Open(filepath.Join(t.TempDir(), "q.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eng, err := engine.New(db, engine.Options{Clock: fakeclock.NewManual(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetRules(context.Background(), set.Rules()); err != nil {
		t.Fatal(err)
	}
	s := engine.NewSample()
	s.Source = engine.Source{Kind: engine.Webinar, ID: "777", Topic: "Town hall"}
	s.Participant = engine.Participant{UserID: "u2", UserName: "Name u2"}
	s.Time, s.AudioInput.AvgLoss = t0, 5
	s.Aggregate()
	if err := eng.Ingest(context.Background(), []engine.Sample{s}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Engine: eng}))
	defer srv.Close()
	cmd := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"qoswatch", args[0], "--url", srv.URL}, args[1:]...), &out, &errOut, envOf(map[string]string{"USER": "ana"}))
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := cmd("ack", "lossy/webinar:777/u2"); code != 0 || out != "Acknowledged lossy for Name u2.\n" {
		t.Fatalf("ack = %d %q %q", code, out, errOut)
	}
	if code, out, _ := cmd("ack", "--as", "bo", "1"); code != 1 || !strings.HasPrefix(out, "Already acknowledged by ana at "+t0.Format("15:04 UTC")) {
		t.Fatalf("ack again = %d %q", code, out)
	}
	if _, out, _ := cmd("alerts"); !strings.Contains(out, "ana") || !strings.Contains(out, "lossy/webinar:777/u2") || !strings.HasPrefix(strings.Split(out, "\n")[1], "1  lossy") {
		t.Errorf("alerts does not show the ack and the alert's name:\n%s", out)
	}
	code, out, errOut := cmd("actions")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[1], "cli:bo") || !strings.Contains(lines[1], "false") ||
		!strings.Contains(lines[2], "cli:ana") || !strings.Contains(lines[2], "ack") || !strings.Contains(lines[2], "true") {
		t.Fatalf("actions = %d %s %s", code, out, errOut)
	}
	// A silence until it resolves is listed with what ends it.
	if code, out, errOut := cmd("ack", "--silence", "until_resolved", "lossy/webinar:777/u2"); code != 0 || !strings.HasPrefix(out, "Silenced lossy for Name u2 until it resolves") {
		t.Fatalf("ack --silence until_resolved = %d %q %q", code, out, errOut)
	}
	var list, listErr bytes.Buffer
	run(context.Background(), []string{"qoswatch", "silence", "list", "--url", srv.URL}, &list, &listErr, envOf(nil))
	if out := list.String() + listErr.String(); !strings.Contains(out, "when lossy/webinar:777/u2 resolves, at the latest") || !strings.Contains(out, "cli:ana (ana)") {
		t.Errorf("silence list:\n%s", out)
	}
	// Not an issue: counted, and explain --rule says so.
	if code, out, errOut := cmd("ack", "--dismiss", "--comment", "venue wifi", "lossy/webinar:777/u2"); code != 0 || !strings.Contains(out, "Dismissed lossy for Name u2") {
		t.Fatalf("ack --dismiss = %d %q %q", code, out, errOut)
	}
	rulesFile := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rulesFile, []byte("rules:\n  - name: lossy\n    when: avg_loss > 2\n    for: 0s\n  - name: other\n    when: latency > 150\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := cmd("explain", "--rules", rulesFile, "--rule", "lossy"); code != 0 ||
		!strings.Contains(out, "ack_expiry 1h0m0s") || !strings.Contains(out, "dismissed as not an issue: 1 alert ") {
		t.Fatalf("explain --rule = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cmd("explain", "--rules", rulesFile, "--rule", "nope"); code != 2 || !strings.Contains(errOut, "it has lossy, other") {
		t.Errorf("explain --rule nope = %d %q", code, errOut)
	}
	if code, _, errOut := cmd("ack", "lossy"); code != 2 || !strings.Contains(errOut, "want the alert's number") {
		t.Errorf("a malformed alert = %d %s", code, errOut)
	}
	if code, _, errOut := cmd("ack", "--silence", "forever", "lossy/webinar:777/u2"); code != 1 || !strings.Contains(errOut, `unknown silence scope "forever"`) {
		t.Errorf("a bad scope = %d %s", code, errOut)
	}
}
