package kubecheck_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
	"github.com/jibe-dev/jibe/spec/kubecheck"
)

var update = flag.Bool("update", false, "rewrite golden files")

const app = `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: site}
spec:
  targets: [{name: site, kubernetes: {manifests: k8s}}]
  environments: [{name: dev, kubernetes: {cluster: dev}}]
`

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
  labels: {app: site}
spec:
  replicas: 2
  selector: {matchLabels: {app: site}}
  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: site}}
    spec:
      containers:
        - name: site
          image: nginx:1.27
          ports: [{name: http, containerPort: 80}]
          env: [{name: PORT, value: "80"}]
          resources: {limits: {cpu: 500m, memory: 128Mi}}
`

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: {type: integer, minimum: 1}
                color: {type: string, enum: [red, blue]}
                extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
                tags: {type: array, items: {type: object, properties: {name: {type: string}}}}
    - name: v0
      served: false
      storage: false
      schema: {openAPIV3Schema: {type: object}}
`

const widget = `apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  size: 3
  color: red
  extra: {anything: [1, 2]}
  tags: [{name: a}]
`

// cases each patch the valid application's manifests: file name to
// content ("" removes the file), in k8s/.
var cases = []struct {
	name  string
	files map[string]string
}{
	{"valid", nil},
	{"unknown field", map[string]string{"deploy.yaml": strings.Replace(deployment, "  replicas: 2", "  replicaz: 2", 1)}},
	{"unknown metadata field", map[string]string{"deploy.yaml": strings.Replace(deployment, "  labels:", "  labelz:", 1)}},
	{"port as a string", map[string]string{"deploy.yaml": strings.Replace(deployment, "containerPort: 80", `containerPort: "eighty"`, 1)}},
	{"environment value as a number", map[string]string{"deploy.yaml": strings.Replace(deployment, `value: "80"`, `value: 80`, 1)}},
	{"bad quantity", map[string]string{"deploy.yaml": strings.Replace(deployment, "cpu: 500m", "cpu: lots", 1)}},
	{"list where a mapping belongs", map[string]string{"deploy.yaml": strings.Replace(deployment, "selector: {matchLabels: {app: site}}", "selector: [app]", 1)}},
	{"version that does not serve the kind", map[string]string{"deploy.yaml": strings.Replace(deployment, "apps/v1", "apps/v9", 1)}},
	{"removed version", map[string]string{"deploy.yaml": strings.Replace(deployment, "apps/v1", "apps/v1beta1", 1)}},
	{"deprecated version", map[string]string{"vac.yaml": "apiVersion: storage.k8s.io/v1beta1\nkind: VolumeAttributesClass\nmetadata: {name: fast}\ndriverName: ebs.csi.aws.com\nparameters: {iops: \"4000\"}\n"}},
	{"kind typo", map[string]string{"deploy.yaml": strings.Replace(deployment, "kind: Deployment", "kind: Deploymnet", 1)}},
	{"not an API version", map[string]string{"deploy.yaml": strings.Replace(deployment, "apps/v1", "apps/v1/x", 1)}},
	{"secret data not base64", map[string]string{"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: not base64!}\nstringData: {user: admin}\n"}},
	{"unknown kind without a CRD", map[string]string{"widget.yaml": widget}},
	{"custom resource and its CRD", map[string]string{"crd.yaml": crd, "widget.yaml": widget}},
	{"custom resource with mistakes", map[string]string{"crd.yaml": crd, "widget.yaml": strings.NewReplacer(
		"  size: 3\n", "  colour: red\n", "color: red", "color: green", "metadata: {name: w}", "metadata: {name: w, labelz: {}}",
		"tags: [{name: a}]", "tags: [{name: a, nam: b}, {name: 7}]").Replace(widget)}},
	{"custom resource of an unknown version", map[string]string{"crd.yaml": crd, "widget.yaml": strings.Replace(widget, "example.com/v1", "example.com/v2", 1)}},
	{"custom resource of an unserved version", map[string]string{"crd.yaml": crd, "widget.yaml": strings.Replace(widget, "example.com/v1", "example.com/v0", 1)}},
	{"custom resource kind typo", map[string]string{"crd.yaml": crd, "widget.yaml": strings.Replace(widget, "kind: Widget", "kind: Widgit", 1)}},
	{"removed CRD version", map[string]string{"crd.yaml": strings.Replace(crd, "apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1", 1)}},
	{"Gateway API route", map[string]string{"route.yaml": "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: site}\nspec:\n  parentRefs: [{name: gw}]\n  rules:\n    - backendRefs: [{name: site, port: 80, wieght: 90}]\n"}},
	{"kustomize build", map[string]string{
		"kustomization.yaml": "resources: [deploy.yaml]\nnamePrefix: dev-\n",
		"deploy.yaml":        strings.Replace(deployment, "  replicas: 2", "  replicaz: 2", 1)}},
	{"kustomize patch", map[string]string{
		"kustomization.yaml": "resources: [deploy.yaml]\npatches:\n  - path: patch.yaml\n  - path: scale.yaml\n    target: {kind: Deployment}\nimages: [{name: nginx, newTag: \"1.28\"}]\n",
		"patch.yaml":         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: site}\nspec:\n  template:\n    spec:\n      containers:\n        - name: site\n          ports: [{name: http, containerPort: \"eighty\"}]\n",
		"scale.yaml":         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: any}\nspec: {paused: maybe}\n"}},
	{"kustomize inline patch", map[string]string{
		"kustomization.yaml": "resources: [deploy.yaml]\npatches:\n  - patch: |\n      - {op: add, path: /spec/paused, value: maybe}\n    target: {kind: Deployment}\n"}},
	{"kustomize generator and transformer", map[string]string{
		"kustomization.yaml": "resources: [deploy.yaml]\ncommonAnnotations: {note: x}\nconfigMapGenerator: [{name: conf, literals: [a=b]}]\n",
		"deploy.yaml":        strings.Replace(deployment, "  labels: {app: site}", "  labels: {app: site}\n  annotationz: {}", 1)}},
}

func TestCheck(t *testing.T) {
	var golden strings.Builder
	for _, tc := range cases {
		fsys := fstest.MapFS{"jibe.yaml": {Data: []byte(app)}, "k8s/deploy.yaml": {Data: []byte(deployment)}}
		for name, content := range tc.files {
			fsys["k8s/"+name] = &fstest.MapFile{Data: []byte(content)}
		}
		loaded, err := spec.LoadFS(fsys, "app", spec.WithManifestCheck(kubecheck.Check))
		problems, warnings := strictyaml.AsList(err), strictyaml.ErrorList(nil)
		var le *spec.LoadError
		switch {
		case errors.As(err, &le):
			warnings = le.Warnings
		case err == nil:
			warnings = loaded.Warnings
		}
		fmt.Fprintf(&golden, "== %s\n", tc.name)
		for _, p := range problems {
			fmt.Fprintln(&golden, p)
		}
		for _, w := range warnings {
			fmt.Fprintln(&golden, "warning:", w)
		}
		if tc.name == "valid" || tc.name == "custom resource and its CRD" {
			if len(problems)+len(warnings) > 0 {
				t.Errorf("%s: want no problem or warning, got\n%v\n%v", tc.name, problems, warnings)
			}
		} else if len(problems)+len(warnings) == 0 {
			t.Errorf("%s: want a problem or a warning, got none", tc.name)
		}
	}
	checkGolden(t, "testdata/checks.golden", golden.String())
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./spec/kubecheck -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run go test ./spec/kubecheck -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
