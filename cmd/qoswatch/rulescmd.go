package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/daemon"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/zoom"

	"github.com/qoswatch/qoswatch/rules"
)

func cmdCheck(ctx context.Context, c *cli, args []string) int {
	return cmdFiles(ctx, c, args, "qoswatch check",
		"Checks rules files: exit 0 and a summary line per file, or exit 1 and every\nerror of every file, each as file:line:col: rule \"name\": what is wrong.",
		"at least one rules file (like rules.yaml)", rules.Check)
}

// cmdFiles is a command without flags whose arguments are files, all
// handed to run.
func cmdFiles(ctx context.Context, c *cli, args []string, name, summary, need string, run func(context.Context, io.Writer, ...string) int) int {
	f := newFlags(c, name, "FILE...", summary)
	if code, done := parseWithArgs(f, args, need); done {
		return code
	}
	return run(ctx, c.stdout, f.Args()...)
}

func cmdExplain(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch explain", "[flags] QOS.json...",
		"Shows, for each participant minute of a saved Zoom QoS response (the JSON of\nGET /metrics/webinars/{id}/participants/qos, a page or one participant's\n.../participants/{id}/qos), every rule: whether `when` holds, and the value\nof every comparison in it.")
	var rulesFile, source, role, only string
	f.String(&rulesFile, "rules", "QOSWATCH_RULES", "rules.yaml", "rules file")
	f.String(&only, "rule", "", "", "only this rule; it also shows how often responders dismissed its alerts as not an issue\n(asked of the running daemon at --url; the QoS files are optional then)")
	apiURL, apiToken := apiFlags(f, c)
	f.String(&source, "source", "", "", "the webinar or meeting the response is of, for rules on source.*: webinar:ID or meeting:ID")
	f.String(&role, "role", "", "", "the participants' role, which saved QoS does not carry: host, panelist or attendee for all,\nor per user_id: 16778240=host,16779264=panelist")
	need := "a saved QoS response (JSON), like rules/testdata/explain/webinar-qos.json"
	if code, done := parseOrExit(f, args); done {
		return code
	}
	if len(f.Args()) == 0 && only == "" {
		fmt.Fprintf(c.stderr, "qoswatch explain: give %s (or --rule NAME)\n", need)
		return 2
	}
	var src engine.Source
	if source != "" {
		kind, id, err := daemon.ParseSource(source)
		if err != nil {
			fmt.Fprintf(c.stderr, "qoswatch explain: --source %v\n", err)
			return 2
		}
		src = engine.Source{Kind: engine.SourceKind(kind), ID: id}
	}
	roles, err := parseRoles(role)
	if err != nil {
		fmt.Fprintf(c.stderr, "qoswatch explain: --role %v\n", err)
		return 2
	}
	set, samples, err := loadExplained(ctx, rulesFile, f.Args(), src)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(c.stderr, "qoswatch explain: interrupted")
			return rules.ExitInterrupted
		}
		fmt.Fprintf(c.stderr, "%v\n", err)
		return 1
	}
	if only != "" {
		one, ok := set.Only(only)
		if !ok {
			var names []string
			for _, r := range set.Rules() {
				names = append(names, r.Name)
			}
			fmt.Fprintf(c.stderr, "qoswatch explain: --rule %q: no such rule in %s (it has %s)\n", only, rulesFile, strings.Join(names, ", "))
			return 2
		}
		set = one
		describeRule(ctx, c, set.Rules()[0], newAPIClient(*apiURL, *apiToken))
	}
	setRoles(samples, roles)
	err = rules.Explain(ctx, c.stdout, set, samples)
	if err == nil && source != "" { // the samples are one source's participants: what do the affected share?
		err = rules.ExplainCauses(ctx, c.stdout, set, samples)
		if err == nil {
			err = rules.ExplainInhibitions(ctx, c.stdout, set, samples)
		}
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "qoswatch explain: %v\n", err)
		if ctx.Err() != nil {
			return rules.ExitInterrupted
		}
		return 1
	}
	return 0
}

