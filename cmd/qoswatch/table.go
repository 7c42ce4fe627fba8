package main

import (
	"io"
	"text/tabwriter"
)

// newTable is the one column layout of every listing the CLI prints
// (alerts, actions, silences, status, --help): two spaces between columns.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
}
