package spec

import (
	"fmt"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// Kustomize reads every path a kustomization names through its file
// loader, which fetches http(s) URLs itself and clones Git repositories
// with the git program. That loader is internal to kustomize: no exported
// option replaces its HTTP client or its cloner, and replacing
// http.DefaultTransport would change every client of the process. So
// nothing remote may reach it: before each build, every path that a
// kustomization of the application, or a builtin plugin configuration it
// names, gives kustomize is checked, with kustomize's own types, and
// anything that is not a file of the application is refused. The one input
// that cannot be checked before the build, plugin configurations computed
// by building a folder, is refused too. Plugins other than kustomize's
// builtins, KRM functions and Helm never run (see kustomizeOptions).

// pathUse says how kustomize reads a field that names a path.
type pathUse int

const (
	// useFile is a file, read with the loader (or fetched when remote).
	useFile pathUse = iota + 1
	// useFileOrFolder is a file or a kustomization folder (or a Git
	// repository when remote).
	useFileOrFolder
	// useFileOrInline is a file, or a patch written in place.
	useFileOrInline
	// useSource is a generator's file source: a file, optionally preceded
	// by "key=".
	useSource
	// usePlugin is a plugin configuration: written in place, a file, or a
	// kustomization folder building configurations (refused).
	usePlugin
	// useRefused is a field Jibe refuses whenever it is set.
	useRefused
)

// kustomizationPaths are the fields of types.Kustomization that name a
// path kustomize reads, as patterns: [] is any list index, {} any map key.
// TestKustomizationFieldsClassified fails when kustomize gains a field
// that is not classified here or in its list of fields that name no path.
var kustomizationPaths = map[string]pathUse{
	"resources[]":                  useFileOrFolder,
	"bases[]":                      useFileOrFolder,
	"components[]":                 useFileOrFolder,
	"crds[]":                       useFile,
	"configurations[]":             useFile,
	"openapi{}":                    useFile,
	"patches[].path":               useFile,
	"patchesJson6902[].path":       useFile,
	"patchesStrategicMerge[]":      useFileOrInline,
	"replacements[].path":          useFile,
	"configMapGenerator[].files[]": useSource,
	"configMapGenerator[].envs[]":  useFile,
	"configMapGenerator[].env":     useFile,
	"secretGenerator[].files[]":    useSource,
	"secretGenerator[].envs[]":     useFile,
	"secretGenerator[].env":        useFile,
	"generators[]":                 usePlugin,
	"transformers[]":               usePlugin,
	"validators[]":                 usePlugin,
	"helmGlobals":                  useRefused,
	"helmCharts":                   useRefused,
	"helmChartInflationGenerator":  useRefused,
}

// builtinPluginPaths are, for each of kustomize's builtin plugins, the
// keys of its configuration that name files it reads (at any depth). A
// nil entry names no file; HelmChartInflationGenerator is refused.
// TestBuiltinPluginsClassified fails when kustomize gains a builtin that
// is not listed.
var builtinPluginPaths = map[string][]string{
	"AnnotationsTransformer":         nil,
	"ConfigMapGenerator":             {"files", "envs", "env"},
	"HashTransformer":                nil,
	"HelmChartInflationGenerator":    nil,
	"IAMPolicyGenerator":             nil,
	"ImageTagTransformer":            nil,
	"LabelTransformer":               nil,
	"NamespaceTransformer":           nil,
	"PatchJson6902Transformer":       {"path"},
	"PatchStrategicMergeTransformer": {"paths"},
	"PatchTransformer":               {"path"},
	"PrefixSuffixTransformer":        nil,
	"PrefixTransformer":              nil,
	"ReplacementTransformer":         {"path"},
	"ReplicaCountTransformer":        nil,
	"SecretGenerator":                {"files", "envs", "env"},
	"SuffixTransformer":              nil,
	"ValueAddTransformer":            {"targetFilePath"},
}

// kustomizeCheck checks the kustomizations of one application, as one
// environment sees them.
type kustomizeCheck struct {
	l    *loader
	fsys filesys.FileSystem
	rmf  *resmap.Factory
}

// checkKustomizations refuses every remote path named by the kustomization
// files kfiles (paths relative to the application's folder) as read from
// fsys, and by the plugin configurations they name.
func (l *loader) checkKustomizations(fsys filesys.FileSystem, kfiles []string) {
	c := &kustomizeCheck{l: l, fsys: fsys, rmf: resmap.NewFactory(provider.NewDepProvider().GetResourceFactory())}
	for _, p := range kfiles {
		c.kustomization(p)
	}
}

// kustomization checks one kustomization file. A file kustomize cannot
// decode is left to kustomize, which refuses it before reading any path it
// names.
func (c *kustomizeCheck) kustomization(rel string) {
	data, err := c.fsys.ReadFile("/" + rel)
	if err != nil {
		return
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	visitPaths(reflect.ValueOf(k), "", "", func(use pathUse, field, value string) {
		c.path(rel, &root, use, field, value)
	})
}

// visitPaths calls visit for every value of v at a pattern of
// kustomizationPaths, with its field path.
func visitPaths(v reflect.Value, pattern, field string, visit func(use pathUse, field, value string)) {
	if use, ok := kustomizationPaths[pattern]; ok && use == useRefused {
		if !v.IsZero() {
			visit(use, field, "")
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			visitPaths(v.Elem(), pattern, field, visit)
		}
	case reflect.Struct:
		eachField(v.Type(), func(i int, name string, inline bool) {
			if inline {
				visitPaths(v.Field(i), pattern, field, visit)
			} else {
				visitPaths(v.Field(i), strictyaml.JoinField(pattern, name), strictyaml.JoinField(field, name), visit)
			}
		})
	case reflect.Slice:
		for i := range v.Len() {
			visitPaths(v.Index(i), pattern+"[]", strictyaml.JoinIndex(field, i), visit)
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			visitPaths(v.MapIndex(k), pattern+"{}", strictyaml.JoinField(field, k.String()), visit)
		}
	case reflect.String:
		if use, ok := kustomizationPaths[pattern]; ok && v.String() != "" {
			visit(use, field, v.String())
		}
	}
}

// eachField calls fn for each exported field of struct type t with its
// JSON name; inline is set for embedded fields whose fields are inlined.
func eachField(t reflect.Type, fn func(i int, name string, inline bool)) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case !f.IsExported() || name == "-":
		case name == "" && (f.Anonymous || strings.Contains(opts, "inline")):
			fn(i, "", true)
		case name == "":
			fn(i, f.Name, false)
		default:
			fn(i, name, false)
		}
	}
}

