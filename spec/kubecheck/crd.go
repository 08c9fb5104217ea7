package kubecheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	oaerrors "k8s.io/kube-openapi/pkg/validation/errors"
	oaspec "k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
)

// crdGroupKind is the kind of CustomResourceDefinitions.
var crdGroupKind = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}

// crdVersion is one version of a custom resource.
type crdVersion struct {
	served bool
	// schema is the version's OpenAPI v3 schema; nil when it has none.
	schema *oaspec.Schema
}

// crdDef is what one CustomResourceDefinition of the application
// defines.
type crdDef struct {
	name     string
	versions map[string]*crdVersion
	// cluster names the cluster the CRD was read from; empty for a CRD
	// of the application.
	cluster string
}

// origin says where the CRD comes from, for messages.
func (d *crdDef) origin() string {
	if d.cluster == "" {
		return "CustomResourceDefinition " + d.name
	}
	return "CustomResourceDefinition " + d.name + " of the cluster " + d.cluster
}

// crdIndex holds the application's CustomResourceDefinitions by the
// group and kind they define.
type crdIndex map[schema.GroupKind]*crdDef

// collectCRDs reads the CustomResourceDefinitions among docs, reporting
// schemas that cannot be read.
func collectCRDs(docs []spec.ManifestDoc, r *report) crdIndex {
	out := crdIndex{}
	for _, d := range docs {
		if d.Node == nil || d.Object["kind"] != crdGroupKind.Kind || d.Object["apiVersion"] != "apiextensions.k8s.io/v1" {
			continue
		}
		gk, def, bad := readCRD(d.Object)
		if def == nil {
			continue // the built-in check of the CRD reports its shape
		}
		for _, path := range bad {
			r.at(d).errorf(nil, path.field, "the schema cannot be read: %v", path.err)
		}
		out[gk] = def
	}
	return out
}

// schemaError is a version schema of a CRD that cannot be read.
type schemaError struct {
	field string
	err   error
}

// readCRD reads a CustomResourceDefinition object: the kind it defines and
// its versions; def is nil when the object is not a readable CRD.
func readCRD(obj map[string]any) (gk schema.GroupKind, def *crdDef, bad []schemaError) {
	var crd struct {
		Metadata struct{ Name string }
		Spec     struct {
			Group string
			Names struct{ Kind string }
			// Versions keep their schema as JSON, read below.
			Versions []struct {
				Name   string
				Served bool
				Schema struct {
					OpenAPIV3Schema json.RawMessage
				}
			}
		}
	}
	data, err := json.Marshal(obj)
	if err != nil || json.Unmarshal(data, &crd) != nil || crd.Spec.Names.Kind == "" {
		return gk, nil, nil
	}
	def = &crdDef{name: crd.Metadata.Name, versions: map[string]*crdVersion{}}
	for i, v := range crd.Spec.Versions {
		cv := &crdVersion{served: v.Served}
		if len(v.Schema.OpenAPIV3Schema) > 0 {
			cv.schema = &oaspec.Schema{}
			if err := json.Unmarshal(v.Schema.OpenAPIV3Schema, cv.schema); err != nil {
				bad = append(bad, schemaError{fmt.Sprintf("spec.versions[%d].schema.openAPIV3Schema", i), err})
				cv.schema = nil
			}
		}
		def.versions[v.Name] = cv
	}
	return schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}, def, bad
}

func (c crdIndex) definesKind(gk schema.GroupKind) bool { return c[gk] != nil }

func (c crdIndex) definesGroup(group string) bool {
	for gk := range c {
		if gk.Group == group {
			return true
		}
	}
	return false
}

// kinds returns the kinds the CRDs define in group.
func (c crdIndex) kinds(group string) []string {
	var out []string
	for gk := range c {
		if gk.Group == group {
			out = append(out, gk.Kind)
		}
	}
	slices.Sort(out)
	return out
}

// checkCRDObject checks a CustomResourceDefinition's own API version; its
// schema is read by collectCRDs.
func checkCRDObject(o *objReport, gvk schema.GroupVersionKind) {
	if gvk.Version != "v1" {
		o.errorf(valueNode(o.doc.Node, "apiVersion"), "apiVersion", "%s %s is no longer served since Kubernetes 1.22 (this is %s); use apiVersion apiextensions.k8s.io/v1",
			gvk.GroupVersion(), gvk.Kind, KubernetesVersion)
	}
}

// checkUnknownCRKind warns of a kind in a group whose other kinds the
// application's CRDs define: likely a typo.
func checkUnknownCRKind(o *objReport, gvk schema.GroupVersionKind, crds crdIndex) {
	kinds := crds.kinds(gvk.Group)
	msg := fmt.Sprintf("no CustomResourceDefinition in the application defines kind %q of group %s (they define %s)", gvk.Kind, gvk.Group, quoted(kinds))
	if s := strictyaml.Suggest(gvk.Kind, kinds); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += ", so it is not checked before deploying; the cluster must serve it"
	}
	o.warnf(valueNode(o.doc.Node, "kind"), "kind", "%s", msg)
}

