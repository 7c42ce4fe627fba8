package rules

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/goccy/go-yaml"
)

// TestSchemaValidatesFiles runs schema.json through a real schema validator
// (kin-openapi's, already a module of the repo; a test-only import): the example validates, and the mistakes an
// editor should underline do not.
func TestSchemaValidatesFiles(t *testing.T) {
	var s, ts openapi3.Schema
	if err := json.Unmarshal(Schema, &s); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(TestFileSchema, &ts); err != nil {
		t.Fatal(err)
	}
	validateWith := func(s *openapi3.Schema, src []byte) error {
		var doc any
		if err := yaml.Unmarshal(src, &doc); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(doc) // YAML maps → JSON types
		var v any
		json.Unmarshal(b, &v)
		return s.VisitJSON(v, openapi3.MultiErrors())
	}
	validate := func(src []byte) error { return validateWith(&s, src) }
	ex, _ := os.ReadFile("../rules.example.yaml")
	if err := validate(ex); err != nil {
		t.Errorf("rules.example.yaml: %v", err)
	}
	ext, _ := os.ReadFile("../rules.example.test.yaml")
	if err := validateWith(&ts, ext); err != nil {
		t.Errorf("rules.example.test.yaml: %v", err)
	}
	badTest, _ := os.ReadFile("testdata/ruletests/unknown-key.test.yaml")
	if validateWith(&ts, badTest) == nil {
		t.Error("the test schema accepts an unknown key")
	}
	for _, bad := range []string{"unknown-key", "unknown-top-key", "wrong-type", "bad-duration", "unknown-severity", "malformed-name", "missing-when", "missing-name", "route-redact"} {
		// label-name is left out: kin-openapi speaks OpenAPI 3.0's dialect,
		// which has no propertyNames; editors do check it.
		src, _ := os.ReadFile("testdata/bad/" + bad + ".yaml")
		if err := validate(src); err == nil {
			t.Errorf("%s: the schema accepts it", bad)
		}
	}
}
