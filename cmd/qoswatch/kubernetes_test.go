package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/qoswatch/qoswatch/rules"
	"github.com/qoswatch/qoswatch/zoom"
)

// No cluster runs in CI, so these tests keep deploy/kubernetes honest the
// way dockerfile_test.go keeps the Dockerfile: they parse every manifest
// (strictly: a misspelt field such as readOnlyRootFileSystem is an error,
// not a setting silently dropped) and check what would break a deployment
// against the code itself: the variables `qoswatch run` declares, its
// configuration loader, the Dockerfile's USER and ENV, the webhook path.

const k8sDir = repoRoot + "/deploy/kubernetes"

// The Kubernetes objects, with the fields our manifests use. Decoding is
// strict: a field not listed here fails the test (add it here when a
// manifest needs it, after checking its spelling in the API reference).
type (
	k8sMeta struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	}
	K8sHead struct {
		APIVersion string  `yaml:"apiVersion"`
		Kind       string  `yaml:"kind"`
		Metadata   k8sMeta `yaml:"metadata"`
	}
	k8sNamespace struct {
		K8sHead `yaml:",inline"`
	}
	k8sSecret struct {
		K8sHead    `yaml:",inline"`
		Type       string            `yaml:"type"`
		StringData map[string]string `yaml:"stringData"`
		Data       map[string]string `yaml:"data"`
	}
	k8sPVC struct {
		K8sHead `yaml:",inline"`
		Spec    struct {
			AccessModes      []string     `yaml:"accessModes"`
			StorageClassName *string      `yaml:"storageClassName"`
			Resources        k8sResources `yaml:"resources"`
		} `yaml:"spec"`
	}
	k8sResources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	}
	k8sDeployment struct {
		K8sHead `yaml:",inline"`
		Spec    struct {
			Replicas *int `yaml:"replicas"`
			Strategy struct {
				Type string `yaml:"type"`
			} `yaml:"strategy"`
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Template struct {
				Metadata k8sMeta `yaml:"metadata"`
				Spec     k8sPod  `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	k8sPod struct {
		TerminationGracePeriodSeconds *int  `yaml:"terminationGracePeriodSeconds"`
		AutomountServiceAccountToken  *bool `yaml:"automountServiceAccountToken"`
		SecurityContext               struct {
			K8sRunAs       `yaml:",inline"`
			FSGroup        *int64 `yaml:"fsGroup"`
			SeccompProfile struct {
				Type string `yaml:"type"`
			} `yaml:"seccompProfile"`
		} `yaml:"securityContext"`
		Containers []k8sContainer `yaml:"containers"`
		Volumes    []k8sVolume    `yaml:"volumes"`
	}
	K8sRunAs struct {
		RunAsNonRoot *bool  `yaml:"runAsNonRoot"`
		RunAsUser    *int64 `yaml:"runAsUser"`
		RunAsGroup   *int64 `yaml:"runAsGroup"`
	}
	k8sContainer struct {
		Name            string   `yaml:"name"`
		Image           string   `yaml:"image"`
		ImagePullPolicy string   `yaml:"imagePullPolicy"`
		Command         []string `yaml:"command"`
		Args            []string `yaml:"args"`
		Env             []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom any    `yaml:"valueFrom"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		LivenessProbe   *k8sProbe    `yaml:"livenessProbe"`
		ReadinessProbe  *k8sProbe    `yaml:"readinessProbe"`
		StartupProbe    *k8sProbe    `yaml:"startupProbe"`
		Resources       k8sResources `yaml:"resources"`
		SecurityContext struct {
			K8sRunAs                 `yaml:",inline"`
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
			Capabilities             struct {
				Drop []string `yaml:"drop"`
			} `yaml:"capabilities"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			ReadOnly  bool   `yaml:"readOnly"`
			SubPath   string `yaml:"subPath"`
		} `yaml:"volumeMounts"`
	}
	k8sProbe struct {
		HTTPGet *struct {
			Path   string `yaml:"path"`
			Port   any    `yaml:"port"` // a number or a port's name
			Scheme string `yaml:"scheme"`
		} `yaml:"httpGet"`
		InitialDelaySeconds int `yaml:"initialDelaySeconds"`
		PeriodSeconds       int `yaml:"periodSeconds"`
		TimeoutSeconds      int `yaml:"timeoutSeconds"`
		FailureThreshold    int `yaml:"failureThreshold"`
	}
	k8sKeyToPath struct {
		Key  string `yaml:"key"`
		Path string `yaml:"path"`
	}
	k8sVolume struct {
		Name                  string `yaml:"name"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
		ConfigMap *struct {
			Name  string         `yaml:"name"`
			Items []k8sKeyToPath `yaml:"items"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName  string         `yaml:"secretName"`
			DefaultMode *int           `yaml:"defaultMode"`
			Items       []k8sKeyToPath `yaml:"items"`
		} `yaml:"secret"`
	}
	k8sService struct {
		K8sHead `yaml:",inline"`
		Spec    struct {
			Type                     string            `yaml:"type"`
			PublishNotReadyAddresses bool              `yaml:"publishNotReadyAddresses"`
			Selector                 map[string]string `yaml:"selector"`
			Ports                    []struct {
				Name       string `yaml:"name"`
				Port       int    `yaml:"port"`
				TargetPort any    `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	k8sIngress struct {
		K8sHead `yaml:",inline"`
		Spec    struct {
			IngressClassName string `yaml:"ingressClassName"`
			DefaultBackend   any    `yaml:"defaultBackend"`
			TLS              []struct {
				Hosts      []string `yaml:"hosts"`
				SecretName string   `yaml:"secretName"`
			} `yaml:"tls"`
			Rules []struct {
				Host string `yaml:"host"`
				HTTP struct {
					Paths []struct {
						Path     string `yaml:"path"`
						PathType string `yaml:"pathType"`
						Backend  struct {
							Service struct {
								Name string `yaml:"name"`
								Port struct {
									Name   string `yaml:"name"`
									Number int    `yaml:"number"`
								} `yaml:"port"`
							} `yaml:"service"`
						} `yaml:"backend"`
					} `yaml:"paths"`
				} `yaml:"http"`
			} `yaml:"rules"`
		} `yaml:"spec"`
	}
)

// k8sSet is every object of deploy/kubernetes.
type k8sSet struct {
	namespaces  []k8sNamespace
	secrets     []k8sSecret
	pvcs        []k8sPVC
	deployments []k8sDeployment
	services    []k8sService
	ingresses   []k8sIngress
	heads       []K8sHead // every object, for what all share
}

func loadK8s(t *testing.T) *k8sSet {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s (%v)", k8sDir, err)
	}
	s := &k8sSet{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseBytes(b, 0)
		if err != nil {
			t.Fatalf("%s: %s", file, yaml.FormatError(err, false, true))
		}
		for i, doc := range f.Docs {
			if doc.Body == nil {
				continue // an empty document (a trailing ---)
			}
			var h K8sHead
			if err := yaml.NodeToValue(doc.Body, &h); err != nil {
				t.Fatalf("%s: document %d: %v", file, i+1, err)
			}
			var dst any
			switch h.Kind {
			case "Namespace":
				dst = appendZero(&s.namespaces)
			case "Secret":
				dst = appendZero(&s.secrets)
			case "PersistentVolumeClaim":
				dst = appendZero(&s.pvcs)
			case "Deployment":
				dst = appendZero(&s.deployments)
			case "Service":
				dst = appendZero(&s.services)
			case "Ingress":
				dst = appendZero(&s.ingresses)
			default:
				t.Fatalf("%s: document %d: kind %q: the test knows Namespace, Secret, PersistentVolumeClaim, Deployment, Service, Ingress (teach it the new kind)", file, i+1, h.Kind)
			}
			if err := yaml.NodeToValue(doc.Body, dst, yaml.Strict()); err != nil {
				t.Fatalf("%s: %s %s: %s", file, h.Kind, h.Metadata.Name, yaml.FormatError(err, false, true))
			}
			if h.APIVersion == "" || h.Metadata.Name == "" {
				t.Errorf("%s: %s: apiVersion and metadata.name are required", file, h.Kind)
			}
			s.heads = append(s.heads, h)
		}
	}
	return s
}

// deployment is the one Deployment and its one container.
func (s *k8sSet) deployment(t *testing.T) (*k8sDeployment, *k8sContainer) {
	t.Helper()
	if len(s.deployments) != 1 {
		t.Fatalf("%d Deployments, want 1 (qoswatch)", len(s.deployments))
	}
	d := &s.deployments[0]
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("Deployment %s: %d containers, want 1", d.Metadata.Name, len(d.Spec.Template.Spec.Containers))
	}
	return d, &d.Spec.Template.Spec.Containers[0]
}

// ns is the one Namespace every object lives in.
func (s *k8sSet) ns(t *testing.T) string {
	t.Helper()
	if len(s.namespaces) != 1 {
		t.Fatalf("%d Namespaces, want 1", len(s.namespaces))
	}
	return s.namespaces[0].Metadata.Name
}

func (s *k8sSet) service(t *testing.T, name string) *k8sService {
	t.Helper()
	for i := range s.services {
		if s.services[i].Metadata.Name == name {
			return &s.services[i]
		}
	}
	t.Fatalf("no Service %q", name)
	return nil
}

// imageEnv is the Dockerfile's ENV: what the container has before the
// Deployment's env.
func imageEnv(t *testing.T) map[string]string {
	env := map[string]string{}
	for _, l := range dockerfile(t) {
		if rest, ok := strings.CutPrefix(l, "ENV "); ok {
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		}
	}
	return env
}

// containerEnv is the environment qoswatch sees in the pod: the image's
// ENV, then the Deployment's env over it.
func containerEnv(t *testing.T, c *k8sContainer) map[string]string {
	env := imageEnv(t)
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Errorf("env %s: valueFrom: give a literal value (secrets go in files through the *_FILE variables), so it can be checked", e.Name)
		}
		env[e.Name] = e.Value
	}
	return env
}

