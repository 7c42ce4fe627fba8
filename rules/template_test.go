package rules

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/qoswatch/qoswatch/engine"
)

// TestTemplateErrorsUseRuleNames: a typo in a summary is named with the
// names rules use and a "did you mean"; no Go name of the engine's types
// (ASInput, CPUUsage, WiFiRSSI, engine.Sample) appears in any error.
func TestTemplateErrorsUseRuleNames(t *testing.T) {
	tests := []struct{ summary, want string }{
		{"{{ num .as_input.avg_los }}", ".as_input.avg_los: as_input has no avg_los (did you mean avg_loss?)"},
		{"{{ num .cpu_usage.zoom_avg_cpu }}", "cpu_usage has no zoom_avg_cpu (it has system_max_cpu_usage, zoom_avg_cpu_usage, zoom_max_cpu_usage, zoom_min_cpu_usage)"},
		{"{{ num .wifi_rssi.avg_rsi }}", "wifi_rssi has no avg_rsi (did you mean avg_rssi?)"},
		{"{{ .source.topc }}", "source has no topc (did you mean topic?)"},
		{"{{ num .lantecy }}", ".lantecy: the summary's values has no lantecy (did you mean latency?)"},
		{"{{ .particpant.user_name }}", "the summary's values has no particpant (did you mean participant?)"},
		{"{{ .labels.tema }}", ".labels.tema: the rule has no label tema (its labels: team)"},
		{"{{ .Sample.ASInput.AvgLoss }}", ".Sample.ASInput.AvgLoss: a summary names values as rules do: use .as_input.avg_loss"},
		{"{{ .Sample.CPUUsage.ZoomAvgCPUUsage }}", "use .cpu_usage.zoom_avg_cpu_usage"},
		{"{{ .Sample.WiFiRSSI.AvgRSSI }}", "use .wifi_rssi.avg_rssi"},
		{"{{ .Rule.Labels.team }} {{ .Rule.Name }}", "use .labels.team"},
		{"{{ .as_input.avg_loss.x }}", "as_input.avg_loss"},
	}
	goName := goNames()
	for _, tt := range tests {
		_, err := Parse("r.yaml", []byte("rules:\n  - name: r\n    when: latency > 1\n    labels: {team: av}\n    summary: '"+tt.summary+"'\n"))
		var es Errors
		if !errors.As(err, &es) || len(es) != 1 {
			t.Errorf("%s: %v, want one error", tt.summary, err)
			continue
		}
		if !strings.Contains(es[0].Msg, tt.want) {
			t.Errorf("%s: %q, want %q", tt.summary, es[0].Msg, tt.want)
		}
		// The author's own text aside, no Go name.
		msg := strings.ReplaceAll(es[0].Msg, strings.Trim(tt.summary, "{} "), "")
		if m := goName.FindString(msg); m != "" {
			t.Errorf("%s: the error shows the Go name %q: %s", tt.summary, m, es[0].Msg)
		}
	}
}

// goNames matches the Go names of the sample's types and fields that are
// not also rule names.
func goNames() *regexp.Regexp {
	names := []string{`engine\.`, `float64`}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		names = append(names, `\b`+t.Name()+`\b`)
		for i := range t.NumField() {
			f := t.Field(i)
			names = append(names, `\b`+f.Name+`\b`)
			if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == t.PkgPath() {
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeFor[engine.Sample]())
	return regexp.MustCompile(strings.Join(names, "|"))
}

// TestSummaryRenderNames: a summary renders the notification's values by
// their rule names, a missing number as "missing".
func TestSummaryRenderNames(t *testing.T) {
	set := mustParse(t, `rules:
  - name: a
    when: latency > 150
    severity: critical
    labels: {team: av}
    summary: "{{ .rule }}/{{ .severity }}/{{ .labels.team }}: {{ .participant.role }} {{ .participant.user_name }} in {{ .source.kind }} {{ .source.topic }}: {{ num .as_input.avg_loss }}% {{ num .cpu_usage.zoom_avg_cpu_usage }}% {{ num .wifi_rssi.avg_rssi }} dBm {{ .video_input.resolution }} {{ .time.Format \"15:04\" }}"
`)
	n := &engine.Notification{Rule: engine.RuleInfo{Name: "a", Severity: engine.SeverityCritical, Labels: map[string]string{"team": "av"}},
		Source:      engine.Source{Kind: engine.Webinar, Topic: "All-hands"},
		Participant: engine.Participant{UserName: "Jane Doe", Role: "host"}, Sample: engine.NewSample()}
	n.Sample.ASInput.AvgLoss, n.Sample.CPUUsage.ZoomAvgCPUUsage = 6.04, 91
	n.Sample.VideoInput.Resolution = "1280*720"
	n.Sample.Time = n.Sample.Time.Add(15*3600e9 + 4*60e9)
	got, err := set.Rules()[0].Summary.Render(n)
	if want := "a/critical/av: host Jane Doe in webinar All-hands: 6% 91% missing dBm 1280*720 15:04"; got != want || err != nil {
		t.Errorf("got %q, %v\nwant %q", got, err, want)
	}
}
