package zoom

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/qoswatch/qoswatch/engine"
)

// The fast path of PageDecoder: a participants QoS page is scanned
// straight from its bytes into samples. The QoS values are parsed where
// they lie in the body (no string per value, no intermediate structs);
// each participant's text fields cost one allocation together. Anything
// the scanner does not expect (a number where a string should be, an
// escape in a QoS value, bad JSON) sends the page to the slow path,
// encoding/json and AppendSamples, which decides: the same samples, or
// encoding/json's error. FuzzPageDecoder holds the two paths equal.

var errSlowPath = errors.New("not the expected page shape")

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// literal consumes null, true or false.
func (s *scanner) literal(word string) bool {
	s.ws()
	if bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		s.i += len(word)
		return true
	}
	return false
}

// str reads a string and returns its raw content; esc reports a
// backslash in it (the caller unescapes, or gives up).
func (s *scanner) str() (raw []byte, esc bool, ok bool) {
	if !s.eat('"') {
		return nil, false, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			if esc && !json.Valid(s.b[start-1:s.i]) {
				return nil, false, false
			}
			return raw, esc, true
		case c == '\\':
			esc = true
			s.i += 2
		case c < 0x20:
			return nil, false, false
		default:
			s.i++
		}
	}
	return nil, false, false
}

// int reads a JSON integer.
func (s *scanner) int() (int64, bool) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && isDigit(s.b[s.i]) {
		s.i++
	}
	if n := s.i - digits; n == 0 || (n > 1 && s.b[digits] == '0') {
		return 0, false // not JSON
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			return 0, false // not an integer: encoding/json would refuse it for an int field
		}
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	return n, err == nil
}

// skip skips one value of any kind.
func (s *scanner) skip(depth int) bool {
	if depth > 64 {
		return false
	}
	switch s.peek() {
	case '"':
		_, _, ok := s.str()
		return ok
	case '{':
		return s.object(func(key []byte) bool { return s.skip(depth + 1) })
	case '[':
		return s.array(func() bool { return s.skip(depth + 1) })
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		start := s.i
		for s.i < len(s.b) {
			c := s.b[s.i]
			if !(isDigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
				break
			}
			s.i++
		}
		return s.i > start && json.Valid(s.b[start:s.i])
	}
}

// object reads {"key": value, ...}, calling field for each key with the
// scanner at the value.
func (s *scanner) object(field func(key []byte) bool) bool {
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return true
	}
	for {
		key, esc, ok := s.str()
		if !ok || esc || !s.eat(':') || !field(key) {
			return false
		}
		if s.eat('}') {
			return true
		}
		if !s.eat(',') {
			return false
		}
	}
}

// array reads [value, ...], calling elem with the scanner at each value.
func (s *scanner) array(elem func() bool) bool {
	if !s.eat('[') {
		return false
	}
	if s.eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.eat(']') {
			return true
		}
		if !s.eat(',') {
			return false
		}
	}
}

// text reads a string or null ("" then), for a string field.
func (s *scanner) text() (raw []byte, ok bool) {
	if s.peek() == 'n' {
		return nil, s.literal("null")
	}
	raw, esc, ok := s.str()
	return raw, ok && !esc
}

// decodeFast scans a page into d.list's Page and d.samples.
func (d *PageDecoder) decodeFast(body []byte, src engine.Source) error {
	s := &scanner{b: body}
	d.tally = tally{}
	d.samples = d.samples[:0]
	d.list = ParticipantQoSList{}
	seenParticipants := false
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "next_page_token":
			raw, ok := s.text()
			d.list.NextPageToken = string(raw)
			return ok
		case "page_count":
			n, ok := s.int()
			d.list.PageCount = n
			return ok
		case "total_records":
			n, ok := s.int()
			d.list.TotalRecords = n
			return ok
		case "page_size":
			n, ok := s.int()
			d.list.PageSize = int(n)
			return ok && n == int64(int(n))
		case "participants":
			if seenParticipants {
				return false // encoding/json would merge the two lists
			}
			seenParticipants = true
			if s.peek() == 'n' {
				return s.literal("null")
			}
			return s.array(func() bool { return d.participant(s, src) })
		}
		return s.other(key, pageKeys)
	})
	s.ws()
	if !ok || s.i != len(s.b) || !utf8.ValidString(d.list.NextPageToken) {
		return errSlowPath
	}
	d.tally.flush()
	return nil
}

// The participant fields, in the order of partFields.
const (
	fID = iota
	fUserID
	fUserName
	fDevice
	fIPAddress
	fLocation
	fJoinTime
	fLeaveTime
	fPCName
	fDomain
	fMacAddr
	fHarddiskID
	fVersion
	numPartFields
)

var partFields = [numPartFields]string{"id", "user_id", "user_name", "device", "ip_address", "location",
	"join_time", "leave_time", "pc_name", "domain", "mac_addr", "harddisk_id", "version"}

