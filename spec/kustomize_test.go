package spec_test

import (
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
)

// leak is what the loopback server answers: it must never appear in a
// rendered manifest or an error.
const leak = "LEAKED-BY-LOOPBACK"

// loopback is an HTTP server on 127.0.0.1 that counts the requests it
// receives. Kustomize must send it none.
type loopback struct {
	*httptest.Server
	requests atomic.Int64
}

func newLoopback(t testing.TB) *loopback {
	t.Helper()
	lb := &loopback{}
	lb.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lb.requests.Add(1)
		fmt.Fprintf(w, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: leak}\ndata: {secret: %s}\n", leak)
	}))
	t.Cleanup(lb.Close)
	return lb
}

// RemoteKustomizeApp is a Kubernetes application built with kustomize from
// k8s/overlay, whose base is k8s/base; files replace or add files. {{URL}}
// in any file is replaced by url, and {{HOST}} by its host and port.
func RemoteKustomizeApp(url string, files map[string]string) fstest.MapFS {
	all := map[string]string{
		"jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata:
  name: shop
spec:
  variables:
    remote: "{{URL}}/via-placeholder.yaml"
  targets:
    - name: site
      kubernetes:
        manifests: k8s/overlay
  environments:
    - name: staging
      kubernetes: {cluster: staging}
`,
		"k8s/base/kustomization.yaml": "resources: [deploy.yaml]\n",
		"k8s/base/deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
spec:
  template:
    spec:
      containers:
        - name: site
          image: registry.example.com/site:1
`,
		"k8s/overlay/kustomization.yaml": "resources: [../base]\n",
	}
	for name, content := range files {
		all[name] = content
	}
	r := strings.NewReplacer("{{URL}}", url, "{{HOST}}", strings.TrimPrefix(url, "http://"))
	fsys := fstest.MapFS{}
	for name, content := range all {
		fsys[name] = &fstest.MapFile{Data: []byte(r.Replace(content))}
	}
	return fsys
}

// remoteCase is a kustomization that names a remote file in one field.
type remoteCase struct {
	name  string
	files map[string]string
	// field is the field the refusal must name.
	field string
	// want is in the refusal's message; default "vendor", the advice to
	// vendor the file.
	want string
}

// The kustomizations of remoteKustomizeApp that cases replace.
const (
	overlay   = "k8s/overlay/kustomization.yaml"
	component = "k8s/component/kustomization.yaml"
)

// localKustomizeFiles are files of the application that kustomizations of
// the fuzz seeds name: generator sources and patches.
var localKustomizeFiles = map[string]string{
	"k8s/overlay/app.properties": "log.level=info\n",
	"k8s/overlay/settings.env":   "MODE=web\n",
	"k8s/overlay/replicas.yaml":  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: site}\nspec: {replicas: 2}\n",
	"k8s/component/probes.yaml":  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: site}\nspec: {minReadySeconds: 5}\n",
}

