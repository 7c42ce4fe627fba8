package engine

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// MemoryStore is a Store and Outbox in memory: for rule tests, `simulate`
// and dry runs. It deep-copies what it is given and what it returns, so
// neither side can change the other's data. Safe for concurrent use.
type MemoryStore struct {
	mu       sync.Mutex
	alerts   map[AlertKey]Alert
	cursors  map[[2]string]Cursor
	silences map[string]Silence
	outbox   []Notification // in ID order
	nextID   uint64
	refs     map[AlertKey]MessageRef
	minutes  map[minuteKey]MinuteStats
	commits  int
	actions  []ActionRecord // oldest first
	seq      uint64         // the last action Seq
	dismiss  map[string]uint64
	number   uint64 // the largest Alert.Number committed
}

var (
	_ Store  = (*MemoryStore)(nil)
	_ Outbox = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		alerts:   map[AlertKey]Alert{},
		cursors:  map[[2]string]Cursor{},
		silences: map[string]Silence{},
		refs:     map[AlertKey]MessageRef{},
		dismiss:  map[string]uint64{},
		minutes:  map[minuteKey]MinuteStats{},
	}
}

// lock takes the store's lock, unless ctx is done.
func (m *MemoryStore) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	return nil
}

// Load returns a copy of everything stored, sorted.
func (m *MemoryStore) Load(ctx context.Context) (Snapshot, error) {
	if err := m.lock(ctx); err != nil {
		return Snapshot{}, err
	}
	defer m.mu.Unlock()
	var s Snapshot
	for _, a := range m.alerts {
		s.Alerts = append(s.Alerts, *cloneAlert(&a))
	}
	slices.SortFunc(s.Alerts, func(a, b Alert) int { return compareKeys(a.Key, b.Key) })
	for _, c := range m.cursors {
		s.Cursors = append(s.Cursors, c)
	}
	slices.SortFunc(s.Cursors, func(a, b Cursor) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Participant, b.Participant))
	})
	for _, x := range m.silences {
		s.Silences = append(s.Silences, cloneSilence(x))
	}
	slices.SortFunc(s.Silences, func(a, b Silence) int { return cmp.Compare(a.ID, b.ID) })
	s.Dismissals = maps.Clone(m.dismiss)
	s.LastNumber = m.number
	return s, nil
}

// Commit applies all of c at once and appends its notifications to the
// outbox with increasing IDs.
func (m *MemoryStore) Commit(ctx context.Context, c Changes) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.commits++
	for i := range c.Alerts {
		m.alerts[c.Alerts[i].Key] = *cloneAlert(&c.Alerts[i])
		m.number = max(m.number, c.Alerts[i].Number)
	}
	for _, k := range c.Deleted {
		delete(m.alerts, k)
		delete(m.refs, k)
	}
	for _, cur := range c.Cursors {
		m.cursors[[2]string{cur.Source, cur.Participant}] = cur
	}
	for _, cur := range c.DeletedCursors {
		delete(m.cursors, [2]string{cur.Source, cur.Participant})
	}
	for _, x := range c.Silences {
		m.silences[x.ID] = cloneSilence(x)
	}
	for _, rule := range c.Dismissals {
		m.dismiss[rule]++
	}
	for _, r := range c.Actions {
		m.seq++
		r.Seq = m.seq
		m.actions = append(m.actions, cloneActionRecord(r))
	}
	if n := len(m.actions) - MaxActionRecords; n > 0 {
		m.actions = slices.Delete(m.actions, 0, n)
	}
	for i := range c.Minutes {
		x := &c.Minutes[i]
		k := minuteKey{x.Source, x.Minute.Unix() / 60}
		cur, ok := m.minutes[k]
		if !ok {
			cur = MinuteStats{Source: x.Source, Minute: x.Minute}
		}
		cur.Merge(x)
		m.minutes[k] = cur
	}
	for i := range c.Notifications {
		m.nextID++
		n := cloneNotification(&c.Notifications[i])
		n.ID = m.nextID
		m.outbox = append(m.outbox, n)
	}
	return nil
}

// PutSilence stores (or replaces) a silence.
func (m *MemoryStore) PutSilence(ctx context.Context, s Silence) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.silences[s.ID] = cloneSilence(s)
	return nil
}

// DeleteSilence removes a silence; an unknown id is not an error.
func (m *MemoryStore) DeleteSilence(ctx context.Context, id string) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	delete(m.silences, id)
	return nil
}

