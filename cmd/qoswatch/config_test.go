package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/daemon"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func parseRun(t *testing.T, env map[string]string, args ...string) (*runFlags, error) {
	t.Helper()
	var out bytes.Buffer
	f := newFlags(&cli{stdout: &out, stderr: &out, getenv: envOf(env)}, "qoswatch run", "[flags]", "")
	r := declareRun(f)
	if err := f.Parse(args); err != nil {
		return r, err
	}
	return r, r.finish(envOf(env))
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	env := map[string]string{
		"ZOOM_ACCOUNT_ID": "acct-env", "ZOOM_CLIENT_ID": "id", "ZOOM_CLIENT_SECRET": "a-client-secret-of-32-characters",
		"QOSWATCH_POLL_INTERVAL": "2m", "QOSWATCH_LISTEN": ":9797", "QOSWATCH_API_TOKEN": "an-api-token-long-enough", "QOSWATCH_WATCH": "meetings",
		"QOSWATCH_SOURCES": "webinar:1, meeting:2 ,3", "QOSWATCH_BUDGET_SHARE": "0.25",
	}
	r, err := parseRun(t, env, "--zoom-account-id", "acct-flag", "--poll-interval=90s")
	if err != nil {
		t.Fatal(err)
	}
	c := r.cfg
	if c.Zoom.AccountID != "acct-flag" || c.PollInterval != 90*time.Second {
		t.Errorf("flags did not win: account %q, interval %s", c.Zoom.AccountID, c.PollInterval)
	}
	if c.Listen != ":9797" || c.BudgetShare != 0.25 || c.Zoom.ClientSecret.Reveal() != "a-client-secret-of-32-characters" {
		t.Errorf("environment not read: listen %q share %g", c.Listen, c.BudgetShare)
	}
	if strings.Join(c.Watch, ",") != "meetings" || strings.Join(c.Sources, ",") != "webinar:1,meeting:2,3" {
		t.Errorf("lists: watch %q sources %q", c.Watch, c.Sources)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	d := daemon.Defaults()
	if c.Zoom.APIURL != d.Zoom.APIURL || c.DB != "qoswatch.db" || c.Rules != "rules.yaml" {
		t.Errorf("defaults lost: %+v", c)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	os.WriteFile(file, []byte("from-a-file\n"), 0o600)
	r, err := parseRun(t, map[string]string{"ZOOM_CLIENT_SECRET_FILE": file, "SLACK_BOT_TOKEN_FILE": file})
	if err != nil {
		t.Fatal(err)
	}
	if r.cfg.Zoom.ClientSecret.Reveal() != "from-a-file" || r.cfg.Slack.BotToken.Reveal() != "from-a-file" {
		t.Errorf("secrets from files: %q", r.cfg.Zoom.ClientSecret.Reveal())
	}
	_, err = parseRun(t, map[string]string{"ZOOM_CLIENT_SECRET": "x", "ZOOM_CLIENT_SECRET_FILE": file})
	if err == nil || !strings.Contains(err.Error(), "ZOOM_CLIENT_SECRET and ZOOM_CLIENT_SECRET_FILE are both set") {
		t.Errorf("both set: %v", err)
	}
	os.WriteFile(file, []byte("  \n"), 0o600)
	if _, err = parseRun(t, map[string]string{"SLACK_BOT_TOKEN_FILE": file}); err == nil || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN_FILE: "+file+" is empty") {
		t.Errorf("empty file: %v", err)
	}
}

