package fakeslack

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestResponseURLLimits: a response_url takes five messages within 30
// minutes, as Slack documents; a sixth, a late one or an unknown URL is
// refused (and recorded as a refusal).
func TestResponseURLLimits(t *testing.T) {
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	s := New(t, func() time.Time { return now })
	s.AllowRefusals()
	post := func(u string) int {
		resp, err := http.Post(u, "application/json", strings.NewReader(`{"response_type":"ephemeral","text":"hi"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	u := s.ResponseURL("k")
	for i := range 5 {
		if got := post(u); got != http.StatusOK {
			t.Fatalf("use %d: %d", i+1, got)
		}
	}
	if got := post(u); got != http.StatusNotFound {
		t.Errorf("a sixth use: %d, want 404", got)
	}
	late := s.ResponseURL("late")
	now = now.Add(31 * time.Minute)
	if got := post(late); got != http.StatusNotFound {
		t.Errorf("after 31 minutes: %d, want 404", got)
	}
	if got := post(strings.Replace(u, "/k", "/unknown", 1)); got != http.StatusNotFound {
		t.Errorf("an unknown URL: %d, want 404", got)
	}
	if n := len(s.Responses()); n != 5 {
		t.Errorf("%d responses kept, want 5", n)
	}
	if n := len(s.Refused()); n != 3 {
		t.Errorf("%d refusals, want 3", n)
	}
}
