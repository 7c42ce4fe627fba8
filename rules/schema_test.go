package rules

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSchema keeps schema.json equal to what the Go types generate; run
// `go test ./rules -run Schema -update` after changing them.
func TestSchema(t *testing.T) {
	for _, c := range []struct {
		file     string
		gen, got []byte
	}{{"schema.json", GenerateSchema(), Schema}, {"test.schema.json", GenerateTestSchema(), TestFileSchema}} {
		if *update {
			os.WriteFile(c.file, c.gen, 0o644)
			continue
		}
		if !bytes.Equal(c.gen, c.got) {
			t.Errorf("rules/%s is stale: run go test ./rules -run Schema -update", c.file)
		}
	}
}

// TestSchemaCoversTypes checks the schema against the loader's view of the
// file: every yaml key of every type is a property, nothing else is, and
// the example points editors at it.
func TestSchemaCoversTypes(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(Schema, &s); err != nil {
		t.Fatal(err)
	}
	props := func(obj any) []string {
		var keys []string
		for k := range obj.(map[string]any)["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys
	}
	sortedYAMLKeys := func(tp reflect.Type) []string {
		k := yamlKeys(tp)
		k = slices.DeleteFunc(k, func(s string) bool { return s == "" })
		slices.Sort(k)
		return k
	}
	top := s["properties"].(map[string]any)
	for _, c := range []struct {
		obj any
		tp  reflect.Type
	}{
		{s, reflect.TypeFor[File]()},
		{top["defaults"], reflect.TypeFor[Defaults]()},
		{top["routes"].(map[string]any)["items"], reflect.TypeFor[RouteSpec]()},
		{top["rules"].(map[string]any)["items"], reflect.TypeFor[RuleSpec]()},
	} {
		if got, want := props(c.obj), sortedYAMLKeys(c.tp); !slices.Equal(got, want) {
			t.Errorf("%s: schema has %v, the loader knows %v", c.tp.Name(), got, want)
		}
		if c.obj.(map[string]any)["additionalProperties"] != false {
			t.Errorf("%s: the schema allows unknown keys", c.tp.Name())
		}
	}
	rule := top["rules"].(map[string]any)["items"].(map[string]any)
	if got := rule["required"]; !reflect.DeepEqual(got, []any{"name", "when"}) {
		t.Errorf("rule requires %v", got)
	}
	ex, err := os.ReadFile("../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(ex), "\n"); first != "# yaml-language-server: $schema=./rules/schema.json" {
		t.Errorf("rules.example.yaml starts with %q", first)
	}
	ex, _ = os.ReadFile("../rules.example.test.yaml")
	if first, _, _ := strings.Cut(string(ex), "\n"); first != "# yaml-language-server: $schema=./rules/test.schema.json" {
		t.Errorf("rules.example.test.yaml starts with %q", first)
	}
}
