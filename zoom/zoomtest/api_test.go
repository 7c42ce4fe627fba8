package zoomtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/zoom"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// fixture is a fake Zoom with the hand-built webinar, 30 minutes in.
func fixture(t *testing.T, opts Options) (*Server, *fakeclock.Manual, string) {
	t.Helper()
	clock := fakeclock.NewManual(t0.Add(30 * time.Minute))
	opts.Now = clock.Now
	if opts.Scenarios == nil {
		opts.Scenarios = []*Scenario{handBuilt()}
	}
	s := New(t, opts)
	return s, clock, token(t, s)
}

func TestOAuthWithTheRealClientCredentialsFlow(t *testing.T) {
	s, clock, _ := fixture(t, Options{})
	cfg := clientcredentials.Config{
		ClientID: s.ClientID, ClientSecret: s.ClientSecret, TokenURL: s.TokenURL(),
		AuthStyle:      oauth2.AuthStyleInHeader,
		EndpointParams: url.Values{"grant_type": {"account_credentials"}, "account_id": {s.AccountID}},
	}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var list zoom.ParticipantQoSList
	if st, ae, _ := get(t, s, tok.AccessToken, "/metrics/webinars/81234567890/participants/qos?page_size=10", &list); st != 200 {
		t.Fatalf("with a fresh token: %d %+v", st, ae)
	}

	// The token lives an hour on the fake's clock.
	clock.Advance(time.Hour)
	st, ae, _ := get(t, s, tok.AccessToken, "/metrics/webinars/81234567890/participants/qos", &list)
	if st != 401 || ae.Code != 124 || !strings.Contains(ae.Message, "expired") {
		t.Errorf("after an hour: %d %+v, want 401 code 124 expired", st, ae)
	}

	bad := []struct {
		name       string
		mutate     func(*clientcredentials.Config)
		wantStatus string
	}{
		{"wrong secret", func(c *clientcredentials.Config) { c.ClientSecret = "nope" }, "401"},
		{"wrong account", func(c *clientcredentials.Config) {
			c.EndpointParams = url.Values{"grant_type": {"account_credentials"}, "account_id": {"other"}}
		}, "400"},
		{"client_credentials grant", func(c *clientcredentials.Config) { c.EndpointParams = url.Values{"account_id": {s.AccountID}} }, "400"},
	}
	for _, tc := range bad {
		c := cfg
		tc.mutate(&c)
		_, err := c.Token(context.Background())
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || strconv.Itoa(re.Response.StatusCode) != tc.wantStatus {
			t.Errorf("%s: err = %v, want status %s", tc.name, err, tc.wantStatus)
		}
		if err != nil && strings.Contains(err.Error(), s.ClientSecret) {
			t.Errorf("%s: the token endpoint's answer carries the client secret: %v", tc.name, err)
		}
	}
}

func TestAccessTokensFailAsZoomDoes(t *testing.T) {
	s, _, tok := fixture(t, Options{})
	var v zoom.ParticipantQoSList
	for _, bad := range []string{"", "made-up"} {
		st, ae, _ := get(t, s, bad, "/metrics/webinars/81234567890/participants/qos", &v)
		if st != 401 || ae.Code != 124 {
			t.Errorf("token %q: %d %+v, want 401 code 124", bad, st, ae)
		}
	}
	s.RevokeAccessTokens()
	st, ae, _ := get(t, s, tok, "/metrics/webinars/81234567890/participants/qos", &v)
	if st != 401 || ae.Code != 124 || strings.Contains(ae.Message, tok) {
		t.Errorf("revoked: %d %+v, want 401 code 124 without the token", st, ae)
	}
	if st, _, _ := get(t, s, token(t, s), "/metrics/webinars/81234567890/participants/qos", &v); st != 200 {
		t.Errorf("a new token after revocation: %d", st)
	}
	if got := s.Stats(); got.Unauthorized != 3 || got.TokensIssued != 2 {
		t.Errorf("stats: unauthorized %d, tokens %d", got.Unauthorized, got.TokensIssued)
	}
}

