package slackapp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/qoswatch/qoswatch/engine"
)

// The slash command: /qoswatch alerts | ack <alert> | silence <rule or
// participant> <duration> [reason] | help. Every answer is ephemeral
// (only the one who typed it sees it) and given within Slack's 3 s.

// maxListed is how many alerts `/qoswatch alerts` lists; the rest are
// counted, so the answer stays short and within Slack's limits.
const maxListed = 30

func (a *App) command(ctx context.Context, transport string, cmd slack.SlashCommand) *slack.Msg {
	a.metrics.interactions.WithLabelValues(transport, "slash_command").Inc()
	verb, rest, _ := strings.Cut(strings.TrimSpace(cmd.Text), " ")
	rest = strings.TrimSpace(rest)
	var text string
	switch strings.ToLower(verb) {
	case "", "help":
		text = a.help(cmd.Command)
	case "alerts":
		text = a.listAlerts()
	case "ack", "silence":
		if !a.allowed(ctx, cmd.UserID) {
			a.metrics.refused.WithLabelValues("not_allowed").Inc()
			a.log.Info("slack app: command refused: not a responder", "user", cmd.UserID, "command", verb)
			text = notAllowed
		} else if verb == "ack" {
			text = a.ackCommand(ctx, cmd, rest)
		} else {
			text = a.silenceCommand(ctx, cmd, rest)
		}
	default:
		text = fmt.Sprintf("qoswatch does not know %q.\n%s", clipText(verb, 40), a.help(cmd.Command))
	}
	return &slack.Msg{ResponseType: slack.ResponseTypeEphemeral, Text: clipText(text, maxEphemeral)}
}

func (a *App) help(command string) string {
	if command == "" {
		command = "/qoswatch"
	}
	return fmt.Sprintf("*%[1]s alerts* — what is firing now\n"+
		"*%[1]s ack <alert>* — acknowledge an alert: its number as `alerts` lists it (`ack 12`), its key as the message shows it (`rule/webinar:ID/participant`), or `rule/webinar:ID` for every alert of the rule there\n"+
		"*%[1]s silence <rule or participant> <duration> [reason]* — e.g. `silence choppy-audio 2h network work in Lagos` (a rule name silences the rule everywhere; anything else a participant: id, name or email); durations like 30m, 2h, 1d, at most %[2]s\n"+
		"*%[1]s help* — this\n"+
		"The buttons on each alert do the same, from the message.", command, durationText(a.o.SilenceMax))
}

// listAlerts lists the open alerts, oldest firing first.
func (a *App) listAlerts() string {
	var open []engine.Alert
	for _, x := range a.o.Actor.Alerts() {
		if x.State == engine.StateFiring || x.State == engine.StateResolving {
			open = append(open, x)
		}
	}
	if len(open) == 0 {
		return "Nothing is firing."
	}
	slices.SortStableFunc(open, func(x, y engine.Alert) int { return x.FiredAt.Compare(y.FiredAt) })
	var b strings.Builder
	fmt.Fprintf(&b, "*%d alert%s firing:*\n", len(open), plural(len(open)))
	for i, x := range open {
		if i == maxListed {
			fmt.Fprintf(&b, "…and %d more (`qoswatch alerts`, or GET /api/v1/alerts, lists them all)\n", len(open)-maxListed)
			break
		}
		who := cmp.Or(x.Participant.UserName, x.Key.Participant)
		where := cmp.Or(x.Source.Topic, x.Key.Source)
		line := fmt.Sprintf("• #%d *%s* — %s · %s · since %s", x.Number, x.Key.Rule, clipText(who, 80), clipText(where, 80), x.FiredAt.UTC().Format("15:04 UTC"))
		if x.State == engine.StateResolving {
			line += " · resolving"
		}
		if x.AckedBy != "" {
			line += " · 👀 " + ackedBy(x)
		}
		b.WriteString(escapeText(line) + " `" + escapeText(clipText(x.Key.String(), 200)) + "`\n")
	}
	return b.String()
}

