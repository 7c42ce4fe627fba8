package rules

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/expr-lang/expr"

	"github.com/qoswatch/qoswatch/engine"
)

// numberPaths lists every number field of the sample by its rule name.
func numberPaths() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := prefix + f.Tag.Get("expr")
			switch f.Type.Kind() {
			case reflect.Float64:
				out = append(out, name)
			case reflect.Struct:
				walk(f.Type, name+".")
			}
		}
	}
	walk(reflect.TypeFor[engine.Sample](), "")
	return out
}

var stringPaths = []string{"participant.role", "participant.network_type", "source.kind", "participant.version", "video_input.resolution"}
var stringValues = []string{"", "host", "panelist", "attendee", "Wifi", "webinar", "meeting", "5.15", "6.0.2", "1280*720"}
var numberConsts = []string{"0", "2", "-70", "150", "3.5", "1e3"}

func randomExpr(r *rand.Rand, nums []string, depth int) string {
	if depth > 0 && r.IntN(3) > 0 {
		a, b := randomExpr(r, nums, depth-1), randomExpr(r, nums, depth-1)
		switch r.IntN(5) {
		case 0:
			return "!(" + a + ")"
		case 1, 2:
			return "(" + a + " && " + b + ")"
		default:
			return "(" + a + " || " + b + ")"
		}
	}
	ops := []string{"<", ">", "<=", ">=", "==", "!="}
	num := func() string { return nums[r.IntN(len(nums))] }
	str := func() string { return stringPaths[r.IntN(len(stringPaths))] }
	lit := func() string { return fmt.Sprintf("%q", stringValues[r.IntN(len(stringValues))]) }
	switch r.IntN(8) {
	case 0:
		return num() + " " + ops[r.IntN(6)] + " " + num()
	case 1:
		return str() + " " + ops[r.IntN(6)] + " " + lit()
	case 2:
		return str() + " in [" + lit() + ", " + lit() + "]"
	case 3:
		return str() + " not in [" + lit() + "]"
	case 4:
		return "known(" + num() + ")"
	case 5:
		return str() + " " + []string{"startsWith", "endsWith", "contains"}[r.IntN(3)] + " " + lit()
	case 6:
		return numberConsts[r.IntN(len(numberConsts))] + " " + ops[r.IntN(6)] + " " + num()
	}
	return num() + " " + ops[r.IntN(6)] + " " + numberConsts[r.IntN(len(numberConsts))]
}

func randomSample(r *rand.Rand, nums []string) *engine.Sample {
	s := engine.NewSample()
	for _, p := range nums {
		set, _, _ := sampleField(p)
		switch r.IntN(5) {
		case 0: // missing: stays NaN
		case 1:
			set(&s, []float64{0, 2, -70, 150, 3.5, 1000}[r.IntN(6)]) // on a threshold
		default:
			set(&s, math.Round((r.Float64()*400-100)*10)/10)
		}
	}
	pick := func() string { return stringValues[r.IntN(len(stringValues))] }
	s.Participant.Role, s.Participant.NetworkType, s.Participant.Version = pick(), pick(), pick()
	s.Source.Kind, s.VideoInput.Resolution = engine.SourceKind(pick()), pick()
	return &s
}

// TestFastMatchesVM holds the fast path to expr's own VM: random
// expressions over every number field and the string fields, on random
// samples with missing (NaN) values and values on the thresholds.
func TestFastMatchesVM(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	nums := numberPaths()
	if len(nums) < 59 { // 6 streams × 8, cpu 4, wifi 3, aggregates 4
		t.Fatalf("only %d number fields", len(nums))
	}
	samples := make([]*engine.Sample, 200)
	for i := range samples {
		samples[i] = randomSample(r, nums)
	}
	for range 400 {
		src := randomExpr(r, nums, 3)
		l := &loader{file: "fast"}
		c := l.compile(nil, src, "", sampleEnv, "when")
		if c == nil {
			t.Fatalf("%s: %v", src, l.errs)
		}
		if c.fast == nil {
			t.Fatalf("%s: not on the fast path", src)
		}
		for _, s := range samples {
			out, err := expr.Run(c.prog, s)
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			if got := c.fast(s); got != out.(bool) {
				t.Fatalf("%s: fast %v, vm %v on %+v", src, got, out, s)
			}
		}
	}
}

// TestSlowPath: what the fast path does not know still runs, on the VM.
func TestSlowPath(t *testing.T) {
	s := sample(func(s *engine.Sample) { s.AudioInput.AvgLoss = 2; s.Participant.UserName = "Jane Doe" })
	for _, src := range []string{
		"audio_input.avg_loss * 2 > 3",
		"len(participant.user_name) > 3",
		`participant.user_name matches "^Jane"`,
		"max(audio_input.avg_loss, 1) == 2",
	} {
		l := &loader{file: "slow"}
		c := l.compile(nil, src, "", sampleEnv, "when")
		if c == nil || c.fast != nil {
			t.Fatalf("%s: compiled %v, fast %v", src, c != nil, c != nil && c.fast != nil)
		}
		if ok, err := c.Eval(s); !ok || err != nil {
			t.Errorf("%s: %v, %v", src, ok, err)
		}
	}
	if !strings.Contains(fmt.Sprint(numberPaths()), "wifi_rssi.min_rssi") {
		t.Error("numberPaths misses nested fields")
	}
}
