package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// The JSON form of the domain types, which the store writes (see
// docs/architecture.md, "The database file"). encoding/json cannot write
// NaN, and NaN is how a sample says "missing": here a missing number is
// null, and null or an absent field reads back as missing. ±Inf, which no
// QoS value can be, is written as null too, so no sample can make a
// commit fail.
//
// Each float of Stream, CPUUsage, WiFiRSSI and Sample is shadowed by a
// jsonNum of the same JSON name in its MarshalJSON; the other fields come
// from the embedded plain copy. A float field added later without its
// shadow makes json.Marshal fail loudly on NaN (TestJSONEveryField).

// jsonNum is a float64 that marshals NaN and ±Inf as null.
type jsonNum float64

func (n jsonNum) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

func (s Stream) MarshalJSON() ([]byte, error) {
	type plain Stream
	return json.Marshal(struct {
		plain
		Bitrate   jsonNum `json:"bitrate"`
		Latency   jsonNum `json:"latency"`
		Jitter    jsonNum `json:"jitter"`
		AvgLoss   jsonNum `json:"avg_loss"`
		MaxLoss   jsonNum `json:"max_loss"`
		FrameRate jsonNum `json:"frame_rate"`
		Width     jsonNum `json:"width"`
		Height    jsonNum `json:"height"`
	}{plain(s), jsonNum(s.Bitrate), jsonNum(s.Latency), jsonNum(s.Jitter), jsonNum(s.AvgLoss),
		jsonNum(s.MaxLoss), jsonNum(s.FrameRate), jsonNum(s.Width), jsonNum(s.Height)})
}

// UnmarshalJSON starts from a stream with every value missing, so null
// and absent fields stay missing.
func (s *Stream) UnmarshalJSON(b []byte) error {
	type plain Stream
	*s = MissingStream
	return json.Unmarshal(b, (*plain)(s))
}

func (c CPUUsage) MarshalJSON() ([]byte, error) {
	type plain CPUUsage
	return json.Marshal(struct {
		plain
		ZoomMinCPUUsage   jsonNum `json:"zoom_min_cpu_usage"`
		ZoomAvgCPUUsage   jsonNum `json:"zoom_avg_cpu_usage"`
		ZoomMaxCPUUsage   jsonNum `json:"zoom_max_cpu_usage"`
		SystemMaxCPUUsage jsonNum `json:"system_max_cpu_usage"`
	}{plain(c), jsonNum(c.ZoomMinCPUUsage), jsonNum(c.ZoomAvgCPUUsage), jsonNum(c.ZoomMaxCPUUsage), jsonNum(c.SystemMaxCPUUsage)})
}

func (c *CPUUsage) UnmarshalJSON(b []byte) error {
	type plain CPUUsage
	*c = CPUUsage{NaN, NaN, NaN, NaN}
	return json.Unmarshal(b, (*plain)(c))
}

func (w WiFiRSSI) MarshalJSON() ([]byte, error) {
	type plain WiFiRSSI
	return json.Marshal(struct {
		plain
		MaxRSSI jsonNum `json:"max_rssi"`
		AvgRSSI jsonNum `json:"avg_rssi"`
		MinRSSI jsonNum `json:"min_rssi"`
	}{plain(w), jsonNum(w.MaxRSSI), jsonNum(w.AvgRSSI), jsonNum(w.MinRSSI)})
}

func (w *WiFiRSSI) UnmarshalJSON(b []byte) error {
	type plain WiFiRSSI
	*w = WiFiRSSI{NaN, NaN, NaN}
	return json.Unmarshal(b, (*plain)(w))
}

func (s Sample) MarshalJSON() ([]byte, error) {
	type plain Sample
	return json.Marshal(struct {
		plain
		Latency jsonNum `json:"latency"`
		Jitter  jsonNum `json:"jitter"`
		AvgLoss jsonNum `json:"avg_loss"`
		MaxLoss jsonNum `json:"max_loss"`
	}{plain(s), jsonNum(s.Latency), jsonNum(s.Jitter), jsonNum(s.AvgLoss), jsonNum(s.MaxLoss)})
}

// UnmarshalJSON starts from NewSample: whatever the JSON leaves out is
// missing, not zero.
func (s *Sample) UnmarshalJSON(b []byte) error {
	type plain Sample
	*s = NewSample()
	return json.Unmarshal(b, (*plain)(s))
}

// MarshalText writes a state by its name ("firing"), so stored alerts
// read the way the API and the docs name their states.
func (s State) MarshalText() ([]byte, error) {
	if int(s) >= len(stateNames) {
		return nil, fmt.Errorf("engine: unknown alert state %d", uint8(s))
	}
	return []byte(stateNames[s]), nil
}

func (s *State) UnmarshalText(b []byte) error {
	i := slices.Index(stateNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("engine: unknown alert state %q", b)
	}
	*s = State(i)
	return nil
}
