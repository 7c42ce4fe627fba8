package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The commands in this file talk to a running daemon over its HTTP API,
// as amtool does to Alertmanager.

// defaultURL derives the daemon's URL from QOSWATCH_LISTEN: ":9797" and
// "0.0.0.0:9797" become loopback, which is where a healthcheck runs.
func defaultURL(getenv func(string) string) string {
	listen := getenv("QOSWATCH_LISTEN")
	if listen == "" {
		listen = "127.0.0.1:9797"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient(base, token string) *apiClient {
	return &apiClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 10 * time.Second}}
}

// request is a request to the daemon, with the token when there is one.
func (a *apiClient) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return nil, err
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	return req, nil
}

// do sends a request and decodes a JSON answer into out (when not nil).
// The error names the endpoint and the daemon's message, never the token.
func (a *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := a.request(ctx, method, path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s%s: %w", method, a.base, path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
		}
	}
	return nil
}

// list GETs every page of a list endpoint (field is "alerts" or
// "silences"), following the "next" cursor the daemon answers.
func (a *apiClient) list(ctx context.Context, path, field string) ([]json.RawMessage, error) {
	var all []json.RawMessage
	after := ""
	for {
		p := path
		if after != "" {
			sep := "?"
			if strings.Contains(p, "?") {
				sep = "&"
			}
			p += sep + url.Values{"after": {after}}.Encode()
		}
		var page map[string]json.RawMessage
		if err := a.do(ctx, http.MethodGet, p, nil, &page); err != nil {
			return nil, err
		}
		var items []json.RawMessage
		if err := json.Unmarshal(page[field], &items); err != nil {
			return nil, fmt.Errorf("GET %s: unexpected answer: %w", path, err)
		}
		all = append(all, items...)
		next := ""
		json.Unmarshal(page["next"], &next)
		if next == "" || next == after {
			return all, nil
		}
		after = next
	}
}

// unwrapURLError drops url.Error's "Get \"URL\":" prefix, which repeats
// what the caller already says.
func unwrapURLError(err error) error {
	type unwrapper interface{ Unwrap() error }
	if u, ok := err.(unwrapper); ok && u.Unwrap() != nil {
		return u.Unwrap()
	}
	return err
}

func cmdHealthcheck(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch healthcheck", "[flags]",
		"Exits 0 when the daemon answers GET /healthz with 200, 1 otherwise.\nThe Docker image's HEALTHCHECK runs it (distroless has no curl).")
	var url string
	var timeout time.Duration
	f.String(&url, "url", "QOSWATCH_URL", defaultURL(c.getenv), "daemon URL (default from QOSWATCH_LISTEN)")
	f.Duration(&timeout, "timeout", "", 3*time.Second, "give up after this long")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := newAPIClient(url, "").do(ctx, http.MethodGet, "/healthz", nil, nil); err != nil {
		fmt.Fprintf(c.stderr, "unhealthy: %v\n", err)
		return 1
	}
	fmt.Fprintln(c.stdout, "ok")
	return 0
}

// apiFlags are the flags every API client command shares.
func apiFlags(f *flags, c *cli) (url, token *string) {
	url, token = new(string), new(string)
	f.String(url, "url", "QOSWATCH_URL", defaultURL(c.getenv), "daemon URL (default from QOSWATCH_LISTEN)")
	f.EnvOnly("QOSWATCH_API_TOKEN", "bearer token for every API call, when the daemon has one")
	*token = c.getenv("QOSWATCH_API_TOKEN")
	return url, token
}

// alertView is the JSON of one alert on /api/v1/alerts (httpapi.AlertJSON,
// decoded loosely so an older daemon still lists).
type alertView struct {
	Number      uint64            `json:"number"`
	Key         string            `json:"key"`
	Rule        string            `json:"rule"`
	State       string            `json:"state"`
	Severity    string            `json:"severity"`
	Source      map[string]any    `json:"source"`
	Participant map[string]any    `json:"participant"`
	ActiveSince string            `json:"active_since"`
	FiredAt     string            `json:"fired_at"`
	Labels      map[string]string `json:"labels"`
	AckedBy     string            `json:"acked_by"`
	AckedByName string            `json:"acked_by_name"`
	Explain     []struct {
		Text string `json:"text"`
	} `json:"explain"`
}