// Pending returns up to limit outbox entries, oldest first (all of them
// when limit <= 0).
func (m *MemoryStore) Pending(ctx context.Context, limit int) ([]Notification, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	n := len(m.outbox)
	if limit > 0 && limit < n {
		n = limit
	}
	out := make([]Notification, n)
	for i := range out {
		out[i] = cloneNotification(&m.outbox[i])
	}
	return out, nil
}

// Ack deletes a delivered entry and records ref as the alert's message
// when it is not zero. Acking an unknown id is not an error: it was
// delivered already.
func (m *MemoryStore) Ack(ctx context.Context, id uint64, key AlertKey, ref MessageRef) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.ack(id, key, ref)
	return nil
}

// AckAll acks several entries at once, as store.DB does in one transaction.
func (m *MemoryStore) AckAll(ctx context.Context, ids []uint64, keys []AlertKey, ref MessageRef) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ids) != len(keys) {
		return fmt.Errorf("memory store: ack of %d ids with %d keys", len(ids), len(keys))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, id := range ids {
		m.ack(id, keys[i], ref)
	}
	return nil
}

func (m *MemoryStore) ack(id uint64, key AlertKey, ref MessageRef) {
	if len(m.outbox) > 0 && m.outbox[0].ID == id {
		// Delivery drains from the front: reslice rather than copy the
		// whole queue, which made a storm quadratic.
		m.outbox[0] = Notification{}
		m.outbox = m.outbox[1:]
	} else if i, ok := slices.BinarySearchFunc(m.outbox, id, func(n Notification, id uint64) int { return cmp.Compare(n.ID, id) }); ok {
		m.outbox = slices.Delete(m.outbox, i, i+1)
	}
	if ref != (MessageRef{}) {
		m.refs[key] = ref
	}
}

// Ref returns the alert's recorded message.
func (m *MemoryStore) Ref(ctx context.Context, key AlertKey) (MessageRef, bool, error) {
	if err := m.lock(ctx); err != nil {
		return MessageRef{}, false, err
	}
	defer m.mu.Unlock()
	r, ok := m.refs[key]
	return r, ok, nil
}

// Drain returns every pending notification, oldest first, and acks them:
// what a test or a dry run "sent".
func (m *MemoryStore) Drain() []Notification {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Notification, len(m.outbox))
	for i := range m.outbox {
		out[i] = cloneNotification(&m.outbox[i])
	}
	m.outbox = m.outbox[:0]
	return out
}

// Minutes returns the per-minute aggregates kept for a source
// (Source.Key()), in time order.
func (m *MemoryStore) Minutes(ctx context.Context, source string) ([]MinuteStats, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []MinuteStats
	for k, x := range m.minutes {
		if k.source == source {
			out = append(out, x.Clone())
		}
	}
	slices.SortFunc(out, func(a, b MinuteStats) int { return a.Minute.Compare(b.Minute) })
	return out, nil
}

// Commits returns how many Commit calls succeeded.
func (m *MemoryStore) Commits() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.commits
}

func cloneNotification(n *Notification) Notification {
	c := *n
	c.Rule.Labels = maps.Clone(n.Rule.Labels)
	c.Explain = slices.Clone(n.Explain)
	c.Fired = slices.Clone(n.Fired)
	if n.Action != nil {
		a := *n.Action
		a.Members = slices.Clone(a.Members)
		if a.Silence != nil {
			s := cloneSilence(*a.Silence)
			a.Silence = &s
		}
		c.Action = &a
	}
	return c
}

// Action returns the record of an action ID.
func (m *MemoryStore) Action(ctx context.Context, id string) (ActionRecord, bool, error) {
	if err := m.lock(ctx); err != nil {
		return ActionRecord{}, false, err
	}
	defer m.mu.Unlock()
	for i := len(m.actions) - 1; i >= 0; i-- {
		if m.actions[i].ID == id {
			return cloneActionRecord(m.actions[i]), true, nil
		}
	}
	return ActionRecord{}, false, nil
}

// Actions returns the audit log, newest first.
func (m *MemoryStore) Actions(ctx context.Context, q ActionQuery) ([]ActionRecord, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []ActionRecord
	for i := len(m.actions) - 1; i >= 0 && (q.Limit <= 0 || len(out) < q.Limit); i-- {
		if q.Before == 0 || m.actions[i].Seq < q.Before {
			out = append(out, cloneActionRecord(m.actions[i]))
		}
	}
	return out, nil
}

func cloneActionRecord(r ActionRecord) ActionRecord {
	if r.Result.Silence != nil {
		s := cloneSilence(*r.Result.Silence)
		r.Result.Silence = &s
	}
	return r
}
