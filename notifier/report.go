package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/report"
)

// The post-webinar report: when a source ends, the store queues its
// report (engine.ReportDue) in the transaction that commits the end; the
// Reporter posts it to report.channel, one summary message, and shares
// the chart (PNG) and the whole report (Markdown, naming everyone) in the
// summary's thread with Slack's files upload. Its progress is kept in the
// queue, so a restart neither loses a report nor posts its summary or a
// file twice (beyond the one call in flight).

// ReportQueue is what the Reporter needs of the store (store.DB).
type ReportQueue interface {
	DueReports(ctx context.Context) ([]engine.ReportDue, error)
	Minutes(ctx context.Context, source string) ([]engine.MinuteStats, error)
	UpdateReport(ctx context.Context, r engine.ReportDue) error
	DoneReport(ctx context.Context, r engine.ReportDue) error
}

// File is a file shared in a message's thread.
type File struct {
	Name    string // "qoswatch-report-webinar-81234567890.png"
	Title   string
	Content []byte
}

// Uploader is a Sender that can share files in the thread of a message
// it posted (the bot: Slack's files upload v2, scope files:write).
type Uploader interface {
	Upload(ctx context.Context, thread engine.MessageRef, f File) error
}

// ReportOptions configure a Reporter. Queue and Sender are required.
type ReportOptions struct {
	Queue  ReportQueue
	Sender Sender
	// Channel is report.channel of the running rules; "" posts no report
	// (a report that falls due then is dropped, and logged).
	Channel func() string
	Logger  *slog.Logger
	Clock   engine.Clock
	// PollInterval is how often an idle Reporter looks at the queue (Wake
	// makes it look at once), and how long it waits after a failure that
	// may pass. Default 30s.
	PollInterval time.Duration
	Registerer   prometheus.Registerer
}

// Reporter posts the post-webinar reports the store queued. Run it in
// one goroutine; Pass is one look at the queue, for tests and the demo.
type Reporter struct {
	o      ReportOptions
	wake   chan struct{}
	result *prometheus.CounterVec
	posted atomic.Int64
}

// NewReporter returns a Reporter; it checks the options.
func NewReporter(o ReportOptions) (*Reporter, error) {
	switch {
	case o.Queue == nil:
		return nil, errors.New("notifier: ReportOptions.Queue is required")
	case o.Sender == nil:
		return nil, errors.New("notifier: ReportOptions.Sender is required")
	}
	if o.Channel == nil {
		o.Channel = func() string { return "" }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = engine.SystemClock{}
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 30 * time.Second
	}
	r := &Reporter{o: o, wake: make(chan struct{}, 1), result: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qoswatch_reports_total",
		Help: "Post-webinar reports by result: posted (summary and files), dropped (no report.channel, or nothing kept of the source), failed (Slack refused it for good).",
	}, []string{"result"})}
	for _, l := range []string{"posted", "dropped", "failed"} {
		r.result.WithLabelValues(l)
	}
	if o.Registerer != nil {
		if err := o.Registerer.Register(r.result); err != nil {
			return nil, fmt.Errorf("notifier: report metrics: %w", err)
		}
	}
	return r, nil
}

// Wake makes a waiting Run look at the queue now. It never blocks.
func (r *Reporter) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Posted counts the reports posted since start.
func (r *Reporter) Posted() int64 { return r.posted.Load() }

// Run posts due reports until ctx is done. A report on its way when ctx
// ends is finished (each Slack call has its own timeout), never cut off
// mid-call: a call cut after Slack took it would post it again later.
func (r *Reporter) Run(ctx context.Context) error {
	calls := context.WithoutCancel(ctx)
	for {
		wait := r.o.PollInterval
		if retry, err := r.pass(ctx, calls); err != nil && ctx.Err() == nil {
			r.o.Logger.Warn("report: not posted yet; trying again", "error", err, "in", wait)
		} else if !retry.IsZero() {
			wait = max(retry.Sub(r.o.Clock.Now()), time.Second)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-r.o.Clock.After(wait):
		}
	}
}

