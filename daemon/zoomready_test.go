package daemon

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Issue 14 items 1-2: /readyz is 503 with Zoom's reason while no token can
// be had (a closed port, a token URL that answers HTML) and ready once
// Zoom recovers; the log says at once what is tried, with one
// component=zoom.
func TestReadyzSaysWhyZoomIsNotReady(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/oauth/token"
	ln.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Welcome to nginx!</body></html>")
	}))
	defer html.Close()

	for _, tt := range []struct{ name, oauthURL, want string }{
		{"closed port", closed, "cannot reach ZOOM_OAUTH_URL=" + closed},
		{"HTML", html.URL + "/oauth/token", "the token endpoint answered HTML, not JSON: check ZOOM_OAUTH_URL=" + html.URL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, clock, _ := cpuHogWebinar(t, 7171, 30*time.Minute, 0)
			cfg.Zoom.OAuthURL = tt.oauthURL
			d := startRun(t, cfg, Options{Clock: clock})
			r := waitReadyz(t, d, "not ready with Zoom's reason", func(r readyz) bool {
				return r.code == http.StatusServiceUnavailable && strings.Contains(r.Checks["zoom_token"], tt.want)
			})
			if r.Ready || r.Checks["zoom_token"] == "ok" {
				t.Errorf("/readyz = %+v", r)
			}
			logs := d.logs.String()
			first, _, _ := strings.Cut(logs[strings.Index(logs, "oauth_url="):], "\n")
			if !strings.Contains(logs, "level=INFO") || !strings.HasPrefix(first, "oauth_url="+tt.oauthURL) {
				t.Errorf("the log does not say at once, at info, what is tried:\n%s", logs)
			}
			if strings.Contains(logs, "component=zoom component=zoom") {
				t.Error("a log line repeats component=zoom")
			}
		})
	}

	t.Run("recovers", func(t *testing.T) {
		cfg, clock, _ := cpuHogWebinar(t, 7272, 30*time.Minute, 0)
		var down atomic.Bool
		down.Store(true)
		target := cfg.Zoom.OAuthURL
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			req, _ := http.NewRequestWithContext(r.Context(), r.Method, target, r.Body)
			req.Header = r.Header.Clone()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
		}))
		defer proxy.Close()
		cfg.Zoom.OAuthURL = proxy.URL + "/oauth/token"
		d := startRun(t, cfg, Options{Clock: clock})
		waitReadyz(t, d, "not ready while the token endpoint fails", func(r readyz) bool {
			return r.code == http.StatusServiceUnavailable && strings.Contains(r.Checks["zoom_token"], "503 Service Unavailable: the token endpoint failed")
		})
		down.Store(false)
		waitReadyz(t, d, "ready once Zoom recovers", func(r readyz) bool { return r.code == http.StatusOK && r.Checks["zoom_token"] == "ok" })
	})
}
