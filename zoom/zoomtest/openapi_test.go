package zoomtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/qoswatch/qoswatch/internal/fakeclock"
)

// specRouter loads Zoom's OpenAPI description of the Dashboard metrics
// endpoints (a copy of shared/zoom/dashboard-metrics.openapi.json).
func specRouter(t *testing.T) routers.Router {
	t.Helper()
	specOnce.Do(func() { spec, specErr = loadSpec() })
	if specErr != nil {
		t.Fatal(specErr)
	}
	return spec
}

var (
	specOnce sync.Once
	spec     routers.Router
	specErr  error
)

func loadSpec() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromFile("testdata/dashboard-metrics.openapi.json")
	if err != nil {
		return nil, err
	}
	// The spec's security scheme says `"in": "HEADER"`, which the
	// validator rejects; only responses are validated here.
	doc.Components.SecuritySchemes = nil
	for _, p := range doc.Paths.Map() {
		for _, op := range p.Operations() {
			op.Security = nil
		}
	}
	// Its operations carry a non-standard "extensions" field.
	return legacy.NewRouter(doc, openapi3.AllowExtraSiblingFields("extensions"))
}

// validate checks one answer of the fake against the spec. route is the
// path to look the operation up by (the call's path when "").
func validate(t *testing.T, r routers.Router, call, route string, status int, h http.Header, body []byte) error {
	t.Helper()
	if route == "" {
		route = call
	}
	req, _ := http.NewRequest("GET", "https://api.zoom.us/v2"+route, nil)
	rt, params, err := r.FindRoute(req)
	if err != nil {
		t.Fatalf("%s: no operation in the spec: %v", route, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: rt},
		Status:                 status,
		Header:                 h,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func TestResponsesMatchZoomsOpenAPI(t *testing.T) {
	router := specRouter(t)
	clock := fakeclock.NewManual(t0.Add(30 * time.Minute))
	liveWebinar := handBuilt()
	pastWebinar := Generate(Gen{ID: 81000000002, Participants: 40, Degraded: 0.2, AudioOnly: 0.2, Guests: 0.2, Churn: 0.3, Start: t0.Add(-3 * time.Hour), Duration: 20 * time.Minute, MinBad: 2 * time.Minute, MaxBad: 5 * time.Minute, Seed: 2})
	liveMeeting := Generate(Gen{Kind: Meeting, ID: 85000000001, Participants: 30, Degraded: 0.3, AudioOnly: 0.2, Guests: 0.2, Churn: 0.3, Start: t0, Duration: 2 * time.Hour, Quirks: true, Seed: 3})
	pastMeeting := Generate(Gen{Kind: Meeting, ID: 85000000002, Participants: 12, Degraded: 0.5, Guests: 0.3, Start: t0.Add(-2 * time.Hour), Duration: 30 * time.Minute, Seed: 4})
	all := []*Scenario{liveWebinar, pastWebinar, liveMeeting, pastMeeting}

	type call struct {
		path, route string
		want        int
	}
	calls := func(page2 map[string]string) []call {
		c := []call{
			{"/metrics/webinars?type=live&from=2026-11-28&to=2026-11-28", "", 200},
			{"/metrics/webinars?type=past&from=2026-11-28&to=2026-11-28&page_size=1", "", 200},
			{"/metrics/meetings?type=live&from=2026-11-28&to=2026-11-28", "", 200},
			{"/metrics/meetings?type=past&from=2026-11-01&to=2026-11-30", "", 200},
			{"/metrics/meetings?type=pastOne&from=2026-11-01&to=2026-11-30", "", 200},
			{"/metrics/meetings?type=live", "", 400},
			{"/metrics/webinars/81234567890", "", 200},
			{"/metrics/webinars/81000000002?type=past", "", 200},
			{"/metrics/meetings/85000000001", "", 200},
			{"/metrics/meetings/85000000002?type=past", "", 200},
			{"/metrics/webinars/99999999999", "", 404},
			{"/metrics/webinars/81234567890?type=past", "", 404},
			{"/metrics/webinars/81234567890/participants?page_size=300", "", 200},
			{"/metrics/webinars/81000000002/participants?type=past&page_size=300", "", 200},
			{"/metrics/meetings/85000000001/participants?page_size=300", "", 200},
			{"/metrics/meetings/85000000002/participants?type=past", "", 200},
			{"/metrics/meetings/85000000002/participants?type=pastOne", "", 200},
			{"/metrics/webinars/81234567890/participants?page_size=301", "", 400},
			{"/metrics/webinars/81234567890/participants?page_size=10", "", 200},
			{"/metrics/meetings/85000000002/participants?type=past&page_size=5", "", 200},
			{"/metrics/webinars/81234567890/participants/qos?page_size=10", "", 200},
			{"/metrics/webinars/81000000002/participants/qos?type=past&page_size=10", "", 200},
			{"/metrics/meetings/85000000001/participants/qos?page_size=10", "", 200},
			{"/metrics/meetings/85000000002/participants/qos?type=past&page_size=10", "", 200},
			{"/metrics/webinars/81234567890/participants/qos?page_size=11", "", 400},
			{"/metrics/webinars/81234567890/participants/qos?next_page_token=expired", "", 400},
			{"/metrics/meetings/85000000009/participants/qos", "", 404},
			{"/metrics/webinars/" + url.PathEscape(url.PathEscape(liveWebinar.UUID)) + "/participants/qos?page_size=10", "/metrics/webinars/81234567890/participants/qos", 200},
			{"/metrics/webinars/81234567890/participants/16778242/qos", "", 200}, // a guest
			{"/metrics/webinars/81234567890/participants/16778243/qos", "", 200}, // audio-only
			{"/metrics/webinars/81000000002/participants/16778245/qos?type=past", "", 200},
			{"/metrics/meetings/85000000001/participants/16778240/qos", "", 200},
			{"/metrics/meetings/85000000002/participants/16778241/qos?type=past", "", 200},
			{"/metrics/webinars/81234567890/participants/nobody/qos", "", 404},
		}
		for p, tok := range page2 {
			c = append(c, call{p + "&next_page_token=" + url.QueryEscape(tok), "", 200})
		}
		return c
	}

	for _, noScores := range []bool{false, true} {
		s := New(t, Options{Now: clock.Now, Scenarios: all, NoQualityScores: noScores, NoLimits: true})
		tok := token(t, s)
		page2 := map[string]string{}
		for _, c := range calls(nil) {
			resp := rawGet(t, s, tok, c.path)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("%s: status %d, want %d: %s", c.path, resp.StatusCode, c.want, body)
				continue
			}
			if err := validate(t, router, c.path, c.route, resp.StatusCode, resp.Header, body); err != nil {
				t.Errorf("%s (quality scores off: %v): %v", c.path, noScores, err)
			}
			if tk := nextToken(body); tk != "" && c.route == "" {
				page2[c.path] = tk
			}
		}
		if len(page2) < 6 {
			t.Errorf("only %d lists had a second page", len(page2))
		}
		for p, tk := range page2 {
			path := p + "&next_page_token=" + url.QueryEscape(tk)
			resp := rawGet(t, s, tok, path)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err := validate(t, router, path, "", resp.StatusCode, resp.Header, body); err != nil || resp.StatusCode != 200 {
				t.Errorf("%s: %d %v", path, resp.StatusCode, err)
			}
		}
	}
}

func nextToken(body []byte) string {
	const key = `"next_page_token":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	return string(rest[:bytes.IndexByte(rest, '"')])
}

// The validator must be able to fail, or the test above proves nothing.
func TestSpecValidationCatchesADrift(t *testing.T) {
	router := specRouter(t)
	h := http.Header{"Content-Type": {"application/json"}}
	bad := map[string]string{
		"/metrics/webinars/1/participants":     `{"participants":[{"network_type":"Carrier pigeon"}]}`,
		"/metrics/webinars/1/participants/qos": `{"participants":[{"join_time":"yesterday"}]}`,
		"/metrics/meetings/1/participants":     `{"participants":[{"role":"panelist"}]}`,
		"/metrics/webinars":                    `{"webinars":[{"id":"81234567890"}]}`,
	}
	for path, body := range bad {
		if err := validate(t, router, path, "", 200, h, []byte(body)); err == nil {
			t.Errorf("%s: %s passed validation", path, body)
		}
	}
	// Statuses the spec does not list are failures too (see docs/architecture.md,
	// "The fake Zoom", for those Zoom sends anyway: 401, 429, 5xx).
	if err := validate(t, router, "/metrics/webinars/1/participants/qos", "", 429, h, []byte(`{}`)); err == nil ||
		!strings.Contains(err.Error(), "status is not supported") {
		t.Errorf("429: %v", err)
	}
}
