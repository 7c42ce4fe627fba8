package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/daemon"
)

func cmdStatus(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch status", "[flags]",
		"Says how a running daemon hears Zoom (GET /api/v1/status): the poller's mode, the event transports, and\nwhich sources are fed by QSS (no QoS polling), by events (QoS polled), or by polling alone.")
	u, token := apiFlags(f, c)
	var asJSON bool
	f.Bool(&asJSON, "json", "", false, "print the API's JSON")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	var raw json.RawMessage
	if err := newAPIClient(*u, *token).do(ctx, "GET", "/api/v1/status", nil, &raw); err != nil {
		fmt.Fprintf(c.stderr, "qoswatch status: %v\n", err)
		return 1
	}
	if asJSON {
		c.stdout.Write(append(raw, '\n'))
		return 0
	}
	var st daemon.Status
	if err := json.Unmarshal(raw, &st); err != nil {
		fmt.Fprintf(c.stderr, "qoswatch status: unexpected answer: %v\n", err)
		return 1
	}
	fmt.Fprintf(c.stdout, "poller: %s\n", st.Poller.Mode)
	if st.Push == nil {
		fmt.Fprintln(c.stdout, "push: off (no QOSWATCH_EVENTS_LISTEN, no ZOOM_WS_SUBSCRIPTION_ID): every source is polled")
		return 0
	}
	var parts []string
	if st.Push.Webhook != "" {
		parts = append(parts, "webhooks on "+st.Push.Webhook)
	}
	parts = append(parts, "websocket "+st.Push.WebSocket)
	if st.Push.Lifecycle {
		parts = append(parts, "started/ended events flow (they say what is live)")
	} else {
		parts = append(parts, "no started/ended event lately (listings say what is live)")
	}
	fmt.Fprintf(c.stdout, "push: %s\n", strings.Join(parts, " · "))
	if len(st.Sources) == 0 {
		fmt.Fprintln(c.stdout, "no source heard of by events yet")
		return 0
	}
	tw := newTable(c.stdout)
	fmt.Fprintln(tw, "SOURCE\tTOPIC\tLIVE\tFEED\tLAST EVENT")
	for _, s := range st.Sources {
		live := "no"
		if s.Live {
			live = "yes"
		}
		feed := map[string]string{"qss": "qss (QoS pushed, not polled)", "events": "events (QoS polled)"}[s.Feed]
		if feed == "" {
			feed = s.Feed
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Source, s.Topic, live, feed, s.LastEvent.UTC().Format(time.RFC3339))
	}
	tw.Flush()
	return 0
}
