package notifier_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
)

// BenchmarkStorm: a 500-participant storm fires and resolves; the
// dispatcher groups, renders and "sends" it (console to io.Discard) with
// the in-memory outbox. Measures the notifier's own cost per storm.
func BenchmarkStorm(b *testing.B) {
	var ns []engine.Notification
	for i := range 500 {
		n := firing()
		n.Participant.UserID = fmt.Sprint(10000 + i)
		n.Key.Participant = n.Participant.UserID
		ns = append(ns, n)
	}
	for _, f := range ns[:500] {
		r := f
		r.Kind, r.Reason, r.At = engine.KindResolved, engine.ReasonEnded, t0.Add(time.Hour)
		ns = append(ns, r)
	}
	router := routerFunc(func(*engine.Notification) engine.Route { return engine.Route{Channel: "#c"} })
	b.ReportAllocs()
	for b.Loop() {
		st := engine.NewMemoryStore()
		if err := st.Commit(context.Background(), engine.Changes{Notifications: ns}); err != nil {
			b.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		d, err := notifier.New(notifier.Options{Outbox: st, Router: router, Sender: notifier.NewConsole(io.Discard),
			ChannelInterval: -1, Clock: noWaiting{t0}, Registerer: reg})
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		if n := metric(b, reg, "qoswatch_slack_group_messages_total"); n != 1 {
			b.Fatalf("group messages = %v, want 1", n)
		}
	}
}
