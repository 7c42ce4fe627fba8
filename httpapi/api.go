// Package httpapi is qoswatch's HTTP surface: /healthz, /readyz, /metrics
// (Prometheus: what the daemon's registry gathers; each part registers its
// own metrics) and the JSON API /api/v1/alerts and /api/v1/silences.
package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/qoswatch/qoswatch/engine"
)

// Engine is what the API needs of the engine.
type Engine interface {
	Alerts() []engine.Alert
	Silences() []engine.Silence
	AddSilence(ctx context.Context, s engine.Silence) (engine.Silence, error)
	ExpireSilence(ctx context.Context, id string) error
	Act(ctx context.Context, a engine.Action) (engine.ActionResult, error)
	Actions(ctx context.Context, q engine.ActionQuery) ([]engine.ActionRecord, error)
	Dismissals() map[string]uint64
	AlertByNumber(n uint64) (engine.AlertKey, bool)
}

// Check is one readiness condition: nil when ready, else why not.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
	// Degraded marks a check whose failure is a known pause that ends by
	// itself (Zoom's daily limit): /readyz says "degraded", not
	// "not_ready", when only such checks fail. Either way it answers 503.
	Degraded bool
}

// Options configure the handler.
type Options struct {
	Engine Engine
	// Ready are the /readyz checks (store open, rules loaded, Zoom token).
	Ready []Check
	// Token, when set, is the bearer token every /api/v1 call needs,
	// reads and backup included. /healthz, /readyz and /metrics stay open
	// for probes and scrapers: they carry no participant data.
	Token string
	// Hosts are the host names (besides IP addresses and localhost) that
	// requests may name in their Host header (QOSWATCH_ALLOWED_HOSTS).
	// Anything else is refused, so a DNS-rebinding page cannot reach the
	// API through a name of its own.
	Hosts []string
	// Metrics is served on /metrics; nil serves no metrics.
	Metrics prometheus.Gatherer
	// Backup, when set, serves GET /api/v1/backup: a consistent copy of
	// the database (store.DB.Backup).
	Backup func(ctx context.Context, w io.Writer) (int64, error)
	// Status, when set, serves GET /api/v1/status: how qoswatch hears
	// Zoom now (the poller's mode, the sources and what feeds each).
	Status func(ctx context.Context) any
	// Minutes, when set, serves GET /api/v1/sources/{source}/minutes: the
	// per-minute aggregates the store kept of a source, which `qoswatch
	// report` builds the post-webinar report from (store.DB.Minutes).
	Minutes func(ctx context.Context, source string) ([]engine.MinuteStats, error)
	Logger  *slog.Logger
	Now     func() time.Time
}

type server struct {
	Options
}

// Limits of what a client may send and ask for.
const (
	// MaxBody bounds a request body: a silence is a few hundred bytes.
	MaxBody = 64 << 10
	// DefaultPage and MaxPage bound one page of a list (?limit=).
	DefaultPage = 500
	MaxPage     = 5000
)

// New returns the handler of every endpoint.
func New(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &server{opts}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if opts.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Metrics, promhttp.HandlerOpts{ErrorLog: slogPrinter{opts.Logger}, ErrorHandling: promhttp.ContinueOnError}))
	}
	mux.HandleFunc("GET /api/v1/alerts", s.auth(s.alerts))
	mux.HandleFunc("GET /api/v1/silences", s.auth(s.silences))
	mux.HandleFunc("POST /api/v1/silences", s.auth(s.write(s.addSilence)))
	mux.HandleFunc("DELETE /api/v1/silences/{id}", s.auth(s.write(s.expireSilence)))
	mux.HandleFunc("GET /api/v1/actions", s.auth(s.actions))
	mux.HandleFunc("POST /api/v1/actions", s.auth(s.write(s.act)))
	mux.HandleFunc("GET /api/v1/dismissals", s.auth(func(w http.ResponseWriter, r *http.Request) {
		d := s.Engine.Dismissals()
		if d == nil {
			d = map[string]uint64{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"dismissals": d})
	}))
	if opts.Backup != nil {
		mux.HandleFunc("GET /api/v1/backup", s.auth(s.backup))
	}
	if opts.Minutes != nil {
		mux.HandleFunc("GET /api/v1/sources/{source}/minutes", s.auth(s.minutes))
	}
	if opts.Status != nil {
		mux.HandleFunc("GET /api/v1/status", s.auth(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, opts.Status(r.Context()))
		}))
	}
	return s.checkHost(mux)
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Error("metrics: " + fmt.Sprint(v...)) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, format string, a ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, a...)})
}

