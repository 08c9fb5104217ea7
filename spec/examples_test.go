package spec_test

import (
	"path/filepath"
	"testing"

	"github.com/jibe-dev/jibe/spec"
)

// The bundled examples are what new users copy: they must stay valid.
func TestExamplesAreValid(t *testing.T) {
	dirs, err := filepath.Glob("../examples/*/" + spec.FileName)
	if err != nil || len(dirs) < 3 {
		t.Fatalf("want at least three examples, found %v (%v)", dirs, err)
	}
	for _, dir := range dirs {
		dir := filepath.Dir(dir)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			app, err := spec.Load(dir, builtin)
			if err != nil {
				t.Fatalf("example does not validate:\n%v", err)
			}
			for _, env := range app.Spec.Environments {
				r, err := app.Render(env.Name)
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Targets) == 0 {
					t.Errorf("environment %s renders no targets", env.Name)
				}
			}
		})
	}
}
