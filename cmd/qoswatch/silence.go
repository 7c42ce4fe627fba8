package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/user"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

func cmdSilence(ctx context.Context, c *cli, args []string) int {
	const help = `Usage: qoswatch silence add|list|expire [flags]

  add MATCHER...   silence the alerts all matchers match: name=value or name=~regex,
                   where name is rule, source, participant or a label
                   (qoswatch silence add --for 2h --comment "known bad hotel wifi" rule=weak-wifi participant=16778240)
  list             list active and recently expired silences
  expire ID        end a silence now

Each takes --url (QOSWATCH_URL) and reads QOSWATCH_API_TOKEN for writes; see qoswatch silence add --help.`
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(c.stdout, help)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "add":
		return silenceAdd(ctx, c, args[1:])
	case "list", "ls":
		return silenceList(ctx, c, args[1:])
	case "expire", "rm":
		return silenceExpire(ctx, c, args[1:])
	}
	fmt.Fprintf(c.stderr, "qoswatch silence: unknown subcommand %q: want add, list or expire\n", args[0])
	return 2
}

// parseMatcher parses "name=value" or "name=~regex".
func parseMatcher(s string) (engine.Matcher, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return engine.Matcher{}, fmt.Errorf("matcher %q: want name=value or name=~regex", s)
	}
	m := engine.Matcher{Name: name, Value: value}
	if strings.HasPrefix(value, "~") {
		m.Value, m.IsRegex = value[1:], true
	}
	if m.Value == "" {
		return engine.Matcher{}, fmt.Errorf("matcher %q: the value is empty", s)
	}
	return m, nil
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

func silenceAdd(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch silence add", "[flags] MATCHER...",
		"Adds a silence (POST /api/v1/silences). A matcher is name=value or name=~regex;\nname is rule, source (webinar:ID), participant (user_id) or a label.")
	u, token := apiFlags(f, c)
	var dur time.Duration
	var author, comment string
	f.Duration(&dur, "for", "", time.Hour, "how long the silence lasts")
	f.String(&author, "author", "USER", currentUser(), "who silences")
	f.String(&comment, "comment", "", "", "why (required)")
	if code, done := parseWithArgs(f, args, "at least one matcher, like rule=choppy-audio"); done {
		return code
	}
	if comment == "" {
		fmt.Fprintln(c.stderr, "qoswatch silence add: --comment is required: say why, for the next person on call")
		return 2
	}
	s := engine.Silence{StartsAt: time.Now().UTC(), EndsAt: time.Now().UTC().Add(dur), CreatedBy: author, Comment: comment}
	for _, a := range f.Args() {
		m, err := parseMatcher(a)
		if err != nil {
			fmt.Fprintf(c.stderr, "qoswatch silence add: %v\n", err)
			return 2
		}
		s.Matchers = append(s.Matchers, m)
	}
	var got engine.Silence
	if err := newAPIClient(*u, *token).do(ctx, http.MethodPost, "/api/v1/silences", s, &got); err != nil {
		fmt.Fprintf(c.stderr, "qoswatch silence add: %v\n", err)
		return 1
	}
	fmt.Fprintln(c.stdout, got.ID)
	return 0
}

func silenceList(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch silence list", "[flags]", "Lists silences (GET /api/v1/silences).")
	u, token := apiFlags(f, c)
	if code, done := parseOrExit(f, args); done {
		return code
	}
	items, err := newAPIClient(*u, *token).list(ctx, "/api/v1/silences", "silences")
	if err != nil {
		fmt.Fprintf(c.stderr, "qoswatch silence list: %v\n", err)
		return 1
	}
	now := time.Now()
	return printList(c, "silence list", items, false, "ID\tMATCHERS\tENDS\tSTATE\tBY\tCOMMENT", func(s engine.Silence) string {
		ms := make([]string, len(s.Matchers))
		for i, m := range s.Matchers {
			op := "="
			if m.IsRegex {
				op = "=~"
			}
			ms[i] = m.Name + op + m.Value
		}
		state := "active"
		switch {
		case now.After(s.EndsAt):
			state = "expired"
		case now.Before(s.StartsAt):
			state = "pending"
		}
		ends := s.EndsAt.Local().Format(listTime)
		if w := s.EndsWith; w != nil && state != "expired" { // set by a Slack action: it ends itself
			switch {
			case w.Rule == "":
				ends = "when " + w.Source + " ends, at the latest " + ends
			default:
				ends = "when " + w.String() + " resolves, at the latest " + ends
			}
		}
		return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", s.ID, strings.Join(ms, ","), ends, state, s.CreatedBy, s.Comment)
	})
}

// listTime shows a time with its zone, so a list read across zones (or
// pasted into a ticket) is not an hour off.
const listTime = "2006-01-02 15:04:05 MST"

func silenceExpire(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch silence expire", "[flags] ID...", "Ends silences now (DELETE /api/v1/silences/ID).")
	u, token := apiFlags(f, c)
	if code, done := parseWithArgs(f, args, "the id of a silence (see qoswatch silence list)"); done {
		return code
	}
	api := newAPIClient(*u, *token)
	code := 0
	for _, id := range f.Args() {
		if err := api.do(ctx, http.MethodDelete, "/api/v1/silences/"+url.PathEscape(id), nil, nil); err != nil {
			fmt.Fprintf(c.stderr, "qoswatch silence expire: %v\n", err)
			code = 1
			continue
		}
		fmt.Fprintf(c.stdout, "expired %s\n", id)
	}
	return code
}