func TestPagingRules(t *testing.T) {
	s, clock, tok := fixture(t, Options{})
	qos := "/metrics/webinars/81234567890/participants/qos"
	var list zoom.ParticipantQoSList
	if st, ae, _ := get(t, s, tok, qos+"?page_size=11", &list); st != 400 || ae.Code != 300 {
		t.Errorf("page_size 11: %d %+v, want 400 code 300", st, ae)
	}
	if st, ae, _ := get(t, s, tok, qos+"?page_size=ten", &list); st != 400 || ae.Code != 300 {
		t.Errorf("page_size ten: %d %+v, want 400 code 300", st, ae)
	}
	get(t, s, tok, qos, &list)
	if list.PageSize != 1 || len(list.Participants) != 1 || list.PageCount != 25 {
		t.Errorf("default page: %+v with %d participants, want the spec's default of 1", list.Page, len(list.Participants))
	}

	var parts zoom.ParticipantList
	if st, ae, _ := get(t, s, tok, "/metrics/webinars/81234567890/participants?page_size=301", &parts); st != 400 || ae.Code != 300 {
		t.Errorf("participants page_size 301: %d %+v", st, ae)
	}
	get(t, s, tok, "/metrics/webinars/81234567890/participants?page_size=300", &parts)
	if len(parts.Participants) != 25 || parts.NextPageToken != "" {
		t.Errorf("participants: %d, next %q", len(parts.Participants), parts.NextPageToken)
	}

	// A token belongs to its endpoint and lives 15 minutes.
	get(t, s, tok, qos+"?page_size=10", &list)
	next := url.QueryEscape(list.NextPageToken)
	if st, ae, _ := get(t, s, tok, "/metrics/webinars/81234567890/participants?next_page_token="+next, &parts); st != 400 || ae.Code != 300 {
		t.Errorf("token on another endpoint: %d %+v", st, ae)
	}
	clock.Advance(14 * time.Minute)
	if st, ae, _ := get(t, s, tok, qos+"?page_size=10&next_page_token="+next, &list); st != 200 {
		t.Errorf("14 minutes old token: %d %+v", st, ae)
	}
	clock.Advance(time.Minute)
	if st, ae, _ := get(t, s, tok, qos+"?page_size=10&next_page_token="+next, &list); st != 400 || ae.Code != 300 {
		t.Errorf("15 minutes old token: %d %+v, want 400 code 300", st, ae)
	}
	get(t, s, tok, qos+"?page_size=10", &list)
	next = url.QueryEscape(list.NextPageToken)
	s.ExpirePageTokens()
	if st, ae, _ := get(t, s, tok, qos+"?page_size=10&next_page_token="+next, &list); st != 400 || ae.Code != 300 {
		t.Errorf("forced expiry: %d %+v", st, ae)
	}
	if st, _, _ := get(t, s, tok, qos+"?page_size=10&next_page_token=garbage", &list); st != 400 {
		t.Errorf("garbage token: %d", st)
	}
}

// Token faults spoil a paged list's next_page_token: repeated, endless
// (no counts, never ""), or always expired.
func TestTokenFaults(t *testing.T) {
	qos := "/metrics/webinars/81234567890/participants/qos?page_size=10"
	page := func(t *testing.T, s *Server, tok, token string) (zoom.ParticipantQoSList, int, int) {
		t.Helper()
		var l zoom.ParticipantQoSList
		u := qos
		if token != "" {
			u += "&next_page_token=" + url.QueryEscape(token)
		}
		st, ae, _ := get(t, s, tok, u, &l)
		return l, st, ae.Code
	}
	t.Run("repeat", func(t *testing.T) {
		s, _, tok := fixture(t, Options{})
		s.Inject(Fault{Path: "/participants/qos", Token: TokenRepeat})
		first, _, _ := page(t, s, tok, "")
		again, st, _ := page(t, s, tok, first.NextPageToken)
		if st != 200 || first.NextPageToken == "" || again.NextPageToken != first.NextPageToken ||
			again.Participants[0].UserID != first.Participants[0].UserID {
			t.Errorf("first %q, then %d %q with %s first: want the first page and its token again",
				first.NextPageToken, st, again.NextPageToken, again.Participants[0].UserID)
		}
	})
	t.Run("endless", func(t *testing.T) {
		s, _, tok := fixture(t, Options{})
		s.Inject(Fault{Path: "/participants/qos", Token: TokenEndless})
		seen := map[string]bool{}
		token := ""
		for i := range 7 { // 25 participants: 3 pages, then round again
			l, st, _ := page(t, s, tok, token)
			if st != 200 || l.NextPageToken == "" || seen[l.NextPageToken] || l.PageCount != 0 || l.TotalRecords != 0 {
				t.Fatalf("page %d: %d, next %q (seen %v), counts %d/%d", i, st, l.NextPageToken, seen[l.NextPageToken], l.PageCount, l.TotalRecords)
			}
			seen[l.NextPageToken], token = true, l.NextPageToken
		}
	})
	t.Run("expired", func(t *testing.T) {
		s, _, tok := fixture(t, Options{})
		first, _, _ := page(t, s, tok, "")
		s.Inject(Fault{Path: "/participants/qos", Token: TokenExpired})
		if _, st, code := page(t, s, tok, ""); st != 200 {
			t.Errorf("first page: %d %d", st, code)
		}
		if _, st, code := page(t, s, tok, first.NextPageToken); st != 400 || code != 300 {
			t.Errorf("a fresh token: %d code %d, want 400 code 300", st, code)
		}
	})
}

