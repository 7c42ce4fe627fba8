package rules

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	yamlast "github.com/goccy/go-yaml/ast"

	"github.com/qoswatch/qoswatch/engine"
)

// Summary is a rule's compiled summary template; it implements
// engine.Template.
type Summary struct{ t *template.Template }

var _ engine.Template = (*Summary)(nil)

// Render executes the summary for one notification.
func (s *Summary) Render(n *engine.Notification) (string, error) {
	var b strings.Builder
	if err := s.t.Execute(&b, n); err != nil {
		return "", err
	}
	return b.String(), nil
}

// templateFuncs are the helpers a summary may use beyond text/template's.
var templateFuncs = template.FuncMap{
	// num renders a number short, and NaN as "missing":
	// {{ num .Sample.AudioInput.AvgLoss }} → 3.5
	"num": func(f float64) string {
		if math.IsNaN(f) {
			return "missing"
		}
		return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
	},
}

// tmplPosRE finds text/template's position in its errors:
// `template: summary:1:14: executing "summary" at <.X>: ...`.
var tmplPosRE = regexp.MustCompile(`^template: summary:(\d+)(?::(\d+))?: (?:executing "summary" )?`)

// template parses a summary and executes it once against the notification
// the rule would produce, so a bad field is a load error, not a blank in
// Slack. A label the rule does not have is an error too.
func (l *loader) template(n yamlast.Node, src string, r *engine.Rule) *Summary {
	t, err := template.New("summary").Option("missingkey=error").Funcs(templateFuncs).Parse(src)
	if err == nil {
		probe := engine.Notification{Rule: engine.RuleInfo{Name: r.Name, Severity: r.Severity, Labels: r.Labels, For: r.For}}
		probe.Sample = engine.NewSample()
		err = t.Execute(discard{}, &probe)
	}
	if err != nil {
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
		l.errorAt(line, col, r.Name, "summary: %s", msg)
		return nil
	}
	return &Summary{t: t}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
