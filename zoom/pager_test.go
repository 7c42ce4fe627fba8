package zoom

import (
	"fmt"
	"testing"
)

// Every walk ends, whatever the server answers, and says why it was cut
// short.
func TestPagerEndsEveryWalk(t *testing.T) {
	for _, tc := range []struct {
		name  string
		max   int64
		page  func(n int) Page // the n-th answer, from 1
		pages int64
		why   StopReason
	}{
		{"an empty token ends it", 0, func(n int) Page {
			if n == 3 {
				return Page{}
			}
			return Page{NextPageToken: fmt.Sprint("t", n)}
		}, 3, ""},
		{"a token with the last page by total_records", 0, func(n int) Page {
			return Page{NextPageToken: fmt.Sprint("t", n), TotalRecords: 25}
		}, 3, StopPastCount},
		{"a token with the last page by page_count", 0, func(n int) Page {
			return Page{NextPageToken: fmt.Sprint("t", n), PageCount: 4}
		}, 4, StopPastCount},
		{"the same token again", 0, func(int) Page { return Page{NextPageToken: "same"} }, 2, StopRepeatedToken},
		{"a cycle of tokens", 0, func(n int) Page { return Page{NextPageToken: fmt.Sprint("t", n%3)} }, 4, StopRepeatedToken}, // t1 t2 t0 t1
		{"new tokens, no counts, the caller's bound", 7, func(n int) Page { return Page{NextPageToken: fmt.Sprint("t", n)} }, 7, StopMaxPages},
		{"counts win over the caller's bound", 7, func(n int) Page {
			if n == 12 {
				return Page{PageCount: 12}
			}
			return Page{NextPageToken: fmt.Sprint("t", n), PageCount: 12}
		}, 12, ""},
		{"new tokens, no counts, the default bound", 0, func(n int) Page { return Page{NextPageToken: fmt.Sprint("t", n)} }, defaultMaxPages, StopMaxPages},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pg := Pager{MaxPages: tc.max}
			n := 0
			for !pg.Done() {
				n++
				if n > 2*defaultMaxPages {
					t.Fatal("the walk did not end")
				}
				pg.advance(tc.page(n), 10)
			}
			if pg.Pages() != tc.pages || pg.Stopped() != tc.why || pg.Token() != "" {
				t.Errorf("%d pages, stopped %q, token %q; want %d, %q", pg.Pages(), pg.Stopped(), pg.Token(), tc.pages, tc.why)
			}
		})
	}
}

// An expired token starts the walk over once; the second ends it.
func TestPagerRestartsOnce(t *testing.T) {
	var pg Pager
	pg.advance(Page{NextPageToken: "a"}, 10)
	if !pg.expire() || pg.Done() || pg.Token() != "" || pg.Pages() != 0 {
		t.Fatalf("first expiry: done %v token %q pages %d; want a restart at the first page", pg.Done(), pg.Token(), pg.Pages())
	}
	pg.advance(Page{NextPageToken: "a"}, 10) // the first page's token again: a new walk, not a repeat
	if pg.Done() {
		t.Fatalf("after the restart: stopped %q", pg.Stopped())
	}
	if pg.expire() || !pg.Done() || pg.Stopped() != StopRestarts {
		t.Errorf("second expiry: done %v stopped %q; want the walk ended by restarts", pg.Done(), pg.Stopped())
	}
}