// writePage answers one page of a list: {"<name>": items, "next": next},
// with no next after the last page.
func writePage(w http.ResponseWriter, name string, items any, next string) {
	resp := map[string]any{name: items}
	if next != "" {
		resp["next"] = next
	}
	writeJSON(w, http.StatusOK, resp)
}

// readJSON decodes the request's body (what it is: "silence") into v,
// refusing fields v does not have. When it cannot, it answers 413 or 400,
// saying why, and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, what string, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if tooBig := new(http.MaxBytesError); errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "%s: the body is over %d bytes", what, MaxBody)
			return false
		}
		writeError(w, http.StatusBadRequest, "%s: not valid JSON: %v", what, err)
		return false
	}
	return true
}

// checkHost refuses a request whose Host header names a host qoswatch
// was not told it answers to: IP addresses and localhost always pass
// (a rebinding attack needs a name the attacker's DNS answers), other
// names only when listed in Hosts.
func (s *server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			writeError(w, http.StatusMisdirectedRequest, "host %q is not one this qoswatch answers to: add it to QOSWATCH_ALLOWED_HOSTS", r.Host)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, h := range s.Hosts {
		if strings.EqualFold(strings.TrimSuffix(h, "."), host) {
			return true
		}
	}
	return false
}

// auth guards an /api/v1 endpoint with the bearer token when one is set.
// The compare is constant-time; the token never reaches a log or an
// answer.
func (s *server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="qoswatch"`)
				writeError(w, http.StatusUnauthorized, "the API needs the token (QOSWATCH_API_TOKEN) as a bearer token")
				return
			}
		}
		next(w, r)
	}
}

// write guards a change against a web page the operator happens to visit
// (the API has no browser client): a foreign Origin is refused, a body
// must be JSON (a form or text/plain POST is what a page can send without
// asking), and the body is bounded.
func (s *server) write(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			u, err := url.Parse(origin)
			if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
				writeError(w, http.StatusForbidden, "origin %q: the API takes writes from its own origin only (use qoswatch silence or curl)", origin)
				return
			}
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			writeError(w, http.StatusForbidden, "a cross-site request: the API takes writes from its own origin only")
			return
		}
		if r.Method == http.MethodPost {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, "Content-Type %q: want application/json", r.Header.Get("Content-Type"))
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		next(w, r)
	}
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	checks := map[string]string{}
	state := "ready"
	for _, c := range s.Ready {
		err := c.Check(ctx)
		switch {
		case err == nil:
			checks[c.Name] = "ok"
		case c.Degraded:
			checks[c.Name] = "degraded: " + err.Error()
			if state == "ready" {
				state = "degraded"
			}
		default:
			checks[c.Name] = err.Error()
			state = "not_ready"
		}
	}
	code := http.StatusOK
	if state != "ready" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"ready": state == "ready", "status": state, "checks": checks})
}

// page reads ?limit= (default DefaultPage, at most MaxPage) and ?after=
// (the cursor the previous page answered as "next").
func page(w http.ResponseWriter, r *http.Request) (limit int, after string, ok bool) {
	limit = DefaultPage
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPage {
			writeError(w, http.StatusBadRequest, "limit %q: want 1 to %d", v, MaxPage)
			return 0, "", false
		}
		limit = n
	}
	return limit, r.URL.Query().Get("after"), true
}

// alertOrder orders alerts for paging: rule, source, participant. The
// cursor a page answers is the last one's, base64url-encoded.
func alertOrder(a *engine.Alert) string {
	return a.Key.Rule + "\x00" + a.Key.Source + "\x00" + a.Key.Participant
}

func (s *server) alerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state, rule := q.Get("state"), q.Get("rule")
	if state != "" && !validState(state) {
		writeError(w, http.StatusBadRequest, "state %q: want pending, firing, resolving or resolved", state)
		return
	}
	limit, cursor, ok := page(w, r)
	if !ok {
		return
	}
	after, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		writeError(w, http.StatusBadRequest, "after %q: not a cursor this API gave", cursor)
		return
	}
	all := s.Engine.Alerts()
	slices.SortFunc(all, func(a, b engine.Alert) int { return strings.Compare(alertOrder(&a), alertOrder(&b)) })
	out := []AlertJSON{}
	next, last := "", ""
	for i := range all {
		a := &all[i]
		st := a.State.String()
		switch {
		case len(after) > 0 && alertOrder(a) <= string(after):
			continue
		case state != "" && st != state:
			continue
		case state == "" && (a.State == engine.StateResolved || a.State == engine.StateInactive):
			continue // the default is what is going on now
		case rule != "" && a.Key.Rule != rule:
			continue
		}
		if len(out) == limit { // there is more: the page ends at the last one taken
			next = base64.RawURLEncoding.EncodeToString([]byte(last))
			break
		}
		out = append(out, NewAlertJSON(a))
		last = alertOrder(a)
	}
	writePage(w, "alerts", out, next)
}

func validState(s string) bool {
	switch s {
	case "pending", "firing", "resolving", "resolved":
		return true
	}
	return false
}

func (s *server) silences(w http.ResponseWriter, r *http.Request) {
	limit, after, ok := page(w, r)
	if !ok {
		return
	}
	all := s.Engine.Silences()
	slices.SortFunc(all, func(a, b engine.Silence) int { return strings.Compare(a.ID, b.ID) })
	out := []engine.Silence{}
	next := ""
	for _, sil := range all {
		if after != "" && sil.ID <= after {
			continue
		}
		if len(out) == limit {
			next = out[len(out)-1].ID
			break
		}
		out = append(out, sil)
	}
	writePage(w, "silences", out, next)
}

func (s *server) addSilence(w http.ResponseWriter, r *http.Request) {
	var in engine.Silence
	if !readJSON(w, r, "silence", &in) {
		return
	}
	// What the API asks on top of the engine; the engine checks the
	// times and the regexes (ErrInvalidSilence) on its own clock.
	switch {
	case len(in.Matchers) == 0:
		writeError(w, http.StatusBadRequest, "silence: no matchers: it would silence everything")
		return
	case in.EndsAt.IsZero():
		writeError(w, http.StatusBadRequest, "silence: ends_at is required")
		return
	case strings.TrimSpace(in.Comment) == "":
		writeError(w, http.StatusBadRequest, "silence: comment is required: say why")
		return
	}
	for i, m := range in.Matchers {
		if m.Name == "" || m.Value == "" {
			writeError(w, http.StatusBadRequest, "silence: matcher %d: name and value are required", i+1)
			return
		}
	}
	in.ID = "" // the engine assigns it
	got, err := s.Engine.AddSilence(r.Context(), in)
	if errors.Is(err, engine.ErrInvalidSilence) {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err != nil {
		s.Logger.Error("add silence", "err", err)
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	s.Logger.Info("silence added", "id", got.ID, "by", got.CreatedBy, "ends", got.EndsAt, "comment", got.Comment)
	writeJSON(w, http.StatusOK, got)
}

func (s *server) expireSilence(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.Engine.ExpireSilence(r.Context(), id); err != nil {
		if errors.Is(err, engine.ErrSilenceNotFound) {
			writeError(w, http.StatusNotFound, "silence %q: not found", id)
			return
		}
		writeError(w, http.StatusInternalServerError, "silence %q: %v", id, err)
		return
	}
	s.Logger.Info("silence expired", "id", id)
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "expired": true})
}

// minutes answers a source's per-minute aggregates, oldest first; 404
// when the store kept none (an unknown source, or collected).
func (s *server) minutes(w http.ResponseWriter, r *http.Request) {
	src := r.PathValue("source")
	kind, id, ok := strings.Cut(src, ":")
	if !ok || (kind != string(engine.Webinar) && kind != string(engine.Meeting)) || id == "" {
		writeError(w, http.StatusBadRequest, "source %q: want webinar:ID or meeting:ID", src)
		return
	}
	ms, err := s.Minutes(r.Context(), src)
	if err != nil {
		s.Logger.Error("minutes", "source", src, "error", err)
		writeError(w, http.StatusInternalServerError, "minutes of %s: %v", src, err)
		return
	}
	if len(ms) == 0 {
		writeError(w, http.StatusNotFound, "no minutes kept for %s (unknown, not seen yet, or older than the retention)", src)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"source": src, "minutes": ms})
}

func (s *server) backup(w http.ResponseWriter, r *http.Request) {
	// Buffered, so a failure is a 500 and not a short file: the database
	// stays small (the engine and store collect what is over).
	var buf bytes.Buffer
	n, err := s.Backup(r.Context(), &buf)
	if err != nil {
		s.Logger.Error("backup", "error", err)
		writeError(w, http.StatusInternalServerError, "backup: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="qoswatch-%s.db"`, s.Now().UTC().Format("20060102T150405Z")))
	w.Write(buf.Bytes())
	s.Logger.Info("backup served", "bytes", n)
}
