package rules

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	yamlast "github.com/goccy/go-yaml/ast"

	"github.com/qoswatch/qoswatch/engine"
)

// Summary is a rule's compiled summary template; it implements
// engine.Template.
//
// A summary names values as `when` does, in Zoom's snake_case:
// {{ .participant.user_name }}, {{ num .audio_input.avg_loss }},
// {{ .source.topic }}, plus the alert's {{ .rule }}, {{ .severity }} and
// {{ .labels.team }}. The data is a map built from the notification, so a
// name is a map key and a typo is "no field", never a Go type's field.
type Summary struct{ t *template.Template }

var _ engine.Template = (*Summary)(nil)

// Render executes the summary for one notification.
func (s *Summary) Render(n *engine.Notification) (string, error) {
	var b strings.Builder
	if err := s.t.Execute(&b, templateData(n)); err != nil {
		return "", fmt.Errorf("summary: %s", templateErrorText(err.Error()))
	}
	return b.String(), nil
}

// templateFuncs are the helpers a summary may use beyond text/template's.
var templateFuncs = template.FuncMap{
	// num renders a number short, and NaN as "missing":
	// {{ num .audio_input.avg_loss }} → 3.5
	"num": func(f float64) string {
		if math.IsNaN(f) {
			return "missing"
		}
		return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
	},
}

// templateData is what a summary sees: the sample's fields by their rule
// names, the notification's source and participant, and the alert's rule,
// severity and labels.
func templateData(n *engine.Notification) map[string]any {
	data := exprMap(reflect.ValueOf(n.Sample))
	data["source"] = exprMap(reflect.ValueOf(n.Source))
	data["participant"] = exprMap(reflect.ValueOf(n.Participant))
	data["rule"] = n.Rule.Name
	data["severity"] = string(n.Rule.Severity)
	labels := map[string]string{}
	for k, v := range n.Rule.Labels {
		labels[k] = v
	}
	data["labels"] = labels
	return data
}

// exprMap turns a struct of the engine into a map by its fields' expr
// tags (the names rules use), recursively; strings of a named type (the
// source's kind) become plain strings.
func exprMap(v reflect.Value) map[string]any {
	m := map[string]any{}
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("expr")
		if name == "" {
			continue
		}
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeFor[time.Time]():
			m[name] = f.Interface()
		case f.Kind() == reflect.Struct:
			m[name] = exprMap(f)
		case f.Kind() == reflect.String:
			m[name] = f.String()
		default:
			m[name] = f.Interface()
		}
	}
	return m
}

// tmplPosRE finds text/template's position in its errors:
// `template: summary:1:14: executing "summary" at <.X>: ...`.
var tmplPosRE = regexp.MustCompile(`^template: summary:(\d+)(?::(\d+))?: (?:executing "summary" )?`)

// noEntryRE is text/template's error for a map key that is not there.
var noEntryRE = regexp.MustCompile(`^at <\.([^>]*)>: map has no entry for key "([^"]*)"$`)

// template parses a summary and executes it once against the notification
// the rule would produce, so a bad field is a load error, not a blank in
// Slack. A label the rule does not have is an error too.
func (l *loader) template(n yamlast.Node, src string, r *engine.Rule) *Summary {
	t, err := template.New("summary").Option("missingkey=error").Funcs(templateFuncs).Parse(src)
	var probe map[string]any
	if err == nil {
		probeN := engine.Notification{Rule: engine.RuleInfo{Name: r.Name, Severity: r.Severity, Labels: r.Labels, For: r.For}}
		probeN.Sample = engine.NewSample()
		probe = templateData(&probeN)
		err = t.Execute(discard{}, probe)
	}
	if err == nil {
		return &Summary{t: t}
	}
	msg := err.Error()
	line, col := nodePos(n)
	if m := tmplPosRE.FindStringSubmatch(msg); m != nil {
		tl, _ := strconv.Atoi(m[1])
		tc := 0
		if m[2] != "" {
			tc, _ = strconv.Atoi(m[2])
		}
		line, col = l.valuePos(n, tl, tc)
		msg = msg[len(m[0]):]
	}
	l.errorAt(line, col, r.Name, "summary: %s", explainTemplateError(msg, probe))
	return nil
}

// explainTemplateError words text/template's error for a rule author: a
// name that is not there gets "did you mean"; a Go name (from before
// summaries used the rule names) gets the name to use.
func explainTemplateError(msg string, data map[string]any) string {
	m := noEntryRE.FindStringSubmatch(msg)
	if m == nil {
		return templateErrorText(msg)
	}
	path, key := m[1], m[2]
	if key != "" && key[0] >= 'A' && key[0] <= 'Z' {
		if rule := ruleName(path); rule != "" {
			return fmt.Sprintf(".%s: a summary names values as rules do: use .%s", path, rule)
		}
	}
	// Walk the data to the map that lacks key: the names beside it are
	// the ones to suggest.
	var names, parents []string
	node := any(data)
	for p := range strings.SplitSeq(path, ".") {
		var next any
		var ok bool
		names = names[:0]
		switch mm := node.(type) {
		case map[string]any:
			next, ok = mm[p]
			for k := range mm {
				names = append(names, k)
			}
		case map[string]string:
			next, ok = mm[p]
			for k := range mm {
				names = append(names, k)
			}
		}
		if !ok {
			break
		}
		parents = append(parents, p)
		node = next
	}
	parent := strings.Join(parents, ".")
	slices.Sort(names)
	where := "the summary's values"
	if parent != "" {
		where = parent
	}
	if parent == "labels" {
		if len(names) == 0 {
			return fmt.Sprintf(".%s: the rule has no label %s (it sets no labels)", path, key)
		}
		return fmt.Sprintf(".%s: the rule has no label %s (its labels: %s)", path, key, strings.Join(names, ", "))
	}
	if c := closest(key, names); c != "" {
		return fmt.Sprintf(".%s: %s has no %s (did you mean %s?)", path, where, key, c)
	}
	return fmt.Sprintf(".%s: %s has no %s (it has %s)", path, where, key, strings.Join(names, ", "))
}

// templateErrorText strips text/template's prefix from an error at run
// time.
func templateErrorText(msg string) string {
	if m := tmplPosRE.FindStringSubmatch(msg); m != nil {
		return msg[len(m[0]):]
	}
	return msg
}

// ruleName translates a Go field path of the notification
// (Participant.UserName, Sample.ASInput.AvgLoss, Rule.Labels.team) to the
// name a summary uses (participant.user_name, as_input.avg_loss,
// labels.team), or "".
func ruleName(path string) string {
	parts := strings.Split(path, ".")
	switch parts[0] {
	case "Rule":
		if len(parts) == 2 && parts[1] == "Name" {
			return "rule"
		}
		if len(parts) == 2 && parts[1] == "Severity" {
			return "severity"
		}
		if len(parts) == 3 && parts[1] == "Labels" {
			return "labels." + parts[2]
		}
		return ""
	case "Sample":
		parts = parts[1:]
	}
	t := reflect.TypeFor[engine.Sample]()
	var out []string
	for _, p := range parts {
		if t.Kind() != reflect.Struct {
			return ""
		}
		f, ok := t.FieldByName(p)
		if !ok || f.Tag.Get("expr") == "" {
			return ""
		}
		out = append(out, f.Tag.Get("expr"))
		t = f.Type
	}
	return strings.Join(out, ".")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