// runEnvNames is what `qoswatch run` reads from the environment, from its
// own declarations (a renamed variable changes this set): the variables
// of its flags, and the secrets read from the environment only.
func runEnvNames() (vars map[string]bool, secrets []string) {
	f := newFlags(&cli{getenv: func(string) string { return "" }}, "qoswatch run", "", "")
	declareRun(f)
	vars = map[string]bool{}
	for _, env := range f.envOf {
		vars[env] = true
	}
	for _, e := range f.envOnly {
		vars[e.name] = true
		secrets = append(secrets, e.name)
	}
	return vars, secrets
}

// portOf resolves a probe's or a Service's port (a number or the name of
// one of the container's ports) to the container port number.
func portOf(c *k8sContainer, p any) (int, error) {
	switch v := p.(type) {
	case uint64:
		return int(v), nil
	case int64:
		return int(v), nil
	case string:
		for _, cp := range c.Ports {
			if cp.Name == v {
				return cp.ContainerPort, nil
			}
		}
		return 0, fmt.Errorf("no container port named %q", v)
	}
	return 0, fmt.Errorf("port %v (%T): want a number or a port name", p, p)
}

// listenPort is the port of a host:port listen address.
func listenPort(t *testing.T, env map[string]string, name string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(env[name])
	if err != nil {
		t.Fatalf("%s=%q in the pod: %v", name, env[name], err)
	}
	var n int
	if _, err := fmt.Sscan(port, &n); err != nil || n == 0 {
		t.Fatalf("%s=%q in the pod: want a fixed port for the probes and Services", name, env[name])
	}
	return n
}

