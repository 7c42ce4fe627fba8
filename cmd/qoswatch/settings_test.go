package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/internal/syncbuf"
)

// TestEveryEnvironmentProblemOnOneLine: five variables that do not parse
// are all named, on one line, after "qoswatch run:", together with the
// problems Validate finds; the operator fixes them in one go.
func TestEveryEnvironmentProblemOnOneLine(t *testing.T) {
	env := map[string]string{
		"QOSWATCH_POLL_INTERVAL": "abc", "ZOOM_DAILY_LIMIT": "lots", "QOSWATCH_BUDGET_SHARE": "half",
		"QOSWATCH_STALE_AFTER": "soon", "QOSWATCH_SHUTDOWN_GRACE": "10", "ZOOM_PLAN": "platinum",
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"qoswatch", "run"}, &out, &errOut, envOf(env))
	got := errOut.String()
	if code != 2 || strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "qoswatch run: ") {
		t.Fatalf("exit %d, stderr %q: want exit 2 and one line starting with qoswatch run:", code, got)
	}
	for _, want := range []string{
		`QOSWATCH_POLL_INTERVAL="abc": not a valid duration`, `ZOOM_DAILY_LIMIT="lots": not a valid integer`,
		`QOSWATCH_BUDGET_SHARE="half": not a valid number`, `QOSWATCH_STALE_AFTER="soon": not a valid duration`,
		`QOSWATCH_SHUTDOWN_GRACE="10": not a valid duration`, `ZOOM_PLAN="platinum"`, "ZOOM_ACCOUNT_ID is not set",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the line lacks %q:\n%s", want, got)
		}
	}
	// One bad value alone is said the same way.
	errOut.Reset()
	code = run(context.Background(), []string{"qoswatch", "run"}, &out, &errOut, envOf(map[string]string{"ZOOM_DAILY_LIMIT": "lots"}))
	if got := errOut.String(); code != 2 || !strings.HasPrefix(got, `qoswatch run: ZOOM_DAILY_LIMIT="lots": not a valid integer`) || strings.Count(got, "\n") != 1 {
		t.Errorf("ZOOM_DAILY_LIMIT=lots: exit %d %q", code, got)
	}
}

// TestShortSecretsAreRefused: a secret too short to be real stops the
// start, naming the variable and the minimum, never the value.
func TestShortSecretsAreRefused(t *testing.T) {
	env := map[string]string{
		"ZOOM_ACCOUNT_ID": "acct", "ZOOM_CLIENT_ID": "id", "ZOOM_CLIENT_SECRET": "tcp",
		"SLACK_BOT_TOKEN": "xoxb-1", "QOSWATCH_API_TOKEN": "hunter2",
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"qoswatch", "run"}, &out, &errOut, envOf(env))
	got := errOut.String()
	for _, want := range []string{"ZOOM_CLIENT_SECRET is 3 characters: a real one has at least 16", "SLACK_BOT_TOKEN is 6 characters", "QOSWATCH_API_TOKEN is 7 characters"} {
		if code != 2 || !strings.Contains(got, want) {
			t.Errorf("exit %d, %q: want 2 and %q", code, got, want)
		}
	}
	if strings.Contains(got, "hunter2") || strings.Contains(got, "xoxb-1") {
		t.Errorf("a secret shows: %s", got)
	}
}

// TestBeyondLoopbackNeedsAToken: the API listening where others reach it
// with no token does not start; the error names QOSWATCH_API_TOKEN.
func TestBeyondLoopbackNeedsAToken(t *testing.T) {
	for _, listen := range []string{":9797", "0.0.0.0:9797", "[::]:9797", "192.0.2.10:9797", "qoswatch.example:9797"} {
		env := map[string]string{"ZOOM_ACCOUNT_ID": "acct", "ZOOM_CLIENT_ID": "id", "ZOOM_CLIENT_SECRET": "a-client-secret-of-32-characters", "QOSWATCH_LISTEN": listen}
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"qoswatch", "run"}, &out, &errOut, envOf(env))
		if code != 2 || !strings.Contains(errOut.String(), "QOSWATCH_LISTEN="+listen+" reaches beyond this machine and QOSWATCH_API_TOKEN is not set") {
			t.Errorf("listen %s without a token: exit %d %s", listen, code, errOut.String())
		}
	}
}

// echoingTokenEndpoint is a Zoom OAuth endpoint that puts the credentials
// it got into its error answer, as a badly written proxy might.
func echoingTokenEndpoint(status int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		id, secret, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{
			"error":  "invalid_client",
			"reason": "Invalid client_secret " + secret + " for " + id + " (Authorization: " + r.Header.Get("Authorization") + ")",
		})
	}))
}

// TestEchoedSecretsAreScrubbed: a token endpoint that echoes the client
// secret (and the Basic credential) in its error does not put them in the
// exit-2 start-up line (a 401) nor in the log (a 500 the daemon retries).
// The zoom client withholds such a reason at the source (the scrubber at
// the logger stays behind it); what to check is still said.
func TestEchoedSecretsAreScrubbed(t *testing.T) {
	const secret = "echoed-client-secret-0123456789"
	basic := base64.StdEncoding.EncodeToString([]byte("client-id:" + secret))
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, qoswatch.ExampleRules, 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(srv *httptest.Server) map[string]string {
		return map[string]string{
			"ZOOM_ACCOUNT_ID": "acct", "ZOOM_CLIENT_ID": "client-id", "ZOOM_CLIENT_SECRET": secret,
			"ZOOM_OAUTH_URL": srv.URL + "/oauth/token", "ZOOM_API_URL": srv.URL + "/v2",
			"QOSWATCH_RULES": rules, "QOSWATCH_DB": filepath.Join(dir, "db"), "QOSWATCH_LISTEN": "127.0.0.1:0",
		}
	}
	refused := echoingTokenEndpoint(http.StatusUnauthorized)
	defer refused.Close()
	var out, errOut syncbuf.Buffer
	code := run(context.Background(), []string{"qoswatch", "run"}, &out, &errOut, envOf(env(refused)))
	if got := errOut.String(); code != 2 || !strings.Contains(got, "qoswatch run: ") || !strings.Contains(got, "check ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET") ||
		!strings.Contains(got, "quoted the credentials; not shown") || strings.Contains(got, secret) || strings.Contains(got, basic) {
		t.Errorf("exit %d; want 2 and a start-up line with the echoed secret scrubbed:\n%s", code, got)
	}

	failing := echoingTokenEndpoint(http.StatusInternalServerError)
	defer failing.Close()
	var logs syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"qoswatch", "run"}, &out, &logs, envOf(env(failing))) }()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(logs.String(), "the token endpoint failed") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	if got := logs.String(); !strings.Contains(got, "quoted the credentials; not shown") || strings.Contains(got, secret) || strings.Contains(got, basic) {
		t.Errorf("the log does not scrub what the token endpoint echoed:\n%s", got)
	}
}
