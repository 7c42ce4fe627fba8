// Package httpapi is qoswatch's HTTP surface: /healthz, /readyz, /metrics
// (Prometheus) and the JSON API /api/v1/alerts and /api/v1/silences. It is
// the only package that imports prometheus: the others expose plain
// Stats() structs, which Metrics turns into series at scrape time.
package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
}

// Check is one readiness condition: nil when ready, else why not.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Options configure the handler.
type Options struct {
	Engine Engine
	// Ready are the /readyz checks (store open, rules loaded, Zoom token).
	Ready []Check
	// Token, when set, is the bearer token silence writes need.
	Token string
	// Metrics is served on /metrics; nil serves no metrics.
	Metrics prometheus.Gatherer
	// Backup, when set, serves GET /api/v1/backup: a consistent copy of
	// the database (store.DB.Backup). It holds participant data, so it
	// needs the token like a write.
	Backup func(ctx context.Context, w io.Writer) (int64, error)
	Logger *slog.Logger
	Now    func() time.Time
}

type server struct {
	Options
}

// maxBody bounds what a client may POST.
const maxBody = 1 << 20

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
	mux.HandleFunc("GET /api/v1/alerts", s.alerts)
	mux.HandleFunc("GET /api/v1/silences", s.silences)
	mux.HandleFunc("POST /api/v1/silences", s.auth(s.addSilence))
	mux.HandleFunc("DELETE /api/v1/silences/{id}", s.auth(s.expireSilence))
	if opts.Backup != nil {
		mux.HandleFunc("GET /api/v1/backup", s.auth(s.backup))
	}
	return mux
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

// auth guards writes with the bearer token when one is set. The compare
// is constant-time; the token never reaches a log or an answer.
func (s *server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="qoswatch"`)
				writeError(w, http.StatusUnauthorized, "this write needs the API token (QOSWATCH_API_TOKEN) as a bearer token")
				return
			}
		}
		next(w, r)
	}
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	checks := map[string]string{}
	ready := true
	for _, c := range s.Ready {
		if err := c.Check(ctx); err != nil {
			checks[c.Name] = err.Error()
			ready = false
		} else {
			checks[c.Name] = "ok"
		}
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"ready": ready, "checks": checks})
}

func (s *server) alerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state, rule := q.Get("state"), q.Get("rule")
	if state != "" && !validState(state) {
		writeError(w, http.StatusBadRequest, "state %q: want pending, firing, resolving or resolved", state)
		return
	}
	out := []AlertJSON{}
	for _, a := range s.Engine.Alerts() {
		st := a.State.String()
		switch {
		case state != "" && st != state:
			continue
		case state == "" && (a.State == engine.StateResolved || a.State == engine.StateInactive):
			continue // the default is what is going on now
		case rule != "" && a.Key.Rule != rule:
			continue
		}
		out = append(out, NewAlertJSON(&a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
}

func validState(s string) bool {
	switch s {
	case "pending", "firing", "resolving", "resolved":
		return true
	}
	return false
}

func (s *server) silences(w http.ResponseWriter, _ *http.Request) {
	ss := s.Engine.Silences()
	if ss == nil {
		ss = []engine.Silence{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"silences": ss})
}

func (s *server) addSilence(w http.ResponseWriter, r *http.Request) {
	var in engine.Silence
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "silence: not valid JSON: %v", err)
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