func TestKubernetesManifestsParseStrictly(t *testing.T) {
	s := loadK8s(t)
	for kind, n := range map[string]int{
		"Namespace": len(s.namespaces), "Secret": len(s.secrets), "PersistentVolumeClaim": len(s.pvcs),
		"Deployment": len(s.deployments), "Service": len(s.services), "Ingress": len(s.ingresses),
	} {
		if n == 0 {
			t.Errorf("no %s in %s", kind, k8sDir)
		}
	}
	if len(s.namespaces) != 1 {
		t.Fatalf("%d Namespaces, want 1", len(s.namespaces))
	}
	ns := s.namespaces[0].Metadata.Name
	for _, h := range s.heads {
		if h.Kind != "Namespace" && h.Metadata.Namespace != ns {
			t.Errorf("%s %s: namespace %q, want %q like the others", h.Kind, h.Metadata.Name, h.Metadata.Namespace, ns)
		}
	}
	// The example Secret says it is one, in its values.
	for _, sec := range s.secrets {
		if len(sec.Data) > 0 {
			t.Errorf("Secret %s: data (base64) hides whether a value is a placeholder: use stringData", sec.Metadata.Name)
		}
		for k, v := range sec.StringData {
			if !strings.HasPrefix(v, "REPLACE-ME") {
				t.Errorf("Secret %s: %s = a value that is not marked REPLACE-ME: the example must hold placeholders only", sec.Metadata.Name, k)
			}
		}
	}
}