func TestIDsAndUUIDEncoding(t *testing.T) {
	s, _, tok := fixture(t, Options{})
	uuid := "/ab//cdEFgh12345678==" // needs double encoding
	plain := Generate(Gen{Participants: 3, Start: t0, Seed: 9})
	plain.UUID = "aBcD+eF/gh12345678=="
	s.Add(plain)
	once := func(id string) string { return url.PathEscape(id) }
	twice := func(id string) string { return url.PathEscape(url.PathEscape(id)) }
	cases := []struct {
		name string
		seg  string
		want int
	}{
		{"numeric id", "81234567890", 200},
		{"double-encoded UUID", twice(uuid), 200},
		{"UUID that needs double encoding, encoded once", once(uuid), 404},
		{"other UUID encoded once", once(plain.UUID), 200},
		{"unknown id", "99999999999", 404},
	}
	for _, c := range cases {
		var list zoom.ParticipantQoSList
		st, ae, _ := get(t, s, tok, "/metrics/webinars/"+c.seg+"/participants/qos", &list)
		if st != c.want || (st == 404 && ae.Code != 3001) {
			t.Errorf("%s (%s): %d %+v, want %d", c.name, c.seg, st, ae, c.want)
		}
	}
	if got := s.Stats().UnderEncoded; got != 1 {
		t.Errorf("UnderEncoded = %d, want 1", got)
	}
}

func TestLiveAndPast(t *testing.T) {
	s, clock, tok := fixture(t, Options{})
	meeting := Generate(Gen{Kind: Meeting, ID: 85000000001, Participants: 4, Start: t0.Add(-2 * time.Hour), Duration: time.Hour, Seed: 3})
	s.Add(meeting)

	var wl zoom.WebinarList
	if st, ae, _ := get(t, s, tok, "/metrics/webinars?type=live", &wl); st != 400 || ae.Code != 300 {
		t.Errorf("list without from/to: %d %+v", st, ae)
	}
	get(t, s, tok, "/metrics/webinars?type=live&from=2026-11-28&to=2026-11-28", &wl)
	if len(wl.Webinars) != 1 || wl.Webinars[0].ID != 81234567890 || wl.Webinars[0].Participants != 25 {
		t.Errorf("live webinars: %+v", wl.Webinars)
	}
	var ml zoom.MeetingList
	get(t, s, tok, "/metrics/meetings?type=live&from=2026-11-28&to=2026-11-28", &ml)
	if len(ml.Meetings) != 0 {
		t.Errorf("an ended meeting is listed live: %+v", ml.Meetings)
	}
	get(t, s, tok, "/metrics/meetings?type=past&from=2026-11-28&to=2026-11-28", &ml)
	if len(ml.Meetings) != 1 || ml.Meetings[0].EndTime != "2026-11-28T13:00:00Z" {
		t.Errorf("past meetings: %+v", ml.Meetings)
	}
	get(t, s, tok, "/metrics/meetings?type=past&from=2026-11-27&to=2026-11-27", &ml)
	if len(ml.Meetings) != 0 {
		t.Errorf("past meetings of another day: %+v", ml.Meetings)
	}

	var q zoom.ParticipantQoSList
	if st, ae, _ := get(t, s, tok, "/metrics/webinars/81234567890/participants/qos?type=past", &q); st != 404 || ae.Code != 3001 {
		t.Errorf("past QoS of a live webinar: %d %+v", st, ae)
	}
	if st, _, _ := get(t, s, tok, "/metrics/meetings/85000000001/participants/qos?type=live", &q); st != 404 {
		t.Errorf("live QoS of an ended meeting: %d", st)
	}
	get(t, s, tok, "/metrics/meetings/85000000001/participants/qos?type=past&page_size=10", &q)
	for _, p := range q.Participants {
		if p.LeaveTime == "" || len(p.UserQoS) < 30 {
			t.Errorf("past QoS of %s: leave %q, %d minutes", p.UserID, p.LeaveTime, len(p.UserQoS))
		}
	}

	// The webinar ends at minute 40: live stops, past starts.
	s.EndAt(s.sources[0].sc, t0.Add(40*time.Minute))
	clock.Set(t0.Add(45 * time.Minute))
	if st, _, _ := get(t, s, tok, "/metrics/webinars/81234567890/participants/qos?type=live", &q); st != 404 {
		t.Errorf("live QoS after the end: %d", st)
	}
	var one zoom.ParticipantQoS
	get(t, s, tok, "/metrics/webinars/81234567890/participants/16778240/qos?type=past", &one)
	if len(one.UserQoS) != 40 || one.UserQoS[39].DateTime != "2026-11-28T14:39:00Z" || one.LeaveTime != "2026-11-28T14:40:00Z" {
		t.Errorf("host's past QoS: %d minutes, leave %q", len(one.UserQoS), one.LeaveTime)
	}
	var sm zoom.SourceMetrics
	get(t, s, tok, "/metrics/webinars/81234567890?type=past", &sm)
	if sm.EndTime != "2026-11-28T14:40:00Z" || sm.Duration != "00:40:00" || sm.Participants != 25 {
		t.Errorf("details: %+v", sm)
	}
}

