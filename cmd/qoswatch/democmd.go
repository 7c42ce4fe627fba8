package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/daemon"
)

const demoSummary = `Runs the whole pipeline on a fresh machine, with no Zoom account and no Slack
workspace: an in-process fake Zoom account with a live webinar of a few hundred
people (some degrade and recover; a block of 40 degrades together), the
example rules (embedded), a database in a temp dir, and the console notifier.
Simulated time runs fast: in about 30 seconds the terminal shows alerts
firing, a grouped storm message, and resolutions.
With --slack, messages go to a real workspace: set SLACK_BOT_TOKEN (or
SLACK_WEBHOOK_URL) and SLACK_CHANNEL, and invite the bot to the channel.`

func cmdDemo(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch demo", "[flags]", demoSummary)
	dc := daemon.DemoConfig{Rules: qoswatch.ExampleRules}
	var slack bool
	var logLevel string
	f.Float(&dc.Speed, "speed", "", 60, "simulated seconds per wall second (at most 600)")
	f.Duration(&dc.Duration, "duration", "", 30*time.Minute, "simulated time to run (the webinar ends 2m before; at least 20m, the story's length)")
	f.Int(&dc.Attendees, "attendees", "", 300, "people in the webinar (140 to 3000: the storm is attendees 100-139)")
	f.String(&dc.Listen, "listen", "", "", "HTTP API address (default 127.0.0.1:9797, or a free port when taken)")
	f.Bool(&slack, "slack", "", false, "send to Slack with SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL, SLACK_CHANNEL, SLACK_API_URL")
	f.Bool(&dc.Interactive, "interactive", "", false, "answer the alerts from the terminal, as the Slack buttons do: type \"ack 3\", \"silence 3\", \"dismiss 3\" (3 is a message's number)")
	f.Bool(&dc.Push, "push", "", false, "feed the webinar by the events Zoom pushes too (signed QSS webhooks to the events listener), and print the time from a bad minute to the message")
	f.String(&logLevel, "log-level", "QOSWATCH_LOG_LEVEL", "warn", "log level of the pipeline's own log (stderr)")
	f.Int64(&dc.Seed, "seed", "", 1, "varies the fake webinar's people and noise")
	f.EnvOnly("SLACK_BOT_TOKEN", "with --slack: the bot token (or SLACK_WEBHOOK_URL)")
	f.EnvOnly("QOSWATCH_API_TOKEN", "the HTTP API's token: needed for a --listen beyond loopback")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	if slack {
		r := declareRun(newFlags(c, "", "", ""))
		r.cfg.Slack.APIURL = "https://slack.com/api/"
		if v := c.getenv("SLACK_API_URL"); v != "" {
			r.cfg.Slack.APIURL = v
		}
		r.cfg.Slack.Channel = c.getenv("SLACK_CHANNEL")
		if err := r.finish(c.getenv); err != nil {
			fmt.Fprintf(c.stderr, "qoswatch demo: %v\n", err)
			return 2
		}
		if r.cfg.Slack.BotToken == "" && r.cfg.Slack.WebhookURL == "" {
			fmt.Fprintln(c.stderr, "qoswatch demo: --slack needs SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL")
			return 2
		}
		if r.cfg.Slack.BotToken != "" && r.cfg.Slack.Channel == "" {
			fmt.Fprintln(c.stderr, "qoswatch demo: --slack with a bot token needs SLACK_CHANNEL (the demo sends every alert there)")
			return 2
		}
		dc.Slack = &r.cfg.Slack
	}
	dc.APIToken = daemon.Secret(c.getenv("QOSWATCH_API_TOKEN"))
	if dc.Interactive {
		if slack {
			fmt.Fprintln(c.stderr, "qoswatch demo: --interactive answers the console's messages; with --slack, answer in Slack")
			return 2
		}
		dc.Input = os.Stdin
	}
	// The banner's "try" line must work as printed: the binary when it is
	// on PATH, else go run from the repository.
	dc.Try = "go run ./cmd/qoswatch"
	if _, err := exec.LookPath("qoswatch"); err == nil {
		dc.Try = "qoswatch"
	}
	log := daemon.NewLogger(c.stderr, "text", logLevel)
	if err := daemon.Demo(ctx, dc, c.stdout, log); err != nil {
		fmt.Fprintf(c.stderr, "qoswatch demo: %v\n", err)
		var ce *daemon.ConfigError
		if errors.As(err, &ce) {
			return 2
		}
		return 1
	}
	return 0
}
