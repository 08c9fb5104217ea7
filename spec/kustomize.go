package spec

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
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

// kustomizeOptions run kustomize with nothing but the application's files:
// paths read by a kustomization stay under its folder (its bases may be
// elsewhere in the application's folder), only builtin plugins run (no
// exec, Go or container KRM functions), and Helm is disabled.
func kustomizeOptions() *krusty.Options {
	pc := types.DisabledPluginConfig()
	pc.HelmConfig.Enabled = false
	pc.FnpLoadingOptions = types.FnPluginLoadingOptions{}
	return &krusty.Options{
		LoadRestrictions: types.LoadRestrictionsRootOnly,
		PluginConfig:     pc,
	}
}

// kustomize builds the kustomization in folder rel with placeholders
// resolved for environment sc. The build reads the application's files
// from memory, after every path its kustomizations name has been checked.
func (l *loader) kustomize(doc *strictyaml.Document, sc *scope, field, rel string) []ManifestDoc {
	fsys, ok := l.kustomizeFS(sc)
	if !ok {
		return nil
	}
	if problem := l.checkKustomizeLoads(fsys, rel); problem != "" {
		l.errs = append(l.errs, doc.Errorf(field, "%s", problem))
		return nil
	}
	objs, err := runKustomize(fsys, rel, "/"+l.kustomization(rel))
	if err != nil {
		l.errs = append(l.errs, doc.Errorf(field, "kustomize build of %s failed: %v", rel, err))
		return nil
	}
	file := l.display(rel) + " (kustomize build)"
	var out []ManifestDoc
	for i, obj := range objs {
		var node yaml.Node
		var m map[string]any
		err := yaml.Unmarshal(obj.yaml, &node)
		if err == nil && len(node.Content) > 0 {
			err = node.Content[0].Decode(&m)
		}
		if err != nil {
			l.errs = append(l.errs, &strictyaml.Error{File: file, Message: fmt.Sprintf("document %d: %v", i+1, err)})
			continue
		}
		if m != nil {
			out = append(out, ManifestDoc{Manifest: Manifest{File: file, Object: m}, Node: node.Content[0], origin: l.originOf(l.kustomizeFiles().base, rel, obj)})
		}
	}
	return out
}

// runKustomize builds the kustomization in folder rel of fsys, whose file
// is kfile, with each object's origin taken out of its annotations (unless
// the kustomization asks for them). A panic of kustomize on what a
// repository holds becomes an error, not the agent's crash.
func runKustomize(fsys filesys.FileSystem, rel, kfile string) (out []builtObject, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kustomize stopped on an internal error (%v); simplify the kustomization", r)
		}
	}()
	fsys, keep := withOrigins(fsys, kfile)
	res, err := krusty.MakeKustomizer(kustomizeOptions()).Run(fsys, path.Join("/", rel))
	if err != nil {
		return nil, err
	}
	for _, r := range res.Resources() {
		o, _ := r.GetOrigin()
		if !keep {
			if err := r.SetOrigin(nil); err != nil {
				return nil, err
			}
		}
		data, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		out = append(out, builtObject{yaml: data, origin: o, kind: r.GetKind(), name: r.GetName()})
	}
	return out, nil
}

// kustomizeFiles are the application's files as kustomize reads them. They
// are copied into memory once per load and shared by every environment;
// only the files that hold placeholders differ between environments.
type kustomizeFiles struct {
	// base holds every file as written. Nothing writes to it after the copy.
	base filesys.FileSystem
	// templated are the files holding placeholders, by path.
	templated map[string]string
	// kustomizations are the paths of the kustomization files.
	kustomizations []string
	// env is the last environment's view, which each target of that
	// environment reuses.
	env *envFiles
	// docs are the parsed documents of the files that objects come from,
	// and patches the patch files of each kustomization folder built, by
	// path: what places the problems of built objects (kustomizeorigin.go).
	docs    map[string][]*yaml.Node
	patches map[string][]patchFile
	// refused is set when a file as written is refused before any build
	// (see aliasProblem).
	refused bool
}