// remoteKustomizeCases has one case per kustomization field that names a
// path (and per way of reaching one). {{URL}} is the loopback server.
var remoteKustomizeCases = []remoteCase{
	{"resources file", map[string]string{overlay: "resources: [../base, \"{{URL}}/deploy.yaml\"]\n"}, "resources[1]", ""},
	{"resources git over http", map[string]string{overlay: "resources: [../base, \"{{URL}}/org/repo.git//deploy?ref=main\"]\n"}, "resources[1]", ""},
	{"resources upper-case scheme", map[string]string{overlay: "resources: [../base, \"HTTP://{{HOST}}/deploy.yaml\"]\n"}, "resources[1]", ""},
	{"resources git:: prefix", map[string]string{overlay: "resources: [../base, \"git::{{URL}}/org/repo.git\"]\n"}, "resources[1]", ""},
	{"resources file:// clone", map[string]string{overlay: "resources: [../base, \"file:///etc/jibe\"]\n"}, "resources[1]", ""},
	{"resources scp-style", map[string]string{overlay: "resources: [../base, \"git@127.0.0.1:org/repo.git\"]\n"}, "resources[1]", ""},
	{"resources github shorthand", map[string]string{overlay: "resources: [../base, \"github.com/acme/base\"]\n"}, "resources[1]", ""},
	{"bases", map[string]string{overlay: "bases: [../base, \"{{URL}}/base\"]\n"}, "bases[1]", ""},
	{"components", map[string]string{overlay: "resources: [../base]\ncomponents: [\"{{URL}}/component\"]\n"}, "components[0]", ""},
	{"crds", map[string]string{overlay: "resources: [../base]\ncrds: [\"{{URL}}/crd.json\"]\n"}, "crds[0]", ""},
	{"configurations", map[string]string{overlay: "resources: [../base]\nconfigurations: [\"{{URL}}/config.yaml\"]\n"}, "configurations[0]", ""},
	{"openapi path", map[string]string{overlay: "resources: [../base]\nopenapi: {path: \"{{URL}}/schema.json\"}\n"}, "openapi.path", ""},
	{"patches path", map[string]string{overlay: "resources: [../base]\npatches: [{path: \"{{URL}}/patch.yaml\"}]\n"}, "patches[0].path", ""},
	{"patchesStrategicMerge", map[string]string{overlay: "resources: [../base]\npatchesStrategicMerge: [\"{{URL}}/patch.yaml\"]\n"}, "patchesStrategicMerge[0]", ""},
	{"patchesJson6902 path", map[string]string{overlay: "resources: [../base]\npatchesJson6902: [{target: {group: apps, version: v1, kind: Deployment, name: site}, path: \"{{URL}}/patch.json\"}]\n"}, "patchesJson6902[0].path", ""},
	{"replacements path", map[string]string{overlay: "resources: [../base]\nreplacements: [{path: \"{{URL}}/replacements.yaml\"}]\n"}, "replacements[0].path", ""},
	{"configMapGenerator files with key", map[string]string{overlay: "resources: [../base]\nconfigMapGenerator: [{name: c, files: [\"creds={{URL}}/secret.txt\"]}]\n"}, "configMapGenerator[0].files[0]", ""},
	{"configMapGenerator files", map[string]string{overlay: "resources: [../base]\nconfigMapGenerator: [{name: c, files: [\"{{URL}}/secret.txt\"]}]\n"}, "configMapGenerator[0].files[0]", ""},
	{"configMapGenerator envs", map[string]string{overlay: "resources: [../base]\nconfigMapGenerator: [{name: c, envs: [\"{{URL}}/secret.env\"]}]\n"}, "configMapGenerator[0].envs[0]", ""},
	{"configMapGenerator env", map[string]string{overlay: "resources: [../base]\nconfigMapGenerator: [{name: c, env: \"{{URL}}/secret.env\"}]\n"}, "configMapGenerator[0].env", ""},
	{"secretGenerator files", map[string]string{overlay: "resources: [../base]\nsecretGenerator: [{name: s, files: [\"creds={{URL}}/secret.txt\"]}]\n"}, "secretGenerator[0].files[0]", ""},
	{"secretGenerator envs", map[string]string{overlay: "resources: [../base]\nsecretGenerator: [{name: s, envs: [\"{{URL}}/secret.env\"]}]\n"}, "secretGenerator[0].envs[0]", ""},
	{"secretGenerator env", map[string]string{overlay: "resources: [../base]\nsecretGenerator: [{name: s, env: \"{{URL}}/secret.env\"}]\n"}, "secretGenerator[0].env", ""},
	{"generators", map[string]string{overlay: "resources: [../base]\ngenerators: [\"{{URL}}/generator.yaml\"]\n"}, "generators[0]", ""},
	{"transformers", map[string]string{overlay: "resources: [../base]\ntransformers: [\"{{URL}}/transformer.yaml\"]\n"}, "transformers[0]", ""},
	{"validators", map[string]string{overlay: "resources: [../base]\nvalidators: [\"{{URL}}/validator.yaml\"]\n"}, "validators[0]", ""},
	{"helmCharts", map[string]string{overlay: "resources: [../base]\nhelmCharts: [{name: leak, repo: \"{{URL}}/charts\", version: 1.0.0}]\n"}, "helmCharts", ""},
	{"helmChartInflationGenerator", map[string]string{overlay: "resources: [../base]\nhelmChartInflationGenerator: [{chartName: leak, chartRepoUrl: \"{{URL}}/charts\"}]\n"}, "helmChartInflationGenerator", ""},
	{"placeholder resolving to a URL", map[string]string{overlay: "resources: [../base]\npatches: [{path: \"${vars.remote}\"}]\n"}, "patches[0].path", ""},
	{"remote in the base", map[string]string{"k8s/base/kustomization.yaml": "resources: [deploy.yaml]\nconfigMapGenerator: [{name: c, files: [\"creds={{URL}}/secret.txt\"]}]\n"}, "configMapGenerator[0].files[0]", ""},
	{"remote in a component", map[string]string{
		overlay:   "resources: [../base]\ncomponents: [../component]\n",
		component: "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: [{path: \"{{URL}}/patch.yaml\"}]\n",
	}, "patches[0].path", ""},
	{"builtin plugin file", map[string]string{
		overlay:                    "resources: [../base]\ntransformers: [patcher.yaml]\n",
		"k8s/overlay/patcher.yaml": "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: patcher}\npath: \"{{URL}}/patch.yaml\"\n",
	}, "path", ""},
	{"builtin generator file", map[string]string{
		overlay:                    "resources: [../base]\ngenerators: [secrets.yaml]\n",
		"k8s/overlay/secrets.yaml": "apiVersion: builtin\nkind: SecretGenerator\nmetadata: {name: s}\nfiles: [\"creds={{URL}}/secret.txt\"]\n",
	}, "files[0]", ""},
	{"inline builtin plugin", map[string]string{overlay: "resources: [../base]\ntransformers:\n  - |\n    apiVersion: builtin\n    kind: PatchTransformer\n    metadata: {name: patcher}\n    path: \"{{URL}}/patch.yaml\"\n"}, "transformers[0]", ""},
	{"KRM function", map[string]string{
		overlay:               "resources: [../base]\ntransformers: [fn.yaml]\n",
		"k8s/overlay/fn.yaml": "apiVersion: example.com/v1\nkind: Leak\nmetadata:\n  name: leak\n  annotations:\n    config.kubernetes.io/function: |\n      container: {image: \"{{HOST}}/leak:1\", network: true}\n",
	}, "kind", "builtin plugins"},
	{"plugin configuration computed by a kustomization", map[string]string{
		overlay:                           "resources: [../base]\ntransformers: [../computed]\n",
		"k8s/computed/kustomization.yaml": "resources: [patcher.yaml]\npatches: [{target: {kind: PatchTransformer}, patch: '[{\"op\": \"add\", \"path\": \"/path\", \"value\": \"{{URL}}/patch.yaml\"}]'}]\n",
		"k8s/computed/patcher.yaml":       "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: patcher}\ntarget: {kind: Deployment}\n",
	}, "transformers[0]", "is a folder"},
}