// Pass posts every report due now. A failure that may pass (Slack down,
// rate-limited, the credentials or a scope refused) stops the pass with
// an error and keeps the report and its progress for the next one; retry
// is when Slack asked to be called again, if it did. A failure retrying
// cannot help (the channel does not exist, the bot is not in it) drops
// the report, logged and counted.
func (r *Reporter) Pass(ctx context.Context) (retry time.Time, err error) { return r.pass(ctx, ctx) }

// pass is Pass that stops between reports when stop is done but makes
// its calls with ctx.
func (r *Reporter) pass(stop, ctx context.Context) (retry time.Time, err error) {
	due, err := r.o.Queue.DueReports(ctx)
	if err != nil {
		return time.Time{}, err
	}
	for _, d := range due {
		if stop.Err() != nil {
			return time.Time{}, stop.Err()
		}
		if err := r.post(ctx, d); err != nil {
			de := Classify(err)
			if de.Class != Permanent {
				if de.RetryAfter > 0 {
					retry = r.o.Clock.Now().Add(de.RetryAfter)
				}
				return retry, err
			}
			r.o.Logger.Error("report: Slack refused it; not retried", "source", d.Source, "ended_at", d.EndedAt, "error", err)
			r.result.WithLabelValues("failed").Inc()
			if err := r.o.Queue.DoneReport(ctx, d); err != nil {
				return time.Time{}, err
			}
		}
	}
	return time.Time{}, nil
}

// post sends one report from where it stopped, and removes it when done.
func (r *Reporter) post(ctx context.Context, d engine.ReportDue) error {
	log := r.o.Logger.With("source", d.Source, "ended_at", d.EndedAt)
	ch := r.o.Channel()
	if ch == "" && d.Posted.Channel == "" {
		log.Info("report: not posted: report.channel is not set in the rules (qoswatch report prints it)")
		r.result.WithLabelValues("dropped").Inc()
		return r.o.Queue.DoneReport(ctx, d)
	}
	minutes, err := r.o.Queue.Minutes(ctx, d.Source)
	if err != nil {
		return err
	}
	rep, err := report.Build(d.Source, minutes, d.EndedAt)
	if errors.Is(err, report.ErrNoData) {
		log.Info("report: not posted: nothing was kept of the source (no participant seen)")
		r.result.WithLabelValues("dropped").Inc()
		return r.o.Queue.DoneReport(ctx, d)
	}
	if err != nil {
		return err
	}
	up, canUpload := r.o.Sender.(Uploader)
	if d.Posted.Channel == "" {
		ref, err := r.o.Sender.Post(ctx, ch, "", RenderReport(rep, canUpload))
		if err != nil {
			return fmt.Errorf("report of %s to %s: %w", d.Source, ch, err)
		}
		if ref.Channel == "" {
			ref.Channel = ch
		}
		d.Posted = ref
		if err := r.o.Queue.UpdateReport(ctx, d); err != nil {
			return err
		}
		log.Info("report: summary posted", "channel", ref.Channel, "ts", ref.TS)
	}
	if canUpload && d.Posted.TS != "" {
		files, err := reportFiles(rep)
		if err != nil {
			return err
		}
		for ; d.Files < len(files); d.Files++ {
			if err := up.Upload(ctx, d.Posted, files[d.Files]); err != nil {
				return fmt.Errorf("report of %s: upload %s: %w", d.Source, files[d.Files].Name, err)
			}
			if err := r.o.Queue.UpdateReport(ctx, engine.ReportDue{Source: d.Source, EndedAt: d.EndedAt, Posted: d.Posted, Files: d.Files + 1}); err != nil {
				return err
			}
		}
	}
	r.result.WithLabelValues("posted").Inc()
	r.posted.Add(1)
	return r.o.Queue.DoneReport(ctx, d)
}

