package daemon

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// Status is GET /api/v1/status (`qoswatch status`): how qoswatch hears
// Zoom now.
type Status struct {
	Poller  PollerStatus   `json:"poller"`
	Push    *PushStatus    `json:"push,omitempty"` // absent: no event transport configured
	Sources []SourceStatus `json:"sources"`
}

// PollerStatus is the poller's coverage: "full", "triage", "degraded",
// "idle" or "starting".
type PollerStatus struct {
	Mode string `json:"mode"`
}

// PushStatus is what the event transports are doing.
type PushStatus struct {
	Webhook   string `json:"webhook,omitempty"` // the events listener's address
	WebSocket string `json:"websocket"`         // "connected", "disconnected" or "off"
	// Lifecycle is true while started/ended events flow (one in the last
	// 72 h): they, not listings, say what is live.
	Lifecycle bool `json:"lifecycle_events"`
}

// SourceStatus is one webinar or meeting events spoke of, and what feeds
// it: "qss" (QoS pushed by QSS; the poller spends no QoS calls on it),
// "events" (start, end, joins, leaves and Zoom's alerts pushed; QoS
// polled).
type SourceStatus struct {
	Source    string    `json:"source"`
	Topic     string    `json:"topic,omitempty"`
	Live      bool      `json:"live"`
	Feed      string    `json:"feed"`
	LastEvent time.Time `json:"last_event"`
}

// status builds the status; push may be nil.
func status(mode func() string, p *push, wsOn bool) func(context.Context) any {
	return func(context.Context) any {
		st := Status{Poller: PollerStatus{Mode: mode()}, Sources: []SourceStatus{}}
		if p == nil || (!p.webhook && !wsOn) {
			return st // no Zoom event transport (the listener may serve Slack alone)
		}
		ws := "off"
		if wsOn {
			ws = "disconnected"
			if p.events.WebSocketConnected() {
				ws = "connected"
			}
		}
		_, flowing := p.events.Lifecycle()
		hook := ""
		if p.webhook {
			hook = p.addr()
		}
		st.Push = &PushStatus{Webhook: hook, WebSocket: ws, Lifecycle: flowing}
		for _, s := range p.events.Sources() {
			feed := "events"
			if s.QSS {
				feed = "qss"
			}
			st.Sources = append(st.Sources, SourceStatus{Source: s.Source.Key(), Topic: s.Source.Topic, Live: s.Live, Feed: feed, LastEvent: s.LastEvent})
		}
		slices.SortFunc(st.Sources, func(a, b SourceStatus) int { return cmp.Compare(a.Source, b.Source) })
		return st
	}
}
