package spec_test

import (
	"fmt"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/spec"
)

// fluxSpec is a jibe.yaml whose Kubernetes target is the application's
// own folder, as in the layout Flux users keep:
// apps/<app>/{deployment,service,kustomization}.yaml next to jibe.yaml.
const fluxSpec = `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata:
  name: app-1
spec:
  targets:
    - name: web
      kubernetes:
        manifests: .
  environments:
    - name: dev
      kubernetes: {cluster: local, namespace: apps}
`

const fluxDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-1
spec:
  selector: {matchLabels: {app: app-1}}
  template:
    metadata: {labels: {app: app-1}}
    spec:
      containers:
        - name: web
          image: registry.example.com/app-1:${env.name}
`

const fluxService = `apiVersion: v1
kind: Service
metadata:
  name: app-1
spec:
  selector: {app: app-1}
  ports: [{port: 80}]
`

// fluxFS is an application folder in Flux's layout; extra files are added.
func fluxFS(jibe string, extra map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{
		"jibe.yaml":       {Data: []byte(jibe)},
		"deployment.yaml": {Data: []byte(fluxDeployment)},
		"service.yaml":    {Data: []byte(fluxService)},
	}
	for name, data := range extra {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

// renderedKinds loads fsys, renders environment env and returns the
// Kind/name of every manifest of its target named target.
func renderedKinds(t *testing.T, fsys fstest.MapFS, env, target string) []string {
	t.Helper()
	app, err := spec.LoadFS(fsys, "apps/app-1")
	if err != nil {
		t.Fatal(err)
	}
	r, err := app.Render(env)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rt := range r.Targets {
		if rt.Target.Name != target {
			continue
		}
		for _, m := range rt.Manifests {
			out = append(out, fmt.Sprintf("%v/%v", m.Object["kind"], m.Object["metadata"].(map[string]any)["name"]))
		}
	}
	slices.Sort(out)
	return out
}

// `manifests: .` with a kustomization at the application's root builds
// it, as `kustomize build .` does in the application's folder.
func TestManifestsDotWithKustomization(t *testing.T) {
	fsys := fluxFS(fluxSpec, map[string]string{
		"kustomization.yaml": "resources: [deployment.yaml, service.yaml]\n",
	})
	got := renderedKinds(t, fsys, "dev", "web")
	want := []string{"Deployment/app-1", "Service/app-1"}
	if !slices.Equal(got, want) {
		t.Errorf("manifests = %v, want %v", got, want)
	}
}

// `manifests: .` without a kustomization reads every manifest of the
// folder but jibe.yaml, which is never a Kubernetes object.
func TestManifestsDotWithoutKustomizationSkipsJibeYAML(t *testing.T) {
	got := renderedKinds(t, fluxFS(fluxSpec, nil), "dev", "web")
	want := []string{"Deployment/app-1", "Service/app-1"}
	if !slices.Equal(got, want) {
		t.Errorf("manifests = %v, want %v", got, want)
	}
}

// The files the spec names for its other targets (an ECS task definition
// and service, a Lambda function, user data) are not manifests of a
// Kubernetes target whose folder holds them, whatever the environment
// the names resolve in.
func TestManifestsDotSkipsFilesOfOtherTargets(t *testing.T) {
	jibe := `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata:
  name: app-1
spec:
  targets:
    - name: web
      kubernetes:
        manifests: .
    - name: api
      lambda:
        function: lambda-${env.name}.yaml
        alias: live
  environments:
    - name: dev
      kubernetes: {cluster: local, namespace: apps}
      aws: {account: dev, region: eu-west-1}
`
	function := `FunctionName: app-1-${env.name}
Role: arn:aws:iam::111111111111:role/app-1
Runtime: python3.12
Handler: app.handler
Code:
  S3Bucket: artifacts
  S3Key: app-1.zip
`
	fsys := fluxFS(jibe, map[string]string{"lambda-dev.yaml": function})
	got := renderedKinds(t, fsys, "dev", "web")
	want := []string{"Deployment/app-1", "Service/app-1"}
	if !slices.Equal(got, want) {
		t.Errorf("manifests = %v, want %v", got, want)
	}
}
