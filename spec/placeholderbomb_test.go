package spec_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/spec"
)

// Placeholders repeat a variable as often as a file names it: a 64 KiB
// variable named 2,000 times in a manifest would render 128 MiB from
// files of a few hundred KiB, in every environment. What placeholders add
// to an application is bounded by limits.bytesPerApplication.
func TestPlaceholdersCannotAmplifyPastTheApplicationsBytes(t *testing.T) {
	var m strings.Builder
	m.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n")
	for i := range 2000 {
		fmt.Fprintf(&m, "  k%d: ${vars.big}\n", i)
	}
	fsys := fstest.MapFS{
		"jibe.yaml": {Data: []byte(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: bomb}
spec:
  variables:
    big: ` + strings.Repeat("x", 64<<10) + `
  targets:
    - name: web
      kubernetes: {manifests: k8s}
  environments:
    - name: staging
      kubernetes: {cluster: test, namespace: shop}
    - name: production
      kubernetes: {cluster: test, namespace: shop}
`)},
		"k8s/bomb.yaml": {Data: []byte(m.String())},
	}
	_, err := spec.LoadFS(fsys, "bomb", spec.WithLimits(spec.Limits{BytesPerApplication: 8 << 20}))
	want := "above the limit of 8388608 (limits.bytesPerApplication)"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "placeholders") {
		t.Fatalf("want a problem saying placeholders add more than %s, got: %v", want, err)
	}
	if n := strings.Count(err.Error(), "bytesPerApplication"); n > 2 {
		t.Errorf("the limit is reported %d times; once is enough", n)
	}
}
