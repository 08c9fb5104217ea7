package spec_test

import (
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