var formats = map[string]*regexp.Regexp{
	"bitrate":    regexp.MustCompile(`^\d+ kbps$`),
	"latency":    regexp.MustCompile(`^\d+ ms$`),
	"jitter":     regexp.MustCompile(`^\d+ ms$`),
	"avg_loss":   regexp.MustCompile(`^\d+\.\d%$`),
	"max_loss":   regexp.MustCompile(`^\d+\.\d%$`),
	"resolution": regexp.MustCompile(`^\d+\*\d+$`),
	"frame_rate": regexp.MustCompile(`^\d+ fps$`),
	"cpu":        regexp.MustCompile(`^\d+%$`),
}

func checkStream(t *testing.T, who, name string, s *zoom.StreamQoS, wantEmpty bool) {
	t.Helper()
	if s == nil {
		t.Errorf("%s %s: missing", who, name)
		return
	}
	fields := map[string]zoom.Value{"bitrate": s.Bitrate, "latency": s.Latency, "jitter": s.Jitter, "avg_loss": s.AvgLoss, "max_loss": s.MaxLoss}
	if strings.HasPrefix(name, "video") || strings.HasPrefix(name, "as") {
		fields["resolution"], fields["frame_rate"] = s.Resolution, s.FrameRate
	}
	for f, v := range fields {
		if wantEmpty {
			if v != "" {
				t.Errorf("%s %s.%s = %q, want \"\"", who, name, f, v)
			}
		} else if !formats[f].MatchString(string(v)) {
			t.Errorf("%s %s.%s = %q, not in Zoom's format", who, name, f, v)
		}
	}
}

