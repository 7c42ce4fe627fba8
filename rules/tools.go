package rules

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// ExitInterrupted is the exit code of check, test and explain when a
// signal (or ctx) stopped them: 128 + SIGINT, as shells report.
const ExitInterrupted = 130

// Check loads each rules file (qoswatch check) and writes a one-line
// summary per good file, or every error of a bad one with the line it is
// on and a caret under the column. The result is the exit code: 0 when
// every file loads, 1 otherwise, ExitInterrupted when ctx is done first.
func Check(ctx context.Context, w io.Writer, files ...string) int {
	code := 0
	for _, path := range files {
		set, err := LoadContext(ctx, path)
		if ctx.Err() != nil {
			fmt.Fprintf(w, "%s: interrupted\n", path)
			return ExitInterrupted
		}
		if err == nil {
			warned := ""
			if len(set.warnings) > 0 {
				warned = ", " + plural(printErrors(w, set.warnings), "warning")
			}
			report := ""
			if set.report != "" {
				report = ", the report to " + set.report
			}
			inhibits := ""
			if n := set.inhibitions(); n > 0 {
				inhibits = ", " + plural(n, "inhibition")
			}
			fmt.Fprintf(w, "%s: OK: %d rules, %d routes%s%s%s\n", path, len(set.rules), len(set.routes), inhibits, report, warned)
			continue
		}
		code = 1
		printErrors(w, err)
		fmt.Fprintf(w, "%s: FAILED: %s\n", path, plural(countErrors(err), "error"))
	}
	return code
}

// printErrors writes every error of err (an Errors) with the line it is on
// and a caret under the column, and returns how many there were.
func printErrors(w io.Writer, err error) int {
	var es Errors
	if !errors.As(err, &es) {
		fmt.Fprintln(w, err)
		return 1
	}
	sources := map[string][]string{}
	for _, e := range es {
		fmt.Fprintln(w, e)
		lines, ok := sources[e.File]
		if !ok {
			if src, err := readFile(e.File); err == nil {
				lines = strings.Split(string(src), "\n")
			}
			sources[e.File] = lines
		}
		if e.Line > 0 && e.Line <= len(lines) {
			line := strings.ReplaceAll(strings.TrimRight(lines[e.Line-1], "\r"), "\t", " ")
			fmt.Fprintf(w, "    %s\n    %s^\n", line, strings.Repeat(" ", max(e.Column-1, 0)))
		}
	}
	return len(es)
}

// countErrors counts the errors of err, not its warnings.
func countErrors(err error) int {
	var es Errors
	if !errors.As(err, &es) {
		return 1
	}
	n := 0
	for _, e := range es {
		if !e.Warning {
			n++
		}
	}
	return n
}

// plural is "1 error", "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Explain writes, for each sample, every rule of the set against it:
// whether `when` holds, and the value of every comparison in it
// (qoswatch explain). A rule fires only after holding for its `for`, so one
// sample says "holds", not "fires".
func Explain(ctx context.Context, w io.Writer, set *Set, samples []engine.Sample) error {
	width := 0
	for _, r := range set.rules {
		width = max(width, len(r.Name))
	}
	noRole := false // a rule read a role the samples do not carry
	for i := range samples {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := &samples[i]
		p := &s.Participant
		who := p.UserName
		if who == "" {
			who = p.Key()
		}
		var attrs []string
		if p.UserID != "" {
			attrs = append(attrs, "user_id "+p.UserID)
		}
		for _, a := range []string{p.Role, p.Device, p.NetworkType} {
			if a != "" {
				attrs = append(attrs, a)
			}
		}
		head := who
		if len(attrs) > 0 {
			head += " (" + strings.Join(attrs, ", ") + ")"
		}
		if s.Source.ID != "" {
			head += fmt.Sprintf(" · %s %s", s.Source.Kind, s.Source.ID)
			if s.Source.Topic != "" {
				head += fmt.Sprintf(" %q", s.Source.Topic)
			}
		}
		if !s.Time.IsZero() {
			head += " · " + s.Time.UTC().Format("2006-01-02 15:04 UTC")
		}
		if _, err := fmt.Fprintln(w, head); err != nil {
			return err
		}
		for _, r := range set.rules {
			if r.Scope == engine.PerSource {
				continue // evaluated on every participant at once, below
			}
			verdict := "-    "
			s := s
			if r.Window != nil { // the participant's samples up to this one, as the engine keeps them
				s = withPast(r.Window, samples, s)
			}
			ok, err := r.When.Eval(s)
			switch {
			case err != nil:
				verdict = "error"
			case ok:
				verdict = "HOLDS"
			}
			terms := r.When.Explain(s)
			parts := make([]string, len(terms))
			for j, t := range terms {
				parts[j] = withUnits(t)
				noRole = noRole || (t.Field == "participant.role" && t.Value == "missing")
			}
			line := fmt.Sprintf("  %s  %-*s  %s", verdict, width, r.Name, strings.Join(parts, ", "))
			if err != nil {
				line += "  (" + err.Error() + ")"
			}
			if _, err := fmt.Fprintln(w, line); err != nil {
				return err
			}
		}
	}
	if noRole {
		if _, err := fmt.Fprintln(w, "Note: saved QoS carries no participant.role; give it with --role host, or per participant --role USER_ID=host,USER_ID=panelist"); err != nil {
			return err
		}
	}
	return explainSourceRules(w, set, samples)
}