// loadExplained reads the rules file and the QoS files. A file read
// blocks where no context reaches (a FIFO, a hung mount): the reads run
// on their own goroutine, and when ctx ends first it returns ctx's
// error at once, without waiting for them.
func loadExplained(ctx context.Context, rulesFile string, files []string, src engine.Source) (*rules.Set, []engine.Sample, error) {
	type loaded struct {
		set     *rules.Set
		samples []engine.Sample
		err     error
	}
	done := make(chan loaded, 1)
	go func() {
		var l loaded
		if l.set, l.err = rules.Load(rulesFile); l.err != nil {
			done <- l
			return
		}
		for _, file := range files {
			got, err := readQoS(file, src)
			if err != nil {
				l.err = fmt.Errorf("qoswatch explain: %w", err)
				break
			}
			l.samples = append(l.samples, got...)
		}
		done <- l
	}()
	select {
	case l := <-done:
		return l.set, l.samples, l.err
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// setRoles gives each sample's participant the role --role names for
// its user_id, else the role it names for everyone (saved QoS carries
// no role).
func setRoles(samples []engine.Sample, roles map[string]string) {
	for i := range samples {
		p := &samples[i].Participant
		if r, ok := roles[p.UserID]; ok {
			p.Role = r
		} else if r, ok := roles[""]; ok {
			p.Role = r
		}
	}
}

// describeRule prints a rule's timings and how often responders
// dismissed its alerts as not an issue (the daemon's stored count, the
// same as qoswatch_rule_dismissals_total): false positives to tune by.
func describeRule(ctx context.Context, c *cli, r engine.Rule, api *apiClient) {
	fmt.Fprintf(c.stdout, "Rule %s (%s): for %s, keep_firing_for %s, repeat_interval %s, ack_expiry %s\n",
		r.Name, r.Severity, r.For, r.KeepFiringFor, r.RepeatInterval, ackExpiryText(r.AckExpiry))
	var resp struct {
		Dismissals map[string]uint64 `json:"dismissals"`
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := api.do(ctx, "GET", "/api/v1/dismissals", nil, &resp); err != nil {
		fmt.Fprintf(c.stdout, "  dismissed as not an issue: unknown (%v)\n", err)
		return
	}
	n := resp.Dismissals[r.Name]
	fmt.Fprintf(c.stdout, "  dismissed as not an issue: %d %s (responders' false positives, since the daemon's store began)\n", n, plural(n, "alert", "alerts"))
}

func ackExpiryText(d time.Duration) string {
	if d == 0 {
		return "never (until resolved)"
	}
	return d.String()
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// parseRoles reads --role: "host" (everyone) or "ID=role,ID=role"; the
// key "" is everyone's.
func parseRoles(s string) (map[string]string, error) {
	roles := map[string]string{}
	if s == "" {
		return roles, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		id, role, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			id, role = "", id
		}
		switch role {
		case engine.RoleHost, engine.RolePanelist, engine.RoleAttendee:
		default:
			return nil, fmt.Errorf("%q: the role is host, panelist or attendee", item)
		}
		if _, dup := roles[id]; dup {
			return nil, fmt.Errorf("%q: given twice", item)
		}
		roles[id] = role
	}
	return roles, nil
}

// readQoS reads a saved participants-QoS page, or one participant's QoS,
// into samples. The error names the file.
func readQoS(file string, src engine.Source) ([]engine.Sample, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	// A saved page is ~10 participants; one participant's whole webinar
	// is a few MB. More is not a QoS response.
	const maxQoSBytes = 64 << 20
	data, err := io.ReadAll(io.LimitReader(fh, maxQoSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(data) > maxQoSBytes {
		return nil, fmt.Errorf("%s: over %d MiB: not a saved QoS response", file, maxQoSBytes>>20)
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
	return cmdFiles(ctx, c, args, "qoswatch test",
		"Runs rule unit tests: each test file names a rules file, gives each participant\na series of values (one a minute) and the alerts expected at given minutes.\nPrints every failed expectation; exit 1 on any failure.",
		"at least one test file (like rules.example.test.yaml)", rules.RunTestFiles)
}
