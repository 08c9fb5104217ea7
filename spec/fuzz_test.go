package spec_test

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
)

// FuzzLoad feeds arbitrary spec and task definition files to the loader:
// it must never panic, and every failure must be a list of positioned
// problems. Run it with: go test ./spec -fuzz FuzzLoad
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"../examples/ecs-web", "../examples/lambda-api", "../examples/k8s-guestbook"} {
		data, err := os.ReadFile(filepath.Join(dir, "jibe.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte(baseFiles["taskdef.yaml"]))
	}
	f.Add([]byte(baseFiles["jibe.yaml"]), []byte(baseFiles["taskdef.yaml"]))
	f.Add([]byte("a: &a [*a]"), []byte("{"))
	f.Add([]byte("spec: {targets: [{name: x, ecs: {}}]}"), []byte("containerDefinitions: [{image: ${artifacts.}}]"))
	f.Fuzz(func(t *testing.T, specFile, taskdef []byte) {
		fsys := fstest.MapFS{}
		for name, content := range baseFiles {
			fsys[name] = &fstest.MapFile{Data: []byte(content)}
		}
		fsys["jibe.yaml"] = &fstest.MapFile{Data: specFile}
		fsys["taskdef.yaml"] = &fstest.MapFile{Data: taskdef}
		app, err := spec.LoadFS(fsys, "app")
		if err != nil {
			if len(strictyaml.AsList(err)) == 0 {
				t.Fatalf("error is not a problem list: %v", err)
			}
			return
		}
		for _, env := range app.Spec.Environments {
			if _, err := app.Render(env.Name); err != nil {
				t.Fatalf("valid app cannot render %s: %v", env.Name, err)
			}
		}
	})
}

// FuzzKustomize feeds arbitrary kustomizations to the loader: an overlay
// whose base, generator files and plugin configurations exist, and a
// component. Loading must never panic, must fail only with positioned
// problems, and must never send a request, although the seeds name a
// loopback server in every field that names a path. Run it with:
//
//	go test ./spec -run '^$' -fuzz FuzzKustomize
func FuzzKustomize(f *testing.F) {
	for _, tc := range remoteKustomizeCases {
		f.Add([]byte(tc.files[overlay]), []byte(tc.files[component]))
	}
	for _, dir := range []string{"testdata/valid/kustomize-features/deploy", "testdata/valid/kustomize/deploy"} {
		over, err := os.ReadFile(filepath.Join(dir, "overlays/env/kustomization.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		comp, _ := os.ReadFile(filepath.Join(dir, "components/probes/kustomization.yaml"))
		f.Add(over, comp)
	}
	lb := newLoopback(f)
	fixed := map[string]string{}
	for _, tc := range remoteKustomizeCases {
		for name, content := range tc.files {
			if name != overlay && name != component {
				fixed[name] = content
			}
		}
	}
	maps.Copy(fixed, localKustomizeFiles)
	f.Fuzz(func(t *testing.T, over, comp []byte) {
		files := maps.Clone(fixed)
		files[overlay], files[component] = string(over), string(comp)
		before := lb.requests.Load()
		_, err := spec.LoadFS(RemoteKustomizeApp(lb.URL, files), "app")
		if n := lb.requests.Load() - before; n != 0 {
			t.Fatalf("%d requests sent for overlay %q and component %q", n, over, comp)
		}
		if err != nil && len(strictyaml.AsList(err)) == 0 {
			t.Fatalf("error is not a problem list: %v", err)
		}
	})
}