// TestKubernetesEnvIsWhatTheDaemonReads runs qoswatch's own configuration
// loader on the pod's environment, with the Secret's keys and the rules
// file laid out as the volumes would mount them: a variable the daemon
// does not read, a secret in the environment, a *_FILE pointing at no
// key, a placeholder too short, a listener without its token or secret,
// or rules that do not load, each fails here as it would in the pod.
func TestKubernetesEnvIsWhatTheDaemonReads(t *testing.T) {
	s := loadK8s(t)
	d, c := s.deployment(t)
	known, secrets := runEnvNames()
	for _, e := range c.Env {
		if !known[e.Name] {
			t.Errorf("env %s: qoswatch run does not read it (a typo, or a renamed setting?)", e.Name)
		}
		if slices.Contains(secrets, e.Name) {
			t.Errorf("env %s: a secret as an environment value; mount it from the Secret and set %s_FILE", e.Name, e.Name)
		}
	}
	if len(c.Command) > 0 {
		t.Errorf("command %v replaces the image's ENTRYPOINT (the qoswatch binary); use args", c.Command)
	}
	if len(c.Args) > 0 && !slices.Equal(c.Args, []string{"run"}) {
		t.Errorf("args %v: want [run] (the daemon), or none (the image's CMD)", c.Args)
	}

	// Lay the volumes out under root as the kubelet would in the pod.
	root := t.TempDir()
	env := containerEnv(t, c)
	mounts := map[string]string{} // volume name -> mount path
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
		if m.SubPath != "" {
			t.Errorf("volume %s: subPath: Kubernetes never updates a subPath mount, so a changed Secret or ConfigMap would not reach qoswatch", m.Name)
		}
	}
	cmName, cmKey, cmFile := docsCommand(t, "create configmap", s.ns(t))
	for _, v := range d.Spec.Template.Spec.Volumes {
		dir := filepath.Join(root, mounts[v.Name])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case v.Secret != nil:
			sec := findSecret(t, s, v.Secret.SecretName)
			for k, val := range sec.StringData {
				if len(v.Secret.Items) > 0 {
					t.Fatalf("volume %s: items: mount the whole Secret (the test lays out every key)", v.Name)
				}
				if err := os.WriteFile(filepath.Join(dir, k), []byte(val), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		case v.ConfigMap != nil:
			// The ConfigMap is made by the command docs/operations.md gives.
			if v.ConfigMap.Name != cmName {
				t.Errorf("volume %s mounts ConfigMap %q; docs/operations.md creates %q", v.Name, v.ConfigMap.Name, cmName)
			}
			b, err := os.ReadFile(filepath.Join(repoRoot, cmFile))
			if err != nil {
				t.Fatalf("docs/operations.md: the ConfigMap's file: %v", err)
			}
			if err := os.WriteFile(filepath.Join(dir, cmKey), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Container paths become paths under root.
	getenv := func(k string) string {
		v := env[k]
		if path.IsAbs(v) {
			return filepath.Join(root, v)
		}
		return v
	}
	f := newFlags(&cli{getenv: getenv, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}, "qoswatch run", "", "")
	r := declareRun(f)
	if err := f.Parse(c.Args[min(1, len(c.Args)):]); err != nil {
		t.Fatalf("the pod's environment does not parse: %v", err)
	}
	if err := r.finish(getenv); err != nil {
		t.Fatalf("the pod's secrets do not read: %v", err)
	}
	if err := r.cfg.Validate(); err != nil {
		t.Fatalf("qoswatch run would refuse the pod's configuration: %v", err)
	}
	if _, err := rules.Load(r.cfg.Rules); err != nil {
		t.Errorf("QOSWATCH_RULES in the pod (the ConfigMap's %s): %v", cmKey, err)
	}
	// SIGTERM flushes the outbox for the grace; the kubelet must wait longer.
	grace := d.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil || float64(*grace) <= r.cfg.Grace.Seconds() {
		t.Errorf("terminationGracePeriodSeconds %v: want more than QOSWATCH_SHUTDOWN_GRACE (%s)", derefInt(grace), r.cfg.Grace)
	}
}

func findSecret(t *testing.T, s *k8sSet, name string) *k8sSecret {
	t.Helper()
	for i := range s.secrets {
		if s.secrets[i].Metadata.Name == name {
			return &s.secrets[i]
		}
	}
	t.Fatalf("the Deployment mounts Secret %q; no manifest defines it", name)
	return nil
}

// TestKubernetesSecretFilesAreSecretKeys: every *_FILE variable names a
// key of the mounted Secret, the example Secret and the kubectl command
// in docs/operations.md have the same keys, and no key goes unused.
func TestKubernetesSecretFilesAreSecretKeys(t *testing.T) {
	s := loadK8s(t)
	d, c := s.deployment(t)
	env := containerEnv(t, c)
	mountOf := map[string]string{}
	for _, m := range c.VolumeMounts {
		mountOf[m.Name] = m.MountPath
	}
	var secretVol *k8sVolume
	for i, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			secretVol = &d.Spec.Template.Spec.Volumes[i]
		}
	}
	if secretVol == nil {
		t.Fatal("no Secret volume: the secrets must reach qoswatch as files")
	}
	dir := mountOf[secretVol.Name]
	sec := findSecret(t, s, secretVol.Secret.SecretName)
	used := map[string]bool{}
	for name, val := range env {
		if !strings.HasSuffix(name, "_FILE") {
			continue
		}
		key, ok := strings.CutPrefix(val, dir+"/")
		if !ok {
			t.Errorf("%s=%s: not in the Secret's mount %s", name, val, dir)
			continue
		}
		if _, ok := sec.StringData[key]; !ok {
			t.Errorf("%s=%s: Secret %s has no key %q", name, val, sec.Metadata.Name, key)
		}
		used[key] = true
	}
	for k := range sec.StringData {
		if !used[k] {
			t.Errorf("Secret %s: key %s is not read by any *_FILE variable", sec.Metadata.Name, k)
		}
	}
	name, keys := docsSecretCommand(t, s.ns(t))
	if name != sec.Metadata.Name {
		t.Errorf("docs/operations.md creates Secret %q; the Deployment mounts %q", name, sec.Metadata.Name)
	}
	var want []string
	for k := range sec.StringData {
		want = append(want, k)
	}
	slices.Sort(want)
	slices.Sort(keys)
	if !slices.Equal(keys, want) {
		t.Errorf("docs/operations.md's kubectl create secret has keys %v; the example Secret %v", keys, want)
	}
}

// TestKubernetesProbesHitTheAdminListener: liveness and startup on
// /healthz, readiness on /readyz, on the port QOSWATCH_LISTEN gives in
// the pod; the Services reach the listeners the env opens.
func TestKubernetesProbesHitTheAdminListener(t *testing.T) {
	s := loadK8s(t)
	d, c := s.deployment(t)
	env := containerEnv(t, c)
	admin := listenPort(t, env, "QOSWATCH_LISTEN")
	for _, p := range []struct {
		name  string
		probe *k8sProbe
		path  string
	}{
		{"livenessProbe", c.LivenessProbe, "/healthz"},
		{"readinessProbe", c.ReadinessProbe, "/readyz"},
		{"startupProbe", c.StartupProbe, "/healthz"},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: want an httpGet on %s", p.name, p.path)
			continue
		}
		g := p.probe.HTTPGet
		port, err := portOf(c, g.Port)
		if err != nil {
			t.Errorf("%s: %v", p.name, err)
		} else if port != admin {
			t.Errorf("%s: port %d; qoswatch's admin listener is on %d (QOSWATCH_LISTEN=%s)", p.name, port, admin, env["QOSWATCH_LISTEN"])
		}
		if g.Path != p.path || (g.Scheme != "" && g.Scheme != "HTTP") {
			t.Errorf("%s: %s %s, want HTTP %s", p.name, g.Scheme, g.Path, p.path)
		}
	}

	pod := d.Spec.Template.Metadata.Labels
	for _, svc := range s.services {
		for k, v := range svc.Spec.Selector {
			if pod[k] != v {
				t.Errorf("Service %s selects %s=%s; the pod's label is %q", svc.Metadata.Name, k, v, pod[k])
			}
		}
		if len(svc.Spec.Selector) == 0 {
			t.Errorf("Service %s selects nothing", svc.Metadata.Name)
		}
		if svc.Spec.Type != "" && svc.Spec.Type != "ClusterIP" {
			t.Errorf("Service %s: type %s: keep it ClusterIP (the Ingress is the one way in)", svc.Metadata.Name, svc.Spec.Type)
		}
	}
	for name, listen := range map[string]string{"qoswatch-admin": "QOSWATCH_LISTEN", "qoswatch-events": "QOSWATCH_EVENTS_LISTEN"} {
		svc := s.service(t, name)
		want := listenPort(t, env, listen)
		for _, p := range svc.Spec.Ports {
			if got, err := portOf(c, p.TargetPort); err != nil || got != want {
				t.Errorf("Service %s port %s: targets %v (%v); %s is on %d", name, p.Name, p.TargetPort, err, listen, want)
			}
		}
	}
	// Names the admin Service is reached by must pass the DNS-rebinding
	// guard, or every call through it is a 421.
	hosts := strings.Split(env["QOSWATCH_ALLOWED_HOSTS"], ",")
	ns := s.ns(t)
	for _, h := range []string{"qoswatch-admin", "qoswatch-admin." + ns, "qoswatch-admin." + ns + ".svc", "qoswatch-admin." + ns + ".svc.cluster.local"} {
		if !slices.Contains(hosts, h) {
			t.Errorf("QOSWATCH_ALLOWED_HOSTS lacks %s: calls through the admin Service would be refused", h)
		}
	}
}

