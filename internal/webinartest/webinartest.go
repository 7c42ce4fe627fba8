// Package webinartest plays a zoomtest scenario through the real engine,
// with the example rules, into a store, the way the poller would: every
// minute's QoS pages decoded and ingested, the roles the participants
// list adds, and the end. For the tests of what is built from what the
// store kept (the post-webinar report, its posting, the CLI).
package webinartest

import (
	"context"
	"strconv"
	"testing"
	"time"

	qoswatch "github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/internal/fakeclock"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/zoom"
	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// Run feeds the scenario (which must have a Duration) minute by minute
// to an engine on st with the example rules, then ends it, and returns
// the engine.
func Run(tb testing.TB, sc *zoomtest.Scenario, st engine.Store) *engine.Engine {
	tb.Helper()
	ctx := context.Background()
	set, err := rules.Parse("rules.example.yaml", qoswatch.ExampleRules)
	if err != nil {
		tb.Fatal(err)
	}
	eng, err := engine.New(st, engine.Options{Clock: fakeclock.NewManual(sc.Start)})
	if err != nil {
		tb.Fatal(err)
	}
	if err := eng.SetRules(ctx, set.Rules()); err != nil {
		tb.Fatal(err)
	}
	role := map[string]string{}
	for _, p := range sc.Participants {
		role[p.UserID] = p.Role
	}
	src := engine.Source{Kind: engine.Webinar, ID: strconv.FormatInt(sc.ID, 10), Topic: sc.Topic, Live: true}
	var dec zoom.PageDecoder
	for m := 1; m <= int(sc.Duration/time.Minute); m++ {
		for _, page := range sc.QoSPages(sc.Start.Add(time.Duration(m)*time.Minute), 10) {
			_, samples, err := dec.Decode(page, src)
			if err != nil {
				tb.Fatal(err)
			}
			for i := range samples {
				samples[i].Participant.Role = role[samples[i].Participant.UserID]
			}
			if err := eng.Ingest(ctx, samples); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := eng.EndSource(ctx, src, sc.End()); err != nil {
		tb.Fatal(err)
	}
	return eng
}
