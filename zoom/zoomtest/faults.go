package zoomtest

import (
	"net/http"
	"strings"
	"time"
)

// Fault is a failure injected into matching requests, at run time.
type Fault struct {
	// Path selects requests whose path (after /v2) contains it, e.g.
	// "/participants/qos". "" selects every API call; "/oauth/token"
	// selects the token endpoint (which "" does not).
	Path string

	Status    int           // answer this status with a Zoom error body (500, 502, 503...)
	Delay     time.Duration // wait this long (wall time) first; the request's context cuts it short
	Malformed bool          // answer 200 with a body that is not valid JSON
	Token     TokenFault    // make a paged answer's next_page_token misbehave
	Times     int           // how many requests it hits; 0 = until ClearFaults

	hits int
}

// TokenFault is a paged list whose next_page_token misbehaves.
type TokenFault uint8

const (
	// TokenRepeat answers every page with the token it was asked with (the
	// first page with one that names the first page again), so the list
	// never moves on.
	TokenRepeat TokenFault = iota + 1
	// TokenEndless answers every page, the last too, with a new token (the
	// one after the last page starts the list again) and leaves
	// page_count and total_records out: nothing in the answers ends the
	// list.
	TokenEndless
	// TokenExpired answers every request that carries a token with code
	// 300, as for a token older than 15 minutes.
	TokenExpired
)

// Inject adds a fault. Faults apply in the order added; the first that
// matches a request takes it.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// fault applies the first matching fault. It reports whether it answered
// the request (an error status or a malformed body); a pure delay lets
// the request go on, and a token fault is returned for the page.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, path string, tokenEndpoint bool) (bool, TokenFault) {
	s.mu.Lock()
	var f Fault
	found := false
	for i, x := range s.faults {
		match := strings.Contains(path, x.Path)
		if x.Path == "" {
			match = !tokenEndpoint
		}
		if !match {
			continue
		}
		x.hits++
		f, found = *x, true
		if x.Times > 0 && x.hits >= x.Times {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		s.stats.Faults++
		break
	}
	s.mu.Unlock()
	if !found {
		return false, 0
	}
	sleep(r.Context(), f.Delay)
	switch {
	case f.Status != 0:
		writeError(w, f.Status, f.Status, http.StatusText(f.Status))
		return true, 0
	case f.Malformed:
		writeBody(w, http.StatusOK, []byte(`{"page_count":1,"page_size":10,"participants":[{"user_id":"16778240","user_qos":[{"date_time":"20`))
		return true, 0
	}
	return false, f.Token
}