// TestKubernetesIngressExposesOnlyTheEventsListener: the Ingress routes
// Zoom's webhook path (zoom.WebhookPath, exactly) and /slack/ to the events
// Service, and nothing else: never the admin API.
func TestKubernetesIngressExposesOnlyTheEventsListener(t *testing.T) {
	s := loadK8s(t)
	_, c := s.deployment(t)
	env := containerEnv(t, c)
	events := s.service(t, "qoswatch-events")
	eventsPort := listenPort(t, env, "QOSWATCH_EVENTS_LISTEN")
	want := map[string]string{zoom.WebhookPath: "Exact", "/slack/": "Prefix"}
	for _, ing := range s.ingresses {
		if ing.Spec.DefaultBackend != nil {
			t.Errorf("Ingress %s: defaultBackend sends every other path somewhere", ing.Metadata.Name)
		}
		seen := map[string]bool{}
		for _, r := range ing.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				if want[p.Path] != p.PathType {
					t.Errorf("Ingress %s: path %s (%s): want only %s Exact and /slack/ Prefix", ing.Metadata.Name, p.Path, p.PathType, zoom.WebhookPath)
				}
				seen[p.Path] = true
				b := p.Backend.Service
				if b.Name != events.Metadata.Name {
					t.Errorf("Ingress %s: %s goes to Service %s, want %s", ing.Metadata.Name, p.Path, b.Name, events.Metadata.Name)
					continue
				}
				ok := false
				for _, sp := range events.Spec.Ports {
					if (b.Port.Name != "" && sp.Name == b.Port.Name) || (b.Port.Number != 0 && sp.Port == b.Port.Number) {
						got, err := portOf(c, sp.TargetPort)
						ok = err == nil && got == eventsPort
					}
				}
				if !ok {
					t.Errorf("Ingress %s: %s goes to %s port %+v, which does not reach QOSWATCH_EVENTS_LISTEN's port %d", ing.Metadata.Name, p.Path, b.Name, b.Port, eventsPort)
				}
			}
		}
		for p := range want {
			if !seen[p] {
				t.Errorf("Ingress %s: no route for %s", ing.Metadata.Name, p)
			}
		}
	}
}

