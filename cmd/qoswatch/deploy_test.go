package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit: the unit in deploy/ is the one docs/operations.md
// shows, it hands the API token over like the other secrets, and every
// setting it names is one `qoswatch run` reads; with its files in place
// the configuration it makes passes validation.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("../../deploy/qoswatch.service")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, unit) {
		t.Error("docs/operations.md does not show deploy/qoswatch.service as it is")
	}
	var help bytes.Buffer
	run(context.Background(), []string{"qoswatch", "run", "--help"}, &help, &help, envOf(nil))

	creds := t.TempDir() // stands for systemd's %d
	env := map[string]string{"ZOOM_ACCOUNT_ID": "acct", "ZOOM_CLIENT_ID": "client"}
	sc := bufio.NewScanner(bytes.NewReader(unit))
	for sc.Scan() {
		line := sc.Text()
		if cred, ok := strings.CutPrefix(line, "LoadCredential="); ok {
			name, _, _ := strings.Cut(cred, ":")
			os.WriteFile(filepath.Join(creds, name), []byte(name+"-0123456789abcdef-value\n"), 0o600)
		}
		kv, ok := strings.CutPrefix(line, "Environment=")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if !strings.Contains(help.String(), k) {
			t.Errorf("the unit sets %s, which qoswatch run does not read", k)
		}
		env[k] = strings.ReplaceAll(v, "%d", creds)
	}
	if !strings.HasSuffix(env["QOSWATCH_API_TOKEN_FILE"], "/api-token") {
		t.Errorf("the unit hands over no API token (QOSWATCH_API_TOKEN_FILE = %q)", env["QOSWATCH_API_TOKEN_FILE"])
	}
	r, err := parseRun(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cfg.Validate(); err != nil {
		t.Errorf("the unit's configuration: %v", err)
	}
	if r.cfg.APIToken == "" {
		t.Error("the unit's API token file was not read")
	}
}

// TestDockerExampleSetsAToken: the image listens beyond loopback, so its
// documented run commands pass QOSWATCH_API_TOKEN (without it the
// container refuses to start).
func TestDockerExampleSetsAToken(t *testing.T) {
	seen := 0
	for _, file := range []string{"../../Dockerfile", "../../docs/operations.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "docker run -d") || strings.Contains(line, "#   docker run") {
				// the -e flags continue on the next lines: look at the command
				seen++
				cmd := string(b)[strings.Index(string(b), line):]
				if end := strings.Index(cmd, "qoswatch\n"); end > 0 {
					cmd = cmd[:end]
				}
				if !strings.Contains(cmd, "-e QOSWATCH_API_TOKEN") {
					t.Errorf("%s: the docker run example passes no QOSWATCH_API_TOKEN:\n%s", file, cmd)
				}
			}
		}
	}
	if seen < 2 {
		t.Errorf("found %d docker run examples, want the Dockerfile's and the docs'", seen)
	}
}
