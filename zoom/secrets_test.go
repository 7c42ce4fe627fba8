package zoom_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// No client secret and no access token reaches a log line or an error
// string, on any failure path the client has.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	const secret = "s3cr3t-Client-Secret-Value"
	e := newEnv(t, envOpts{
		fake:   zoomtest.Options{ClientSecret: secret},
		mutate: func(c *zoom.Config) { c.Timeout = 400 * time.Millisecond }, // roomy for -race on a loaded machine
	})
	ctx := context.Background()
	var errs []error
	call := func() {
		_, err := e.client.Participants(ctx, engine.Webinar, "81234567890", zoom.Live)
		errs = append(errs, err)
		_, _, err = e.qos(t, "81234567890")
		errs = append(errs, err)
		_, err = e.client.ParticipantQoS(ctx, engine.Webinar, "81234567890", "nobody", zoom.Live)
		errs = append(errs, err)
	}
	call() // ok, and a 404
	e.srv.RevokeAccessTokens()
	call()
	for _, f := range []zoomtest.Fault{
		{Status: 500}, {Status: 401}, {Status: 403}, {Malformed: true}, {Delay: time.Minute},
		{Path: "/oauth/token", Status: 500}, {Path: "/oauth/token", Malformed: true}, {Path: "/oauth/token", Status: 401},
	} {
		e.srv.Inject(f)
		if f.Path != "" {
			e.srv.RevokeAccessTokens() // so a new token is fetched, and fails
		}
		call()
		e.srv.ClearFaults()
	}
	e.srv.SpendDaily(60000)
	call()

	// A client whose secret is wrong.
	cfg := e.cfg
	cfg.ClientSecret = secret + "-wrong"
	bad, err := zoom.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Participants(ctx, engine.Webinar, "81234567890", zoom.Live)
	errs = append(errs, err)
	secrets := []string{secret, cfg.ClientSecret}

	tokens := e.tokens.tokens()
	secrets = append(secrets, tokens...)
	if len(tokens) < 2 {
		t.Fatalf("only %d access tokens seen; the test did not exercise refreshes", len(tokens))
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "zoom call failed") {
		t.Fatal("no failure was logged; the test did not exercise the failure paths")
	}
	failures := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		failures++
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains a secret", err)
			}
		}
	}
	if failures < 20 {
		t.Errorf("only %d calls failed; the test did not exercise the failure paths", failures)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains the secret or a token %q", s)
		}
	}
}
