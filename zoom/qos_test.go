package zoom

import (
	"math"
	"testing"
)

func TestParseValue(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		in   string
		want float64
		bad  bool // counted as unparseable (not merely blank)
	}{
		{"23 kbps", 23, false},
		{"27.15kbps", 27.15, false},
		{"27.15 Kbps", 27.15, false},
		{"1.2 Mbps", 1200, false},
		{"1.2Mbps", 1200, false},
		{"500 bps", 0.5, false},
		{"126 ms", 126, false},
		{"0ms", 0, false},
		{"1.5 s", 1500, false},
		{"0.3%", 0.3, false},
		{"0.0%", 0, false},
		{"8%", 8, false},
		{"100 %", 100, false},
		{"12 fps", 12, false},
		{"  12 fps ", 12, false},
		{"42", 42, false},
		{".5%", 0.5, false},
		{"", nan, false},
		{"-", nan, false},
		{"N/A", nan, false},
		{"n/a", nan, false},
		{"garbage", nan, true},
		{"12 parsecs", nan, true},
		{"kbps", nan, true},
		{"1.2.3 ms", nan, true},
		{"1e3 ms", nan, true},
		{"NaN", nan, true},
		{"Inf", nan, true},
		{"%", nan, true},
		{".", nan, true},
		{"12 fps fps", nan, true},
	}
	for _, tt := range tests {
		before := ParseStats()
		got := ParseValue(tt.in)
		after := ParseStats()
		if math.IsNaN(tt.want) {
			if !math.IsNaN(got) {
				t.Errorf("ParseValue(%q) = %v, want missing (NaN)", tt.in, got)
			}
			blank, bad := after.Blank-before.Blank, after.Unparseable-before.Unparseable
			if tt.bad && bad != 1 {
				t.Errorf("ParseValue(%q): unparseable counted %d times, want 1", tt.in, bad)
			}
			if !tt.bad && blank != 1 {
				t.Errorf("ParseValue(%q): blank counted %d times, want 1", tt.in, blank)
			}
			continue
		}
		if math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("ParseValue(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if after != before {
			t.Errorf("ParseValue(%q) changed the missing counts: %+v -> %+v", tt.in, before, after)
		}
	}
}

// A unit of the wrong dimension is a value we cannot trust: "5 fps" as a
// latency is missing, not 5 ms.
func TestParseDimension(t *testing.T) {
	tests := []struct {
		in   string
		d    dim
		want float64
	}{
		{"126 ms", dimTime, 126},
		{"126 kbps", dimTime, math.NaN()},
		{"0.3%", dimPercent, 0.3},
		{"0.3 ms", dimPercent, math.NaN()},
		{"1.2 Mbps", dimBitrate, 1200},
		{"12 fps", dimBitrate, math.NaN()},
		{"12 fps", dimRate, 12},
		{"12", dimRate, 12},
		{"-67", dimSignal, -67},
		{"-67.5", dimSignal, -67.5},
		{"-67 dBm", dimSignal, -67},
		{"-67 ms", dimSignal, math.NaN()},
	}
	for _, tt := range tests {
		got := parse(tt.in, tt.d)
		if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && got != tt.want) {
			t.Errorf("parse(%q, dim %d) = %v, want %v", tt.in, tt.d, got, tt.want)
		}
	}
}

// A number its unit cannot have is missing and counted as impossible:
// it never reaches a rule, and an operator sees it in the metrics.
func TestImpossibleValuesAreMissing(t *testing.T) {
	tests := []struct {
		in         string
		d          dim
		impossible bool
	}{
		{"-1 kbps", dimBitrate, true},
		{"0 kbps", dimBitrate, false},
		{"1000000 kbps", dimBitrate, false}, // 1 Gbps: the most a stream may claim
		{"1.5 Gbps", dimBitrate, true},
		{"-3 ms", dimTime, true},
		{"600000 ms", dimTime, false},
		{"10000000000000000000000 ms", dimTime, true}, // 1e22 ms
		{"700 s", dimTime, true},
		{"-0.1%", dimPercent, true},
		{"100%", dimPercent, false},
		{"100.1%", dimPercent, true},
		{"250%", dimPercent, true},
		{"-12 fps", dimRate, true},
		{"0 fps", dimRate, false}, // a frozen picture is real
		{"1000 fps", dimRate, false},
		{"1001 fps", dimRate, true},
		{"-150", dimSignal, false},
		{"-151", dimSignal, true},
		{"0", dimSignal, false},
		{"12", dimSignal, true},
	}
	for _, tt := range tests {
		before := ParseStats()
		got := parse(tt.in, tt.d)
		d := statsDelta(before, ParseStats())
		if tt.impossible {
			if !math.IsNaN(got) || d != (ValueStats{Impossible: 1}) {
				t.Errorf("parse(%q, dim %d) = %v, counted %+v; want missing, counted once as impossible", tt.in, tt.d, got, d)
			}
			continue
		}
		if math.IsNaN(got) || d != (ValueStats{}) {
			t.Errorf("parse(%q, dim %d) = %v, counted %+v; want a value, nothing counted", tt.in, tt.d, got, d)
		}
	}
}

