package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/qoswatch/qoswatch/daemon"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/zoom"

	"github.com/qoswatch/qoswatch/rules"
)

func cmdCheck(_ context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch check", "FILE...",
		"Checks rules files: exit 0 and a summary line per file, or exit 1 and every\nerror of every file, each as file:line:col: rule \"name\": what is wrong.")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	if len(f.Args()) == 0 {
		fmt.Fprintln(c.stderr, "qoswatch check: give at least one rules file (like rules.yaml)")
		return 2
	}
	return rules.Check(c.stdout, f.Args()...)
}

func cmdExplain(_ context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch explain", "[flags] QOS.json...",
		"Shows, for each participant minute of a saved Zoom QoS response (the JSON of\nGET /metrics/webinars/{id}/participants/qos, a page or one participant's\n.../participants/{id}/qos), every rule: whether `when` holds, and the value\nof every comparison in it.")
	var rulesFile, source string
	f.String(&rulesFile, "rules", "QOSWATCH_RULES", "rules.yaml", "rules file")
	f.String(&source, "source", "", "webinar:0", "the webinar or meeting the response is of: webinar:ID or meeting:ID")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	if len(f.Args()) == 0 {
		fmt.Fprintln(c.stderr, "qoswatch explain: give a saved QoS response (JSON), like rules/testdata/explain/webinar-qos.json")
		return 2
	}
	kind, id, err := daemon.ParseSource(source)
	if err != nil {
		fmt.Fprintf(c.stderr, "qoswatch explain: --source %v\n", err)
		return 2
	}
	set, err := rules.Load(rulesFile)
	if err != nil {
		fmt.Fprintf(c.stderr, "%v\n", err)
		return 1
	}
	src := engine.Source{Kind: engine.SourceKind(kind), ID: id}
	var samples []engine.Sample
	for _, file := range f.Args() {
		got, err := readQoS(file, src)
		if err != nil {
			fmt.Fprintf(c.stderr, "qoswatch explain: %v\n", err)
			return 1
		}
		samples = append(samples, got...)
	}
	if err := rules.Explain(c.stdout, set, samples); err != nil {
		fmt.Fprintf(c.stderr, "qoswatch explain: %v\n", err)
		return 1
	}
	return 0
}

// readQoS reads a saved participants-QoS page, or one participant's QoS,
// into samples. The error names the file.
func readQoS(file string, src engine.Source) ([]engine.Sample, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var page zoom.ParticipantQoSList
	if err := json.Unmarshal(data, &page); err != nil {
		return nil, fmt.Errorf("%s: not a Zoom QoS response: %v", file, err)
	}
	if len(page.Participants) == 0 {
		var one zoom.ParticipantQoS
		if err := json.Unmarshal(data, &one); err == nil && len(one.UserQoS) > 0 {
			page.Participants = []zoom.ParticipantQoS{one}
		}
	}
	if len(page.Participants) == 0 {
		return nil, fmt.Errorf("%s: no participants with QoS in it", file)
	}
	var out []engine.Sample
	for i := range page.Participants {
		out = zoom.AppendSamples(out, src, &page.Participants[i])
	}
	return out, nil
}

func cmdTest(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch test", "FILE...",
		"Runs rule unit tests: each test file names a rules file, gives each participant\na series of values (one a minute) and the alerts expected at given minutes.\nPrints every failed expectation; exit 1 on any failure.")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	if len(f.Args()) == 0 {
		fmt.Fprintln(c.stderr, "qoswatch test: give at least one test file (like rules.example.test.yaml)")
		return 2
	}
	return rules.RunTestFiles(ctx, c.stdout, f.Args()...)
}
