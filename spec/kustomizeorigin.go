package spec

import (
	"bytes"
	"errors"
	"io"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// Kustomize's output has no positions in the application's files. So that
// a problem in an object it built cites the file the object came from, the
// build runs with kustomize's origin annotations (config.kubernetes.io/
// origin: the resource file of each object), asked for in memory and
// removed from the objects before anything else sees them, and each node
// of the output is followed to the same field in the patches that may have
// set it, then in the resource file.

// originOption is the kustomization buildMetadata option that records
// each object's resource file.
const originOption = types.OriginAnnotations

// originFS serves the kustomization at root with originOption added to its
// buildMetadata; kustomize passes the root's buildMetadata to its bases.
type originFS struct {
	filesys.FileSystem
	root string
	data []byte
}

// withOrigins returns fsys with the kustomization file kfile (an absolute
// path in fsys) asking for origin annotations, and whether its author
// asked for them already (then they stay in the objects).
func withOrigins(fsys filesys.FileSystem, kfile string) (filesys.FileSystem, bool) {
	data, err := fsys.ReadFile(kfile)
	if err != nil {
		return fsys, false
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return fsys, false // kustomize reports it
	}
	m := doc.Content[0]
	meta := valueOf(m, "buildMetadata")
	switch {
	case meta == nil:
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "buildMetadata"},
			&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: originOption}}})
	case meta.Kind != yaml.SequenceNode:
		return fsys, false
	case slices.ContainsFunc(meta.Content, func(n *yaml.Node) bool { return n.Value == originOption }):
		return fsys, true
	default:
		meta.Content = append(meta.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: originOption})
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return fsys, false
	}
	return originFS{FileSystem: fsys, root: kfile, data: out}, false
}

// ReadFile reads the root kustomization as amended.
func (o originFS) ReadFile(p string) ([]byte, error) {
	if path.Clean(p) == o.root {
		return o.data, nil
	}
	return o.FileSystem.ReadFile(p)
}