func statsDelta(from, to ValueStats) ValueStats {
	return ValueStats{Blank: to.Blank - from.Blank, Unparseable: to.Unparseable - from.Unparseable,
		Impossible: to.Impossible - from.Impossible, BadTimes: to.BadTimes - from.BadTimes}
}

func TestParseResolution(t *testing.T) {
	tests := []struct {
		in   string
		w, h float64
		ok   bool
	}{
		{"1280*720", 1280, 720, true},
		{"640*360", 640, 360, true},
		{"1920x1080", 1920, 1080, true},
		{" 320 * 180 ", 320, 180, true},
		{"0*0", 0, 0, false}, // Zoom's "no picture"
		{"", 0, 0, false},
		{"-", 0, 0, false},
		{"1280", 0, 0, false},
		{"1280*", 0, 0, false},
		{"*720", 0, 0, false},
		{"a*b", 0, 0, false},
		{"-1*720", 0, 0, false},
		{"0*720", 0, 0, false},     // impossible: a picture has two sides
		{"20000*720", 0, 0, false}, // impossible: wider than 16K
		{"1280 x 720", 1280, 720, true},
	}
	for _, tt := range tests {
		w, h, ok := ParseResolution(tt.in)
		if ok != tt.ok {
			t.Errorf("ParseResolution(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if ok && (w != tt.w || h != tt.h) {
			t.Errorf("ParseResolution(%q) = %v, %v, want %v, %v", tt.in, w, h, tt.w, tt.h)
		}
		if !ok && (!math.IsNaN(w) || !math.IsNaN(h)) {
			t.Errorf("ParseResolution(%q) = %v, %v, want NaN, NaN", tt.in, w, h)
		}
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	inputs := []string{"23 kbps", "27.15kbps", "1.2 Mbps", "126 ms", "0.3%", "12 fps", "", "-", "garbage"}
	allocs := testing.AllocsPerRun(100, func() {
		for _, s := range inputs {
			ParseValue(s)
		}
		ParseResolution("1280*720")
	})
	if allocs != 0 {
		t.Errorf("parsing allocates %v times per run, want 0", allocs)
	}
}

// Every value is a number its unit can have, or missing and counted
// exactly once, whatever the text.
func FuzzParseValue(f *testing.F) {
	for _, s := range []string{"23 kbps", "27.15kbps", "1.2 Mbps", "126 ms", "0ms", "0.3%", "12 fps", "8%", "1280*720", "0*0", "", "-", "N/A", "+.", "1e309", "9007199254740993", "0.1234567890123456789", "123456789012345678901234567890.5 ms", "-67.5", "-67 dBm", "0x10", "1_000", "Inf ms"} {
		f.Add(s)
	}
	counted := func(before ValueStats) int64 {
		d := statsDelta(before, ParseStats())
		return d.Blank + d.Unparseable + d.Impossible
	}
	f.Fuzz(func(t *testing.T, s string) {
		before := ParseStats()
		v := ParseValue(s)
		if math.IsInf(v, 0) {
			t.Errorf("ParseValue(%q) = %v, want a finite number or NaN", s, v)
		}
		if n := counted(before); (n == 1) != math.IsNaN(v) || n > 1 {
			t.Errorf("ParseValue(%q) = %v and counted %d missing values", s, v, n)
		}
		for _, d := range []dim{dimBitrate, dimTime, dimPercent, dimRate, dimSignal} {
			before := ParseStats()
			got := parse(s, d)
			if n := counted(before); (n == 1) != math.IsNaN(got) || n > 1 {
				t.Errorf("parse(%q, %d) = %v and counted %d missing values", s, d, got, n)
			}
			if !math.IsNaN(got) && (math.IsNaN(v) || !possible(got, d)) {
				t.Errorf("parse(%q, %d) = %v, ParseValue = %v, limits %v", s, d, got, v, limits[d])
			}
		}
		before = ParseStats()
		w, h, ok := ParseResolution(s)
		if ok && (!possible(w, dimPixels) || !possible(h, dimPixels) || w == 0 || h == 0) {
			t.Errorf("ParseResolution(%q) = %v, %v, true", s, w, h)
		}
		if n := counted(before); ok && n != 0 || n > 1 {
			t.Errorf("ParseResolution(%q) = %v and counted %d missing values", s, ok, n)
		}
	})
}

var sink float64

func BenchmarkParseValue(b *testing.B) {
	inputs := []string{"23 kbps", "27.15kbps", "1.2 Mbps", "126 ms", "0.3%", "12 fps", "8%", ""}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sink += ParseValue(inputs[i%len(inputs)])
	}
}