// Secrets never reach an error, a log line, or a printed config.
func TestSecretsNeverShow(t *testing.T) {
	const (
		secret  = "zoom-client-secret-9f8e7d"
		token   = "xoxb-slack-bot-token-1a2b3c"
		webhook = "https://hooks.slack.com/services/T000/B000/webhook-secret-part"
		api     = "api-bearer-token-5d6e"
	)
	env := map[string]string{
		"ZOOM_CLIENT_SECRET": secret, "SLACK_BOT_TOKEN": token, "SLACK_WEBHOOK_URL": webhook, "QOSWATCH_API_TOKEN": api,
		"ZOOM_PLAN": "platinum", "QOSWATCH_LOG_FORMAT": "yaml", "ZOOM_API_URL": "ftp://x",
	}
	r, err := parseRun(t, env)
	if err != nil {
		t.Fatal(err)
	}
	verr := r.cfg.Validate()
	if verr == nil {
		t.Fatal("Validate accepted a bad config")
	}
	var logs bytes.Buffer
	log := daemon.NewLogger(&logs, "json", "debug")
	log.Info("config", "config", r.cfg, "secret", r.cfg.Zoom.ClientSecret)
	daemon.NewLogger(&logs, "text", "debug").Info("config", "config", r.cfg)
	for name, text := range map[string]string{
		"Validate error": verr.Error(),
		"log":            logs.String(),
		"%v":             strings.Join([]string{r.cfg.Zoom.ClientSecret.String(), r.cfg.Slack.WebhookURL.String()}, " "),
		"%+v":            fmtAll(r.cfg),
	} {
		for _, s := range []string{secret, token, "webhook-secret-part", api} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows a secret (%s...): %s", name, s[:8], text)
			}
		}
	}
	// The error still names every bad setting.
	for _, want := range []string{"ZOOM_PLAN=\"platinum\"", "QOSWATCH_LOG_FORMAT=\"yaml\"", "ZOOM_API_URL=\"ftp://x\"", "SLACK_BOT_TOKEN and SLACK_WEBHOOK_URL are both set"} {
		if !strings.Contains(verr.Error(), want) {
			t.Errorf("Validate error lacks %q: %v", want, verr)
		}
	}

	// A bad webhook URL is named, not shown.
	r, _ = parseRun(t, map[string]string{"ZOOM_ACCOUNT_ID": "a", "ZOOM_CLIENT_ID": "b", "ZOOM_CLIENT_SECRET": "c", "SLACK_WEBHOOK_URL": "not a url webhook-secret-part"})
	if err := r.cfg.Validate(); err == nil || !strings.Contains(err.Error(), "SLACK_WEBHOOK_URL is not an http(s) URL") || strings.Contains(err.Error(), "webhook-secret-part") {
		t.Errorf("bad webhook: %v", err)
	}
}

func fmtAll(v any) string {
	var b bytes.Buffer
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		b.WriteString(sprintf(f, v))
	}
	return b.String()
}

func TestHelpListsEnvBesideEachFlag(t *testing.T) {
	for _, cmd := range []string{"run", "demo", "check", "test", "alerts", "silence add", "silence list", "silence expire", "backup", "healthcheck", "version"} {
		var out, errOut bytes.Buffer
		args := append([]string{"qoswatch"}, strings.Fields(cmd)...)
		code := run(context.Background(), append(args, "--help"), &out, &errOut, envOf(nil))
		if code != 0 || !strings.Contains(out.String(), "Usage: qoswatch "+cmd) {
			t.Errorf("qoswatch %s --help = %d\n%s%s", cmd, code, out.String(), errOut.String())
		}
	}
	var out bytes.Buffer
	run(context.Background(), []string{"qoswatch", "run", "--help"}, &out, &out, envOf(nil))
	help := out.String()
	for _, line := range []string{
		"--zoom-account-id string", "ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_SECRET_FILE",
		"ZOOM_API_URL", "ZOOM_OAUTH_URL", "ZOOM_PLAN", "ZOOM_DAILY_LIMIT", "SLACK_BOT_TOKEN", "SLACK_API_URL", "SLACK_WEBHOOK_URL",
		"QOSWATCH_RULES", "QOSWATCH_DB", "QOSWATCH_LISTEN", "QOSWATCH_POLL_INTERVAL", "QOSWATCH_WATCH", "QOSWATCH_SOURCES",
		"QOSWATCH_LOG_FORMAT", "QOSWATCH_API_TOKEN", "QOSWATCH_BUDGET_SHARE", "QOSWATCH_STALE_AFTER", "QOSWATCH_SILENCE_MAX_DURATION", "QOSWATCH_SHUTDOWN_GRACE",
	} {
		if !strings.Contains(help, line) {
			t.Errorf("run --help lacks %q", line)
		}
	}
	if !regexp.MustCompile(`\(environment only\)\s+ZOOM_CLIENT_SECRET\s`).MatchString(help) {
		t.Error("run --help does not list ZOOM_CLIENT_SECRET as environment only")
	}
	// Every flag line has its variable on the same line.
	for _, l := range strings.Split(help, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "--") && !strings.Contains(l, "QOSWATCH_") && !strings.Contains(l, "ZOOM_") && !strings.Contains(l, "SLACK_") {
			t.Errorf("flag without its environment variable: %q", l)
		}
	}
}

func TestUnknownCommandAndBadFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"qoswatch", "frobnicate"}, &out, &errOut, envOf(nil)); code != 2 || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command = %d %s", code, errOut.String())
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"qoswatch", "run", "--pol-interval", "1m"}, &out, &errOut, envOf(nil)); code != 2 || !strings.Contains(errOut.String(), "pol-interval") {
		t.Errorf("bad flag = %d %s", code, errOut.String())
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"qoswatch", "run"}, &out, &errOut, envOf(map[string]string{"QOSWATCH_BUDGET_SHARE": "half"})); code != 2 || !strings.Contains(errOut.String(), `QOSWATCH_BUDGET_SHARE="half": not a valid number`) {
		t.Errorf("bad env = %d %s", code, errOut.String())
	}
}

func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - name: x\n    when: audio_input.avg_los > 2\n"), 0o600)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"qoswatch", "check", "../../rules.example.yaml", bad}, &out, &errOut, envOf(nil))
	if code != 1 || !strings.Contains(out.String(), "rules.example.yaml: OK:") || !strings.Contains(out.String(), "bad.yaml:3:23: rule \"x\"") {
		t.Errorf("check = %d\n%s\n%s", code, out.String(), errOut.String())
	}
}

func TestExplainCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"qoswatch", "explain", "--rules", "../../rules.example.yaml", "--source", "webinar:81234567890",
		"../../rules/testdata/explain/webinar-qos.json"}, &out, &errOut, envOf(nil))
	if code != 0 || !regexp.MustCompile(`Jane Doe .*webinar 81234567890`).MatchString(out.String()) ||
		!regexp.MustCompile(`HOLDS\s+choppy-audio\s+audio_input.avg_loss = 3.5% > 2% ✓`).MatchString(out.String()) {
		t.Errorf("explain = %d\n%s\n%s", code, out.String(), errOut.String())
	}
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.json")
	os.WriteFile(junk, []byte(`{"participants": "nope"}`), 0o600)
	out.Reset()
	errOut.Reset()
	code = run(context.Background(), []string{"qoswatch", "explain", "--rules", "../../rules.example.yaml", junk}, &out, &errOut, envOf(nil))
	if code != 1 || !strings.Contains(errOut.String(), junk+": not a Zoom QoS response") {
		t.Errorf("explain on junk = %d\n%s", code, errOut.String())
	}
}

func sprintf(format string, v any) string { return fmt.Sprintf(format, v) }

// TestUnsafeRuleRefused: issue 15's rule that ran the daemon out of memory
// is refused by check and by explain (which loads the rules before it
// evaluates anything), with the reason; neither dies.
func TestUnsafeRuleRefused(t *testing.T) {
	const bomb = "../../rules/testdata/bad/expr-repeat.yaml"
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"qoswatch", "check", bomb}, &out, &errOut, envOf(nil)); code != 1 ||
		!strings.Contains(out.String(), "repeat() is not allowed in rules") {
		t.Errorf("check = %d\n%s%s", code, &out, &errOut)
	}
	out.Reset()
	errOut.Reset()
	code := run(context.Background(), []string{"qoswatch", "explain", "--rules", bomb, "../../rules/testdata/explain/webinar-qos.json"}, &out, &errOut, envOf(nil))
	if code != 1 || !strings.Contains(errOut.String(), "repeat() is not allowed in rules") {
		t.Errorf("explain = %d\n%s%s", code, &out, &errOut)
	}
}