// participant scans one participant: its minutes become samples, then its
// fields are set on them (Zoom may send user_qos before or after them).
func (d *PageDecoder) participant(s *scanner, src engine.Source) bool {
	first := len(d.samples)
	var raw [numPartFields][]byte
	seenQoS := false
	ok := s.object(func(key []byte) bool {
		if string(key) == "user_qos" {
			if seenQoS {
				return false // encoding/json would merge the two lists
			}
			seenQoS = true
			if s.peek() == 'n' {
				return s.literal("null")
			}
			return s.array(func() bool { return d.minute(s, src) })
		}
		for f, name := range partFields {
			if string(key) == name {
				v, ok := s.text()
				raw[f] = v
				return ok && utf8.Valid(v) // encoding/json would replace bad bytes
			}
		}
		return s.other(key, participantKeys)
	})
	if !ok {
		return false
	}
	// One allocation for all of the participant's text.
	d.buf = d.buf[:0]
	var end [numPartFields]int
	for f := range raw {
		d.buf = append(d.buf, raw[f]...)
		end[f] = len(d.buf)
	}
	all := string(d.buf)
	var fields [numPartFields]string
	for f, start := 0, 0; f < numPartFields; f++ {
		fields[f] = all[start:end[f]]
		start = end[f]
	}
	p := engine.Participant{
		ID: fields[fID], UserID: fields[fUserID], UserName: fields[fUserName], Device: fields[fDevice],
		IPAddress: fields[fIPAddress], Location: fields[fLocation], PCName: fields[fPCName], Domain: fields[fDomain],
		MacAddr: fields[fMacAddr], HarddiskID: fields[fHarddiskID], Version: fields[fVersion],
		JoinTime: optTime(fields[fJoinTime], &d.tally), LeaveTime: optTime(fields[fLeaveTime], &d.tally),
	}
	for i := first; i < len(d.samples); i++ {
		d.samples[i].Participant = p
	}
	return true
}

// minute scans one user_qos entry into a new sample; one without a valid
// date_time is dropped and counted, as AppendSamples does.
func (d *PageDecoder) minute(s *scanner, src engine.Source) bool {
	if s.peek() == 'n' {
		// encoding/json leaves a null element zero: no date_time.
		if !s.literal("null") {
			return false
		}
		d.tally.addBadTime()
		return true
	}
	d.samples = append(d.samples, engine.NewSample())
	smp := &d.samples[len(d.samples)-1]
	smp.Source = src
	var when []byte
	hasTime := false
	ok := s.object(func(key []byte) bool {
		var st *engine.Stream
		switch string(key) {
		case "date_time":
			v, ok := s.text()
			when, hasTime = v, true
			return ok
		case "audio_input":
			st = &smp.AudioInput
		case "audio_output":
			st = &smp.AudioOutput
		case "video_input":
			st = &smp.VideoInput
		case "video_output":
			st = &smp.VideoOutput
		case "as_input":
			st = &smp.ASInput
		case "as_output":
			st = &smp.ASOutput
		case "cpu_usage":
			return d.cpu(s, &smp.CPUUsage)
		case "wifi_rssi":
			return wifi(s, &smp.WiFiRSSI)
		default:
			return s.other(key, minuteKeys)
		}
		return d.stream(s, st)
	})
	if !ok {
		return false
	}
	t, tok := d.time(when)
	if !hasTime || !tok {
		d.tally.addBadTime()
		d.samples = d.samples[:len(d.samples)-1]
		return true
	}
	smp.Time = t
	smp.Aggregate()
	return true
}

// time parses an RFC 3339 date_time; a page repeats the same few minutes
// for every participant, so the last ones parsed are kept.
func (d *PageDecoder) time(b []byte) (time.Time, bool) {
	for i := range d.times {
		if c := &d.times[i]; c.ok && bytes.Equal(c.raw, b) {
			return c.t, true
		}
	}
	t, err := time.Parse(time.RFC3339, string(b))
	if err != nil {
		return time.Time{}, false
	}
	c := &d.times[d.next%len(d.times)]
	d.next++
	c.raw, c.t, c.ok = append(c.raw[:0], b...), t, true
	return t, true
}

