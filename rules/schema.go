package rules

import (
	_ "embed"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/qoswatch/qoswatch/engine"
)

// Schema is the JSON Schema of the rules file (schema.json), for editors:
// rules.example.yaml points yaml-language-server at it. TestSchema keeps it
// equal to GenerateSchema, which derives it from the Go types.
//
//go:embed schema.json
var Schema []byte

// TestFileSchema is the JSON Schema of rule test files (test.schema.json).
//
//go:embed test.schema.json
var TestFileSchema []byte

// GenerateSchema derives the JSON Schema of the rules file from File and
// its fields' tags (yaml key, doc, kind).
func GenerateSchema() []byte {
	return topSchema(reflect.TypeFor[File](), "qoswatch rules file",
		"Rules that watch Zoom call quality and where their alerts go. See docs/rules.md.", "rules")
}

// GenerateTestSchema derives the JSON Schema of rule test files.
func GenerateTestSchema() []byte {
	return topSchema(reflect.TypeFor[TestFile](), "qoswatch rule tests",
		"Series of QoS values per participant, fed to the real engine, and the alerts expected at given minutes. See docs/rules.md.", "rules", "tests")
}

func topSchema(t reflect.Type, title, desc string, required ...string) []byte {
	s := schemaOf(t, "")
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	s["title"] = title
	s["description"] = desc
	s["required"] = required
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err) // only maps, slices and strings: cannot fail
	}
	return append(out, '\n')
}

type jsonObject = map[string]any

func schemaOf(t reflect.Type, kind string) jsonObject {
	switch kind {
	case "duration":
		return jsonObject{"type": "string", "pattern": `^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`}
	case "severity":
		return jsonObject{"type": "string", "enum": []string{"info", "warning", "critical"}}
	case "scope":
		return jsonObject{"type": "string", "enum": []string{ScopeParticipant, ScopeSource}}
	case "name":
		return jsonObject{"type": "string", "pattern": nameRE.String()}
	case "participant_field":
		return jsonObject{"type": "array", "items": jsonObject{"type": "string", "enum": participantFields}}
	}
	switch t {
	case reflect.TypeFor[TestParticipant]():
		props := jsonObject{"series": jsonObject{"type": "object",
			"description":          "sample field (audio_input.avg_loss, latency…) → one value a minute: \"0 0 3.5 3.5x3 _\" (_ missing, VxN repeats V N times).",
			"additionalProperties": jsonObject{"type": "string"}}}
		for _, f := range participantFields {
			props[f] = jsonObject{"type": "string"}
		}
		return jsonObject{"type": "object", "additionalProperties": false, "properties": props, "required": []string{"user_id"}}
	case reflect.TypeFor[engine.SourceKind]():
		return jsonObject{"type": "string", "enum": []engine.SourceKind{engine.Webinar, engine.Meeting}}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), kind)
	case reflect.String:
		return jsonObject{"type": "string"}
	case reflect.Int:
		return jsonObject{"type": "integer", "minimum": 0}
	case reflect.Bool:
		return jsonObject{"type": "boolean"}
	case reflect.Slice:
		return jsonObject{"type": "array", "items": schemaOf(t.Elem(), "")}
	case reflect.Map:
		return jsonObject{"type": "object", "propertyNames": jsonObject{"pattern": labelRE.String()}, "additionalProperties": schemaOf(t.Elem(), "")}
	case reflect.Struct:
		props := jsonObject{}
		var required []string
		for i := range t.NumField() {
			f := t.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key == "" { // engine types have json tags only; goccy reads those too
				key, _, _ = strings.Cut(f.Tag.Get("json"), ",")
			}
			if key == "" || key == "-" || !f.IsExported() {
				continue
			}
			p := schemaOf(f.Type, f.Tag.Get("kind"))
			if doc := f.Tag.Get("doc"); doc != "" {
				p["description"] = doc
			}
			props[key] = p
			if strings.HasPrefix(f.Tag.Get("doc"), "Required.") {
				required = append(required, key)
			}
		}
		s := jsonObject{"type": "object", "additionalProperties": false, "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return jsonObject{}
}
