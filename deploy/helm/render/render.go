// Package render renders Jibe's Helm chart (deploy/helm/jibe) with Helm's
// Go SDK, locally, as `helm template` does. It is a module of its own so
// that Helm's Kubernetes modules never reach Jibe's go.mod: its tests keep
// deploy/manifests/jibe.yaml (the plain manifests for kubectl users) and
// the rendered test cases in sync with the chart, and the root module's
// internal/release/chart test applies them to a real cluster.
package render

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
)

// Release names the release a chart is rendered for.
type Release struct {
	Name, Namespace string
}

// Render renders the chart in dir with values (YAML, over the chart's
// values.yaml, checked against its values.schema.json) and returns the
// manifests as one YAML stream, templates in file-name order, each
// document headed by the template it came from.
func Render(dir string, rel Release, values []byte) ([]byte, error) {
	chrt, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	vals, err := common.ReadValues(values)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	top, err := util.ToRenderValues(chrt, vals, common.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, IsInstall: true, Revision: 1}, nil)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	files, err := engine.Render(chrt, top)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	return join(files), nil
}

// join concatenates the rendered YAML templates in name order, skipping
// empty ones, partials and NOTES.txt.
func join(files map[string]string) []byte {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	var b bytes.Buffer
	for _, name := range names {
		if path.Ext(name) != ".yaml" {
			continue
		}
		for doc := range strings.SplitSeq(files[name], "\n---") {
			doc = strings.Trim(doc, "\n")
			if strings.TrimSpace(doc) == "" {
				continue
			}
			fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", name, doc)
		}
	}
	return b.Bytes()
}
