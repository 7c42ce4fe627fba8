package slackapp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/notifier/slackapp"
)

// TestSecretsNeverInLogsOrErrors drives the bot and the webhook through
// the errors Slack and the network produce, and checks that neither the
// token nor the webhook URL (nor its secret path) reaches a log line or an
// error string.
func TestSecretsNeverInLogsOrErrors(t *testing.T) {
	var errs []string
	check := func(t *testing.T, logs string, secrets ...string) {
		t.Helper()
		all := logs + "\n" + strings.Join(errs, "\n")
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Errorf("secret %q leaked:\n%s", s, all)
			}
		}
	}

	t.Run("bot token", func(t *testing.T) {
		errs = nil
		r := newRig(t, toChannel("#webinar-support"), func(o *notifier.Options) { o.StormThreshold = -1 })
		faults := []*fault{{slackErr: "invalid_auth"}, {status: http.StatusInternalServerError}, {hangup: true}, {status: 429}}
		i := 0
		r.slack.setFault(func(string, url.Values) *fault {
			if i < len(faults) {
				i++
				return faults[i-1]
			}
			return nil
		})
		for range faults {
			if _, err := r.bot.Post(context.Background(), "#webinar-support", "", notifier.Message{Text: "x"}); err != nil {
				errs = append(errs, err.Error())
			} else {
				t.Fatal("want an error")
			}
		}
		r.ob.add(notif(engine.KindFiring, people[0], rule, t0))
		refused := false // the token is refused once, then works (rotated)
		r.slack.setFault(func(string, url.Values) *fault {
			if refused {
				return nil
			}
			refused = true
			return &fault{slackErr: "invalid_auth"}
		})
		r.flush(t)
		if !r.slack.SawToken(testToken) {
			t.Fatalf("the fake never saw the token (%v); the test would prove nothing", r.slack.Tokens())
		}
		// A dead server: the error names the endpoint, not the token.
		r.slack.Close()
		if _, err := r.bot.Post(context.Background(), "#c", "", notifier.Message{Text: "x"}); err != nil {
			errs = append(errs, err.Error())
		}
		check(t, r.logs.String(), testToken, "SeCrEtToKeNvAlUe")
		if len(errs) != 5 || !strings.Contains(errs[0], "invalid_auth") {
			t.Errorf("errors = %q; want five, the first naming invalid_auth", errs)
		}
	})

	t.Run("webhook URL", func(t *testing.T) {
		errs = nil
		const path = "/services/T0AAA0AAA/B0BBB0BBB/wHsEcReTpAtH0123456789"
		n := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n++
			switch n {
			case 1:
				http.Error(w, "no_service", http.StatusNotFound)
			case 2:
				conn, _, _ := w.(http.Hijacker).Hijack()
				_ = conn.Close()
			default:
				time.Sleep(2 * time.Second) // longer than the timeout
			}
		}))
		secretURL := srv.URL + path
		logs := &logBuffer{}
		wh, err := slackapp.NewWebhook(secretURL, slackapp.Options{Timeout: 500 * time.Millisecond, Logger: logs.logger()})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := wh.Post(context.Background(), "#c", "", notifier.Message{Text: "x"}); err != nil {
				errs = append(errs, err.Error())
			}
		}
		srv.Close()
		clock := newClock()
		ob := memBox(t)
		ob.add(notif(engine.KindFiring, people[0], rule, t0))
		d, _ := notifier.New(notifier.Options{Outbox: ob.queue, Router: toChannel("#c"), Sender: wh, Logger: logs.logger(), Clock: clock})
		if _, err := d.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		check(t, logs.String(), secretURL, path, "wHsEcReTpAtH0123456789")
		if len(errs) != 3 || !strings.Contains(errs[0], "http_404") {
			t.Errorf("errors = %q; want three, the first naming http_404", errs)
		}
		t.Logf("errors: %q", errs)
	})
}