// check checks a custom resource against its CRD's schema.
func (c crdIndex) check(o *objReport, gvk schema.GroupVersionKind) {
	def := c[gvk.GroupKind()]
	v, ok := def.versions[gvk.Version]
	switch {
	case !ok:
		o.errorf(valueNode(o.doc.Node, "apiVersion"), "apiVersion", "%s has no version %s of %s; its versions are %s",
			def.origin(), gvk.Version, gvk.Kind, strings.Join(slices.Sorted(maps.Keys(def.versions)), ", "))
		return
	case !v.served:
		o.errorf(valueNode(o.doc.Node, "apiVersion"), "apiVersion", "%s does not serve version %s (served: false); use a served version", def.origin(), gvk.Version)
		return
	}
	root := o.doc.Node
	typedWalker{o: o, what: gvk.GroupVersion().String() + " " + gvk.Kind}.value(valueNode(root, "metadata"), reflect.TypeFor[metav1.ObjectMeta](), "metadata")
	if v.schema == nil {
		return
	}
	cw := crWalker{o: o, what: gvk.GroupVersion().String() + " " + gvk.Kind}
	cw.unknown(root, v.schema, "", true)
	validateSchema(o, v.schema)
}

// validateSchema checks the object's values against the schema with the
// OpenAPI validator the API server uses for custom resources, and places
// each error at its node.
func validateSchema(o *objReport, s *oaspec.Schema) {
	res := validate.NewSchemaValidator(s, nil, "", strfmt.Default).Validate(o.doc.Object)
	for _, err := range res.Errors {
		name, msg := "", err.Error()
		var ve *oaerrors.Validation
		if errors.As(err, &ve) {
			name = ve.Name
			msg = strings.TrimPrefix(strings.TrimPrefix(msg, ve.Name), " in body ")
		}
		path := strings.TrimPrefix(name, ".")
		if msg == "is required" {
			parent, field := splitLast(path)
			o.errorf(resolvePath(o.doc.Node, parent), path, "missing required field %q", field)
			continue
		}
		if path == "metadata" || strings.HasPrefix(path, "metadata.") {
			continue // checked as ObjectMeta
		}
		o.errorf(resolvePath(o.doc.Node, path), path, "%s", msg)
	}
}

// crWalker finds the fields of a custom resource that its schema does
// not know: the API server drops them (or, with strict field
// validation, refuses them).
type crWalker struct {
	o    *objReport
	what string
}

func (w crWalker) unknown(n *yaml.Node, s *oaspec.Schema, path string, root bool) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		w.mapping(n, s, path, root)
	case yaml.SequenceNode:
		if s.Items != nil && s.Items.Schema != nil {
			for i, item := range n.Content {
				w.unknown(item, s.Items.Schema, strictyaml.JoinIndex(path, i), false)
			}
		}
	}
}

func (w crWalker) mapping(n *yaml.Node, s *oaspec.Schema, path string, root bool) {
	preserve, _ := s.Extensions.GetBool("x-kubernetes-preserve-unknown-fields")
	embedded, _ := s.Extensions.GetBool("x-kubernetes-embedded-resource")
	if !s.Type.Contains("object") && len(s.Properties) == 0 {
		return // not an object: the validator reports the type
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		field := strictyaml.JoinKey(path, key)
		if sub, ok := s.Properties[key]; ok {
			w.unknown(val, &sub, field, false)
			continue
		}
		switch {
		case (root || embedded) && (key == "apiVersion" || key == "kind" || key == "metadata"):
		case s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil:
			w.unknown(val, s.AdditionalProperties.Schema, field, false)
		case s.AdditionalProperties != nil && s.AdditionalProperties.Allows, preserve:
		default:
			w.unknownField(n.Content[i], s, field)
		}
	}
}

func (w crWalker) unknownField(key *yaml.Node, s *oaspec.Schema, field string) {
	names := slices.Sorted(maps.Keys(s.Properties))
	msg := fmt.Sprintf("unknown field %q in %s (its CustomResourceDefinition's schema has no such field)", key.Value, w.what)
	if sug := strictyaml.Suggest(key.Value, names); sug != "" {
		msg += fmt.Sprintf("; did you mean %q?", sug)
	} else if len(names) > 0 {
		msg += "; valid fields here are " + quoted(names)
	}
	w.o.errorf(key, field, "%s", msg)
}

// resolvePath returns the node at path (a.b[0].c), or the deepest node on
// the way to it. Keys may themselves hold dots.
func resolvePath(n *yaml.Node, path string) *yaml.Node {
	for path != "" {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		path = strings.TrimPrefix(path, ".")
		next, rest, ok := step(n, path)
		if !ok {
			return n
		}
		n, path = next, rest
	}
	return n
}

// step takes the first element of path in n.
func step(n *yaml.Node, path string) (*yaml.Node, string, bool) {
	if strings.HasPrefix(path, "[") {
		end := strings.IndexByte(path, ']')
		var i int
		if end < 0 || n.Kind != yaml.SequenceNode {
			return nil, "", false
		}
		if _, err := fmt.Sscanf(path[1:end], "%d", &i); err != nil || i < 0 || i >= len(n.Content) {
			return nil, "", false
		}
		return n.Content[i], path[end+1:], true
	}
	if n.Kind != yaml.MappingNode {
		return nil, "", false
	}
	best := -1
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if (path == k || strings.HasPrefix(path, k+".") || strings.HasPrefix(path, k+"[")) && (best < 0 || len(k) > len(n.Content[best].Value)) {
			best = i
		}
	}
	if best < 0 {
		return nil, "", false
	}
	return n.Content[best+1], path[len(n.Content[best].Value):], true
}

// splitLast splits a.b.c into a.b and c.
func splitLast(path string) (string, string) {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i], path[i+1:]
	}
	return "", path
}
