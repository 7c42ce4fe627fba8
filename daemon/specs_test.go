package daemon

import (
	"reflect"
	"strings"
	"testing"

	"github.com/qoswatch/qoswatch/httpapi"
	"github.com/qoswatch/qoswatch/store"
	"github.com/qoswatch/qoswatch/zoom"
)

// TestMetricSpecsNameRealFields: every spec of httpapi.DefaultSpecs names
// a field of the Stats struct the daemon registers under that subsystem.
// A field renamed in its package would otherwise lose its documented
// metric name silently (it falls back to an automatic one).
func TestMetricSpecsNameRealFields(t *testing.T) {
	types := map[string]reflect.Type{
		"store":  reflect.TypeFor[store.Stats](),
		"zoom":   reflect.TypeFor[zoom.Stats](),
		"poller": reflect.TypeFor[zoom.PollerStats](),
	}
	for path := range httpapi.DefaultSpecs() {
		parts := strings.Split(path, ".")
		typ, ok := types[parts[0]]
		if !ok {
			t.Errorf("spec %s: no subsystem %q is registered", path, parts[0])
			continue
		}
		for _, name := range parts[1:] {
			for typ.Kind() == reflect.Map || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Pointer {
				typ = typ.Elem()
			}
			f, ok := typ.FieldByName(name)
			if !ok || typ.Kind() != reflect.Struct {
				t.Errorf("spec %s: %s has no field %s", path, typ, name)
				break
			}
			typ = f.Type
		}
	}
}
