package zoom

import (
	"math"
	"strconv"
	"sync/atomic"
)

// Zoom sends QoS numbers as strings with units: "23 kbps", "27.15kbps",
// "1.2 Mbps", "126 ms", "0.3%", "12 fps", "1280*720". The parser turns them
// into float64 in one unit per dimension (kbps, ms, %, fps, px). A value Zoom
// leaves blank ("", "-", "N/A") is missing: NaN, so every comparison on it
// is false. A value that cannot be read is missing too, and counted, so an
// operator sees when Zoom changes a format. The parser never allocates and
// never panics: it runs for every value of every sample.

// dim is what a value measures; it decides which units are accepted.
type dim uint8

const (
	dimAny     dim = iota // any known unit, converted to its dimension's unit
	dimBitrate            // kbps
	dimTime               // ms
	dimPercent            // %
	dimRate               // fps
)

// ValueStats counts the QoS values that were missing, by cause.
type ValueStats struct {
	Blank       int64 // "", "-", "N/A": Zoom had no value
	Unparseable int64 // anything else that is not a number in a known unit
	BadTimes    int64 // date_time, join_time or leave_time that is not RFC 3339
}

var valueStats struct {
	blank, unparseable, badTimes atomic.Int64
}

// tally counts missing values for one page decoded by the fast path, so
// a page that falls back to the slow path is not counted twice: its
// counts are added to the process-wide ones only once the page decoded.
// A nil tally counts straight into the process-wide counts.
type tally struct{ blank, unparseable, badTimes int64 }

func (t *tally) addBlank() {
	if t == nil {
		valueStats.blank.Add(1)
		return
	}
	t.blank++
}

func (t *tally) addUnparseable() {
	if t == nil {
		valueStats.unparseable.Add(1)
		return
	}
	t.unparseable++
}

func (t *tally) addBadTime() {
	if t == nil {
		valueStats.badTimes.Add(1)
		return
	}
	t.badTimes++
}

// flush adds t to the process-wide counts and zeroes it.
func (t *tally) flush() {
	valueStats.blank.Add(t.blank)
	valueStats.unparseable.Add(t.unparseable)
	valueStats.badTimes.Add(t.badTimes)
	*t = tally{}
}

// ParseStats returns the process-wide counts of missing QoS values.
func ParseStats() ValueStats {
	return ValueStats{
		Blank:       valueStats.blank.Load(),
		Unparseable: valueStats.unparseable.Load(),
		BadTimes:    valueStats.badTimes.Load(),
	}
}

// ParseValue parses one Zoom QoS value to a number: bitrates in kbps
// ("1.2 Mbps" is 1200), times in ms, percentages, frame rates in fps. A
// number without a unit is taken as is. Blank and unparseable values are
// NaN and counted in ParseStats.
func ParseValue(s string) float64 { return parse(s, dimAny, nil) }

// ParseResolution parses "1280*720" (or "1280x720") to width and height.
// "0*0", which Zoom sends for a stream with no picture, is missing, like a
// blank or unparseable value; ok is false then.
func ParseResolution(s string) (width, height float64, ok bool) { return parseResolution(s, nil) }

func parseResolution[T text](s T, t *tally) (width, height float64, ok bool) {
	s = trimSpace(s)
	if isBlank(s) {
		t.addBlank()
		return math.NaN(), math.NaN(), false
	}
	sep := -1
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '*' || c == 'x' || c == 'X' {
			sep = i
			break
		}
	}
	if sep < 0 {
		t.addUnparseable()
		return math.NaN(), math.NaN(), false
	}
	w, okW := number(trimSpace(s[:sep]))
	h, okH := number(trimSpace(s[sep+1:]))
	if !okW || !okH || w < 0 || h < 0 {
		t.addUnparseable()
		return math.NaN(), math.NaN(), false
	}
	if w == 0 && h == 0 {
		return math.NaN(), math.NaN(), false
	}
	return w, h, true
}

// text is what the parser reads: a string from a decoded struct, or the
// bytes of a JSON string straight from the body (PageDecoder).
type text interface{ ~string | ~[]byte }

func parse[T text](s T, d dim, t *tally) float64 {
	s = trimSpace(s)
	if isBlank(s) {
		t.addBlank()
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
	if !ok {
		t.addUnparseable()
		return math.NaN()
	}
	scale, ok := unitScale(trimSpace(s[end:]), d)
	if !ok {
		t.addUnparseable()
		return math.NaN()
	}
	return v * scale
}

// unitScale returns the factor from unit u to its dimension's unit, if u
// is a unit of dimension d.
func unitScale[T text](u T, d dim) (float64, bool) {
	if len(u) == 0 {
		return 1, true // a bare number
	}
	var got dim
	scale := 1.0
	switch {
	case equalFold(u, "kbps"), equalFold(u, "kb/s"):
		got = dimBitrate
	case equalFold(u, "mbps"), equalFold(u, "mb/s"):
		got, scale = dimBitrate, 1000
	case equalFold(u, "gbps"), equalFold(u, "gb/s"):
		got, scale = dimBitrate, 1e6
	case equalFold(u, "bps"), equalFold(u, "b/s"):
		got, scale = dimBitrate, 0.001
	case equalFold(u, "ms"):
		got = dimTime
	case equalFold(u, "s"), equalFold(u, "sec"):
		got, scale = dimTime, 1000
	case len(u) == 1 && u[0] == '%':
		got = dimPercent
	case equalFold(u, "fps"):
		got = dimRate
	default:
		return 0, false
	}
	return scale, d == dimAny || d == got
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// number parses a plain decimal: optional sign, digits, at most one dot,
// at least one digit. No exponents, no "Inf", no "NaN".
func number[T text](s T) (float64, bool) {
	i, digits, dots, frac := 0, 0, 0, 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var mant uint64
	exact := true
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			digits++
			if dots > 0 {
				frac++
			}
			if mant > (1<<53)/10 {
				exact = false
			}
			mant = mant*10 + uint64(c-'0')
		case c == '.':
			dots++
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 {
		return 0, false
	}
	if exact && mant <= 1<<53 && frac < len(pow10) {
		// Both operands are exact, so the quotient is correctly rounded:
		// the same float64 as strconv.ParseFloat, without its cost.
		v := float64(mant) / pow10[frac]
		if neg {
			v = -v
		}
		return v, true
	}
	// Long numbers: validated above, so ParseFloat fails only on range.
	v, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func isBlank[T text](s T) bool {
	return len(s) == 0 || equalFold(s, "-") || equalFold(s, "--") || equalFold(s, "n/a") || equalFold(s, "na") || equalFold(s, "null")
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func trimSpace[T text](s T) T {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// equalFold reports whether s equals the lower-case ASCII word w, ignoring
// ASCII case.
func equalFold[T text](s T, w string) bool {
	if len(s) != len(w) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}
