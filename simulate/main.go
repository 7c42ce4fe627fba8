package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Main is `qoswatch simulate`: flags in args (without the command name),
// the table or JSON on stdout, errors on stderr; it returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("qoswatch simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	degraded := percent(0.02)
	fs.IntVar(&cfg.Participants, "participants", 10000, "participants of the simulated webinar, host and panelists included")
	fs.DurationVar(&cfg.Duration, "duration", 2*time.Hour, "length of the webinar")
	fs.StringVar(&cfg.Plan, "plan", "business", "Zoom account plan whose limits apply: pro or business")
	fs.Float64Var(&cfg.BudgetShare, "budget-share", 0.5, "share of the daily cap qoswatch may spend (QOSWATCH_BUDGET_SHARE)")
	fs.Var(&degraded, "degraded", "share of participants who degrade once: 2% or 0.02")
	fs.BoolVar(&cfg.QualityRatings, "quality-ratings", true, "the account's participants list carries Zoom's quality ratings")
	fs.Int64Var(&cfg.Seed, "seed", 1, "scenario seed: the same seed gives the same webinar")
	start := fs.String("start", "14:00", "UTC time of day the webinar starts (the budget plans to 00:00 UTC)")
	baselines := fs.String("baselines", "naive", "pollers to compare, comma-separated: naive (full sweep every minute, no budget), rotation (the same budget, rotation sweeps only), oracle (full sweep every minute, no limits)")
	rulesName := fs.String("rules", "example", "rules: example (rules.example.yaml), impairments (one rule per simulated impairment), or a rules file")
	fs.StringVar(&cfg.Push, "push", "", "feed qoswatch the events Zoom would push: qss (QSS on: every participant's QoS each minute, start/end, joins, leaves, Zoom's alerts) or events (no QSS); the run goes on a day after the webinar to count an idle day's listing calls")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: qoswatch simulate [flags]\n\n"+
			"Runs qoswatch's poller and engine, and a naive full-sweep poller, against a simulated Zoom\n"+
			"with Zoom's rate limits, and scores their alerts against the scenario's ground truth.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "qoswatch simulate: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg.Degraded = float64(degraded)
	tod, err := time.Parse("15:04", *start)
	if err != nil {
		fmt.Fprintf(stderr, "qoswatch simulate: --start %q: want HH:MM (UTC)\n", *start)
		return 2
	}
	cfg.Start = time.Date(2026, 1, 5, tod.Hour(), tod.Minute(), 0, 0, time.UTC)
	cfg.Baselines = []string{}
	for _, b := range strings.Split(*baselines, ",") {
		if b = strings.TrimSpace(b); b != "" {
			cfg.Baselines = append(cfg.Baselines, b)
		}
	}
	cfg.RulesName = *rulesName
	if cfg.Rules, err = LoadRules(*rulesName); err != nil {
		fmt.Fprintf(stderr, "qoswatch simulate: --rules: %v\n", err)
		return 2
	}
	// A batch run: the heap stays small, so trade memory for less GC.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	rep, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "qoswatch %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "qoswatch simulate: %v\n", err)
			return 1
		}
		return 0
	}
	rep.WriteTable(stdout)
	return 0
}

// percent is a share written as "2%" or "0.02".
type percent float64

func (p *percent) String() string { return strconv.FormatFloat(float64(*p)*100, 'g', -1, 64) + "%" }

func (p *percent) Set(s string) error {
	s = strings.TrimSpace(s)
	scale := 1.0
	if v, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = strings.TrimSpace(v), 0.01
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v*scale <= 1) { // NaN too
		return fmt.Errorf("%q: want a share such as 2%% or 0.02", s)
	}
	*p = percent(v * scale)
	return nil
}

// WriteTable prints the report as a table, one column per poller.
func (r Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "%d participants, %v, %s plan, budget share %g (%d calls/day), %g%% degrade, quality ratings %v, seed %d, start %s UTC, %d rules (%s)\n\n",
		r.Participants, r.Duration, r.Plan, r.BudgetShare, r.Budget, r.Degraded*100, r.QualityRatings, r.Seed, r.Start.Format("15:04"), r.Rules, r.RulesName)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, f func(Result) string) {
		fmt.Fprint(tw, name+"\t")
		for _, res := range r.Results {
			fmt.Fprint(tw, f(res)+"\t")
		}
		fmt.Fprintln(tw)
	}
	pct := func(v float64) string { return fmt.Sprintf("%.1f%%", v*100) }
	dur := func(d time.Duration) string { return d.Round(time.Second).String() }
	row("", func(res Result) string {
		if res.Push != "" {
			return res.Poller + " (push " + res.Push + ")"
		}
		return res.Poller
	})
	row("Heavy calls", func(res Result) string { return strconv.Itoa(res.Calls["Heavy"]) })
	row("Resource-intensive calls", func(res Result) string { return strconv.Itoa(res.Calls["Resource-intensive"]) })
	for _, p := range []string{"full_sweep", "watch", "triage", "detail", "sweep", "past", "discovery"} {
		row("  for "+strings.ReplaceAll(p, "_", " "), func(res Result) string { return strconv.FormatInt(res.CallsFor[p], 10) })
	}
	row("429 QPS", func(res Result) string { return strconv.Itoa(res.QPS429) })
	row("429 Daily-limit", func(res Result) string { return strconv.Itoa(res.Daily429) })
	row("held back for the daily cap", func(res Result) string { return strconv.FormatInt(res.DailyRefused, 10) })
	row("account's daily cap left", func(res Result) string { return strconv.Itoa(res.DailyLeft) })
	row("qoswatch budget left", func(res Result) string {
		if res.BudgetLeft < 0 {
			return "-"
		}
		return strconv.FormatInt(res.BudgetLeft, 10)
	})
	row("Heavy calls/s in a sweep", func(res Result) string {
		return fmt.Sprintf("%.1f of %g (%s)", res.SweepHeavyPS, res.PlanHeavyPS, pct(res.SweepHeavyPS/res.PlanHeavyPS))
	})
	row("peak Heavy calls in 1s", func(res Result) string { return strconv.Itoa(res.PeakHeavyPS) })
	row("degraded participants", func(res Result) string { return strconv.Itoa(res.Degraded) })
	row("alerted", func(res Result) string { return fmt.Sprintf("%d (%s)", res.Detected, pct(res.DetectionRate)) })
	row("alerted within 3m of onset", func(res Result) string { return fmt.Sprintf("%d (%s)", res.Within3m, pct(res.Within3mRate)) })
	row("alerted within 5m of onset", func(res Result) string { return fmt.Sprintf("%d (%s)", res.Within5m, pct(res.Within5mRate)) })
	row("onset to alert, median", func(res Result) string { return dur(res.DelayMedian) })
	row("onset to alert, p95", func(res Result) string { return dur(res.DelayP95) })
	row("false alerts", func(res Result) string { return strconv.Itoa(res.FalseAlerts) })
	row("seen in last 5m, mean", func(res Result) string { return pct(res.CoverageMean) })
	row("seen in last 5m, min", func(res Result) string { return pct(res.CoverageMin) })
	row("budget degraded coverage", func(res Result) string { return strconv.FormatBool(res.DegradedMode) })
	if r.Results[0].Push != "" {
		row("Resource-intensive calls, the idle day after", func(res Result) string {
			if res.IdleRICalls < 0 {
				return "-"
			}
			return strconv.Itoa(res.IdleRICalls)
		})
	}
	row("wall time", func(res Result) string { return res.Wall.Round(10 * time.Millisecond).String() })
	tw.Flush()
}
