package zoomtest

import (
	"encoding/json"
	"time"
)

// QoSPages returns the participants QoS list of the scenario at `at` as
// the JSON pages Zoom would send (pageSize participants a page, at most
// 10), without HTTP, rate limits or faults: for benchmarks of the code
// that consumes pages. Each participant carries one minute, the latest
// published by `at`, so the pages are one minute of the source.
func (sc *Scenario) QoSPages(at time.Time, pageSize int) [][]byte {
	sc.init()
	pageSize = min(max(pageSize, 1), 10)
	end := sc.End()
	v := view{sc: sc, end: end, now: at, live: end.IsZero() || at.Before(end)}
	n := v.minutes()
	win := [2]int{max(0, n-1), n}
	list := v.joined()
	var pages [][]byte
	for off := 0; off < len(list) || off == 0; off += pageSize {
		pg := page{offset: off, size: pageSize, total: len(list)}
		if pg.end() < len(list) {
			pg.next = pageToken{scope: "qos|bench", offset: pg.end(), issued: at}.encode()
		}
		l := v.qosList(list, pg, win)
		b, err := json.Marshal(&l)
		if err != nil {
			panic(err) // the wire types always marshal
		}
		pages = append(pages, b)
		if len(list) == 0 {
			break
		}
	}
	return pages
}