// valueOf returns the value of key in mapping m, or nil.
func valueOf(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// builtObject is one object of a kustomize build.
type builtObject struct {
	yaml   []byte
	origin *resource.Origin
	kind   string
	name   string
}

// sourceDoc is a document of a file of the application.
type sourceDoc struct {
	file string
	node *yaml.Node
}

// origin places the nodes of an object kustomize built in the files of
// the application it came from.
type origin struct {
	// resource is the object's document in its resource file; nil for an
	// object a generator made.
	resource *sourceDoc
	// patches are the patch documents that may apply to the object, the
	// last applied first.
	patches []sourceDoc
	// kustomization is the file (for messages) that built the object: the
	// root kustomization, or the one whose generator made it.
	kustomization string
}

// Place returns where node n of the object (a node of d.Node, or nil for
// the whole object) is written in the application's files, and, when that
// place is only near it (a field that kustomize set or changed), a note
// naming the kustomization that did.
func (d ManifestDoc) Place(n *yaml.Node) (file string, pos strictyaml.Pos, note string) {
	if d.origin == nil {
		if d.Line > 0 && n != nil {
			pos = strictyaml.Pos{Line: n.Line, Column: n.Column}
		}
		return d.File, pos, ""
	}
	return d.origin.place(d.Node, n)
}

// place finds n, a node of the built object root, in the object's patches
// and then its resource document, where it holds the same value.
func (o *origin) place(root, n *yaml.Node) (string, strictyaml.Pos, string) {
	note := "as kustomize built it with " + o.kustomization
	if o.resource == nil {
		return o.kustomization, strictyaml.Pos{}, "made by a generator of " + o.kustomization
	}
	steps := pathTo(root, n)
	if n == nil || steps == nil && n != root {
		return o.resource.file, nodePos(o.resource.node), note
	}
	for _, p := range o.patches {
		if m, full := follow(p.node, root, steps); full && sameValue(m, n) {
			return p.file, nodePos(m), ""
		}
	}
	m, full := follow(o.resource.node, root, steps)
	if full && sameValue(m, n) {
		return o.resource.file, nodePos(m), ""
	}
	return o.resource.file, nodePos(m), note
}

func nodePos(n *yaml.Node) strictyaml.Pos {
	return strictyaml.Pos{Line: n.Line, Column: n.Column}
}

// pathTo returns the indexes into Content leading from root to n, or nil
// when n is root or not under it.
func pathTo(root, n *yaml.Node) []int {
	for i, c := range root.Content {
		if c == n {
			return []int{i}
		}
		if p := pathTo(c, n); p != nil {
			return append([]int{i}, p...)
		}
	}
	return nil
}

// follow walks steps, indexes into the Content of the nodes of the built
// object from built, through src, matching mapping keys by name and list
// items by their name (or, without one, their index). It returns the last
// node reached and whether every step was.
func follow(src, built *yaml.Node, steps []int) (*yaml.Node, bool) {
	for _, i := range steps {
		next := step(src, built, i)
		if next == nil {
			return src, false
		}
		src, built = next, built.Content[i]
	}
	return src, true
}

// step returns the node of src that built.Content[i] corresponds to.
func step(src, built *yaml.Node, i int) *yaml.Node {
	if src.Kind != built.Kind {
		return nil
	}
	switch built.Kind {
	case yaml.MappingNode:
		key := built.Content[i-i%2].Value
		for j := 0; j+1 < len(src.Content); j += 2 {
			if src.Content[j].Value == key {
				return src.Content[j+i%2]
			}
		}
	case yaml.SequenceNode:
		if name := valueOf(built.Content[i], "name"); name != nil {
			for _, item := range src.Content {
				if v := valueOf(item, "name"); v != nil && v.Value == name.Value {
					return item
				}
			}
			return nil
		}
		if i < len(src.Content) {
			return src.Content[i]
		}
	}
	return nil
}

// sameValue reports whether src holds what built does: the same scalar,
// or a collection of the same kind.
func sameValue(src, built *yaml.Node) bool {
	if src.Kind != built.Kind {
		return false
	}
	return src.Kind != yaml.ScalarNode || src.Value == built.Value
}

// originOf returns the origin of obj, built from the kustomization in
// folder rel, reading the application's files from fsys (as written).
func (l *loader) originOf(fsys filesys.FileSystem, rel string, obj builtObject) *origin {
	o := &origin{kustomization: l.display(l.kustomization(rel))}
	if obj.origin == nil {
		return o
	}
	if obj.origin.ConfiguredIn != "" || obj.origin.Path == "" {
		if obj.origin.ConfiguredIn != "" {
			o.kustomization = l.display(path.Join(rel, obj.origin.ConfiguredIn))
		}
		return o
	}
	kf := l.kustomizeFiles()
	file := path.Join(rel, obj.origin.Path)
	if doc := matchDoc(kf.yamlDocs(fsys, file), obj, false); doc != nil {
		o.resource = &sourceDoc{file: l.display(file), node: doc}
	}
	patches, ok := kf.patches[rel]
	if !ok {
		patches = l.patchFiles(fsys, rel, map[string]bool{})
		kf.patches[rel] = patches
	}
	for _, p := range patches {
		docs := kf.yamlDocs(fsys, p.file)
		if doc := matchDoc(docs, obj, selects(p.target, obj)); doc != nil {
			o.patches = append(o.patches, sourceDoc{file: l.display(p.file), node: doc})
		}
	}
	return o
}

// patchFile is a strategic merge patch file of a kustomization.
type patchFile struct {
	file string
	// target is the kustomization's selection of the objects the patch
	// applies to, when it makes one: then its documents need not name them.
	target *types.Selector
}

// patchFiles returns the patch files of the kustomization in folder rel
// and of the kustomizations it builds on, the last applied first.
func (l *loader) patchFiles(fsys filesys.FileSystem, rel string, seen map[string]bool) []patchFile {
	kfile := l.kustomization(rel)
	if kfile == "" || seen[rel] {
		return nil
	}
	seen[rel] = true
	data, err := fsys.ReadFile("/" + kfile)
	if err != nil {
		return nil
	}
	var k types.Kustomization
	if k.Unmarshal(data) != nil {
		return nil
	}
	var out []patchFile
	for _, p := range slices.Backward(k.Patches) {
		if p.Path != "" {
			out = append(out, patchFile{file: path.Join(rel, p.Path), target: p.Target})
		}
	}
	for _, p := range slices.Backward(k.PatchesStrategicMerge) {
		if !strings.Contains(string(p), "\n") {
			out = append(out, patchFile{file: path.Join(rel, string(p))})
		}
	}
	for _, r := range slices.Concat(k.Resources, k.Bases, k.Components) {
		out = append(out, l.patchFiles(fsys, path.Clean(path.Join(rel, r)), seen)...)
	}
	return out
}

// selects reports whether target, a patch's selection, names obj's kind
// and name (as written, not as patterns) or leaves them open.
func selects(target *types.Selector, obj builtObject) bool {
	if target == nil {
		return false
	}
	return (target.Kind == "" || target.Kind == obj.kind) && (target.Name == "" || strings.Contains(obj.name, target.Name))
}

// yamlDocs returns the documents of the YAML file rel of fsys, as far as
// they can be read, parsed once per load.
func (kf *kustomizeFiles) yamlDocs(fsys filesys.FileSystem, rel string) []*yaml.Node {
	docs, ok := kf.docs[rel]
	if !ok {
		docs = yamlDocs(fsys, rel)
		kf.docs[rel] = docs
	}
	return docs
}

// yamlDocs returns the documents of the YAML file rel of fsys, as far as
// they can be read.
func yamlDocs(fsys filesys.FileSystem, rel string) []*yaml.Node {
	data, err := fsys.ReadFile("/" + rel)
	if err != nil {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) || err != nil {
			return out
		}
		if len(doc.Content) > 0 && doc.Content[0].Kind == yaml.MappingNode {
			out = append(out, doc.Content[0])
		}
	}
}

// matchDoc returns the document of docs that obj was built from or that
// patches it: of its kind, named as it is or as a part of its name (which
// prefixes and suffixes extend); the longest such name wins. With anyDoc,
// the one document of a patch whose kustomization selects its targets
// matches.
func matchDoc(docs []*yaml.Node, obj builtObject, anyDoc bool) *yaml.Node {
	if anyDoc && len(docs) == 1 {
		return docs[0]
	}
	var best *yaml.Node
	bestLen := -1
	for _, d := range docs {
		kind := valueOf(d, "kind")
		name := valueOf(valueOf(d, "metadata"), "name")
		if kind == nil || kind.Value != obj.kind || name == nil || !strings.Contains(obj.name, name.Value) {
			continue
		}
		if len(name.Value) > bestLen {
			best, bestLen = d, len(name.Value)
		}
	}
	return best
}