func ackedBy(x engine.Alert) string {
	if strings.HasPrefix(x.AckedBy, "U") || strings.HasPrefix(x.AckedBy, "W") {
		return "acknowledged by @" + cmpOr(x.AckedByName, x.AckedBy)
	}
	return "acknowledged by " + cmpOr(x.AckedByName, strings.TrimPrefix(x.AckedBy, "cli:"))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func plural(n int) string {
	if n == 1 {
		return " is"
	}
	return "s are"
}

// parseAlertKey reads an alert's number as `alerts` lists it ("12" or
// "#12"), "rule/kind:id/participant" (the key a message shows) or
// "rule/kind:id" (every alert of the rule there: a storm).
func parseAlertKey(s string, open []engine.Alert) (engine.AlertKey, error) {
	s = strings.Trim(strings.TrimSpace(s), "`")
	if n, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 10, 64); err == nil {
		for _, x := range open {
			if x.Number == n && n != 0 {
				return x.Key, nil
			}
		}
		return engine.AlertKey{}, fmt.Errorf("no alert #%d: `alerts` lists the open ones with their numbers", n)
	}
	k, err := engine.ParseAlertKey(s)
	if err != nil {
		return engine.AlertKey{}, fmt.Errorf("%q is not an alert: give its number as `alerts` lists it, or its key as the message shows it, like `choppy-audio/webinar:81234567890/16778240`", clipText(s, 100))
	}
	return k, nil
}

func (a *App) ackCommand(ctx context.Context, cmd slack.SlashCommand, arg string) string {
	k, err := parseAlertKey(arg, a.o.Actor.Alerts())
	if err != nil {
		return escapeText(err.Error())
	}
	res := a.act(ctx, engine.Action{
		// One command, one ID: a retried delivery carries the same trigger_id.
		ID:   "slack:cmd:" + cmd.TriggerID,
		Kind: engine.ActionAck, Alert: k, User: cmd.UserID, UserName: cmd.UserName,
	})
	if res == "" {
		return "Acknowledged " + escapeText(k.String()) + "."
	}
	return res
}

// parseDuration reads 30m, 2h, 1h30m and days (1d, 2d).
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a duration (like 30m, 2h, 1d)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration (like 30m, 2h, 1d)", s)
	}
	return d, nil
}

func (a *App) silenceCommand(ctx context.Context, cmd slack.SlashCommand, args string) string {
	f := strings.Fields(args)
	if len(f) < 2 {
		return "Usage: `" + cmpOr(cmd.Command, "/qoswatch") + " silence <rule or participant> <duration> [reason]`"
	}
	target, reason := f[0], strings.Join(f[2:], " ")
	d, err := parseDuration(f[1])
	if err != nil {
		return escapeText(err.Error())
	}
	m := engine.Matcher{Name: engine.MatchParticipant, Value: target}
	what := "participant " + target
	if name, ok := strings.CutPrefix(target, "rule="); ok {
		m, what = engine.Matcher{Name: engine.MatchRule, Value: name}, "rule "+name
	} else if p, ok := strings.CutPrefix(target, "participant="); ok {
		m, what = engine.Matcher{Name: engine.MatchParticipant, Value: p}, "participant "+p
	} else if slices.Contains(a.ruleNames(), target) {
		m, what = engine.Matcher{Name: engine.MatchRule, Value: target}, "rule "+target
	}
	by := cmd.UserID
	if cmd.UserName != "" {
		by += " (" + cmd.UserName + ")"
	}
	now := a.o.Now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), actTimeout)
	defer cancel()
	s, err := a.o.Actor.AddSilence(ctx, engine.Silence{Matchers: []engine.Matcher{m}, StartsAt: now, EndsAt: now.Add(d),
		CreatedBy: by, Comment: cmpOr(reason, "from Slack")})
	switch {
	case errors.Is(err, engine.ErrInvalidSilence):
		return "qoswatch cannot set that silence: " + escapeText(err.Error())
	case err != nil:
		a.log.Error("slack app: silence failed", "user", cmd.UserID, "error", err)
		return "qoswatch could not record that just now (see its log); please try again."
	}
	a.log.Info("slack app: silence set from Slack", "silence", s.ID, "user", cmd.UserID, "ends_at", s.EndsAt)
	return escapeText(fmt.Sprintf("Silenced %s for %s, until %s (silence %s; `qoswatch silence list` shows it).",
		what, durationText(d), s.EndsAt.UTC().Format("Jan 2 15:04 UTC"), s.ID))
}

// durationText is 2h, 30m, 1h30m, 30d.
func durationText(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := strings.TrimSuffix(d.Round(time.Minute).String(), "0s") // 2h0m, 30m, 1h30m
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
