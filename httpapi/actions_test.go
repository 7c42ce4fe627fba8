package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Actions through the API: behind the token, applied once per id, listed
// newest first in pages, the acknowledgement shown on the alert, the
// dismissals counted; a bad action is a 400 naming what is wrong.
func TestActionsListedAndPaged(t *testing.T) {
	const token = "s3cret-api-token-value"
	e := firingEngine(t)
	h := New(Options{Engine: e, Token: token, Now: func() time.Time { return t0 }})
	alert := `"alert":{"rule":"choppy-audio","source":"webinar:812345","participant":"16778240"}`
	ack := `{"id":"cli-1","kind":"ack",` + alert + `,"user":"cli:ana"}`
	if code, _ := do(t, h, "POST", "/api/v1/actions", "", ack); code != 401 {
		t.Fatalf("POST without the token = %d", code)
	}
	if code, _ := do(t, h, "GET", "/api/v1/actions", "", ""); code != 401 {
		t.Fatalf("GET without the token = %d", code)
	}
	code, body := do(t, h, "POST", "/api/v1/actions", token, ack)
	if code != 200 || !strings.Contains(body, `"applied": true`) || !strings.Contains(body, "Acknowledged choppy-audio for Ada.") {
		t.Fatalf("ack = %d %s", code, body)
	}
	if _, body := do(t, h, "POST", "/api/v1/actions", token, ack); !strings.Contains(body, `"replay": true`) {
		t.Fatalf("the same id again: %s", body)
	}
	if _, body := do(t, h, "GET", "/api/v1/alerts", token, ""); !strings.Contains(body, `"acked_by": "cli:ana"`) || !strings.Contains(body, `"acked_at"`) {
		t.Fatalf("the alert does not show its ack: %s", body)
	}
	if code, body := do(t, h, "POST", "/api/v1/actions", token, `{"kind":"ack","number":99,"user":"cli:bo"}`); code != 404 || !strings.Contains(body, "alert #99") {
		t.Errorf("an unknown number = %d %s", code, body)
	}
	if _, body := do(t, h, "GET", "/api/v1/alerts", token, ""); !strings.Contains(body, `"number": 1,`) {
		t.Errorf("the alert has no number: %s", body)
	}
	for _, a := range []string{
		`{"kind":"silence","scope":"rule_1h","number":1,"user":"cli:bo","comment":"venue wifi"}`,
		`{"kind":"dismiss",` + alert + `,"user":"cli:bo"}`,
	} {
		if code, body := do(t, h, "POST", "/api/v1/actions", token, a); code != 200 || !strings.Contains(body, `"applied": true`) {
			t.Fatalf("%s = %d %s", a, code, body)
		}
	}
	for _, bad := range []struct{ body, want string }{
		{`{"kind":"snooze",` + alert + `,"user":"cli:bo"}`, `unknown kind \"snooze\"`},
		{`{"kind":"ack",` + alert + `}`, "user is required"},
		{`{"kind":"ack","alert":{"rule":"choppy-audio"},"user":"cli:bo"}`, "no alert"},
		{`{"kind":"ack",` + alert + `,"user":"cli:bo","extra":1}`, "unknown field"},
	} {
		if code, body := do(t, h, "POST", "/api/v1/actions", token, bad.body); code != 400 || !strings.Contains(body, bad.want) {
			t.Errorf("%s = %d %s, want 400 with %q", bad.body, code, body, bad.want)
		}
	}

	type page struct {
		Actions []struct {
			ID     string `json:"id"`
			Kind   string `json:"kind"`
			User   string `json:"user"`
			Seq    uint64 `json:"seq"`
			Result struct {
				Applied bool   `json:"applied"`
				Text    string `json:"text"`
			} `json:"result"`
		} `json:"actions"`
		Next string `json:"next"`
	}
	get := func(q string) page {
		t.Helper()
		code, body := do(t, h, "GET", "/api/v1/actions"+q, token, "")
		if code != 200 {
			t.Fatalf("GET %s = %d %s", q, code, body)
		}
		var p page
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := get("?limit=2")
	if len(first.Actions) != 2 || first.Actions[0].Kind != "dismiss" || first.Actions[1].Kind != "silence" || first.Next == "" {
		t.Fatalf("first page: %+v", first)
	}
	rest := get("?limit=2&after=" + first.Next)
	if len(rest.Actions) != 1 || rest.Actions[0].ID != "cli-1" || rest.Actions[0].User != "cli:ana" || !rest.Actions[0].Result.Applied || rest.Next != "" {
		t.Fatalf("second page: %+v", rest)
	}
	if code, _ := do(t, h, "GET", "/api/v1/actions?after=abc", token, ""); code != 400 {
		t.Errorf("a bad cursor = %d, want 400", code)
	}
	if _, body := do(t, h, "GET", "/api/v1/dismissals", token, ""); !strings.Contains(body, `"choppy-audio": 1`) {
		t.Errorf("dismissals: %s", body)
	}
	if _, body := do(t, h, "GET", "/api/v1/silences", token, ""); !strings.Contains(body, "venue wifi") {
		t.Errorf("the silence action is not listed: %s", body)
	}
}