// newestPerParticipant returns each participant's newest sample (the
// first of equal times), in the order the participants first appear.
func newestPerParticipant(samples []engine.Sample) []*engine.Sample {
	at := map[string]int{} // participant key -> its place in newest
	var newest []*engine.Sample
	for i := range samples {
		s := &samples[i]
		k := s.Participant.Key()
		if j, ok := at[k]; !ok {
			at[k] = len(newest)
			newest = append(newest, s)
		} else if s.Time.After(newest[j].Time) {
			newest[j] = s
		}
	}
	return newest
}

// explainSourceRules writes each webinar-level rule (scope: source) on the
// participants of the samples at their newest minute: whether `when`
// holds, every aggregate's value, and the worst participants.
func explainSourceRules(w io.Writer, set *Set, samples []engine.Sample) error {
	newest := newestPerParticipant(samples)
	told := false
	for _, r := range set.rules {
		if r.Scope != engine.PerSource {
			continue
		}
		if !told {
			if _, err := fmt.Fprintf(w, "Webinar-level rules (each of the %d participants' newest minute):\n", len(newest)); err != nil {
				return err
			}
			told = true
		}
		var latest []engine.Sample
		var s engine.Sample
		for _, t := range newest {
			latest = append(latest, *t)
			if t.Time.After(s.Time) {
				s.Source, s.Time = t.Source, t.Time
			}
		}
		s.Population = engine.PopulationOf(r.Window, latest)
		verdict := "-    "
		ok, err := r.When.Eval(&s)
		switch {
		case err != nil:
			verdict = "error"
		case ok:
			verdict = "HOLDS"
		}
		var parts []string
		for _, t := range r.When.Explain(&s) {
			parts = append(parts, withUnits(t))
		}
		line := fmt.Sprintf("  %s  %s  %s", verdict, r.Name, strings.Join(parts, ", "))
		if rk, isRanker := r.When.(engine.Ranker); isRanker {
			var worst []string
			for _, st := range rk.Worst(&s, engine.WorstShown) {
				name := st.Name
				if name == "" {
					name = st.Participant
				}
				worst = append(worst, fmt.Sprintf("%s %s", name, formatValue(st.Value)))
			}
			if len(worst) > 0 {
				line += "; worst: " + strings.Join(worst, ", ")
			}
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// withPast is a copy of s whose Past holds s's participant's samples up to
// s's time, for a windowed rule.
func withPast(w *engine.Window, samples []engine.Sample, s *engine.Sample) *engine.Sample {
	var mine []engine.Sample
	for i := range samples {
		o := &samples[i]
		if o.Participant.Key() == s.Participant.Key() && o.Source.Key() == s.Source.Key() && !o.Time.After(s.Time) {
			mine = append(mine, *o)
		}
	}
	slices.SortStableFunc(mine, func(a, b engine.Sample) int { return a.Time.Compare(b.Time) })
	c := *s
	c.Past = engine.PastOf(w, mine)
	return &c
}

// ExplainCauses writes, for each rule that holds for someone on their
// newest sample, whether what those participants share stands out against
// the other participants of the samples (engine.SharedCause): the hint a
// storm message leads with, on demand (qoswatch explain --source). The
// daemon compares the participants whose alert fires; a saved response
// has no alerts, so here "affected" is "the rule holds on the newest
// minute".
func ExplainCauses(ctx context.Context, w io.Writer, set *Set, samples []engine.Sample) error {
	newest := newestPerParticipant(samples)
	width := 0
	for _, r := range set.rules {
		width = max(width, len(r.Name))
	}
	if _, err := fmt.Fprintf(w, "Shared cause (each of the %d participants' newest minute):\n", len(newest)); err != nil {
		return err
	}
	told := false
	for _, r := range set.rules {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.Scope == engine.PerSource {
			continue // about the webinar, not who in it
		}
		var affected, others []engine.Participant
		for _, s := range newest {
			if ok, err := r.When.Eval(s); err == nil && ok {
				affected = append(affected, s.Participant)
			} else {
				others = append(others, s.Participant)
			}
		}
		if len(affected) == 0 {
			continue
		}
		told = true
		verdict := "no attribute stands out"
		if c, ok := engine.SharedCause(affected, others); ok {
			verdict = c.String()
		} else if len(affected) < engine.CauseMinAffected {
			verdict = fmt.Sprintf("too few to tell (a cause needs %d)", engine.CauseMinAffected)
		}
		if _, err := fmt.Fprintf(w, "  %-*s  holds for %d of %d: %s\n", width, r.Name, len(affected), len(newest), verdict); err != nil {
			return err
		}
	}
	if !told {
		_, err := fmt.Fprintln(w, "  no rule holds for anyone")
		return err
	}
	return nil
}

// ExplainInhibitions writes, for each inhibition of the set, what it would
// fold on the samples (one source's participants, each at its newest
// minute): whom the source rule holds for, and how many others a target
// rule holds for, whose alerts would be folded into theirs rather than
// posted. The daemon also asks that the target's alert started with the
// source's (the window), which a saved response cannot show.
func ExplainInhibitions(ctx context.Context, w io.Writer, set *Set, samples []engine.Sample) error {
	if set.inhibitions() == 0 {
		return nil
	}
	newest := newestPerParticipant(samples)
	holds := func(r engine.Rule, s *engine.Sample) bool {
		ok, err := r.When.Eval(s)
		return err == nil && ok
	}
	if _, err := fmt.Fprintf(w, "Inhibitions (each of the %d participants' newest minute):\n", len(newest)); err != nil {
		return err
	}
	for _, src := range set.rules {
		for _, in := range src.Inhibits {
			if err := ctx.Err(); err != nil {
				return err
			}
			var presenters []string
			for _, s := range newest {
				if holds(src, s) {
					p := s.Participant
					presenters = append(presenters, whoOf(&p))
				}
			}
			folded := 0
			for _, s := range newest {
				if holds(src, s) {
					continue
				}
				for _, t := range in.Targets {
					if r, ok := set.Rule(t); ok && r.Scope != engine.PerSource && holds(r, s) {
						folded++
						break
					}
				}
			}
			head := fmt.Sprintf("  %s folds %s (match source%s, window %s): ", src.Name, strings.Join(in.Targets, ", "), labelsText(in.Equal), shortDuration(in.Window))
			var verdict string
			switch {
			case len(presenters) == 0:
				verdict = fmt.Sprintf("%s holds for no one: nothing to fold into; %s holds for %d, posted as usual", src.Name, strings.Join(in.Targets, ", "), folded)
			case folded == 0:
				verdict = fmt.Sprintf("%s holds for %s; no one else holds a target: nothing to fold", src.Name, strings.Join(presenters, ", "))
			default:
				verdict = fmt.Sprintf("%s holds for %s; the alerts of %d others who hold a target would be folded into it, not posted (\"%d receive it degraded\")",
					src.Name, strings.Join(presenters, ", "), folded, folded)
			}
			if _, err := fmt.Fprintln(w, head+verdict); err != nil {
				return err
			}
		}
	}
	return nil
}

func labelsText(labels []string) string {
	if len(labels) == 0 {
		return ""
	}
	return ", " + strings.Join(labels, ", ")
}

func whoOf(p *engine.Participant) string {
	who := p.UserName
	if who == "" {
		who = p.Key()
	}
	if p.Role != "" {
		who += " (" + p.Role + ")"
	}
	return who
}

// shortDuration is "2m" for 2m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
