package zoomtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/zoom"
)

var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

// handBuilt is a 25-person webinar: a host, a panelist, a guest, an
// audio-only attendee, one who leaves at minute 20 and one whose audio is
// lossy from minute 10 to 15.
func handBuilt() *Scenario {
	sc := &Scenario{Kind: Webinar, ID: 81234567890, UUID: "/ab//cdEFgh12345678==", Topic: "All hands", Start: t0, Duration: time.Hour, Seed: 7}
	for i := range 25 {
		p := &Participant{UserID: fmt.Sprint(16778240 + i), ID: fmt.Sprintf("u%03d", i), UserName: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@example.com", i)}
		switch i {
		case 0:
			p.Role, p.SharesScreen = "host", true
		case 1:
			p.Role = "panelist"
		case 2:
			p.ID, p.Email = "", "" // guest
		case 3:
			p.AudioOnly = true
		case 4:
			p.Leave = 20 * time.Minute
		case 5:
			p.Degradations = []Degradation{{Kind: AudioLoss, From: 10 * time.Minute, To: 15 * time.Minute}}
		}
		if i >= 20 {
			p.Join = time.Duration(i-15) * time.Minute
		}
		sc.Participants = append(sc.Participants, p)
	}
	return sc
}

// token gets an access token the way Server-to-Server OAuth does.
func token(t *testing.T, s *Server) string {
	t.Helper()
	form := url.Values{"grant_type": {"account_credentials"}, "account_id": {s.AccountID}}
	req, _ := http.NewRequest("POST", s.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.ClientID, s.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: status %d, %v", resp.StatusCode, err)
	}
	if tok.ExpiresIn != 3600 || tok.AccessToken == "" {
		t.Fatalf("token = %+v", tok)
	}
	return tok.AccessToken
}

// get calls the API and decodes a 200 into v; it returns the status and
// the error body otherwise.
func get(t *testing.T, s *Server, tok, path string, v any) (int, zoom.APIError, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.APIURL()+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("x-zm-trackingid") == "" {
		t.Errorf("%s: no x-zm-trackingid", path)
	}
	var ae zoom.APIError
	if resp.StatusCode != 200 {
		if err := json.Unmarshal(body, &ae); err != nil {
			t.Fatalf("%s: error body %q: %v", path, body, err)
		}
		return resp.StatusCode, ae, resp.Header
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v in %q", path, err, body)
	}
	return 200, ae, resp.Header
}

func TestQoSPagingOverAStaticScenario(t *testing.T) {
	clock := fakeclock.NewManual(t0.Add(30 * time.Minute))
	s := New(t, Options{Now: clock.Now, Scenarios: []*Scenario{handBuilt()}})
	tok := token(t, s)

	var seen []string
	next := ""
	pages := 0
	for {
		var list zoom.ParticipantQoSList
		path := "/metrics/webinars/81234567890/participants/qos?type=live&page_size=10&next_page_token=" + url.QueryEscape(next)
		if st, ae, _ := get(t, s, tok, path, &list); st != 200 {
			t.Fatalf("page %d: %d %+v", pages, st, ae)
		}
		pages++
		if list.TotalRecords != 25 || list.PageCount != 3 || list.PageSize != 10 {
			t.Fatalf("page %d: paging %+v", pages, list.Page)
		}
		for _, p := range list.Participants {
			seen = append(seen, p.UserID)
			if p.UserID == "16778244" { // left at minute 20: no live minutes
				if len(p.UserQoS) != 0 || p.LeaveTime != "2026-11-28T14:20:00Z" {
					t.Errorf("leaver: %d samples, leave %q", len(p.UserQoS), p.LeaveTime)
				}
			} else if len(p.UserQoS) != 5 {
				t.Errorf("%s: %d live samples, want the last 5 minutes", p.UserID, len(p.UserQoS))
			}
		}
		if next = list.NextPageToken; next == "" {
			break
		}
	}
	if pages != 3 || len(seen) != 25 {
		t.Fatalf("pages %d, participants %d", pages, len(seen))
	}
	if got := s.Stats().Calls[zoom.Heavy]; got != 3 {
		t.Errorf("heavy calls = %d, want 3", got)
	}
}

func BenchmarkQoSPages10k(b *testing.B) {
	sc := Generate(Gen{Participants: 10000, Degraded: 0.02, AudioOnly: 0.1, Guests: 0.1, Churn: 0.2, Duration: 2 * time.Hour, Seed: 1})
	at := sc.Start.Add(30 * time.Minute)
	b.ReportAllocs()
	var bytes int
	for b.Loop() {
		pages := sc.QoSPages(at, 10)
		bytes = 0
		for _, p := range pages {
			bytes += len(p)
		}
	}
	b.ReportMetric(float64(bytes), "bytes/minute")
}
