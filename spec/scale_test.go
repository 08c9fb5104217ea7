package spec_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/spec"
)

// manyEnvironments is an application with n environments deploying one
// Kubernetes target from plain manifests, or from a kustomization when
// kustomize is set. Its folder also holds a 4 MiB file no target reads.
func manyEnvironments(n int, kustomize bool) fstest.MapFS {
	var b strings.Builder
	b.WriteString(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata:
  name: shop
spec:
  artifacts:
    web: {image: registry.example.com/shop/web:1.0.0}
  targets:
    - name: web
      kubernetes: {manifests: k8s}
  environments:
`)
	for i := range n {
		fmt.Fprintf(&b, "    - name: env-%d\n      kubernetes: {cluster: c%d, namespace: ns-%d}\n      variables: {replicas: \"%d\"}\n", i, i%3, i, i%5+1)
	}
	fsys := fstest.MapFS{
		"jibe.yaml": {Data: []byte(b.String())},
		"k8s/deploy.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ${vars.replicas}
  template:
    spec:
      containers: [{name: web, image: "${artifacts.web}"}]
`)},
		"assets/big.bin": {Data: make([]byte, 4<<20)},
	}
	if kustomize {
		fsys["k8s/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources: [deploy.yaml]\nnamespace: ${env.name}\n")}
	}
	return fsys
}

func loadOrFail(tb testing.TB, fsys fstest.MapFS) {
	tb.Helper()
	if _, err := spec.LoadFS(fsys, "app", spec.WithLimits(spec.Limits{Environments: 1000})); err != nil {
		tb.Fatal(err)
	}
}

// Loading is linear in the number of environments: four times the
// environments cost at most about four times the allocations.
func TestLoadIsLinearInEnvironments(t *testing.T) {
	small, large := manyEnvironments(100, false), manyEnvironments(400, false)
	a := testing.AllocsPerRun(1, func() { loadOrFail(t, small) })
	b := testing.AllocsPerRun(1, func() { loadOrFail(t, large) })
	t.Logf("allocations: 100 environments %.0f, 400 environments %.0f (x%.1f)", a, b, b/a)
	if b > 5*a {
		t.Errorf("400 environments allocate %.1f times what 100 do; loading must be linear (at most 5x)", b/a)
	}
}

// The application's folder is copied into memory once per load, however
// many environments build its kustomization: a 4 MiB file costs 4 MiB,
// not 4 MiB per environment.
func TestKustomizeCopiesTheFolderOnce(t *testing.T) {
	few := bytesAllocated(t, manyEnvironments(2, true))
	many := bytesAllocated(t, manyEnvironments(12, true))
	perEnv := (many - few) / 10
	t.Logf("bytes allocated: 2 environments %d, 12 environments %d (%d per environment)", few, many, perEnv)
	if perEnv > 1<<20 {
		t.Errorf("each environment allocates %d bytes: the 4 MiB folder is copied per environment", perEnv)
	}
}

// bytesAllocated returns the bytes a load of fsys allocates.
func bytesAllocated(t *testing.T, fsys fstest.MapFS) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	loadOrFail(t, fsys)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// BenchmarkLoadEnvironments measures loading applications with many
// environments, from plain manifests and from a kustomization:
//
//	go test ./spec -run '^$' -bench LoadEnvironments -benchmem
func BenchmarkLoadEnvironments(b *testing.B) {
	for _, kustomize := range []bool{false, true} {
		for _, n := range []int{100, 200, 400} {
			fsys := manyEnvironments(n, kustomize)
			b.Run(fmt.Sprintf("kustomize=%v/environments=%d", kustomize, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					loadOrFail(b, fsys)
				}
			})
		}
	}
}
