package zoom

import (
	"math"
	"strconv"
	"strings"
	"sync/atomic"
)

// Zoom sends QoS numbers as strings with units: "23 kbps", "27.15kbps",
// "1.2 Mbps", "126 ms", "0.3%", "12 fps", "1280*720"; Wi-Fi RSSI as JSON
// numbers (dBm). The parser turns them into float64 in one unit per
// dimension (kbps, ms, %, fps, px, dBm). A value Zoom leaves blank ("",
// "-", "N/A") is missing: NaN, so every comparison on it is false. A value
// that cannot be read, or that no connection can have (a negative frame
// rate, a loss over 100%), is missing too, and counted by cause, so an
// operator sees when Zoom changes a format. The parser never panics.

// dim is what a value measures; it decides which units are accepted and
// which numbers are possible.
type dim uint8

const (
	dimAny     dim = iota // any known unit, converted to its dimension's unit; any finite number
	dimBitrate            // kbps
	dimTime               // ms
	dimPercent            // %
	dimRate               // fps
	dimSignal             // dBm
	dimPixels             // one side of a resolution
)

// limits are the values each dimension can take, bounds included.
// Outside them a value is impossible: no Zoom client measures a negative
// bitrate, a loss over 100% or a one-minute sample's latency of an hour.
// The bounds are wide on purpose: a terrible value is real and must reach
// the rules; only what cannot be is dropped. docs/zoom.md has the table.
var limits = [...]struct{ lo, hi float64 }{
	dimAny:     {-math.MaxFloat64, math.MaxFloat64},
	dimBitrate: {0, 1e6},     // 1 Gbps
	dimTime:    {0, 600_000}, // 10 minutes
	dimPercent: {0, 100},     // losses and CPU are shares
	dimRate:    {0, 1000},    // fps
	dimSignal:  {-150, 0},    // RSSI: a received power below 1 mW
	dimPixels:  {0, 16384},   // 16K
}

// ValueStats counts the QoS values that were missing, by cause.
type ValueStats struct {
	Blank       int64 // "", "-", "N/A": Zoom had no value
	Unparseable int64 // anything else that is not a number in a known unit
	Impossible  int64 // a number its unit cannot have: outside limits
	BadTimes    int64 // date_time, join_time or leave_time that is not RFC 3339
}

// The counts are process-wide: the parser is a function of the package,
// used by the client's pages and by the CLI's explain alike.
var valueStats struct {
	blank, unparseable, impossible, badTimes atomic.Int64
}

// ParseStats returns the process-wide counts of missing QoS values.
func ParseStats() ValueStats {
	return ValueStats{
		Blank:       valueStats.blank.Load(),
		Unparseable: valueStats.unparseable.Load(),
		Impossible:  valueStats.impossible.Load(),
		BadTimes:    valueStats.badTimes.Load(),
	}
}

// ParseValue parses one Zoom QoS value to a number: bitrates in kbps
// ("1.2 Mbps" is 1200), times in ms, percentages, frame rates in fps. A
// number without a unit is taken as is. Blank and unparseable values are
// NaN and counted in ParseStats.
func ParseValue(s string) float64 { return parse(s, dimAny) }

// ParseResolution parses "1280*720" (or "1280x720") to width and height.
// "0*0", which Zoom sends for a stream with no picture, is missing, like a
// blank, unparseable or impossible value; ok is false then.
func ParseResolution(s string) (width, height float64, ok bool) {
	s = strings.TrimSpace(s)
	if isBlank(s) {
		valueStats.blank.Add(1)
		return math.NaN(), math.NaN(), false
	}
	sep := strings.IndexAny(s, "*xX")
	if sep < 0 {
		valueStats.unparseable.Add(1)
		return math.NaN(), math.NaN(), false
	}
	w, okW := number(strings.TrimSpace(s[:sep]))
	h, okH := number(strings.TrimSpace(s[sep+1:]))
	switch {
	case !okW || !okH:
		valueStats.unparseable.Add(1)
		return math.NaN(), math.NaN(), false
	case w == 0 && h == 0:
		return math.NaN(), math.NaN(), false // no picture: not a value
	case !possible(w, dimPixels) || !possible(h, dimPixels) || w == 0 || h == 0:
		valueStats.impossible.Add(1)
		return math.NaN(), math.NaN(), false
	}
	return w, h, true
}

func parse(s string, d dim) float64 {
	s = strings.TrimSpace(s)
	if isBlank(s) {
		valueStats.blank.Add(1)
		return math.NaN()
	}
	// Split the number from its unit: the number is the longest prefix of
	// sign, digits and dots.
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && (isDigit(s[end]) || s[end] == '.') {
		end++
	}
	v, ok := number(s[:end])
	scale, okUnit := unitScale(strings.TrimSpace(s[end:]), d)
	if !ok || !okUnit {
		valueStats.unparseable.Add(1)
		return math.NaN()
	}
	if v *= scale; !possible(v, d) {
		valueStats.impossible.Add(1)
		return math.NaN()
	}
	return v
}

func possible(v float64, d dim) bool { return limits[d].lo <= v && v <= limits[d].hi }

// unitScale returns the factor from unit u (any case) to its dimension's
// unit, if u is a unit of dimension d.
func unitScale(u string, d dim) (float64, bool) {
	if len(u) > 4 {
		return 0, false
	}
	var lower [4]byte // no unit is longer; lower-cased without allocating
	for i := range len(u) {
		c := u[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	var got dim
	scale := 1.0
	switch string(lower[:len(u)]) {
	case "":
		return 1, true // a bare number
	case "kbps", "kb/s":
		got = dimBitrate
	case "mbps", "mb/s":
		got, scale = dimBitrate, 1000
	case "gbps", "gb/s":
		got, scale = dimBitrate, 1e6
	case "bps", "b/s":
		got, scale = dimBitrate, 0.001
	case "ms":
		got = dimTime
	case "s", "sec":
		got, scale = dimTime, 1000
	case "%":
		got = dimPercent
	case "fps":
		got = dimRate
	case "dbm":
		got = dimSignal
	default:
		return 0, false
	}
	return scale, d == dimAny || d == got
}

// number parses a plain decimal: optional sign, digits, at most one dot,
// at least one digit. No exponents, no "Inf", no "NaN", no hex: those are
// not how Zoom writes a value.
func number(s string) (float64, bool) {
	digits := false
	for i := range len(s) {
		switch c := s[i]; {
		case isDigit(c):
			digits = true
		case c == '.', i == 0 && (c == '-' || c == '+'):
		default:
			return 0, false
		}
	}
	if !digits {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64) // "1.2.3" and overflow fail here
	return v, err == nil
}

func isBlank(s string) bool {
	if len(s) > 4 {
		return false // the common case: a value
	}
	for _, b := range [...]string{"", "-", "--", "n/a", "na", "null"} {
		if strings.EqualFold(s, b) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
