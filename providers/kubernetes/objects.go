package kubernetes

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/jibe-dev/jibe/spec"
)

// Labels and annotations Jibe sets on every object it applies.
const (
	// LabelApp is the application's name.
	LabelApp = "jibe.dev/app"
	// LabelEnvironment is the environment's name.
	LabelEnvironment = "jibe.dev/environment"
	// LabelTarget is the target's name.
	LabelTarget = "jibe.dev/target"
	// LabelTrack marks the pods and objects of a canary ("canary") and, with
	// an HTTPRoute, of the stable version ("stable").
	LabelTrack = "jibe.dev/track"
	// LabelVersion is the pod-template hash of a blue/green workload, which
	// the Service's selector switches on.
	LabelVersion = "jibe.dev/version"
	// AnnotationRevision is the Git revision that last changed the object.
	AnnotationRevision = "jibe.dev/revision"
	// AnnotationDesiredHash is a hash of the object as last applied, so a
	// field removed from Git shows in Diff.
	AnnotationDesiredHash = "jibe.dev/desired-hash"
)

// FieldManager is the server-side apply field manager of every write.
const FieldManager = "jibe"

// track is the value of LabelTrack.
type track string

// The tracks.
const (
	trackStable track = "stable"
	trackCanary track = "canary"
)

// objectRef identifies an object in a cluster.
type objectRef struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// refOf returns the reference of u.
func refOf(u *unstructured.Unstructured) objectRef {
	gvk := u.GroupVersionKind()
	return objectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// id identifies the object whatever its version, as kustomize inventories
// do: namespace_name_group_kind.
func (r objectRef) id() string {
	return r.Namespace + "_" + r.Name + "_" + r.Group + "_" + r.Kind
}

// groupKind returns the reference's group and kind.
func (r objectRef) groupKind() schema.GroupKind {
	return schema.GroupKind{Group: r.Group, Kind: r.Kind}
}

// String names the object as plans show it, e.g. "apps/v1 Deployment
// shop/web".
func (r objectRef) String() string {
	gv := schema.GroupVersion{Group: r.Group, Version: r.Version}.String()
	name := r.Name
	if r.Namespace != "" {
		name = r.Namespace + "/" + r.Name
	}
	return gv + " " + r.Kind + " " + name
}

// applyRank orders applies: namespaces and CRDs first, the rest after.
// Deletes go in the reverse order.
func (r objectRef) applyRank() int {
	switch r.groupKind() {
	case schema.GroupKind{Kind: "Namespace"}, schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:
		return 0
	}
	return 1
}

// object is a desired object and where it comes from.
type object struct {
	u *unstructured.Unstructured
	// source is file:line of the manifest, empty for derived objects
	// (canary copies).
	source string
}

func (o object) ref() objectRef { return refOf(o.u) }

// describe names the object and its manifest for messages.
func (o object) describe() string {
	if o.source == "" {
		return o.ref().String()
	}
	return o.ref().String() + " (" + o.source + ")"
}

// where names the manifest and the object, in this order, for refusals
// that must name both within a commit status's few characters.
func (o object) where() string {
	if o.source == "" {
		return o.ref().String()
	}
	return o.source + ": " + o.ref().String()
}

// decodeManifests turns rendered manifests into unstructured objects,
// normalising numbers through JSON as the API server would. Lists are
// expanded: each item is an object of its own, placed, checked and
// applied as such.
func decodeManifests(ms []spec.Manifest) ([]object, error) {
	out := make([]object, 0, len(ms))
	for _, m := range ms {
		source := m.File
		if m.Line > 0 {
			source = fmt.Sprintf("%s:%d", m.File, m.Line)
		}
		raw, err := json.Marshal(m.Object)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", source, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("decode %s: %w", source, err)
		}
		objs, err := expandList(object{u: u, source: source})
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// isList reports whether u is a list of objects rather than an object:
// kind List (kubectl's), or a kind ending in List (ConfigMapList) that
// holds items.
func isList(u *unstructured.Unstructured) bool {
	kind := u.GetKind()
	_, items := u.Object["items"].([]any)
	return kind == "List" || items && strings.HasSuffix(kind, "List")
}

// expandList returns o's items, themselves expanded, when o is a list,
// else o. Items are named after the list's manifest and their index.
func expandList(o object) ([]object, error) {
	if !isList(o.u) {
		return []object{o}, nil
	}
	items, _ := o.u.Object["items"].([]any)
	var out []object
	for i, it := range items {
		source := fmt.Sprintf("%s items[%d]", o.source, i)
		m, ok := it.(map[string]any)
		item := &unstructured.Unstructured{Object: m}
		if !ok || item.GetAPIVersion() == "" || item.GetKind() == "" || item.GetName() == "" && !isList(item) {
			return nil, fmt.Errorf("%s: an item of a %s must be an object with apiVersion, kind and metadata.name", source, o.u.GetKind())
		}
		objs, err := expandList(object{u: item, source: source})
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// stamp is what every applied object carries.
type stamp struct {
	app, env, target, revision string
}

// apply sets the labels and revision annotation on u and its desired hash,
// computed before the revision is set so that a revision changing nothing
// else leaves the hash alone.
func (s stamp) apply(u *unstructured.Unstructured) {
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelApp], labels[LabelEnvironment], labels[LabelTarget] = s.app, s.env, s.target
	u.SetLabels(labels)
	setAnnotation(u, AnnotationRevision, "")
	setAnnotation(u, AnnotationDesiredHash, "")
	h := hashObject(u)
	setAnnotation(u, AnnotationDesiredHash, h)
	setAnnotation(u, AnnotationRevision, s.revision)
}

// setAnnotation sets or, with an empty value, removes an annotation.
func setAnnotation(u *unstructured.Unstructured, key, value string) {
	a := u.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	if value == "" {
		delete(a, key)
	} else {
		a[key] = value
	}
	if len(a) == 0 {
		a = nil
	}
	u.SetAnnotations(a)
}

// findObject returns the index of the object of kind named by ref
// ("Kind/name", or "" for the only object of kind), or an error saying
// what to set.
func findObject(objs []object, kind, ref, field string) (int, error) {
	if ref != "" {
		k, name, ok := strings.Cut(ref, "/")
		if !ok {
			k, name = kind, ref
		}
		if k != kind {
			return -1, fmt.Errorf("kubernetes.%s %q must name a %s", field, ref, kind)
		}
		for i, o := range objs {
			if o.u.GetKind() == k && o.u.GetName() == name {
				return i, nil
			}
		}
		return -1, fmt.Errorf("kubernetes.%s %q names no object of the manifests", field, ref)
	}
	found := -1
	for i, o := range objs {
		if o.u.GetKind() != kind {
			continue
		}
		if found >= 0 {
			return -1, fmt.Errorf("the manifests hold several %ss; set kubernetes.%s to the one to use", kind, field)
		}
		found = i
	}
	if found < 0 {
		return -1, fmt.Errorf("the manifests hold no %s; the strategy needs one (kubernetes.%s)", kind, field)
	}
	return found, nil
}
