package zoomtest

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A page token carries its own state (scope, offset, when and in which
// order it was issued), so the fake keeps no table of tokens. The scope
// binds it to one endpoint, source and type: a token used elsewhere is
// invalid, as Zoom's are.
type pageToken struct {
	scope  string
	offset int
	issued time.Time
	seq    uint64
}

func (t pageToken) encode() string {
	raw := fmt.Sprintf("%s\x00%d\x00%d\x00%d", t.scope, t.offset, t.issued.UnixNano(), t.seq)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodePageToken(s string) (pageToken, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageToken{}, false
	}
	f := strings.Split(string(raw), "\x00")
	if len(f) != 4 {
		return pageToken{}, false
	}
	off, err1 := strconv.Atoi(f[1])
	ns, err2 := strconv.ParseInt(f[2], 10, 64)
	seq, err3 := strconv.ParseUint(f[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || off < 0 {
		return pageToken{}, false
	}
	return pageToken{scope: f[0], offset: off, issued: time.Unix(0, ns), seq: seq}, true
}

// page is one page of a list of n items.
type page struct {
	offset, size, total int
	next                string // next_page_token, "" on the last page
	noCounts            bool   // page_count and total_records left out (a fault)
}

func (p page) end() int { return min(p.offset+p.size, p.total) }

func (p page) count() int64 {
	if p.size <= 0 {
		return 0
	}
	return int64((p.total + p.size - 1) / p.size)
}