func cmdAlerts(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch alerts", "[flags]", "Lists the alerts of a running daemon (GET /api/v1/alerts).")
	u, token := apiFlags(f, c)
	var state string
	var asJSON bool
	f.String(&state, "state", "", "", "only alerts in this state: pending, firing, resolving, resolved (default: all but resolved)")
	f.Bool(&asJSON, "json", "", false, "print the API's JSON")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	path := "/api/v1/alerts"
	if state != "" {
		path += "?" + url.Values{"state": {state}}.Encode()
	}
	items, err := newAPIClient(*u, *token).list(ctx, path, "alerts")
	if err != nil {
		fmt.Fprintf(c.stderr, "qoswatch alerts: %v\n", err)
		return 1
	}
	const header = "#\tRULE\tSTATE\tSEVERITY\tSOURCE\tPARTICIPANT\tSINCE\tACKED BY\tWHY\tALERT"
	return printList(c, "alerts", items, asJSON, header, func(a alertView) string {
		why := make([]string, 0, len(a.Explain))
		for _, t := range a.Explain {
			why = append(why, t.Text)
		}
		acked := a.AckedByName
		if acked == "" {
			acked = a.AckedBy
		}
		if acked == "" {
			acked = "-"
		}
		return fmt.Sprintf("%d\t%s\t%s\t%s\t%v:%v %v\t%v\t%s\t%s\t%s\t%s", a.Number, a.Rule, a.State, a.Severity,
			a.Source["kind"], a.Source["id"], a.Source["topic"], a.Participant["user_name"], a.ActiveSince, acked, strings.Join(why, ", "), a.Key)
	})
}

func cmdBackup(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch backup", "[flags] FILE",
		"Writes a consistent copy of a running daemon's database to FILE (GET /api/v1/backup),\nwithout stopping it. The copy opens like the original: stop qoswatch, put it at\nQOSWATCH_DB, start. It holds participant data: keep it as you keep the database.")
	u, token := apiFlags(f, c)
	if code, done := parseOrExit(f, args); done {
		return code
	}
	if len(f.Args()) != 1 {
		fmt.Fprintln(c.stderr, "qoswatch backup: give one output file, like qoswatch-backup.db")
		return 2
	}
	dst := f.Args()[0]
	api := newAPIClient(*u, *token)
	api.http.Timeout = 5 * time.Minute
	req, err := api.request(ctx, http.MethodGet, "/api/v1/backup", nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "qoswatch backup: %v\n", err)
		return 1
	}
	resp, err := api.http.Do(req)
	if err != nil {
		fmt.Fprintf(c.stderr, "qoswatch backup: %v\n", unwrapURLError(err))
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		fmt.Fprintf(c.stderr, "qoswatch backup: GET /api/v1/backup: %s: %s\n", resp.Status, strings.TrimSpace(string(b)))
		return 1
	}
	// A failed copy never leaves a file that looks like a backup.
	var n int64
	err = writeFileAtomic(dst, func(w io.Writer) error {
		var err error
		if n, err = io.Copy(w, resp.Body); err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
			err = fmt.Errorf("got %d of %d bytes", n, resp.ContentLength)
		}
		return err
	})
	if err != nil {
		fmt.Fprintf(c.stderr, "qoswatch backup: %s: %v\n", dst, err)
		return 1
	}
	fmt.Fprintf(c.stdout, "%s: %d bytes\n", dst, n)
	return 0
}

// printList prints the items of a list the API gave (name: "alerts",
// also the command's name): with asJSON as {"<name>": [...]}, otherwise as
// a table, header first, then one row per item decoded as V. It returns
// the exit code: 1 when an item is not what the API gives (nothing is
// printed then).
func printList[V any](c *cli, name string, items []json.RawMessage, asJSON bool, header string, row func(V) string) int {
	if asJSON {
		if items == nil {
			items = []json.RawMessage{}
		}
		raw, _ := json.MarshalIndent(map[string]any{name: items}, "", "  ")
		c.stdout.Write(append(raw, '\n'))
		return 0
	}
	views := make([]V, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it, &views[i]); err != nil {
			fmt.Fprintf(c.stderr, "qoswatch %s: unexpected answer: %v\n", name, err)
			return 1
		}
	}
	tw := newTable(c.stdout)
	fmt.Fprintln(tw, header)
	for _, v := range views {
		fmt.Fprintln(tw, row(v))
	}
	tw.Flush()
	return 0
}
