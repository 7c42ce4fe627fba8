// Command qoswatch watches the call quality of Zoom webinars and meetings
// and tells Slack when a rule says it is bad. main stays thin: flags and
// environment, wiring, subcommands; the daemon lives in package daemon.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"syscall"

	"github.com/qoswatch/qoswatch/simulate"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// cli is what a command sees of the process.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	summary string
	run     func(ctx context.Context, c *cli, args []string) int
}

func commands() map[string]command {
	return map[string]command{
		"run":         {"run the daemon: poll Zoom, evaluate the rules, tell Slack", cmdRun},
		"demo":        {"run the whole pipeline against a simulated Zoom webinar, in this terminal", cmdDemo},
		"check":       {"check rules files and print a summary or every error", cmdCheck},
		"test":        {"run rule unit tests (YAML) and print each failed expectation", cmdTest},
		"explain":     {"show how each rule evaluates on a saved Zoom QoS response", cmdExplain},
		"alerts":      {"list the alerts of a running daemon", cmdAlerts},
		"status":      {"say how a running daemon hears Zoom: polled, pushed events, QSS", cmdStatus},
		"silence":     {"add, list or expire silences on a running daemon", cmdSilence},
		"ack":         {"acknowledge (or silence, dismiss) an alert on a running daemon, as Slack's buttons do", cmdAck},
		"actions":     {"list responders' actions (acknowledge, silence, dismiss) on a running daemon", cmdActions},
		"report":      {"print the post-webinar report of a source (Markdown; --png for the chart)", cmdReport},
		"backup":      {"copy a running daemon's database, consistently, to a file", cmdBackup},
		"healthcheck": {"exit 0 when a running daemon answers /healthz (for Docker)", cmdHealthcheck},
		"version":     {"print the version", cmdVersion},
		"simulate":    {"capacity planner: the poller and engine against a simulated Zoom, scored", cmdSimulate},
	}
}

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv}
	cmds := commands()
	if len(args) < 2 {
		usage(stderr, cmds)
		return 2
	}
	name := args[1]
	switch name {
	case "-h", "--help", "-help", "help":
		usage(stdout, cmds)
		return 0
	case "-v", "--version":
		name = "version"
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "qoswatch: unknown command %q (see qoswatch --help)\n", name)
		return 2
	}
	return cmd.run(ctx, c, args[2:])
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintf(w, "qoswatch watches the call quality of Zoom webinars and meetings and tells Slack.\n\nUsage: qoswatch COMMAND [flags]\n\nCommands:\n")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintf(w, "\n`qoswatch COMMAND --help` lists a command's flags with the environment variable beside each.\n")
}

func cmdSimulate(ctx context.Context, c *cli, args []string) int {
	return simulate.Main(ctx, args, c.stdout, c.stderr)
}

func cmdVersion(_ context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch version", "", "Prints the version of this binary.")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	fmt.Fprintf(c.stdout, "qoswatch %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}

// parseOrExit parses flags; done is true when the command must return code
// (help asked for, or a bad flag).
func parseOrExit(f *flags, args []string) (code int, done bool) {
	if err := f.Parse(args); err != nil {
		if err == errHelp {
			return 0, true
		}
		if _, env := err.(envErrors); env {
			fmt.Fprintf(f.errOut, "%s: %v\n", f.name, err)
		} else {
			fmt.Fprintf(f.errOut, "%v\n", err)
		}
		return 2, true
	}
	return 0, false
}

// parseWithArgs is parseOrExit for a command that needs at least one
// argument: without one it says what to give ("give " + need) and exits 2.
func parseWithArgs(f *flags, args []string, need string) (code int, done bool) {
	if code, done := parseOrExit(f, args); done {
		return code, done
	}
	if len(f.Args()) == 0 {
		fmt.Fprintf(f.errOut, "%s: give %s\n", f.name, need)
		return 2, true
	}
	return 0, false
}