// TestKubernetesOneWriterOnThePVC: one replica, Recreate (bbolt allows one
// process per file), the PVC mounted writable where QOSWATCH_DB points.
func TestKubernetesOneWriterOnThePVC(t *testing.T) {
	s := loadK8s(t)
	d, c := s.deployment(t)
	if r := d.Spec.Replicas; r == nil || *r != 1 {
		t.Errorf("replicas %v: want 1 (one process per database file)", derefInt(r))
	}
	if d.Spec.Strategy.Type != "Recreate" {
		t.Errorf("strategy %q: want Recreate (a rolling update starts the new pod while the old one holds the database)", d.Spec.Strategy.Type)
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if d.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod's labels", k, v)
		}
	}
	if len(s.pvcs) != 1 {
		t.Fatalf("%d PersistentVolumeClaims, want 1", len(s.pvcs))
	}
	pvc := s.pvcs[0]
	if !slices.Equal(pvc.Spec.AccessModes, []string{"ReadWriteOnce"}) {
		t.Errorf("PVC %s: access modes %v: want [ReadWriteOnce]", pvc.Metadata.Name, pvc.Spec.AccessModes)
	}
	db := containerEnv(t, c)["QOSWATCH_DB"]
	var vol string
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Metadata.Name {
			vol = v.Name
		}
	}
	if vol == "" {
		t.Fatalf("no volume of the Deployment claims PVC %s", pvc.Metadata.Name)
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.Name != vol {
			continue
		}
		mounted = true
		if path.Dir(path.Clean(db)) != path.Clean(m.MountPath) {
			t.Errorf("QOSWATCH_DB=%s is not in the PVC's mount %s: the database would be lost with the pod (or refused by the read-only root)", db, m.MountPath)
		}
		if m.ReadOnly {
			t.Errorf("the PVC is mounted read-only at %s", m.MountPath)
		}
	}
	if !mounted {
		t.Errorf("volume %s (PVC %s) is not mounted", vol, pvc.Metadata.Name)
	}
}