// path checks one path named at field of kustomization rel.
func (c *kustomizeCheck) path(rel string, root *yaml.Node, use pathUse, field, value string) {
	refuse := func(format string, args ...any) {
		n := nodeAt(root, field)
		c.l.errs = append(c.l.errs, &strictyaml.Error{File: c.l.display(rel), Pos: strictyaml.Pos{Line: n.Line, Column: n.Column}, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch use {
	case useRefused:
		refuse("Jibe does not inflate Helm charts: helm would download the chart and run a program. Render the chart with helm template, vendor the output into the application's folder and list it under resources")
		return
	case useSource:
		if _, file, ok := strings.Cut(value, "="); ok {
			value = file
		}
	case useFileOrInline:
		if isInlineText(value) {
			return
		}
	case usePlugin:
		c.plugin(rel, refuse, value)
		return
	}
	if isRemote(value) {
		refuse("%s", remoteMessage(value))
	}
}

// remoteMessage says why a remote path is refused and what to do instead.
func remoteMessage(value string) string {
	return fmt.Sprintf("%q is not a file of the application: kustomize would fetch it from the network or another repository, "+
		"and Jibe builds only from the reviewed commit. Vendor the file into the application's folder and name it by its relative path", value)
}

// plugin checks a plugin configuration named at an entry of generators,
// transformers or validators of kustomization rel.
func (c *kustomizeCheck) plugin(rel string, refuse func(string, ...any), value string) {
	if _, err := c.rmf.NewResMapFromBytes([]byte(value)); err == nil {
		// Kustomize reads the entry as configurations written in place.
		for _, p := range pluginProblems([]byte(value)) {
			refuse("the configuration written here, at line %d (%s): %s", p.Line, p.Field, p.Message)
		}
		return
	}
	if isRemote(value) {
		refuse("%s", remoteMessage(value))
		return
	}
	target := path.Join("/", path.Dir(rel), value)
	if c.fsys.IsDir(target) {
		refuse("%q is a folder: kustomize would build it to compute plugin configurations, which Jibe cannot check before the build. "+
			"Name configuration files, or write the configurations in place", value)
		return
	}
	data, err := c.fsys.ReadFile(target)
	if err != nil {
		return // kustomize reports the missing file
	}
	for _, p := range pluginProblems(data) {
		p.File = c.l.display(strings.TrimPrefix(target, "/"))
		c.l.errs = append(c.l.errs, p)
	}
}

// pluginProblems checks the plugin configurations in data: only
// kustomize's builtin plugins, and no remote path. The problems have no
// file.
func pluginProblems(data []byte) strictyaml.ErrorList {
	var errs strictyaml.ErrorList
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var doc yaml.Node
		if dec.Decode(&doc) != nil {
			return errs // the end, or a syntax error kustomize reports
		}
		if len(doc.Content) > 0 {
			errs = append(errs, pluginObject(doc.Content[0])...)
		}
	}
}

// pluginObject checks one plugin configuration, or each item of a list.
func pluginObject(n *yaml.Node) strictyaml.ErrorList {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	apiVersion, kind := scalarAt(n, "apiVersion"), scalarAt(n, "kind")
	if items := valueAt(n, "items"); items != nil && strings.HasSuffix(kind, "List") {
		var errs strictyaml.ErrorList
		for _, item := range items.Content {
			errs = append(errs, pluginObject(item)...)
		}
		return errs
	}
	problem := func(at *yaml.Node, field, format string, args ...any) strictyaml.ErrorList {
		return strictyaml.ErrorList{{Pos: strictyaml.Pos{Line: at.Line, Column: at.Column}, Field: field, Message: fmt.Sprintf(format, args...)}}
	}
	keys, builtin := builtinPluginPaths[kind]
	switch {
	case apiVersion != "builtin" || !builtin:
		return problem(n, "kind", "%s %s is not one of kustomize's builtin plugins: Jibe runs no exec, Go or container (KRM function) plugins. Vendor its output into the application's folder instead", apiVersion, kind)
	case kind == "HelmChartInflationGenerator":
		return problem(n, "kind", "Jibe does not inflate Helm charts: helm would download the chart and run a program. Render the chart with helm template, vendor the output into the application's folder and list it under resources")
	}
	var errs strictyaml.ErrorList
	walkKeys(n, "", keys, func(at *yaml.Node, key, field, value string) {
		if _, file, ok := strings.Cut(value, "="); ok && key == "files" {
			value = file
		}
		if !isInlineText(value) && isRemote(value) {
			errs = append(errs, problem(at, field, "%s", remoteMessage(value))...)
		}
	})
	return errs
}

// walkKeys calls fn for every scalar under one of keys, at any depth of n.
func walkKeys(n *yaml.Node, field string, keys []string, fn func(at *yaml.Node, key, field, value string)) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			f := strictyaml.JoinField(field, k)
			if slices.Contains(keys, k) {
				scalars(v, f, func(at *yaml.Node, field, value string) { fn(at, k, field, value) })
			}
			walkKeys(v, f, keys, fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkKeys(c, strictyaml.JoinIndex(field, i), keys, fn)
		}
	}
}

