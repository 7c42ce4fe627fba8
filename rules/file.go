// Package rules is the rules file of qoswatch: its strict YAML loader, the
// expr compiler that turns each `when` into an engine.Condition, the routes,
// the summary templates, and the tools rule authors use (check, test,
// explain).
package rules

// The types below are the file as written. They are only the shape: Parse
// checks them, fills in defaults and compiles them into a Set. The yaml tags
// are the keys; the json tags feed the JSON Schema (schema.json), and the
// `doc` tags are the schema's descriptions.

// File is a whole rules file.
type File struct {
	Defaults Defaults      `yaml:"defaults" json:"defaults" doc:"Values every rule inherits unless it sets its own."`
	Routes   []RouteSpec   `yaml:"routes" json:"routes" doc:"Where notifications go. The first route whose when matches wins; a route without when matches every alert. No match: defaults.channel."`
	Inhibit  []InhibitSpec `yaml:"inhibit" json:"inhibit" doc:"Alerts folded into another alert, as Alertmanager's inhibit_rules: while an alert of source_rule fires, the alerts of target_rules in the same webinar that started with it are recorded but not posted, and the source alert counts them. The presenter's uplink: a host's audio input alert folds the attendees' audio output alerts."`
	Rules    []RuleSpec    `yaml:"rules" json:"rules" doc:"The rules. Each one is evaluated against every participant's sample, once a minute."`
	Report   ReportSpec    `yaml:"report" json:"report" doc:"The post-webinar report: when a webinar or meeting ends, one summary message and its chart. Off unless channel is set."`
}

// ReportSpec is where the post-webinar report goes.
type ReportSpec struct {
	Channel string `yaml:"channel" json:"channel" doc:"The Slack channel (#name or id) the report of every webinar or meeting that ends is posted to, with its chart (needs the files:write scope). Empty: no report is posted (qoswatch report still prints it)."`
}

// InhibitSpec is one inhibition as written.
type InhibitSpec struct {
	SourceRule  string   `yaml:"source_rule" json:"source_rule" kind:"name" doc:"Required. The rule whose firing alert folds the others (presenter-audio)."`
	TargetRules []string `yaml:"target_rules" json:"target_rules" doc:"Required. The rules whose alerts it folds (hears-audio-breakup)."`
	Match       []string `yaml:"match" json:"match" doc:"What the source and the target alert must share: source (the same webinar or meeting: always required) and label names whose values must be equal. Default [source]."`
	Window      string   `yaml:"window" json:"window" kind:"duration" doc:"A target alert is folded only when its condition started no earlier than this before the source alert's did (an attendee's minute may show the loss a minute before the presenter's). Default 2m."`
}

// Defaults are inherited by every rule.
type Defaults struct {
	For            string `yaml:"for" json:"for" kind:"duration" doc:"How long the condition must hold before the alert fires (Go duration: 90s, 2m, 1h). Default 2m."`
	KeepFiringFor  string `yaml:"keep_firing_for" json:"keep_firing_for" kind:"duration" doc:"How long the alert keeps firing after the condition stopped holding (or clear held). Default 2m."`
	RepeatInterval string `yaml:"repeat_interval" json:"repeat_interval" kind:"duration" doc:"Tell again after this long while still firing. Default 1h."`
	AckExpiry      string `yaml:"ack_expiry" json:"ack_expiry" kind:"duration" doc:"How long an acknowledgement (Slack's Acknowledge, qoswatch ack) holds: an alert still firing that long after it is told again. 0s: until it resolves. Default 1h."`
	Severity       string `yaml:"severity" json:"severity" kind:"severity" doc:"info, warning or critical. Default warning."`
	Channel        string `yaml:"channel" json:"channel" doc:"The Slack channel (#name or id) when no route matches."`
}

// RouteSpec is one route: where matching notifications go.
type RouteSpec struct {
	When    string   `yaml:"when" json:"when" kind:"expr" doc:"An expr over the alert: rule, severity, labels, source, participant. Empty matches every alert."`
	Channel string   `yaml:"channel" json:"channel" doc:"The Slack channel (#name or id). Empty: defaults.channel."`
	Mention string   `yaml:"mention" json:"mention" doc:"Who to mention in the first message: <!subteam^ID>, <@U…>, <!here>."`
	Redact  []string `yaml:"redact" json:"redact" kind:"participant_field" doc:"Participant fields this channel must not see: ip_address, mac_addr, harddisk_id, pc_name, email, …"`

	index int // position in the file's routes, for messages
}

// RuleSpec is one rule as written.
type RuleSpec struct {
	Name           string            `yaml:"name" json:"name" kind:"name" doc:"Required. Unique name: lower-case letters, digits and dashes (choppy-audio)."`
	Description    string            `yaml:"description" json:"description" doc:"Why this rule exists and what to do; shown in the message."`
	When           string            `yaml:"when" json:"when" kind:"expr" doc:"Required. An expr over the sample that is true when quality is bad: audio_input.avg_loss > 2 && latency > 150."`
	Clear          string            `yaml:"clear" json:"clear" kind:"expr" doc:"Optional hysteresis: a firing alert resolves only when this holds (for keep_firing_for). Default: when no longer holds."`
	For            string            `yaml:"for" json:"for" kind:"duration" doc:"How long when must hold before the alert fires. Default: defaults.for."`
	KeepFiringFor  string            `yaml:"keep_firing_for" json:"keep_firing_for" kind:"duration" doc:"How long it keeps firing after it stopped holding. Default: defaults.keep_firing_for."`
	RepeatInterval string            `yaml:"repeat_interval" json:"repeat_interval" kind:"duration" doc:"Tell again after this long while firing. Default: defaults.repeat_interval."`
	AckExpiry      string            `yaml:"ack_expiry" json:"ack_expiry" kind:"duration" doc:"How long an acknowledgement holds while the alert still fires; 0s: until it resolves. Default: defaults.ack_expiry."`
	Severity       string            `yaml:"severity" json:"severity" kind:"severity" doc:"info, warning or critical. Default: defaults.severity."`
	Labels         map[string]string `yaml:"labels" json:"labels" doc:"Extra key/value pairs for routes and silences (team: support)."`
	Scope          string            `yaml:"scope" json:"scope" kind:"scope" doc:"participant (the default): one alert per participant, when over its sample; source: one alert per webinar or meeting, when over its current participants (count(), fraction(cond), avg(x), p95(x), max(x), min(x), each with an optional filter: fraction(audio_output.avg_loss > 2, role == \"attendee\") > 0.1)."`
	Summary        string            `yaml:"summary" json:"summary" kind:"template" doc:"A Go text/template naming values as when does: {{ .participant.user_name }}, {{ num .audio_input.avg_loss }}, {{ .labels.team }}."`
}
