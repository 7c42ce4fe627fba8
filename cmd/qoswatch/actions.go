package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// The commands a responder uses at a shell, as the Slack buttons do: the
// same action (POST /api/v1/actions), the same audit log.

// parseAlertKey reads an alert as messages and `qoswatch alerts` show it:
// "rule/source/participant", or "rule/source" for every alert of the
// rule in the source (a storm). The participant is last and may hold a
// slash; rule names and source keys ("webinar:ID") never do.
func parseAlertKey(s string) (map[string]string, error) {
	k, err := engine.ParseAlertKey(s)
	if err != nil {
		return nil, fmt.Errorf("%w: want the alert's number (qoswatch alerts) or its key", err)
	}
	return map[string]string{"rule": k.Rule, "source": k.Source, "participant": k.Participant}, nil
}

func cmdAck(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch ack", "[flags] ALERT",
		"Acknowledges an alert on a running daemon (POST /api/v1/actions), as Slack's\nAcknowledge button does: repeats stop until the rule's ack_expiry, and the\nalert's Slack message shows who has it. ALERT is its number (the # of\n`qoswatch alerts`), or rule/source/participant as messages show it; rule/source\nacts on every alert of the rule in the source. --silence or --dismiss do the button's other actions.")
	u, token := apiFlags(f, c)
	var silence, as, comment string
	var dismiss bool
	f.String(&silence, "silence", "", "", "silence instead: participant (rest of this webinar), rule_source (this rule in this webinar),\nrule_1h (this rule everywhere for 1 h) or until_resolved")
	f.Bool(&dismiss, "dismiss", "", false, "dismiss instead: not an issue (resolves it, counts a false positive of the rule)")
	f.String(&as, "as", "", c.getenv("USER"), "who acts, for the audit log and the message (default $USER)")
	f.String(&comment, "comment", "", "", "why, shown in the message's thread")
	if code, done := parseWithArgs(f, args, "the alert, like choppy-audio/webinar:86129471123/16778240"); done {
		return code
	}
	if len(f.Args()) != 1 {
		fmt.Fprintln(c.stderr, "qoswatch ack: give one alert")
		return 2
	}
	arg := strings.TrimPrefix(f.Args()[0], "#")
	number, numErr := strconv.ParseUint(arg, 10, 64)
	var key map[string]string
	if numErr != nil || number == 0 {
		var err error
		if key, err = parseAlertKey(f.Args()[0]); err != nil {
			fmt.Fprintf(c.stderr, "qoswatch ack: %v\n", err)
			return 2
		}
	}
	if strings.TrimSpace(as) == "" {
		fmt.Fprintln(c.stderr, "qoswatch ack: say who acts: --as NAME ($USER is not set)")
		return 2
	}
	kind := "ack"
	switch {
	case silence != "" && dismiss:
		fmt.Fprintln(c.stderr, "qoswatch ack: --silence or --dismiss, not both")
		return 2
	case silence != "":
		kind = "silence"
	case dismiss:
		kind = "dismiss"
	}
	body := map[string]any{"kind": kind, "user": "cli:" + as, "user_name": as}
	if key != nil {
		body["alert"] = key
	} else {
		body["number"] = number
	}
	if silence != "" {
		body["scope"] = silence
	}
	if comment != "" {
		body["comment"] = comment
	}
	var resp struct {
		ID     string `json:"id"`
		Result struct {
			Applied bool   `json:"applied"`
			Replay  bool   `json:"replay"`
			Text    string `json:"text"`
		} `json:"result"`
	}
	if err := newAPIClient(*u, *token).do(ctx, http.MethodPost, "/api/v1/actions", body, &resp); err != nil {
		fmt.Fprintf(c.stderr, "qoswatch ack: %v\n", err)
		return 1
	}
	fmt.Fprintln(c.stdout, resp.Result.Text)
	if !resp.Result.Applied {
		return 1 // nothing changed: a script can tell
	}
	return 0
}

// actionView is one record of /api/v1/actions (engine.ActionRecord).
type actionView struct {
	Seq   uint64    `json:"seq"`
	ID    string    `json:"id"`
	Kind  string    `json:"kind"`
	Scope string    `json:"scope"`
	User  string    `json:"user"`
	Name  string    `json:"user_name"`
	At    time.Time `json:"at"`
	Alert struct {
		Rule        string `json:"rule"`
		Source      string `json:"source"`
		Participant string `json:"participant"`
	} `json:"alert"`
	Result struct {
		Applied bool   `json:"applied"`
		Text    string `json:"text"`
	} `json:"result"`
}

func cmdActions(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch actions", "[flags]",
		"Lists responders' actions on a running daemon, newest first (GET /api/v1/actions):\nwho acknowledged, silenced or dismissed which alert, when, and what it did.")
	u, token := apiFlags(f, c)
	var limit int
	var asJSON bool
	f.Int(&limit, "limit", "", 50, "at most this many, newest first (0: all the daemon keeps)")
	f.Bool(&asJSON, "json", "", false, "print the API's JSON")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	api := newAPIClient(*u, *token)
	var items []json.RawMessage
	var err error
	if limit > 0 {
		var page struct {
			Actions []json.RawMessage `json:"actions"`
		}
		err = api.do(ctx, http.MethodGet, "/api/v1/actions?"+url.Values{"limit": {strconv.Itoa(limit)}}.Encode(), nil, &page)
		items = page.Actions
	} else {
		items, err = api.list(ctx, "/api/v1/actions", "actions")
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "qoswatch actions: %v\n", err)
		return 1
	}
	return printList(c, "actions", items, asJSON, "AT\tWHO\tACTION\tALERT\tAPPLIED\tRESULT", func(a actionView) string {
		who := a.User
		if a.Name != "" && a.Name != a.User && !strings.HasSuffix(a.User, ":"+a.Name) {
			who += " (" + a.Name + ")"
		}
		what := a.Kind
		if a.Scope != "" {
			what += " " + a.Scope
		}
		alert := a.Alert.Rule + "/" + a.Alert.Source
		if a.Alert.Participant != "" {
			alert += "/" + a.Alert.Participant
		}
		return fmt.Sprintf("%s\t%s\t%s\t%s\t%v\t%s", a.At.UTC().Format("2006-01-02 15:04:05Z"), who, what, alert, a.Result.Applied, a.Result.Text)
	})
}