// Kustomize never reaches the network or outside the application's files,
// whichever kustomization field names a remote file: each is refused before
// the build, naming the file, line and field, and the loopback server
// receives no request.
func TestKustomizeFetchesNothing(t *testing.T) {
	lb := newLoopback(t)
	for _, tc := range remoteKustomizeCases {
		t.Run(tc.name, func(t *testing.T) {
			before := lb.requests.Load()
			fsys := RemoteKustomizeApp(lb.URL, tc.files)
			_, err := spec.LoadFS(fsys, "app")
			if n := lb.requests.Load() - before; n != 0 {
				t.Errorf("the loopback server received %d requests", n)
			}
			if err == nil {
				t.Fatal("want the remote file refused, got no error")
			}
			if strings.Contains(err.Error(), leak) {
				t.Errorf("the error shows fetched content: %v", err)
			}
			checkRefusal(t, err, tc.field, cmp.Or(tc.want, "vendor"))
		})
	}
}

// checkRefusal checks that err refuses what is at field, naming a file of
// the kustomizations and a line, with want in its message.
func checkRefusal(t *testing.T, err error, field, want string) {
	t.Helper()
	for _, e := range strictyaml.AsList(err) {
		if e.Field == field && e.Line > 0 && strings.HasPrefix(e.File, "app/k8s/") && strings.Contains(strings.ToLower(e.Message), want) {
			return
		}
	}
	t.Errorf("no problem at field %s with a file, a line and %q:\n%v", field, want, err)
}

// The origin annotations that place the problems of kustomize's objects
// in the application's files stay in memory: no deployed object carries
// them, unless the kustomization asks for them itself.
func TestKustomizeOriginsNotDeployed(t *testing.T) {
	for _, tc := range []struct {
		kustomization string
		want          bool
	}{
		{"resources: [deploy.yaml]\nnamePrefix: dev-\n", false},
		{"resources: [deploy.yaml]\nbuildMetadata: [managedByLabel]\n", false},
		{"resources: [deploy.yaml]\nbuildMetadata: [originAnnotations]\n", true},
	} {
		fsys := fstest.MapFS{
			"jibe.yaml":              {Data: []byte("apiVersion: jibe.dev/v1alpha1\nkind: Application\nmetadata: {name: site}\nspec:\n  targets: [{name: site, kubernetes: {manifests: k8s}}]\n  environments: [{name: dev, kubernetes: {cluster: dev}}]\n")},
			"k8s/kustomization.yaml": {Data: []byte(tc.kustomization)},
			"k8s/deploy.yaml":        {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: site}\ndata: {a: b}\n")},
		}
		app, err := spec.LoadFS(fsys, "app")
		if err != nil {
			t.Fatalf("%q: %v", tc.kustomization, err)
		}
		r, err := app.Render("dev")
		if err != nil {
			t.Fatal(err)
		}
		obj := r.Targets[0].Manifests[0].Object
		md, _ := obj["metadata"].(map[string]any)
		annotations, _ := md["annotations"].(map[string]any)
		if _, got := annotations["config.kubernetes.io/origin"]; got != tc.want {
			t.Errorf("%q: origin annotation present %v, want %v: %v", tc.kustomization, got, tc.want, md)
		}
		if !tc.want && md["annotations"] != nil {
			t.Errorf("%q: annotations %v, want none", tc.kustomization, md["annotations"])
		}
	}
}
