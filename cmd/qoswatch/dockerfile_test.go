package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// No Docker engine runs in CI, so this test keeps the Dockerfile honest:
// it runs the Dockerfile's own build line and checks the image settings
// docs/operations.md ("Deploy with Docker") promises.

const repoRoot = "../.."

// dockerfile is the Dockerfile with continuation lines joined.
func dockerfile(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\"))
			continue
		}
		cur.WriteString(line)
		lines = append(lines, strings.Join(strings.Fields(cur.String()), " "))
		cur.Reset()
	}
	return lines
}

var (
	dockerBuildOnce sync.Once
	dockerBinary    string
	dockerBuildErr  string
)

// buildLikeDocker runs the Dockerfile's `go build` line (with VERSION set
// and the output in a temp dir) once per test binary and returns the path.
func buildLikeDocker(t *testing.T) string {
	t.Helper()
	lines := dockerfile(t)
	dockerBuildOnce.Do(func() {
		var build string
		for _, l := range lines {
			if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
				build = strings.TrimPrefix(l, "RUN ")
			}
		}
		if build == "" {
			dockerBuildErr = "no RUN ... go build line in the Dockerfile"
			return
		}
		out, err := os.MkdirTemp("", "qoswatch-docker-build")
		if err != nil {
			dockerBuildErr = err.Error()
			return
		}
		re := regexp.MustCompile(`-o (\S+)`)
		m := re.FindStringSubmatch(build)
		if m == nil {
			dockerBuildErr = "the build line has no -o OUTPUT: " + build
			return
		}
		bin := filepath.Join(out, "qoswatch")
		build = strings.Replace(build, m[0], "-o "+bin, 1)
		cmd := exec.Command("sh", "-c", build)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "VERSION=dockerfile-test")
		if b, err := cmd.CombinedOutput(); err != nil {
			dockerBuildErr = "the Dockerfile's build line failed: " + build + "\n" + string(b)
			return
		}
		dockerBinary = bin
	})
	if dockerBuildErr != "" {
		t.Fatal(dockerBuildErr)
	}
	return dockerBinary
}

func TestDockerfileBuildsAStaticBinaryWithItsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildLikeDocker(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", bin, err, out)
	}
	if !strings.HasPrefix(string(out), "qoswatch dockerfile-test ") {
		t.Errorf("version = %q, want the VERSION build arg in it", out)
	}
	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the binary is dynamically linked; distroless/static needs CGO_ENABLED=0")
			}
		}
	}
}

func TestDockerfileImageSettings(t *testing.T) {
	lines := dockerfile(t)
	text := strings.Join(lines, "\n")

	goMod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVer := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
	if goVer == nil {
		t.Fatal("no go directive in go.mod")
	}
	if !strings.Contains(text, "FROM golang:"+string(goVer[1])) {
		t.Errorf("the build stage is not FROM golang:%s (go.mod's version)", goVer[1])
	}

	var user, entry, cmd, health string
	env := map[string]string{}
	for _, l := range lines {
		word, rest, _ := strings.Cut(l, " ")
		switch word {
		case "USER":
			user = rest
		case "ENTRYPOINT":
			entry = rest
		case "CMD":
			cmd = rest
		case "HEALTHCHECK":
			health = rest
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		case "COPY":
			// Files copied from the build context must exist in the repo.
			if !strings.Contains(rest, "--from=") {
				fields := strings.Fields(rest)
				for _, src := range fields[:len(fields)-1] {
					if strings.HasPrefix(src, "--") || src == "." {
						continue
					}
					if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
						t.Errorf("COPY %s: not in the repo: %v", src, err)
					}
				}
			}
		}
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("USER = %q, want a non-root user", user)
	}
	if env["QOSWATCH_LISTEN"] != ":9797" {
		t.Errorf("QOSWATCH_LISTEN = %q, want :9797", env["QOSWATCH_LISTEN"])
	}
	if !strings.HasPrefix(env["QOSWATCH_DB"], "/data/") {
		t.Errorf("QOSWATCH_DB = %q, want it on the /data volume", env["QOSWATCH_DB"])
	}
	if !strings.Contains(text, `VOLUME ["/data"]`) {
		t.Error("no VOLUME /data")
	}
	if !strings.Contains(health, `"healthcheck"`) {
		t.Errorf("HEALTHCHECK = %q, want the qoswatch healthcheck subcommand", health)
	}
	if !strings.Contains(entry, "qoswatch") || cmd != `["run"]` {
		t.Errorf("ENTRYPOINT %s CMD %s, want qoswatch run", entry, cmd)
	}
	// The healthcheck derives its URL from the image's QOSWATCH_LISTEN.
	if got := defaultURL(func(k string) string { return env[k] }); got != "http://127.0.0.1:9797" {
		t.Errorf("healthcheck URL in the image = %s", got)
	}
}
