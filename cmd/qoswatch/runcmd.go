package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/qoswatch/qoswatch/daemon"
)

const runSummary = `Runs the daemon: discovers the live webinars and meetings of a Zoom account,
sweeps their participants' QoS every poll interval within Zoom's limits and
the daily budget, evaluates the rules, and tells Slack (or the console).
SIGHUP or a change of the rules file reloads the rules; a bad file keeps the
running ones. SIGTERM or SIGINT stops polling, finishes the batch in hand,
flushes the outbox for up to --shutdown-grace, closes the database, exits 0.`

func cmdRun(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch run", "[flags]", runSummary)
	r := declareRun(f)
	// Every problem with the settings goes on one line: the variables
	// that do not parse, the secrets that cannot be read, the values that
	// are wrong together.
	var problems envErrors
	if err := f.Parse(args); err != nil {
		var env envErrors
		switch {
		case err == errHelp:
			return 0
		case errors.As(err, &env):
			problems = append(problems, env...)
		default:
			fmt.Fprintf(c.stderr, "%v\n", err)
			return 2
		}
	}
	if len(f.Args()) > 0 {
		fmt.Fprintf(c.stderr, "qoswatch run: unexpected argument %q (settings are flags or environment variables; see --help)\n", f.Args()[0])
		return 2
	}
	if err := r.finish(c.getenv); err != nil {
		problems = append(problems, err)
	}
	if err := r.cfg.Validate(); err != nil {
		problems = append(problems, err)
	}
	// What leaves the process is scrubbed of every configured secret,
	// whatever a server echoed into an error.
	scrub := r.cfg.Scrubber()
	if len(problems) > 0 {
		fmt.Fprintf(c.stderr, "qoswatch run: %s\n", scrub.String(problems.Error()))
		return 2
	}
	log := daemon.NewLogger(c.stderr, r.cfg.LogFormat, r.cfg.LogLevel)
	err := daemon.Run(ctx, r.cfg, daemon.Options{Logger: log, Console: c.stdout, Version: version})
	var ce *daemon.ConfigError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ce):
		fmt.Fprintf(c.stderr, "qoswatch run: %s\n", scrub.String(err.Error()))
		return 2
	default:
		log = slog.New(scrub.Handler(log.Handler()))
		log.Error("qoswatch stopped", "error", err)
		return 1
	}
}