// TestKubernetesRunsAsTheImageUser: the pod runs as the Dockerfile's USER
// (the owner of the image's /data), non-root, on a read-only root.
func TestKubernetesRunsAsTheImageUser(t *testing.T) {
	s := loadK8s(t)
	d, c := s.deployment(t)
	var user string
	for _, l := range dockerfile(t) {
		if u, ok := strings.CutPrefix(l, "USER "); ok {
			user = u
		}
	}
	pod := d.Spec.Template.Spec.SecurityContext
	uid, gid := pod.RunAsUser, pod.RunAsGroup
	if c.SecurityContext.RunAsUser != nil {
		uid = c.SecurityContext.RunAsUser
	}
	if c.SecurityContext.RunAsGroup != nil {
		gid = c.SecurityContext.RunAsGroup
	}
	if uid == nil || gid == nil || fmt.Sprintf("%d:%d", *uid, *gid) != user {
		t.Errorf("runAsUser:runAsGroup %v:%v, want the Dockerfile's USER %s", deref(uid), deref(gid), user)
	}
	if pod.FSGroup == nil || gid == nil || *pod.FSGroup != *gid {
		t.Errorf("fsGroup %v: want the group %v, so the volumes are writable by it", deref(pod.FSGroup), deref(gid))
	}
	if nr := pod.RunAsNonRoot; (nr == nil || !*nr) && (c.SecurityContext.RunAsNonRoot == nil || !*c.SecurityContext.RunAsNonRoot) {
		t.Error("runAsNonRoot is not true")
	}
	sc := c.SecurityContext
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Error("capabilities are not all dropped")
	}
	for _, k := range []string{"cpu", "memory"} {
		if c.Resources.Requests[k] == "" {
			t.Errorf("no resources.requests.%s", k)
		}
	}
	if c.Resources.Limits["memory"] == "" {
		t.Error("no resources.limits.memory")
	}
}

