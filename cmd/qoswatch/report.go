package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/report"
	"github.com/qoswatch/qoswatch/store"
)

func cmdReport(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch report", "--source webinar:ID [flags]",
		"Prints the post-webinar report of a source as Markdown: attendees and duration,\n"+
			"who had an alert of which rule, the worst minutes, the shared causes found and\n"+
			"the presenters' quality, from the per-minute aggregates the store keeps (24 h).\n"+
			"Asks a running daemon (GET /api/v1/sources/{source}/minutes), or reads a\n"+
			"database file with --db (a backup, or the file of a stopped daemon).\n"+
			"With --png, writes the chart (percent of participants degraded per minute) too.")
	u, token := apiFlags(f, c)
	var source, pngPath, dbPath string
	f.String(&source, "source", "", "", "the source: webinar:ID or meeting:ID (required)")
	f.String(&pngPath, "png", "", "", "write the chart to this PNG file")
	f.String(&dbPath, "db", "", "", "read this database file instead of asking the daemon")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(c.stderr, "qoswatch report: %v\n", err)
		return 1
	}
	kind, id, ok := strings.Cut(source, ":")
	if !ok || (kind != string(engine.Webinar) && kind != string(engine.Meeting)) || id == "" {
		fmt.Fprintf(c.stderr, "qoswatch report: --source %q: want webinar:ID or meeting:ID (as qoswatch alerts shows it)\n", source)
		return 2
	}
	var minutes []engine.MinuteStats
	if dbPath != "" {
		db, err := store.Open(dbPath, store.Options{LockTimeout: 200 * time.Millisecond})
		if err != nil {
			if errors.Is(err, store.ErrLocked) {
				return fail(fmt.Errorf("--db %s: %w; a running daemon answers without --db", dbPath, err))
			}
			return fail(fmt.Errorf("--db %s: %w", dbPath, err))
		}
		minutes, err = db.Minutes(ctx, source)
		db.Close()
		if err != nil {
			return fail(err)
		}
	} else {
		var resp struct {
			Minutes []engine.MinuteStats `json:"minutes"`
		}
		path := "/api/v1/sources/" + url.PathEscape(source) + "/minutes"
		if err := newAPIClient(*u, *token).do(ctx, http.MethodGet, path, nil, &resp); err != nil {
			return fail(err)
		}
		minutes = resp.Minutes
	}
	r, err := report.Build(source, minutes, time.Time{})
	if err != nil {
		return fail(err)
	}
	if pngPath != "" {
		if err := writeChart(r, pngPath); err != nil {
			return fail(err)
		}
	}
	fmt.Fprint(c.stdout, r.Markdown())
	if pngPath != "" {
		fmt.Fprintf(c.stderr, "qoswatch report: chart written to %s\n", pngPath)
	}
	return 0
}

// writeChart writes the chart to path; a failure never leaves half a PNG.
func writeChart(r *report.Report, path string) error {
	b, err := r.ChartPNG()
	if err != nil {
		return err
	}
	err = writeFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("--png %s: %w", path, err)
	}
	return nil
}
