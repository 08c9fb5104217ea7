package spec_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/spec"
)

// billionLaughs is a YAML document of nine levels of aliases, each naming
// the previous one ten times: a few hundred bytes that expand to 10^9
// strings.
func billionLaughs(key string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  l0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n", key)
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// YAML aliases that expand exponentially, in jibe.yaml or in a manifest
// (plain or through kustomize), are refused, not expanded. Kustomize
// expands every alias before building, without a bound: the files it may
// read are checked first.
func TestYAMLAliasBombsAreRefused(t *testing.T) {
	spec := func(manifests string) string {
		return `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: bomb}
spec:
  targets:
    - name: web
      kubernetes: {manifests: ` + manifests + `}
  environments:
    - name: staging
      kubernetes: {cluster: test, namespace: shop}
`
	}
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" + billionLaughs("data")
	for name, fsys := range map[string]fstest.MapFS{
		"jibe.yaml":                    {"jibe.yaml": {Data: []byte(spec("k8s") + billionLaughs("x-bomb"))}, "k8s/a.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")}},
		"manifest":                     {"jibe.yaml": {Data: []byte(spec("k8s"))}, "k8s/a.yaml": {Data: []byte(cm)}},
		"kustomize":                    {"jibe.yaml": {Data: []byte(spec("k8s"))}, "k8s/a.yaml": {Data: []byte(cm)}, "k8s/kustomization.yaml": {Data: []byte("resources: [a.yaml]\n")}},
		"kustomize, another extension": {"jibe.yaml": {Data: []byte(spec("k8s"))}, "k8s/a.txt": {Data: []byte(cm)}, "k8s/kustomization.yaml": {Data: []byte("resources: [a.txt]\n")}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadFS(fsys)
			if err == nil || name != "jibe.yaml" && !strings.Contains(err.Error(), "alias") {
				t.Errorf("want the alias bomb refused, got %v", err)
			}
		})
	}
}

func loadFS(fsys fstest.MapFS) (*spec.App, error) { return spec.LoadFS(fsys, "bomb") }
