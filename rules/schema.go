package rules

import (
	_ "embed"
	"encoding/json"
	"reflect"
	"strings"
)

// Schema is the JSON Schema of the rules file (schema.json), for editors:
// rules.example.yaml points yaml-language-server at it. TestSchema keeps it
// equal to GenerateSchema, which derives it from the Go types.
//
//go:embed schema.json
var Schema []byte

// GenerateSchema derives the JSON Schema of the rules file from File and
// its fields' tags (yaml key, doc, kind).
func GenerateSchema() []byte {
	s := schemaOf(reflect.TypeFor[File](), "")
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	s["title"] = "qoswatch rules file"
	s["description"] = "Rules that watch Zoom call quality and where their alerts go. See the README, section Rules."
	s["required"] = []string{"rules"}
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
	case "name":
		return jsonObject{"type": "string", "pattern": nameRE.String()}
	case "participant_field":
		return jsonObject{"type": "array", "items": jsonObject{"type": "string", "enum": participantFields}}
	}
	switch t.Kind() {
	case reflect.String:
		return jsonObject{"type": "string"}
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
			if key == "" || !f.IsExported() {
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
