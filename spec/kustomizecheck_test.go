package spec

import (
	"reflect"
	"slices"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
)

// kustomizationPathless are the fields of types.Kustomization that name no
// path kustomize reads, as patterns ([] any index, {} any key).
var kustomizationPathless = []string{
	"kind", "apiVersion", "metadata.name", "metadata.namespace", "metadata.labels{}", "metadata.annotations{}",
	"namePrefix", "nameSuffix", "namespace", "commonLabels{}", "commonAnnotations{}", "buildMetadata[]",
	"labels[].pairs{}", "labels[].includeSelectors", "labels[].includeTemplates", "labels[].includeVolumeClaimTemplates",
	"labels[].fields[].group", "labels[].fields[].version", "labels[].fields[].kind", "labels[].fields[].path", "labels[].fields[].create",
	"images[].name", "images[].newName", "images[].tagSuffix", "images[].newTag", "images[].digest",
	"imageTags[].name", "imageTags[].newName", "imageTags[].tagSuffix", "imageTags[].newTag", "imageTags[].digest",
	"replicas[].name", "replicas[].count",
	"vars[].name", "vars[].objref.apiVersion", "vars[].objref.group", "vars[].objref.version", "vars[].objref.kind",
	"vars[].objref.name", "vars[].objref.namespace", "vars[].fieldref.fieldPath",
	"sortOptions.order", "sortOptions.legacySortOptions.orderFirst[]", "sortOptions.legacySortOptions.orderLast[]",
	"generatorOptions.labels{}", "generatorOptions.annotations{}", "generatorOptions.disableNameSuffixHash", "generatorOptions.immutable",
	// Patches: the patch written in place, its target and options.
	"patches[].patch", "patches[].target.group", "patches[].target.version", "patches[].target.kind", "patches[].target.name",
	"patches[].target.namespace", "patches[].target.annotationSelector", "patches[].target.labelSelector",
	"patches[].options.allowNameChange", "patches[].options.allowKindChange",
	"patchesJson6902[].patch", "patchesJson6902[].target.group", "patchesJson6902[].target.version", "patchesJson6902[].target.kind",
	"patchesJson6902[].target.name", "patchesJson6902[].target.namespace", "patchesJson6902[].target.annotationSelector",
	"patchesJson6902[].target.labelSelector", "patchesJson6902[].options.allowNameChange", "patchesJson6902[].options.allowKindChange",
	// Replacements written in place.
	"replacements[].source.group", "replacements[].source.version", "replacements[].source.kind", "replacements[].source.name",
	"replacements[].source.namespace", "replacements[].source.fieldPath", "replacements[].source.options.delimiter",
	"replacements[].source.options.index", "replacements[].source.options.encoding", "replacements[].source.options.create",
	"replacements[].targets[].select.group", "replacements[].targets[].select.version", "replacements[].targets[].select.kind",
	"replacements[].targets[].select.name", "replacements[].targets[].select.namespace", "replacements[].targets[].select.annotationSelector",
	"replacements[].targets[].select.labelSelector", "replacements[].targets[].reject[].group", "replacements[].targets[].reject[].version",
	"replacements[].targets[].reject[].kind", "replacements[].targets[].reject[].name", "replacements[].targets[].reject[].namespace",
	"replacements[].targets[].reject[].annotationSelector", "replacements[].targets[].reject[].labelSelector",
	"replacements[].targets[].fieldPaths[]", "replacements[].targets[].options.delimiter", "replacements[].targets[].options.index",
	"replacements[].targets[].options.encoding", "replacements[].targets[].options.create", "replacements[].sourceValue",
	// Generators: names, literals and options.
	"configMapGenerator[].namespace", "configMapGenerator[].name", "configMapGenerator[].behavior", "configMapGenerator[].literals[]",
	"configMapGenerator[].options.labels{}", "configMapGenerator[].options.annotations{}",
	"configMapGenerator[].options.disableNameSuffixHash", "configMapGenerator[].options.immutable",
	"secretGenerator[].namespace", "secretGenerator[].name", "secretGenerator[].behavior", "secretGenerator[].literals[]",
	"secretGenerator[].options.labels{}", "secretGenerator[].options.annotations{}",
	"secretGenerator[].options.disableNameSuffixHash", "secretGenerator[].options.immutable", "secretGenerator[].type",
}

// Every field of kustomize's Kustomization type is either checked for
// remote paths before a build or known to name none: when a kustomize
// upgrade adds a field, this test fails until it is classified.
func TestKustomizationFieldsClassified(t *testing.T) {
	seen := map[string]bool{}
	leafPatterns(reflect.TypeOf(types.Kustomization{}), "", func(pattern string) {
		seen[pattern] = true
		if _, ok := kustomizationPaths[pattern]; ok || slices.Contains(kustomizationPathless, pattern) {
			return
		}
		t.Errorf("kustomization field %s is not classified: add it to kustomizationPaths if it names a path, else to kustomizationPathless", pattern)
	})
	for pattern := range kustomizationPaths {
		if !seen[pattern] {
			t.Errorf("kustomizationPaths names %s, which kustomize's Kustomization does not have", pattern)
		}
	}
}

// leafPatterns calls fn with the pattern of every field of t that holds a
// value other than a struct, list or map; refused fields count as leaves.
func leafPatterns(t reflect.Type, pattern string, fn func(string)) {
	if use, ok := kustomizationPaths[pattern]; ok && use == useRefused {
		fn(pattern)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		leafPatterns(t.Elem(), pattern, fn)
	case reflect.Slice:
		leafPatterns(t.Elem(), pattern+"[]", fn)
	case reflect.Map:
		leafPatterns(t.Elem(), pattern+"{}", fn)
	case reflect.Struct:
		eachField(t, func(i int, name string, inline bool) {
			if inline {
				leafPatterns(t.Field(i).Type, pattern, fn)
			} else {
				leafPatterns(t.Field(i).Type, joinPattern(pattern, name), fn)
			}
		})
	default:
		fn(pattern)
	}
}

func joinPattern(pattern, name string) string {
	if pattern == "" {
		return name
	}
	return pattern + "." + name
}

// Every builtin plugin of kustomize has its path-naming keys listed.
func TestBuiltinPluginsClassified(t *testing.T) {
	names := krusty.GetBuiltinPluginNames()
	for _, name := range names {
		if _, ok := builtinPluginPaths[name]; !ok {
			t.Errorf("builtin plugin %s is not in builtinPluginPaths: list the keys of its configuration that name files", name)
		}
	}
	for name := range builtinPluginPaths {
		if !slices.Contains(names, name) {
			t.Errorf("builtinPluginPaths lists %s, which is not a builtin plugin of kustomize", name)
		}
	}
}

func TestIsRemote(t *testing.T) {
	for p, want := range map[string]bool{
		"deploy.yaml": false, "../base": false, "./a/b.yaml": false, "dir/github.com/x": false, "user.name": false,
		"https://example.com/x.yaml": true, "HTTP://example.com": true, "ssh://git@host/repo": true, "file:///etc": true,
		"git::https://host/repo": true, "git@github.com:org/repo": true, "GitHub.com/org/repo": true, "github.com:org/repo": true,
		"s3://bucket/key": true, "c:/x": true, " https://x": true,
	} {
		if got := isRemote(p); got != want {
			t.Errorf("isRemote(%q) = %v, want %v", p, got, want)
		}
	}
}
