package engine

import (
	"context"
	"time"
)

// Matcher matches one alert attribute: "rule", "source", "participant",
// or a label name.
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"is_regex,omitempty"`
}

// Silence suppresses the notifications of the alerts it matches (all
// matchers must match) between StartsAt and EndsAt, without touching their
// state.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  []Matcher `json:"matchers"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment"`
	// EndsWith, when set, ends the silence early (EndsAt becomes the
	// time it ended): with only Source, when that webinar or meeting
	// ends; with Rule, Source and Participant, when that alert resolves;
	// with Rule and Source, when no alert of the rule in the source is
	// open any more. Set by silence actions (Engine.Act).
	EndsWith *AlertKey `json:"ends_with,omitempty"`
}

// Cursor is the newest sample time seen for one participant of one source,
// so overlapping polls and restarts never evaluate a sample twice. A cursor
// with an empty Participant is a source's end mark (EndSource): no sample
// of that source up to Last is evaluated.
type Cursor struct {
	Source      string    `json:"source"`      // Source.Key()
	Participant string    `json:"participant"` // Participant.Key()
	Last        time.Time `json:"last"`
}

// Changes is what one Ingest decided. The store commits it in one write
// transaction: all of it, or none.
type Changes struct {
	Alerts        []Alert    // upserted
	Deleted       []AlertKey // garbage-collected alerts
	Cursors       []Cursor
	Notifications []Notification // appended to the outbox; the store assigns IDs

	// DeletedCursors are garbage-collected cursors (participants of ended
	// or long-quiet sources); only Source and Participant matter.
	DeletedCursors []Cursor

	// Silences are upserted: a silence an action set, or one that ended
	// itself (Silence.EndsWith).
	Silences []Silence
	// Actions are appended to the audit log (ActionLog).
	Actions []ActionRecord
	// Dismissals count one false positive per entry, by rule name.
	Dismissals []string
	// Minutes is what the call counted per source and minute of sample
	// time; the store adds each to what it holds (MinuteStats.Merge).
	Minutes []MinuteStats
}

// Snapshot is the persisted state the engine starts from.
type Snapshot struct {
	Alerts   []Alert
	Cursors  []Cursor
	Silences []Silence
	// Dismissals are the false positives counted so far, by rule.
	Dismissals map[string]uint64
	// LastNumber is the largest Alert.Number ever committed, so numbers
	// are not given twice after the alerts that had them are collected.
	LastNumber uint64
}

// Store persists the engine's decisions.
type Store interface {
	Load(ctx context.Context) (Snapshot, error)
	Commit(ctx context.Context, c Changes) error
	PutSilence(ctx context.Context, s Silence) error
	DeleteSilence(ctx context.Context, id string) error
	ActionLog
}

// MessageRef is where an alert's first message went, so follow-ups thread
// under it and a resolve can update it.
type MessageRef struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// Outbox is the queue of decided notifications the notifier drains.
type Outbox interface {
	// Pending returns up to limit entries, oldest first.
	Pending(ctx context.Context, limit int) ([]Notification, error)
	// Ack deletes a delivered entry and, when ref is not zero, records it
	// as the alert's message, in one transaction.
	Ack(ctx context.Context, id uint64, key AlertKey, ref MessageRef) error
	// Ref returns the alert's recorded message, if any.
	Ref(ctx context.Context, key AlertKey) (MessageRef, bool, error)
}
