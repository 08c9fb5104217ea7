package kubecheck_test

import (
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/spec"
	"github.com/jibe-dev/jibe/spec/kubecheck"
)

// Whatever a manifest holds, the check reports problems and never
// panics.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(deployment))
	f.Add([]byte(crd + "---\n" + widget))
	f.Add([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: &x [1, *x]}\n"))
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: &s {replicas: 1, template: *s}\n"))
	f.Fuzz(func(t *testing.T, manifest []byte) {
		fsys := fstest.MapFS{"jibe.yaml": {Data: []byte(app)}, "k8s/m.yaml": {Data: manifest}}
		_, _ = spec.LoadFS(fsys, "app", spec.WithManifestCheck(kubecheck.Check))
	})
}
