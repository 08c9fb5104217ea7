package demo

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	demoapp "github.com/jibe-dev/jibe/examples/demo"
)

// The demo application: examples/demo/checkout, committed to the demo
// repository under the same folder.
const (
	appName  = "checkout"
	specPath = appName + "/jibe.yaml"
	// repository is the image repository of every release.
	repository = stagingAccount + ".dkr.ecr." + region + ".amazonaws.com/checkout"
)

// image returns the image reference of a release of checkout.
func image(version string) string { return repository + ":" + version }

// appFiles returns examples/demo/checkout's files by path.
func appFiles() (map[string]string, error) { return exampleFiles(appName) }

// exampleFiles returns the files of the example application in folder
// name of examples/demo, by path.
func exampleFiles(name string) (map[string]string, error) {
	files := map[string]string{}
	err := fs.WalkDir(demoapp.Files, name, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(demoapp.Files, p)
		files[path.Clean(p)] = string(data)
		return err
	})
	return files, err
}

// specEdit is what the demo changes in checkout's jibe.yaml.
type specEdit struct {
	// Vars sets variables of environments, by environment name.
	Vars map[string]map[string]string
	// Version is the release the web artifact points at.
	Version string
	// Ungated removes production's approval and canary (the bootstrap
	// commit, made before the SRE team gates production).
	Ungated bool
}

// editSpec returns the jibe.yaml src with e applied, comments kept.
func editSpec(src string, e specEdit) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil || len(doc.Content) == 0 {
		return "", fmt.Errorf("parsing %s: %v", specPath, err)
	}
	root := doc.Content[0]
	if e.Version != "" {
		web := lookup(root, "spec", "artifacts", "web", "image")
		if web == nil {
			return "", fmt.Errorf("%s has no spec.artifacts.web.image", specPath)
		}
		web.Value = image(e.Version)
	}
	envs := lookup(root, "spec", "environments")
	if envs == nil {
		return "", fmt.Errorf("%s has no spec.environments", specPath)
	}
	for _, env := range envs.Content {
		name := lookup(env, "name")
		if name == nil {
			continue
		}
		setVars(env, e.Vars[name.Value])
		if e.Ungated && name.Value == "production" {
			deleteKey(env, "approval")
			deleteKey(env, "strategy")
		}
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", fmt.Errorf("writing %s: %w", specPath, err)
	}
	return out.String(), enc.Close()
}

// setVars sets the variables of the environment node env.
func setVars(env *yaml.Node, vars map[string]string) {
	if len(vars) == 0 {
		return
	}
	m := lookup(env, "variables")
	if m == nil {
		m = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		env.Content = append(env.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "variables"}, m)
	}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if v := lookup(m, k); v != nil {
			v.Value, v.Tag, v.Style = vars[k], "!!str", 0
			continue
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: vars[k]})
	}
}

// lookup follows keys through mapping nodes; nil when one is missing.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// deleteKey removes key from the mapping node n.
func deleteKey(n *yaml.Node, key string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content = append(n.Content[:i], n.Content[i+2:]...)
			return
		}
	}
}

// releaseBranch names the branch of a pull request bumping to version.
func releaseBranch(version string) string {
	return "bump-" + strings.TrimPrefix(version, "v")
}
