package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// TestExplainNamesSharedCause (issue 13 item 1): a support agent who saved
// a webinar's QoS pages asks explain --source why; of 30 people, the 8 in
// Lagos break up, and explain says so in the storm message's words. A
// rule that holds for one person gets no guess.
func TestExplainNamesSharedCause(t *testing.T) {
	start := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	sc := zoomtest.Generate(zoomtest.Gen{ID: 81234567890, Topic: "Lagos test", Start: start, Duration: time.Hour, Participants: 30, Seed: 3})
	for i, p := range sc.Participants {
		p.Join, p.Leave = 0, 0
		p.Location = []string{"San Jose (US)", "London (GB)", "Tokyo (JP)"}[i%3]
		if i >= 10 && i < 18 {
			p.Location = "Lagos (NG)"
			p.Degradations = append(p.Degradations,
				zoomtest.Degradation{Kind: zoomtest.AudioLoss, From: 0, To: time.Hour},
				zoomtest.Degradation{Kind: zoomtest.HighLatency, From: 0, To: time.Hour})
		}
	}
	dir := t.TempDir()
	args := []string{"qoswatch", "explain", "--rules", "../../rules.example.yaml", "--source", "webinar:81234567890"}
	for i, page := range sc.QoSPages(start.Add(10*time.Minute), 10) {
		file := filepath.Join(dir, fmt.Sprintf("page%d.json", i))
		if err := os.WriteFile(file, page, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, file)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args, &out, &errOut, envOf(nil)); code != 0 {
		t.Fatalf("explain = %d\n%s", code, errOut.String())
	}
	_, causes, ok := strings.Cut(out.String(), "Shared cause (each of the 30 participants' newest minute):\n")
	if !ok {
		t.Fatalf("no shared-cause section for 30 participants:\n%s", out.String())
	}
	want := "choppy-audio             holds for 8 of 30: Likely shared cause: location Lagos (NG) — 8 of 8 affected, 0% of the other 22."
	if !strings.Contains(causes, want) {
		t.Errorf("explain's shared causes:\n%s\nwant the line\n%s", causes, want)
	}
	// Without --source the samples may be of several webinars: no section.
	out.Reset()
	if run(context.Background(), append(args[:4:4], args[6:]...), &out, &errOut, envOf(nil)); strings.Contains(out.String(), "Shared cause") {
		t.Errorf("a shared cause without --source:\n%s", out.String())
	}
}