func derefInt(p *int) any {
	if p == nil {
		return "unset"
	}
	return *p
}

func deref(p *int64) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// docsCommands are the shell commands of docs/operations.md's code blocks,
// continuation lines joined.
func docsCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		cmds = append(cmds, strings.Join(strings.Fields(cur.String()), " "))
		cur.Reset()
	}
	return cmds
}

// docsKubectl finds the one `kubectl ... <verb>` command in the docs and
// returns the namespace (-n), the object's name, and its --from-file
// arguments.
func docsKubectl(t *testing.T, verb string) (ns, name string, fromFile []string) {
	t.Helper()
	var found []string
	for _, c := range docsCommands(t) {
		if strings.HasPrefix(c, "kubectl ") && strings.Contains(c, " "+verb+" ") {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("docs/operations.md: %d `kubectl … %s` commands, want 1: %q", len(found), verb, found)
	}
	words := strings.Fields(found[0])
	verbWords := strings.Fields(verb)
	for i := 0; i < len(words); i++ {
		switch {
		case words[i] == "-n" && i+1 < len(words):
			ns = words[i+1]
		case slices.Equal(words[i:min(i+len(verbWords), len(words))], verbWords) && i+len(verbWords) < len(words):
			name = words[i+len(verbWords)]
		case strings.HasPrefix(words[i], "--from-file="):
			fromFile = append(fromFile, strings.TrimPrefix(words[i], "--from-file="))
		}
	}
	return ns, name, fromFile
}

// docsCommand is the documented `kubectl create configmap NAME
// --from-file=KEY=FILE`, checked to be in namespace wantNS.
func docsCommand(t *testing.T, verb, wantNS string) (name, key, file string) {
	t.Helper()
	ns, name, from := docsKubectl(t, verb)
	if ns != wantNS {
		t.Errorf("docs/operations.md: kubectl %s in namespace %q, want %s (the manifests')", verb, ns, wantNS)
	}
	if len(from) != 1 {
		t.Fatalf("docs/operations.md: kubectl %s: want one --from-file=KEY=FILE, got %q", verb, from)
	}
	key, file, ok := strings.Cut(from[0], "=")
	if !ok {
		t.Fatalf("docs/operations.md: kubectl %s --from-file=%s: want KEY=FILE", verb, from[0])
	}
	return name, key, file
}

// docsSecretCommand is the documented `kubectl create secret generic`.
func docsSecretCommand(t *testing.T, wantNS string) (name string, keys []string) {
	t.Helper()
	ns, name, from := docsKubectl(t, "create secret generic")
	if ns != wantNS {
		t.Errorf("docs/operations.md: kubectl create secret generic in namespace %q, want %s (the manifests')", ns, wantNS)
	}
	for _, f := range from {
		k, _, _ := strings.Cut(f, "=")
		keys = append(keys, k)
	}
	return name, keys
}

// appendZero appends a zero T to *s and returns where it is, for the
// decoder to fill.
func appendZero[T any](s *[]T) *T {
	var zero T
	*s = append(*s, zero)
	return &(*s)[len(*s)-1]
}
