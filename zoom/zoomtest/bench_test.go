package zoomtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/internal/fakeclock"
)

// benchCalls measures one API call of a 10,000-participant webinar through
// the in-process transport, as the simulator makes them.
func benchCall(b *testing.B, path string) {
	sc := Generate(Gen{Participants: 10000, Degraded: 0.02, AudioOnly: 0.1, Guests: 0.1, Churn: 0.2, Duration: 2 * time.Hour, Seed: 1})
	clock := fakeclock.NewManual(sc.Start.Add(30 * time.Minute))
	s := NewServer(Options{Now: clock.Now, Scenarios: []*Scenario{sc}, NoLimits: true})
	c := s.HTTPClient()
	form := "grant_type=account_credentials&account_id=" + s.AccountID
	req, _ := http.NewRequest("POST", s.TokenURL(), stringsReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.ClientID, s.ClientSecret)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	tok := accessToken(b, resp)
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		req, _ := http.NewRequest("GET", s.APIURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode, err)
		}
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ReportMetric(float64(n), "bytes/call")
}

func BenchmarkQoSCall10k(b *testing.B) {
	benchCall(b, "/metrics/webinars/"+itoa(Generate(Gen{Participants: 1, Seed: 1}).ID)+"/participants/qos?page_size=10")
}

func BenchmarkParticipantsCall10k(b *testing.B) {
	benchCall(b, "/metrics/webinars/"+itoa(Generate(Gen{Participants: 1, Seed: 1}).ID)+"/participants?page_size=300")
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func accessToken(b *testing.B, resp *http.Response) string {
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		b.Fatal(err)
	}
	return tok.AccessToken
}
