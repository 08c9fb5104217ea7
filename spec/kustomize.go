package spec

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// kustomizationNames are the file names kustomize looks for.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// kustomization returns the kustomization file of folder rel, or "".
func (l *loader) kustomization(rel string) string {
	for _, name := range kustomizationNames {
		p := path.Join(rel, name)
		if _, err := fs.Stat(l.fsys, p); err == nil {
			return p
		}
	}
	return ""
}

// kustomize builds the kustomization in folder rel with placeholders
// resolved. The application's folder is copied into kustomize's in-memory
// file system, so the build can read nothing outside it.
func (l *loader) kustomize(doc *strictyaml.Document, sc *scope, field, rel string) []Manifest {
	n := len(l.errs)
	mem := l.memoryCopy(sc)
	if len(l.errs) > n {
		return nil
	}
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: types.LoadRestrictionsNone, // only the application's folder is in mem
		PluginConfig:     types.DisabledPluginConfig(),
	})
	res, err := k.Run(mem, "/"+rel)
	if err != nil {
		l.errs = append(l.errs, doc.Errorf(field, "kustomize build of %s failed: %v", rel, err))
		return nil
	}
	out, err := res.AsYaml()
	if err != nil {
		l.errs = append(l.errs, doc.Errorf(field, "kustomize output of %s: %v", rel, err))
		return nil
	}
	return l.renderedManifests(l.display(rel)+" (kustomize build)", out)
}

// memoryCopy copies the application's files into an in-memory file system,
// resolving placeholders in YAML and JSON files, and refuses remote bases.
func (l *loader) memoryCopy(sc *scope) filesys.FileSystem {
	mem := filesys.MakeFsInMemory()
	_ = fs.WalkDir(l.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(l.fsys, p)
		if err != nil {
			return err
		}
		if isManifestFile(p) || d.Name() == "Kustomization" {
			data = []byte(l.expandText(l.display(p), sc, string(data)))
			l.checkRemoteBases(p, data)
		}
		return mem.WriteFile("/"+p, data)
	})
	return mem
}

// expandText resolves placeholders in a text file line by line, so that
// problems carry their line and column.
func (l *loader) expandText(file string, sc *scope, text string) string {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		out, problems := sc.expand(line)
		for _, p := range problems {
			col := strings.Index(line, "${") + 1
			l.errs = append(l.errs, &strictyaml.Error{File: file, Pos: strictyaml.Pos{Line: i + 1, Column: col}, Message: p})
		}
		lines[i] = out
	}
	return strings.Join(lines, "\n")
}

// checkRemoteBases refuses kustomizations that reference remote resources:
// a deploy must depend only on the reviewed commit.
func (l *loader) checkRemoteBases(p string, data []byte) {
	if !isKustomization(p) {
		return
	}
	var k struct {
		Resources  []string `yaml:"resources"`
		Bases      []string `yaml:"bases"`
		Components []string `yaml:"components"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return // kustomize reports the syntax error itself
	}
	for _, r := range append(append(k.Resources, k.Bases...), k.Components...) {
		if isRemote(r) {
			l.errs = append(l.errs, &strictyaml.Error{File: l.display(p), Field: "resources",
				Message: fmt.Sprintf("remote resource %q: Jibe deploys only what is in the commit; vendor it into the application's folder", r)})
		}
	}
}

func isKustomization(p string) bool {
	for _, name := range kustomizationNames {
		if path.Base(p) == name {
			return true
		}
	}
	return false
}

func isRemote(r string) bool {
	return strings.Contains(r, "://") || strings.HasPrefix(r, "git@") ||
		strings.HasPrefix(r, "github.com/") || strings.HasPrefix(r, "gitlab.com/") || strings.HasPrefix(r, "bitbucket.org/")
}

// renderedManifests decodes the documents of a rendered stream.
func (l *loader) renderedManifests(file string, data []byte) []Manifest {
	var out []Manifest
	for i, docText := range strings.Split(string(data), "\n---\n") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(docText), &obj); err != nil {
			l.errs = append(l.errs, &strictyaml.Error{File: file, Message: fmt.Sprintf("document %d: %v", i+1, err)})
			continue
		}
		if obj != nil {
			out = append(out, Manifest{File: file, Line: 0, Object: obj})
		}
	}
	return out
}