// scalars calls fn for n when it is a scalar, or for each scalar item
// when it is a list.
func scalars(n *yaml.Node, field string, fn func(at *yaml.Node, field, value string)) {
	switch n.Kind {
	case yaml.ScalarNode:
		fn(n, field, n.Value)
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if c.Kind == yaml.ScalarNode {
				fn(c, strictyaml.JoinIndex(field, i), c.Value)
			}
		}
	}
}

// valueAt returns the value of key in mapping n, or nil.
func valueAt(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalarAt(n *yaml.Node, key string) string {
	if v := valueAt(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

var fieldPart = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// nodeAt returns the node at field (such as "patches[0].path") of a parsed
// document, or its nearest ancestor that exists.
func nodeAt(doc *yaml.Node, field string) *yaml.Node {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, part := range fieldPart.FindAllString(field, -1) {
		next := valueAt(n, part)
		if strings.HasPrefix(part, "[") {
			i, _ := strconv.Atoi(strings.Trim(part, "[]"))
			next = nil
			if n.Kind == yaml.SequenceNode && i < len(n.Content) {
				next = n.Content[i]
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	if n.Line == 0 {
		n = &yaml.Node{Line: 1, Column: 1}
	}
	return n
}

// isInlineText reports whether a value is text written in place (a patch,
// a configuration) rather than a path.
func isInlineText(s string) bool {
	t := strings.TrimSpace(s)
	return strings.Contains(t, "\n") || strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")
}

// userHost matches the user@ of an scp-style Git address.
var userHost = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isRemote reports whether kustomize could read p from elsewhere than the
// application's files: a URL of any scheme (http, https, ssh, file, ...),
// an scp-style Git address (git@host:org/repo), GitHub's shorthand
// (github.com/org/repo) or go-getter's git:: prefix. It errs on the side of
// refusing: a local path never needs a scheme.
func isRemote(p string) bool {
	s := strings.TrimSpace(p)
	lower := strings.ToLower(s)
	if strings.Contains(s, "://") || strings.HasPrefix(lower, "git::") || userHost.MatchString(s) ||
		strings.HasPrefix(lower, "github.com/") || strings.HasPrefix(lower, "github.com:") {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != ""
}