// reportFiles are what the summary's thread gets: the chart, and the
// whole report naming everyone.
func reportFiles(rep *report.Report) ([]File, error) {
	png, err := rep.ChartPNG()
	if err != nil {
		return nil, err
	}
	name := "qoswatch-report-" + strings.ReplaceAll(rep.Source, ":", "-")
	return []File{
		{Name: name + ".png", Title: "Participants degraded per minute, " + rep.Title(), Content: png},
		{Name: name + ".md", Title: "Post-webinar report, " + rep.Title(), Content: []byte(rep.Markdown())},
	}, nil
}

// Room for each part of the summary; their sum stays under msgBudget.
const (
	capReportRules  = 4000 // the rules' lines (two sections)
	capReportNames  = 300  // the names shown per rule; the rest are in the file
	capReportWorst  = 1200
	capReportCauses = 1500
	capReportPeople = 800
)

// bulletSection is a section of title and one escaped bullet per item
// (line words it), or none when there are no items, within max.
func bulletSection[T any](title string, items []T, line func(*T) string, none string, max int) slack.Block {
	lines := []string{title}
	for i := range items {
		lines = append(lines, "• "+escape(line(&items[i])))
	}
	if len(items) == 0 {
		lines = append(lines, none)
	}
	return section(strings.Join(lines, "\n"), max)
}

// RenderReport is the summary message of a report, within Slack's
// limits. withFiles says the thread will get the chart and the whole
// report; without (a webhook), the message says how to get them.
func RenderReport(r *report.Report, withFiles bool) Message {
	blocks := []slack.Block{
		header("📊 Post-webinar report: " + escape(r.Title())),
		fieldsBlock([]*slack.TextBlockObject{
			fieldText("When", escape(r.When()), capField*2),
			fieldText("Attendees", escape(r.AttendeesLine()), capField),
			fieldText("With an alert", escape(r.AlertedLine()), capField),
			fieldText("Source", "`"+escape(r.Source)+"`", capField),
		}),
	}
	var lines []string
	for i := range r.Rules {
		s := &r.Rules[i]
		line := "• *" + escape(s.Name) + "*: " + escape(s.RuleLine())
		if len(s.Alerted) > 0 {
			line += ": " + namesWithin(s.Alerted, capReportNames)
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		lines = []string{"No rule held for anyone."}
	}
	budget := capReportRules
	for _, sec := range sections(append([]string{"*Alerts per rule*"}, lines...)) {
		if budget <= 0 {
			break
		}
		blocks = append(blocks, section(sec, budget))
		budget -= chars(sec)
	}
	blocks = append(blocks,
		bulletSection("*Worst minutes*", r.Worst, (*report.Minute).WorstLine, "No minute had anyone degraded.", capReportWorst),
		bulletSection("*Shared causes found*", r.Causes, (*report.CauseFound).CauseLine, "None: no attribute stood out among the alerted participants.", capReportCauses))
	blocks = append(blocks, section("*Presenters (host and panelists)*\n"+escape(strings.Join(r.PresenterLines(), " ")), capReportPeople))
	more := "The chart and the whole report (everyone named) are in the thread."
	if !withFiles {
		more = "The whole report (everyone named) and its chart: `qoswatch report --source " + escape(r.Source) + " --png chart.png`."
	}
	blocks = append(blocks, contextBlock(more))
	return Message{Blocks: blocks, Text: clip(BlocksText(blocks), maxText)}
}

// namesWithin lists participants by name, as many as fit in max
// characters, then "and N more".
func namesWithin(ws []engine.Who, max int) string {
	var b strings.Builder
	for i, w := range ws {
		name := escape(report.WhoName(w))
		rest := len(ws) - i - 1
		tail := ""
		if rest > 0 {
			tail = fmt.Sprintf(", … and %d more", rest)
		}
		if i > 0 && chars(b.String())+2+chars(name)+chars(tail) > max {
			fmt.Fprintf(&b, " … and %d more", len(ws)-i)
			return b.String()
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(clip(name, max/2))
	}
	return b.String()
}
