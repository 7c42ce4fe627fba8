package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// Title is the report's title: "Quarterly all-hands (webinar:81234567890)".
func (r *Report) Title() string {
	if r.Topic == "" {
		return r.Source
	}
	return r.Topic + " (" + r.Source + ")"
}

// When is the occurrence's time span in words: "2026-12-02 14:40–15:00
// UTC (20 min), ended".
func (r *Report) When() string {
	from, to := r.From.UTC(), r.To.UTC()
	span := from.Format("2006-01-02 15:04") + "–" + to.Format("15:04")
	if to.YearDay() != from.YearDay() || to.Year() != from.Year() {
		span = from.Format("2006-01-02 15:04") + " – " + to.Format("2006-01-02 15:04")
	}
	state := "ended"
	if !r.Ended {
		state = "not ended yet (the last minute kept)"
	}
	return fmt.Sprintf("%s UTC (%s), %s", span, Minutes(r.Duration()), state)
}

// AttendeesLine is "150 participants (at most 148 at once, at 14:45)".
func (r *Report) AttendeesLine() string {
	return fmt.Sprintf("%d participants (at most %d at once, at %s)", r.Attendees, r.Peak, clock(r.PeakAt))
}

// AlertedLine is "44 of 150 (29%)".
func (r *Report) AlertedLine() string {
	return fmt.Sprintf("%d of %d (%s)", r.Alerted, r.Attendees, Percent(share(r.Alerted, r.Attendees)))
}

// RuleLine is one rule in one line: "40 participants alerted (40 alerts);
// at worst 27% degraded (40 of 148) at 14:49; held in 6 minutes".
func (s *RuleSummary) RuleLine() string {
	line := fmt.Sprintf("%s alerted (%s)", plural(len(s.Alerted), "participant"), plural(s.Alerts, "alert"))
	if s.PeakDegraded > 0 {
		line += fmt.Sprintf("; at worst %s degraded (%d) at %s; held in %s", Percent(s.PeakShare), s.PeakDegraded, clock(s.PeakAt), plural(s.DegradedMinute, "minute"))
	}
	return line
}

// WorstLine is one worst minute: "14:49: 41 of 148 degraded (28%):
// choppy-audio 40, weak-wifi 1".
func (m *Minute) WorstLine() string {
	var by []string
	for _, name := range sortedNames(m.ByRule) {
		by = append(by, fmt.Sprintf("%s %d", name, m.ByRule[name]))
	}
	return fmt.Sprintf("%s: %d of %d degraded (%s): %s", clock(m.At), m.Degraded, m.Seen, Percent(m.Share()), strings.Join(by, ", "))
}

// CauseLine is "choppy-audio: location Manchester (GB) — 40 of 40
// affected, 0% of the other 110 (first at 14:50)".
func (c *CauseFound) CauseLine() string {
	return fmt.Sprintf("%s: %s %s — %s (first at %s)", c.Rule, c.Cause.Words(), c.Cause.Value, c.Cause.Counts(), clock(c.First))
}

// PresenterLines are the presenters' quality in a few lines.
func (r *Report) PresenterLines() []string {
	p := r.Presenters
	if p.Minutes == 0 {
		return []string{"No host or panelist was seen (Zoom gives a participant's role in its participant lists and events; without it nobody counts as a presenter)."}
	}
	lines := []string{fmt.Sprintf("Seen in %s; a rule held for a presenter in %s.", plural(p.Minutes, "minute"), plural(p.DegradedMinutes, "of them"))}
	var worst []string
	if !math.IsNaN(p.AudioLoss) {
		worst = append(worst, fmt.Sprintf("audio sent with %s loss at %s", num(p.AudioLoss, "%"), clock(p.AudioLossAt)))
	}
	if !math.IsNaN(p.Latency) {
		worst = append(worst, fmt.Sprintf("%s latency at %s", num(p.Latency, " ms"), clock(p.LatencyAt)))
	}
	if !math.IsNaN(p.FrameRate) {
		worst = append(worst, fmt.Sprintf("video sent at %s at %s", num(p.FrameRate, " fps"), clock(p.FrameRateAt)))
	}
	if len(worst) > 0 {
		lines = append(lines, "At worst: "+strings.Join(worst, "; ")+".")
	}
	return lines
}

// Markdown is the whole report, naming every participant alerted.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Post-webinar report: %s\n\n", r.Title())
	fmt.Fprintf(&b, "- **When:** %s\n", r.When())
	fmt.Fprintf(&b, "- **Attendees:** %s\n", r.AttendeesLine())
	fmt.Fprintf(&b, "- **Participants with any alert:** %s\n", r.AlertedLine())

	b.WriteString("\n## Alerts per rule\n\n")
	if len(r.Rules) == 0 {
		b.WriteString("No rule held for anyone.\n")
	} else {
		b.WriteString("| rule | participants alerted | alerts | most degraded at once | minutes it held |\n|---|---:|---:|---|---:|\n")
		for _, s := range r.Rules {
			peak := "—"
			if s.PeakDegraded > 0 {
				peak = fmt.Sprintf("%s (%d) at %s", Percent(s.PeakShare), s.PeakDegraded, clock(s.PeakAt))
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %s | %d |\n", cell(s.Name), len(s.Alerted), s.Alerts, peak, s.DegradedMinute)
		}
		for _, s := range r.Rules {
			if len(s.Alerted) > 0 {
				fmt.Fprintf(&b, "\n**%s** alerted: %s.\n", cell(s.Name), cell(Names(s.Alerted)))
			}
		}
	}

	b.WriteString("\n## Worst minutes\n\n")
	if len(r.Worst) == 0 {
		b.WriteString("No minute had anyone degraded.\n")
	}
	for _, m := range r.Worst {
		fmt.Fprintf(&b, "- %s\n", m.WorstLine())
	}

	b.WriteString("\n## Shared causes found\n\n")
	if len(r.Causes) == 0 {
		b.WriteString("None: no attribute stood out among the alerted participants.\n")
	}
	for _, c := range r.Causes {
		fmt.Fprintf(&b, "- %s\n", cell(c.CauseLine()))
	}

	b.WriteString("\n## Presenters (host and panelists)\n\n")
	for _, l := range r.PresenterLines() {
		fmt.Fprintf(&b, "%s\n", l)
	}
	return b.String()
}

// Names lists participants by name (WhoName).
func Names(ws []engine.Who) string {
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = WhoName(w)
	}
	return strings.Join(names, ", ")
}

// WhoName is a participant's name, its key when it has none, and "the
// whole source" for an alert about no one participant.
func WhoName(w engine.Who) string {
	switch {
	case w.Name != "":
		return w.Name
	case w.Key != "":
		return w.Key
	}
	return "the whole source"
}

// cell keeps a value from breaking a Markdown table.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Percent rounds a share to a whole percent, never 0% of something nor
// 100% of less than all.
func Percent(f float64) string {
	p := math.Round(100 * f)
	switch {
	case p == 0 && f > 0:
		return "<1%"
	case p == 100 && f < 1:
		return ">99%"
	}
	return fmt.Sprintf("%.0f%%", p)
}

// Minutes is a duration in minutes: "20 min", "1 h 5 min".
func Minutes(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

func clock(t time.Time) string { return t.UTC().Format("15:04") }

func num(v float64, unit string) string {
	return fmt.Sprintf("%s%s", strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", v), "0"), "."), unit)
}

func plural(n int, what string) string {
	if n == 1 || strings.HasPrefix(what, "of ") {
		return fmt.Sprintf("%d %s", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