func TestSamplesLookLikeZooms(t *testing.T) {
	s, clock, tok := fixture(t, Options{})
	byUser := func() map[string]zoom.ParticipantQoS {
		var list zoom.ParticipantQoSList
		get(t, s, tok, "/metrics/webinars/81234567890/participants/qos?page_size=10", &list)
		m := map[string]zoom.ParticipantQoS{}
		for _, p := range list.Participants {
			m[p.UserID] = p
		}
		return m
	}
	first := byUser()
	host, guest, audioOnly, attendee := first["16778240"], first["16778242"], first["16778243"], first["16778246"]
	if guest.ID != "" || host.ID != "u000" {
		t.Errorf("ids: guest %q, host %q", guest.ID, host.ID)
	}
	for _, q := range host.UserQoS {
		for name, st := range map[string]*zoom.StreamQoS{"audio_input": q.AudioInput, "audio_output": q.AudioOutput, "video_input": q.VideoInput, "video_output": q.VideoOutput, "as_input": q.ASInput, "as_output": q.ASOutput} {
			checkStream(t, "host", name, st, false)
		}
		for _, v := range []zoom.Value{q.CPUUsage.ZoomMinCPUUsage, q.CPUUsage.ZoomAvgCPUUsage, q.CPUUsage.ZoomMaxCPUUsage, q.CPUUsage.SystemMaxCPUUsage} {
			if !formats["cpu"].MatchString(string(v)) {
				t.Errorf("host cpu %q", v)
			}
		}
	}
	for _, q := range audioOnly.UserQoS {
		checkStream(t, "audio-only", "audio_input", q.AudioInput, false)
		checkStream(t, "audio-only", "video_input", q.VideoInput, true)
		checkStream(t, "audio-only", "video_output", q.VideoOutput, true)
	}
	for _, q := range attendee.UserQoS { // webinar attendees receive video, never send it
		checkStream(t, "attendee", "video_input", q.VideoInput, true)
		checkStream(t, "attendee", "video_output", q.VideoOutput, false)
	}

	// Live lists the last 5 minutes, so polls a minute apart overlap by 4.
	if got := host.UserQoS; got[0].DateTime != "2026-11-28T14:25:00Z" || got[4].DateTime != "2026-11-28T14:29:00Z" {
		t.Errorf("live window at 14:30: %s..%s", got[0].DateTime, got[len(got)-1].DateTime)
	}
	clock.Advance(time.Minute)
	again := byUser()["16778240"].UserQoS
	if again[0].DateTime != "2026-11-28T14:26:00Z" || again[4].DateTime != "2026-11-28T14:30:00Z" {
		t.Errorf("a minute later: %s..%s", again[0].DateTime, again[4].DateTime)
	}
	if b1, _ := json.Marshal(host.UserQoS[1:]); string(b1) != mustJSON(again[:4]) {
		t.Errorf("the overlapping minutes changed between polls")
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestDegradationShowsWhereTheScenarioPutsIt(t *testing.T) {
	sc := &Scenario{Start: t0, Duration: time.Hour, Seed: 1}
	kinds := Impairments
	for i, k := range kinds {
		p := &Participant{Role: "panelist", NetworkType: "Wifi", SharesScreen: true,
			Degradations: []Degradation{{Kind: k, From: 10 * time.Minute, To: 15 * time.Minute}}}
		if i == 0 {
			p.Role = "host"
		}
		sc.Participants = append(sc.Participants, p)
	}
	s := New(t, Options{Now: fakeclock.NewManual(t0.Add(time.Hour)).Now, Scenarios: []*Scenario{sc}, LiveWindow: time.Hour})
	tok := token(t, s)
	for i, k := range kinds {
		var one zoom.ParticipantQoS
		get(t, s, tok, "/metrics/webinars/"+itoa(sc.ID)+"/participants/"+sc.Participants[i].UserID+"/qos?type=past", &one)
		if len(one.UserQoS) != 60 {
			t.Fatalf("%s: %d minutes", k, len(one.UserQoS))
		}
		for m, q := range one.UserQoS {
			if got, want := looksBad(k, q), m >= 10 && m < 15; got != want {
				t.Errorf("%s minute %d: bad = %v, want %v (%+v)", k, m, got, want, q)
			}
		}
	}
}

// looksBad is what a rule author would check for each impairment.
func looksBad(k Impairment, q zoom.UserQoS) bool {
	n := func(v zoom.Value) float64 {
		var f float64
		s := string(v)
		for _, suf := range []string{" kbps", " ms", " fps", "%"} {
			s = strings.TrimSuffix(s, suf)
		}
		json.Unmarshal([]byte(s), &f)
		return f
	}
	switch k {
	case AudioLoss:
		return n(q.AudioInput.AvgLoss) >= 5
	case HighLatency:
		return n(q.AudioInput.Latency) >= 250 && n(q.VideoInput.Latency) >= 250
	case FrozenVideo:
		return q.VideoInput.FrameRate == "0 fps" && n(q.VideoInput.Bitrate) < 5
	case ScreenShareStutter:
		return n(q.ASInput.FrameRate) <= 2 && n(q.ASInput.AvgLoss) >= 8
	case CPUHog:
		return n(q.CPUUsage.ZoomAvgCPUUsage) >= 85 && q.CPUUsage.SystemMaxCPUUsage == "100%"
	case WeakWiFi:
		return n(zoom.Value(q.WiFiRSSI.AvgRSSI)) <= -80 && n(q.AudioInput.AvgLoss) >= 3
	}
	return false
}

func TestQualityRatingsFollowTheScenario(t *testing.T) {
	for _, none := range []bool{false, true} {
		s, clock, tok := fixture(t, Options{NoQualityScores: none})
		rating := func() map[string]zoom.ParticipantMetrics {
			var parts zoom.ParticipantList
			get(t, s, tok, "/metrics/webinars/81234567890/participants?page_size=300", &parts)
			m := map[string]zoom.ParticipantMetrics{}
			for _, p := range parts.Participants {
				m[p.UserID] = p
			}
			return m
		}
		clock.Set(t0.Add(12 * time.Minute)) // participant 5 loses audio from minute 10
		during := rating()
		clock.Set(t0.Add(20 * time.Minute))
		after := rating()
		lossy, host, audioOnly := during["16778245"], during["16778240"], during["16778243"]
		if none {
			if lossy.AudioQuality != "" || host.VideoQuality != "" {
				t.Errorf("no quality scores: %+v", lossy)
			}
			continue
		}
		if lossy.AudioQuality != "bad" || after["16778245"].AudioQuality != "good" || host.AudioQuality != "good" {
			t.Errorf("audio quality: lossy %q, after %q, host %q", lossy.AudioQuality, after["16778245"].AudioQuality, host.AudioQuality)
		}
		if audioOnly.VideoQuality != "" || host.Role != "host" || during["16778241"].Role != "panelist" || lossy.Role != "attendee" {
			t.Errorf("audio-only video %q, roles %q %q %q", audioOnly.VideoQuality, host.Role, during["16778241"].Role, lossy.Role)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestGarbageRequestsGetClearAnswers(t *testing.T) {
	s, _, tok := fixture(t, Options{NoLimits: true})
	cases := map[string]int{
		"/metrics/webinars//participants/qos":                  404,
		"/metrics/webinars/81234567890/participants/qos/extra": 404,
		"/metrics/rooms": 404,
		"/users/me":      404,
		"/metrics/webinars/81234567890/participants/qos?type=yesterday":              400,
		"/metrics/webinars/81234567890/participants/qos?page_size=-5":                200,
		"/metrics/webinars/81234567890/participants/qos?next_page_token=%00%ff":      400,
		"/metrics/webinars/81234567890/participants/qos?next_page_token=YWJj":        400,
		"/metrics/webinars?type=live&from=2026-13-01&to=2026-11-28":                  400,
		"/metrics/webinars?type=live&from=2026-11-28&to=2026-11-01":                  400,
		"/metrics/meetings/81234567890/participants":                                 404, // a webinar's id
		"/metrics/webinars/81234567890/participants/%2F%2F/qos":                      404,
		"/metrics/webinars/81234567890/participants/qos?page_size=10&page_size=9999": 200, // the first wins
	}
	for path, want := range cases {
		resp := rawGet(t, s, tok, path)
		var ae zoom.APIError
		err := json.NewDecoder(resp.Body).Decode(&ae)
		resp.Body.Close()
		if resp.StatusCode != want || err != nil || (want != 200 && (ae.Code == 0 || ae.Message == "")) {
			t.Errorf("%s: %d %+v (%v), want %d with a Zoom error body", path, resp.StatusCode, ae, err, want)
		}
	}
	// A segment that is no valid escape is no route (clients cannot send it).
	if _, ok, _ := parseRoute("/metrics/webinars/%zz/participants/qos"); ok {
		t.Error("an invalid escape parsed as an id")
	}
	// The token endpoint refuses other methods.
	resp, _ := http.Get(s.TokenURL())
	if resp.StatusCode != 405 {
		t.Errorf("GET /oauth/token: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestARecurringWebinarsInstances(t *testing.T) {
	s, _, tok := fixture(t, Options{})
	past := Generate(Gen{ID: 81234567890, Participants: 5, Start: t0.Add(-7 * 24 * time.Hour), Seed: 8})
	s.Add(past) // last week's instance, added after this week's live one
	var q zoom.ParticipantQoSList
	if st, ae, _ := get(t, s, tok, "/metrics/webinars/81234567890/participants/qos?page_size=10", &q); st != 200 || q.TotalRecords != 25 {
		t.Errorf("live: %d %+v, %d participants; want this week's 25", st, ae, q.TotalRecords)
	}
	if st, _, _ := get(t, s, tok, "/metrics/webinars/81234567890/participants/qos?type=past&page_size=10", &q); st != 200 || q.TotalRecords != 5 {
		t.Errorf("past: %d, %d participants; want last week's 5", st, q.TotalRecords)
	}
	if st, _, _ := get(t, s, tok, "/metrics/webinars/"+url.PathEscape(url.PathEscape(handBuilt().UUID))+"/participants/qos?type=past", &q); st != 404 {
		t.Errorf("past by the live instance's UUID: %d", st)
	}
}
