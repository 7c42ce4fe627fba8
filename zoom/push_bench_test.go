package zoom_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom"
)

// BenchmarkEventIngest sends signed QSS events (one participant's minute
// each, as Zoom does) from 64 concurrent senders through the webhook
// handler over real HTTP, into the inbox in a real bbolt file (fsync on),
// with the applier running them into the engine (the example rules) at the
// same time. Side by side, "floor" is a handler that only verifies the
// HMAC and answers 200: what the HTTP stack and the signature cost. Each
// reports events/s and the answer's latency (p50, p99, ms); "durable" also
// reports applied/s: every event through to the engine, the inbox drained.
// "durable-ingest" is the handler into the durable inbox alone (the
// applier starts after the send; its drain is reported apart).
//
//	go test -run '^$' -bench EventIngest -benchtime 20000x ./zoom
func BenchmarkEventIngest(b *testing.B) {
	b.Run("floor", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, zoom.WebhookMaxBody))
			sig := r.Header.Get("x-zm-signature")
			if err != nil || !hmac.Equal([]byte(sig), []byte(zoom.Signature([]byte(testSecret), r.Header.Get("x-zm-request-timestamp"), body))) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		defer srv.Close()
		cpu0 := processCPU()
		sendAll(b, srv.URL)
		b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
	})
	b.Run("durable", func(b *testing.B) { benchDurable(b, true) })
	b.Run("durable-ingest", func(b *testing.B) { benchDurable(b, false) })
}

// benchDurable runs the webhook handler with the real inbox and engine.
// applying: the applier runs during the send (sustained, end to end: its
// engine commits share the file's writer with the webhooks), and
// applied/s counts from the first event to the inbox drained. Else the
// send measures the handler into the durable inbox alone, and the
// applier starts once every event is answered: drain-applied/s and
// drain-cpu-µs/event are that backlog's, applied from the file (past the
// first 4,096 events, decoded again, as after a restart).
func benchDurable(b *testing.B, applying bool) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(b.TempDir(), "q.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	set, err := rules.Parse("rules.example.yaml", qoswatch.ExampleRules)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.New(db, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.SetRules(ctx, set.Rules()); err != nil {
		b.Fatal(err)
	}
	ev, err := zoom.NewEvents(zoom.EventsConfig{Queue: db, Sink: eng})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(ev.Webhook(testSecret))
	defer srv.Close()
	started := example(b, "webinar.started")
	sign := signer(testSecret)
	if resp, err := post(http.DefaultClient, srv.URL, started, sign); err != nil || resp != http.StatusOK {
		b.Fatalf("webinar.started: %d %v", resp, err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	runApplier := func() { go func() { defer close(done); ev.Run(runCtx) }() }
	defer func() { stop(); <-done }()
	if applying {
		runApplier()
	}

	began, cpu0, st0 := time.Now(), processCPU(), db.Stats()
	sendAll(b, srv.URL)
	if !applying {
		reportStore(b, st0, db.Stats())
		b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
		began, cpu0 = time.Now(), processCPU()
		runApplier()
	}
	for {
		n, err := db.InboxDepth(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	rate, cpu := float64(b.N)/time.Since(began).Seconds(), float64((processCPU()-cpu0).Microseconds())/float64(b.N)
	if applying {
		b.ReportMetric(rate, "applied/s")
		b.ReportMetric(cpu, "cpu-µs/event")
		reportStore(b, st0, db.Stats())
	} else {
		b.ReportMetric(rate, "drain-applied/s")
		b.ReportMetric(cpu, "drain-cpu-µs/event")
	}
	if s := eng.Stats(); s.SamplesIngested < uint64(b.N) {
		b.Fatalf("%d samples ingested of %d events", s.SamplesIngested, b.N)
	}
}

// reportStore reports what the store wrote between two of its Stats.
func reportStore(b *testing.B, from, to store.Stats) {
	b.ReportMetric(float64(to.WriteTxs-from.WriteTxs)/float64(b.N), "write-txs/event")
	b.ReportMetric(float64(to.Commits-from.Commits)/float64(b.N), "engine-commits/event")
	b.ReportMetric(float64(to.BytesWritten-from.BytesWritten)/float64(b.N), "bytes-written/event")
}

// sendAll posts b.N distinct QSS events from 64 senders and reports
// events/s and the answers' p50 and p99.
func sendAll(b *testing.B, url string) {
	const senders, people = 64, 2000
	bodies := make([][]byte, b.N)
	for i := range bodies { // participant i%people, minute i/people; Zoom stamps each event (event_ts, ms) as it occurs
		minute := exampleMinute.Add(time.Duration(i/people) * time.Minute)
		bodies[i] = qssBodyTS(minute.Add(10*time.Second).UnixMilli()+int64(i%people), "u"+strconv.Itoa(i%people), minute, float64(i%7))
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders, MaxConnsPerHost: senders}}
	sign := signer(testSecret)
	var next atomic.Int64
	lat := make([][]time.Duration, senders)
	var wg sync.WaitGroup
	b.ResetTimer()
	began := time.Now()
	for s := range senders {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				status, err := post(client, url, bodies[i], sign)
				if err != nil || status != http.StatusOK {
					b.Errorf("event %d: %d %v", i, status, err)
					return
				}
				lat[s] = append(lat[s], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op") // the rates above are the figures; ns/op of a concurrent run misleads
}

// signer signs bodies as Zoom does, timestamped now.
func signer(secret string) func(body []byte) (ts, sig string) {
	return func(body []byte) (string, string) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		return ts, zoom.Signature([]byte(secret), ts, body)
	}
}

func post(c *http.Client, url string, body []byte, sign func([]byte) (string, string)) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url+zoom.WebhookPath, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts, sig := sign(body)
	req.Header.Set("x-zm-request-timestamp", ts)
	req.Header.Set("x-zm-signature", sig)
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// processCPU is the CPU time (user and system) this process has used: on
// a shared machine, the cost of an event that the load does not change
// (the rates do).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
