package httpapi

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// GET /api/v1/actions: the audit log of responders' actions (Slack
// buttons, the slash command, `qoswatch ack`), newest first, paged:
// ?limit= and ?after= (the "next" the previous page answered: the last
// record's seq).
func (s *server) actions(w http.ResponseWriter, r *http.Request) {
	limit, after, ok := page(w, r)
	if !ok {
		return
	}
	var before uint64
	if after != "" {
		n, err := strconv.ParseUint(after, 10, 64)
		if err != nil || n == 0 {
			writeError(w, http.StatusBadRequest, "after %q: not a cursor this API gave", after)
			return
		}
		before = n
	}
	// One more than the page, to know whether there is a next one.
	recs, err := s.Engine.Actions(r.Context(), engine.ActionQuery{Before: before, Limit: limit + 1})
	if err != nil {
		s.Logger.Error("list actions", "err", err)
		writeError(w, http.StatusInternalServerError, "actions: %v", err)
		return
	}
	next := ""
	if len(recs) > limit {
		recs = recs[:limit]
		next = strconv.FormatUint(recs[limit-1].Seq, 10)
	}
	if recs == nil {
		recs = []engine.ActionRecord{}
	}
	writePage(w, "actions", recs, next)
}

// POST /api/v1/actions: acknowledge, silence or dismiss an alert, as a
// Slack button does (the CLI's `qoswatch ack`). The body is an
// engine.Action; user is required ("cli:NAME" for a person at a shell),
// id is optional (a random one is given: retry with the same id to apply
// once), at is the engine's clock. "number": 12 names the alert by its
// number instead of "alert".
func (s *server) act(w http.ResponseWriter, r *http.Request) {
	var body struct {
		engine.Action
		// Number names the alert by its short number instead of alert.
		Number uint64 `json:"number"`
	}
	if !readJSON(w, r, "action", &body) {
		return
	}
	in := body.Action
	if body.Number != 0 {
		k, ok := s.Engine.AlertByNumber(body.Number)
		if !ok {
			writeError(w, http.StatusNotFound, "action: alert #%d: no such alert (it may have been collected)", body.Number)
			return
		}
		in.Alert = k
	}
	if strings.TrimSpace(in.User) == "" {
		writeError(w, http.StatusBadRequest, "action: user is required: say who acts (cli:NAME)")
		return
	}
	if in.ID == "" {
		in.ID = "api:" + rand.Text()
	}
	in.At = time.Time{} // the engine stamps it: what a client says is not the audit log's time
	res, err := s.Engine.Act(r.Context(), in)
	if errors.Is(err, engine.ErrInvalidAction) || errors.Is(err, engine.ErrInvalidSilence) {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err != nil {
		s.Logger.Error("action", "id", in.ID, "err", err)
		writeError(w, http.StatusInternalServerError, "action %q: %v", in.ID, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": in.ID, "result": res})
}