// TestExplainRole: saved QoS carries no role, so explain takes it as a flag
// (for everyone or per user_id) and a role-based rule can hold; without
// --source the header names no webinar (it said "webinar 0").
func TestExplainRole(t *testing.T) {
	explain := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"qoswatch", "explain", "--rules", "../../rules.example.yaml"}, append(args, "../../rules/testdata/explain/webinar-qos.json")...), &out, &errOut, envOf(nil))
		return code, out.String(), errOut.String()
	}
	code, out, _ := explain()
	if code != 0 || strings.Contains(out, "webinar 0") || !regexp.MustCompile(`(?m)^Jane Doe \(user_id 16778240, Mac\) · 2026-03-02 15:04 UTC$`).MatchString(out) ||
		!regexp.MustCompile(`-\s+speaker-degraded\s+participant.role = missing`).MatchString(out) || !strings.Contains(out, "Note: saved QoS carries no participant.role") {
		t.Errorf("no role = %d\n%s", code, out)
	}
	code, out, _ = explain("--role", "16778240=host,16779264=attendee")
	if code != 0 || !regexp.MustCompile(`HOLDS\s+speaker-degraded\s+participant.role = "host" in \["host", "panelist"\] ✓`).MatchString(out) ||
		!strings.Contains(out, "Jane Doe (user_id 16778240, host, Mac)") || !strings.Contains(out, "Sam Lee (user_id 16779264, attendee, Windows)") || strings.Contains(out, "Note:") {
		t.Errorf("--role per user = %d\n%s", code, out)
	}
	if code, out, _ = explain("--role", "panelist"); code != 0 || strings.Count(out, `participant.role = "panelist"`) != 2 {
		t.Errorf("--role for all = %d\n%s", code, out)
	}
	if code, _, errOut := explain("--role", "boss"); code != 2 || !strings.Contains(errOut, `--role "boss": the role is host, panelist or attendee`) {
		t.Errorf("--role boss = %d %s", code, errOut)
	}
}

// TestFlagsAfterArguments: `qoswatch ack 12 --as ana` takes --as, as
// people type it, while "--" still ends the flags.
func TestFlagsAfterArguments(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		as, note string
		pos      []string
	}{
		{[]string{"12", "--as", "ana"}, "ana", "", []string{"12"}},
		{[]string{"--as=ana", "12"}, "ana", "", []string{"12"}},
		{[]string{"a", "--note", "x", "b", "--as", "bo"}, "bo", "x", []string{"a", "b"}},
		{[]string{"a", "--", "--as", "bo"}, "", "", []string{"a", "--as", "bo"}},
		{[]string{"--", "-x"}, "", "", []string{"-x"}},
		{nil, "", "", nil},
	} {
		f := newFlags(&cli{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: envOf(nil)}, "qoswatch ack", "ALERT", "")
		var as, note string
		f.String(&as, "as", "", "", "who")
		f.String(&note, "note", "", "", "why")
		if err := f.Parse(tc.args); err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if as != tc.as || note != tc.note || !slices.Equal(f.Args(), tc.pos) {
			t.Errorf("%q: as %q note %q args %q; want %q %q %q", tc.args, as, note, f.Args(), tc.as, tc.note, tc.pos)
		}
	}
}

// TestHelpKeepsColumns: a flag's usage of two lines continues under its
// first line in --help, not at the left margin.
func TestHelpKeepsColumns(t *testing.T) {
	var out bytes.Buffer
	f := newFlags(&cli{stdout: &out, stderr: &out, getenv: envOf(nil)}, "qoswatch x", "", "")
	var a, b string
	f.String(&a, "role", "", "", "first line\nsecond line")
	f.String(&b, "url", "QOSWATCH_URL", "", "daemon URL")
	f.Usage()
	lines := strings.Split(out.String(), "\n")
	first, second := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "first line") }), -1
	if first >= 0 && first+1 < len(lines) {
		second = first + 1
	}
	if second < 0 || strings.Index(lines[second], "second line") != strings.Index(lines[first], "first line") ||
		strings.TrimSpace(strings.TrimSuffix(lines[second], "second line")) != "" {
		t.Errorf("the second line of a usage is not under the first:\n%s", out.String())
	}
}
