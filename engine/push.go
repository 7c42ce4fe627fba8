package engine

import (
	"context"
	"time"
)

// What Zoom pushes (webhooks, WebSocket events) reaches the engine through
// the same calls the poller makes (Ingest, EndSource) and this one.

// LeaveParticipant resolves every open alert of one participant
// (Participant.Key()) of a source, with ReasonLeft at the given time: Zoom
// said they left, so their alerts need not wait for stale_after. The
// participant's cursor moves to `at`, so a late sample of the session
// that ended is not evaluated; a rejoin (later samples) is, as usual.
// Leaving a participant the engine does not know changes nothing.
func (e *Engine) LeaveParticipant(ctx context.Context, src Source, participant string, at time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.sources[src.Key()]
	if st == nil {
		return nil
	}
	ps, known := st.parts[participant]
	if !known {
		return nil
	}
	t := e.begin(0)
	e.resolveParticipant(t, st, participant, ReasonLeft, laterOf(at, ps.last))
	if ps.last.Before(at) {
		ps, _ = t.part(st, participant)
		ps.last = at
		t.parts[partKey{st, participant}] = ps
		t.changes.Cursors = append(t.changes.Cursors, Cursor{Source: st.key, Participant: participant, Last: at})
	}
	return e.commit(ctx, t)
}

// InboxEntry is one event a push transport received (a Zoom webhook or a
// WebSocket message), held by the store from the moment it is
// acknowledged until it has been applied. It lives here, beside Outbox's
// Notification, because the store keeps it and zoom reads it, and neither
// imports the other.
type InboxEntry struct {
	ID       uint64    // assigned by the store, in arrival order
	Key      string    // identifies the event across deliveries (retries, duplicates)
	Received time.Time // when the transport took it
	Body     []byte    // the event's JSON
}

// RosterEntry is who a pushed join said a participant is (QSS samples
// carry only ids), or, with Gone, what a leave or an end took back. The
// store keeps the roster, written in the transaction that marks the join
// applied, so that QSS samples after a restart still name the people
// they are about. It lives here for the reason InboxEntry does.
type RosterEntry struct {
	Source string `json:"source"` // Source.Key()
	// UUID is the occurrence joined: the next occurrence of a recurring
	// webinar does not inherit the last one's roster.
	UUID string `json:"uuid"`
	// Participant holds only what names them (ids, name, email, role, join
	// time). Blank with Gone: the whole source (it ended).
	Participant Participant `json:"participant"`
	Gone        bool        `json:"-"` // forget it: a leave, or an end
}
