package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
)

// `qoswatch demo --interactive`: the console's buttons, typed. "ack 3"
// acknowledges what message #3's buttons act on, through the HTTP API
// (POST /api/v1/actions, as `qoswatch ack` does); the notifier then
// updates #3 on the console as it would in Slack.

const interactiveHelp = `Type, then Enter (3 is a message's number, as in "── #3 to …"):
  ack 3                     Acknowledge
  silence 3 [scope]         Silence ▾: participant, rule_source (default), rule_1h, until_resolved
  dismiss 3                 Not an issue
  help
`

// answerTyped reads commands from in until it ends or ctx does, and acts
// on the messages console numbered, through the API at addr.
func answerTyped(ctx context.Context, in io.Reader, out io.Writer, console *notifier.Console, addr, token string) {
	lines := make(chan string)
	go func() { // a read cannot be interrupted: this one ends with the input
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		close(lines)
	}()
	n := 0
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return
		case line, ok = <-lines:
			if !ok {
				return
			}
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		n++
		fmt.Fprintf(out, "\n» %s\n%s", line, typedAction(ctx, f, console, addr, token, n))
	}
}

// typedAction does one typed command and says what came of it.
func typedAction(ctx context.Context, f []string, console *notifier.Console, addr, token string, n int) string {
	var kind engine.ActionKind
	scope := engine.SilenceScope("")
	switch strings.ToLower(f[0]) {
	case "ack", "acknowledge":
		kind = engine.ActionAck
	case "dismiss", "not-an-issue":
		kind = engine.ActionDismiss
	case "silence":
		kind, scope = engine.ActionSilence, engine.ScopeRuleSource
		if len(f) > 2 {
			scope = engine.SilenceScope(f[2])
		}
	default:
		return interactiveHelp
	}
	if len(f) < 2 {
		return interactiveHelp
	}
	ts := strings.TrimPrefix(f[1], "#")
	key, ref, ok := console.Answerable(ts)
	if !ok {
		return fmt.Sprintf("message #%s has no buttons (a reply, a resolve, or no such message)\n", ts)
	}
	a := engine.Action{ID: fmt.Sprintf("demo:%d:%d", time.Now().UnixNano(), n), Kind: kind, Scope: scope, Alert: key,
		User: "cli:demo", UserName: "you", Message: ref}
	body, _ := json.Marshal(a)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v1/actions", bytes.NewReader(body))
	if err != nil {
		return err.Error() + "\n"
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Sprintf("the API did not answer: %v\n", err)
	}
	defer resp.Body.Close()
	var answer struct {
		Result engine.ActionResult `json:"result"`
		Error  string              `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer)
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("refused (%d): %s\n", resp.StatusCode, answer.Error)
	}
	return answer.Result.Text + "\n"
}
