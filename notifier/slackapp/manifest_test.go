package slackapp_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// manifest is the part of Slack's app manifest schema qoswatch uses
// (https://docs.slack.dev/reference/app-manifest); strict decoding
// refuses a key outside it, such as a misspelt one.
type manifest struct {
	Metadata struct {
		MajorVersion int `yaml:"major_version"`
		MinorVersion int `yaml:"minor_version"`
	} `yaml:"_metadata"`
	DisplayInformation struct {
		Name            string `yaml:"name"`
		Description     string `yaml:"description"`
		BackgroundColor string `yaml:"background_color"`
	} `yaml:"display_information"`
	Features struct {
		BotUser struct {
			DisplayName  string `yaml:"display_name"`
			AlwaysOnline bool   `yaml:"always_online"`
		} `yaml:"bot_user"`
		SlashCommands []struct {
			Command      string `yaml:"command"`
			Description  string `yaml:"description"`
			UsageHint    string `yaml:"usage_hint"`
			ShouldEscape bool   `yaml:"should_escape"`
			URL          string `yaml:"url"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		Interactivity struct {
			IsEnabled  bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url"`
		} `yaml:"interactivity"`
		OrgDeployEnabled     bool `yaml:"org_deploy_enabled"`
		SocketModeEnabled    bool `yaml:"socket_mode_enabled"`
		TokenRotationEnabled bool `yaml:"token_rotation_enabled"`
	} `yaml:"settings"`
}

// TestAppManifest: docs/slack-app-manifest.yaml parses strictly, asks
// for every scope qoswatch uses, turns interactivity and Socket Mode on,
// and declares /qoswatch with the subcommands the app answers; it tells
// where connections:write comes from.
func TestAppManifest(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "slack-app-manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.UnmarshalWithOptions(raw, &m, yaml.Strict()); err != nil {
		t.Fatalf("docs/slack-app-manifest.yaml: %v", err)
	}
	for _, s := range []string{"chat:write", "commands", "usergroups:read", "files:write", "channels:history", "groups:history"} {
		if !slices.Contains(m.OAuthConfig.Scopes.Bot, s) {
			t.Errorf("bot scope %s is missing", s)
		}
	}
	if !m.Settings.Interactivity.IsEnabled || !m.Settings.SocketModeEnabled {
		t.Errorf("interactivity %v, socket mode %v: want both on", m.Settings.Interactivity.IsEnabled, m.Settings.SocketModeEnabled)
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/qoswatch" {
		t.Fatalf("slash commands: %+v", m.Features.SlashCommands)
	}
	for _, sub := range []string{"alerts", "ack <alert>", "silence <rule or participant> <duration> [reason]", "help"} {
		if !strings.Contains(m.Features.SlashCommands[0].UsageHint, sub) {
			t.Errorf("usage hint %q lacks %q", m.Features.SlashCommands[0].UsageHint, sub)
		}
	}
	if m.DisplayInformation.Name == "" || m.Features.BotUser.DisplayName == "" {
		t.Error("the app has no name")
	}
	if !strings.Contains(string(raw), "connections:write") {
		t.Error("the manifest does not say where connections:write comes from")
	}
}
