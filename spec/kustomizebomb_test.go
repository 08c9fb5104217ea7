package spec_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/spec"
)

// kustomizeBomb is an application whose kustomization includes two
// overlays of a base that itself includes two overlays of the next, levels
// times: 3 small files per level build 2^levels objects.
func kustomizeBomb(levels int) fstest.MapFS {
	fsys := fstest.MapFS{
		"jibe.yaml": {Data: []byte(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: bomb}
spec:
  targets:
    - name: web
      kubernetes: {manifests: k/l0}
  environments:
    - name: staging
      kubernetes: {cluster: test, namespace: shop}
`)},
	}
	for i := range levels {
		fsys[fmt.Sprintf("k/l%d/kustomization.yaml", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("resources: [../a%d, ../b%d]\n", i, i))}
		fsys[fmt.Sprintf("k/a%d/kustomization.yaml", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("nameSuffix: -a\nresources: [../l%d]\n", i+1))}
		fsys[fmt.Sprintf("k/b%d/kustomization.yaml", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("nameSuffix: -b\nresources: [../l%d]\n", i+1))}
	}
	fsys[fmt.Sprintf("k/l%d/kustomization.yaml", levels)] = &fstest.MapFile{Data: []byte("resources: [cm.yaml]\n")}
	fsys[fmt.Sprintf("k/l%d/cm.yaml", levels)] = &fstest.MapFile{Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")}
	return fsys
}

// A kustomization tree that includes each base twice, level after level,
// builds exponentially many objects from a few files: the number of
// kustomizations a build would load is counted before building, and an
// application above limits.manifestsPerTarget is refused without
// building.
func TestKustomizeBasesIncludedExponentiallyAreRefusedBeforeTheBuild(t *testing.T) {
	_, err := spec.LoadFS(kustomizeBomb(40), "bomb")
	want := "limits.manifestsPerTarget"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("want a problem naming %s, got: %v", want, err)
	}
	if _, err := spec.LoadFS(kustomizeBomb(3), "bomb"); err != nil {
		t.Errorf("8 objects from 3 levels are fine: %v", err)
	}
}