// refuseAliases reports, as a problem of file p, YAML aliases in data that
// would expand beyond what kustomize may be given, and whether it did.
func (l *loader) refuseAliases(p string, data []byte) bool {
	problem := aliasProblem(data)
	if problem != "" {
		l.errs = append(l.errs, &strictyaml.Error{File: l.display(p), Message: problem})
	}
	return problem != ""
}

// envFiles is the application's files as one environment sees them.
type envFiles struct {
	name string
	fsys filesys.FileSystem
	ok   bool
}

// kustomizeFS returns the application's files with the placeholders of
// environment sc resolved, and false when they have problems (reported
// once per environment): unresolvable placeholders, or kustomizations
// naming remote files.
func (l *loader) kustomizeFS(sc *scope) (filesys.FileSystem, bool) {
	kf := l.kustomizeFiles()
	if kf.env != nil && kf.env.name == sc.env {
		return kf.env.fsys, kf.env.ok
	}
	n := len(l.errs)
	resolved := filesys.MakeFsInMemory()
	for _, p := range slices.Sorted(maps.Keys(kf.templated)) {
		text := l.expandText(l.display(p), sc, kf.templated[p])
		l.refuseAliases(p, []byte(text))
		_ = resolved.WriteFile("/"+p, []byte(text))
	}
	fsys := overlayFS{FileSystem: kf.base, top: resolved}
	l.checkKustomizations(fsys, kf.kustomizations)
	kf.env = &envFiles{name: sc.env, fsys: fsys, ok: len(l.errs) == n && !kf.refused}
	return fsys, kf.env.ok
}

// kustomizeFiles copies the application's files into memory on first use.
func (l *loader) kustomizeFiles() *kustomizeFiles {
	if l.kfiles != nil {
		return l.kfiles
	}
	kf := &kustomizeFiles{base: filesys.MakeFsInMemory(), templated: map[string]string{},
		docs: map[string][]*yaml.Node{}, patches: map[string][]patchFile{}}
	_ = fs.WalkDir(l.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || skipFolder(d, p) {
			return cmp.Or(err, fs.SkipDir)
		}
		if d.IsDir() {
			return nil
		}
		data, err := l.readFile(p)
		if err != nil {
			return err
		}
		if isKustomization(p) {
			kf.kustomizations = append(kf.kustomizations, p)
		}
		// Kustomize parses whatever file a kustomization names as YAML.
		kf.refused = l.refuseAliases(p, data) || kf.refused
		if p != FileName && (isManifestFile(p) || d.Name() == "Kustomization") && strings.Contains(string(data), "${") {
			kf.templated[p] = string(data)
		}
		return kf.base.WriteFile("/"+p, data)
	})
	l.kfiles = kf
	return kf
}

// overlayFS reads the files of top over those of the embedded file system,
// and writes nothing.
type overlayFS struct {
	filesys.FileSystem
	top filesys.FileSystem
}

var errReadOnly = errors.New("the application's files are read-only")

func (o overlayFS) inTop(p string) bool { return o.top.Exists(p) && !o.top.IsDir(p) }

// ReadFile reads p from top when it is there.
func (o overlayFS) ReadFile(p string) ([]byte, error) {
	if o.inTop(p) {
		return o.top.ReadFile(p)
	}
	return o.FileSystem.ReadFile(p)
}

// Open opens p from top when it is there.
func (o overlayFS) Open(p string) (filesys.File, error) {
	if o.inTop(p) {
		return o.top.Open(p)
	}
	return o.FileSystem.Open(p)
}

func (overlayFS) Create(string) (filesys.File, error) { return nil, errReadOnly }
func (overlayFS) Mkdir(string) error                  { return errReadOnly }
func (overlayFS) MkdirAll(string) error               { return errReadOnly }
func (overlayFS) RemoveAll(string) error              { return errReadOnly }
func (overlayFS) WriteFile(string, []byte) error      { return errReadOnly }

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

func isKustomization(p string) bool {
	for _, name := range kustomizationNames {
		if path.Base(p) == name {
			return true
		}
	}
	return false
}