// stream scans one stream object; null makes it missing.
func (d *PageDecoder) stream(s *scanner, st *engine.Stream) bool {
	if s.peek() == 'n' {
		*st = engine.MissingStream
		return s.literal("null")
	}
	var seen [5]bool // bitrate, latency, jitter, avg_loss, max_loss
	ok := s.object(func(key []byte) bool {
		if !oneOf(key, streamKeys) {
			return s.other(key, streamKeys)
		}
		v, ok := s.text()
		if !ok {
			return false
		}
		switch string(key) {
		case "bitrate":
			st.Bitrate, seen[0] = parse(v, dimBitrate, &d.tally), true
		case "latency":
			st.Latency, seen[1] = parse(v, dimTime, &d.tally), true
		case "jitter":
			st.Jitter, seen[2] = parse(v, dimTime, &d.tally), true
		case "avg_loss":
			st.AvgLoss, seen[3] = parse(v, dimPercent, &d.tally), true
		case "max_loss":
			st.MaxLoss, seen[4] = parse(v, dimPercent, &d.tally), true
		case "frame_rate":
			st.FrameRate = math.NaN()
			if len(v) > 0 {
				st.FrameRate = parse(v, dimRate, &d.tally)
			}
		case "resolution":
			st.Width, st.Height, st.Resolution = math.NaN(), math.NaN(), ""
			if len(v) > 0 {
				if w, h, ok := parseResolution(v, &d.tally); ok {
					st.Width, st.Height, st.Resolution = w, h, d.resolution(v)
				}
			}
		}
		return true
	})
	// A stream present without one of the five is blank there, as the
	// slow path counts it.
	for _, ok := range seen {
		if !ok {
			d.tally.addBlank()
		}
	}
	return ok
}

func (d *PageDecoder) cpu(s *scanner, c *engine.CPUUsage) bool {
	if s.peek() == 'n' {
		*c = engine.CPUUsage{ZoomMinCPUUsage: engine.NaN, ZoomAvgCPUUsage: engine.NaN, ZoomMaxCPUUsage: engine.NaN, SystemMaxCPUUsage: engine.NaN}
		return s.literal("null")
	}
	var seen [4]bool
	ok := s.object(func(key []byte) bool {
		if !oneOf(key, cpuKeys) {
			return s.other(key, cpuKeys)
		}
		v, ok := s.text()
		if !ok {
			return false
		}
		switch string(key) {
		case "zoom_min_cpu_usage":
			c.ZoomMinCPUUsage, seen[0] = parse(v, dimPercent, &d.tally), true
		case "zoom_avg_cpu_usage":
			c.ZoomAvgCPUUsage, seen[1] = parse(v, dimPercent, &d.tally), true
		case "zoom_max_cpu_usage":
			c.ZoomMaxCPUUsage, seen[2] = parse(v, dimPercent, &d.tally), true
		case "system_max_cpu_usage":
			c.SystemMaxCPUUsage, seen[3] = parse(v, dimPercent, &d.tally), true
		}
		return true
	})
	for _, ok := range seen {
		if !ok {
			d.tally.addBlank()
		}
	}
	return ok
}

func wifi(s *scanner, w *engine.WiFiRSSI) bool {
	if s.peek() == 'n' {
		*w = engine.WiFiRSSI{MaxRSSI: engine.NaN, AvgRSSI: engine.NaN, MinRSSI: engine.NaN}
		return s.literal("null")
	}
	return s.object(func(key []byte) bool {
		var f *float64
		switch string(key) {
		case "max_rssi":
			f = &w.MaxRSSI
		case "avg_rssi":
			f = &w.AvgRSSI
		case "min_rssi":
			f = &w.MinRSSI
		case "rssi_unit":
			_, ok := s.text()
			return ok
		default:
			return s.other(key, wifiKeys)
		}
		if s.peek() == 'n' {
			*f = math.NaN()
			return s.literal("null")
		}
		n, ok := s.int()
		if !ok || n != int64(int(n)) {
			return false
		}
		*f = float64(n)
		return true
	})
}

// The keys each level reads, for other.
var (
	pageKeys        = []string{"next_page_token", "page_count", "total_records", "page_size", "participants"}
	participantKeys = append(partFields[:], "user_qos")
	minuteKeys      = []string{"date_time", "audio_input", "audio_output", "video_input", "video_output", "as_input", "as_output", "cpu_usage", "wifi_rssi"}
	streamKeys      = []string{"bitrate", "latency", "jitter", "avg_loss", "max_loss", "frame_rate", "resolution"}
	cpuKeys         = []string{"zoom_min_cpu_usage", "zoom_avg_cpu_usage", "zoom_max_cpu_usage", "system_max_cpu_usage"}
	wifiKeys        = []string{"max_rssi", "avg_rssi", "min_rssi", "rssi_unit"}
)

func oneOf(key []byte, names []string) bool {
	for _, n := range names {
		if string(key) == n {
			return true
		}
	}
	return false
}

// other skips the value of a key the fast path does not read, unless
// encoding/json would take the key for one it reads: it matches keys
// ignoring case (Unicode case, hence any non-ASCII key goes slow).
func (s *scanner) other(key []byte, names []string) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	for _, n := range names {
		if equalFold(key, n) {
			return false
		}
	}
	return s.skip(0)
}

// resolution returns v as a string, reusing the last ones: a page holds
// few distinct resolutions.
func (d *PageDecoder) resolution(v []byte) string {
	for _, r := range d.resolutions {
		if string(v) == r {
			return r
		}
	}
	r := string(v)
	if len(d.resolutions) < 8 {
		d.resolutions = append(d.resolutions, r)
	} else {
		d.resolutions[d.next%8] = r
	}
	return r
}
