package slackapp_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
	"github.com/qoswatch/qoswatch/store"
)

// BenchmarkStormBolt: a 200-participant storm fires and resolves through
// the dispatcher with the real bbolt store (fsync on, one transaction per
// ack) and the console sender; what draining a storm costs on this disk.
func BenchmarkStormBolt(b *testing.B) {
	var ns []engine.Notification
	for i := range 200 {
		p := people[i%len(people)]
		p.id = fmt.Sprint(20000 + i)
		ns = append(ns, notif(engine.KindFiring, p, rule, t0))
	}
	for i := range 200 {
		r := ns[i]
		r.Kind, r.Reason, r.At = engine.KindResolved, engine.ReasonEnded, t0.Add(time.Hour)
		ns = append(ns, r)
	}
	b.ReportAllocs()
	for b.Loop() {
		db, err := store.Open(filepath.Join(b.TempDir(), "q.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Commit(context.Background(), engine.Changes{Notifications: ns}); err != nil {
			b.Fatal(err)
		}
		clock := newClock()
		reg := prometheus.NewRegistry()
		d, err := notifier.New(notifier.Options{Outbox: db, Router: toChannel("#c"), Sender: notifier.NewConsole(io.Discard),
			Clock: clock, Registerer: reg})
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		if g, res := metric(b, reg, "qoswatch_slack_group_messages_total"), metric(b, reg, "qoswatch_notifications_total", "kind", "resolved", "outcome", notifier.OutcomeGrouped); g != 1 || res != 200 {
			b.Fatalf("group messages %v, grouped resolves %v", g, res)
		}
		_ = db.Close()
	}
}
