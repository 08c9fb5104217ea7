// Package kubecheck checks Kubernetes manifests offline, before a deploy:
// built-in kinds strictly against the API types of the Kubernetes version
// Jibe supports (client-go's scheme: unknown fields, values of the wrong
// type, apiVersion and kind combinations that version does not serve),
// the Gateway API's standard kinds likewise, and custom resources against
// the OpenAPI v3 schema of a CustomResourceDefinition in the same
// application. Kinds that are neither
// are warnings: only the cluster knows them. Given a cluster (Discover,
// then Cluster.Check), they are resolved through its discovery: a kind it
// does not serve is a problem, and its CRDs' schemas check their custom
// resources.
//
// It lives apart from package spec, which must not link client-go (spec
// is fuzzed, and its tests stay free of provider imports); callers pass
// Check to spec.WithManifestCheck.
package kubecheck

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
)

// KubernetesVersion is the Kubernetes minor version whose API the checks
// follow: that of the k8s.io/api module Jibe is built with.
const KubernetesVersion = "1.35"

// kubernetesMinor is KubernetesVersion's minor number, for API lifecycles.
const kubernetesMinor = 35

var _ spec.ManifestCheck = Check

// Check checks the Kubernetes objects one environment deploys. Problems
// are what the API server would refuse; warnings are objects it cannot
// check offline (a kind no built-in API or CRD of the application
// defines) and deprecated API versions.
func Check(docs []spec.ManifestDoc) (problems, warnings strictyaml.ErrorList) {
	return check(docs, nil)
}

// check checks docs, against cl when it is not nil.
func check(docs []spec.ManifestDoc, cl *Cluster) (problems, warnings strictyaml.ErrorList) {
	r := &report{}
	crds := cl.withCRDs(collectCRDs(docs, r))
	for _, d := range docs {
		if d.Node != nil {
			checkObject(r.at(d), crds, cl)
		}
	}
	return r.problems, r.warnings
}

// report gathers the problems and warnings of a check.
type report struct {
	problems, warnings strictyaml.ErrorList
}

// at returns the reporter of one object.
func (r *report) at(d spec.ManifestDoc) *objReport {
	return &objReport{report: r, doc: d}
}

// objReport reports the problems of one object at its nodes.
type objReport struct {
	*report
	doc spec.ManifestDoc
}

// errorf reports a problem at node n and field path.
func (o *objReport) errorf(n *yaml.Node, path, format string, args ...any) {
	o.problems = append(o.problems, o.newError(n, path, fmt.Sprintf(format, args...)))
}

// warnf reports a warning at node n and field path.
func (o *objReport) warnf(n *yaml.Node, path, format string, args ...any) {
	o.warnings = append(o.warnings, o.newError(n, path, fmt.Sprintf(format, args...)))
}

// newError places a message: at the node, in the application's file it
// was written in (for an object kustomize built, the resource or patch
// file it came from; see spec.ManifestDoc.Place).
func (o *objReport) newError(n *yaml.Node, path, msg string) *strictyaml.Error {
	file, pos, note := o.doc.Place(n)
	if note != "" {
		msg = fmt.Sprintf("%s: %s (%s)", objectName(o.doc.Object), msg, note)
	}
	return &strictyaml.Error{File: file, Pos: pos, Field: path, Message: msg}
}

// objectName names an object for messages: Kind/name.
func objectName(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	return fmt.Sprintf("%v/%v", obj["kind"], md["name"])
}

// checkObject checks one object by what defines its kind, and against
// the cluster cl when it is not nil.
func checkObject(o *objReport, crds crdIndex, cl *Cluster) {
	root := o.doc.Node
	apiVersion, _ := o.doc.Object["apiVersion"].(string)
	kind, _ := o.doc.Object["kind"].(string)
	if apiVersion == "" || kind == "" {
		return // spec reports missing apiVersion and kind
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		o.errorf(valueNode(root, "apiVersion"), "apiVersion", "%q is not an API version; write group/version, such as apps/v1, or v1 for the core group", apiVersion)
		return
	}
	gvk := gv.WithKind(kind)
	switch {
	case gvk.GroupKind() == crdGroupKind:
		checkCRDObject(o, gvk)
	case builtinGroup(gv.Group):
		checkBuiltin(o, gvk)
		if cl != nil && scheme.Recognizes(gvk) && !crds.definesKind(gvk.GroupKind()) {
			checkServed(o, gvk, cl, nil)
		}
	case crds.definesKind(gvk.GroupKind()):
		crds.check(o, gvk)
	case cl != nil && cl.serves(gvk):
		// served by the cluster without a CRD (an aggregated API): nothing
		// to check its fields against
	case crds.definesGroup(gv.Group) && cl == nil:
		checkUnknownCRKind(o, gvk, crds)
	case cl != nil:
		checkServed(o, gvk, cl, crds.kinds(gv.Group))
	default:
		o.warnf(valueNode(root, "kind"), "kind", "%s %s is not a built-in kind of Kubernetes %s (nor of the Gateway API) and no CustomResourceDefinition in the application defines it, "+
			"so it is not checked before deploying; the cluster must serve it (install its CRD first, or add the CRD to the application)", apiVersion, kind, KubernetesVersion)
	}
}

// checkServed refuses a kind the cluster cl does not serve, and warns of
// one whose group the cluster could not list.
// appKinds are the kinds the application's CRDs define in gvk's group,
// for suggestions.
func checkServed(o *objReport, gvk schema.GroupVersionKind, cl *Cluster, appKinds []string) {
	switch {
	case cl.serves(gvk):
	case cl.unsure(gvk.GroupVersion()):
		o.warnf(valueNode(o.doc.Node, "kind"), "kind", "the cluster %s could not say whether it serves %s %s (its discovery of %s failed), so it is not checked before deploying",
			cl.Name, gvk.GroupVersion(), gvk.Kind, gvk.GroupVersion())
	default:
		msg := fmt.Sprintf("the cluster %s does not serve %s %s; install its CRD or fix apiVersion/kind", cl.Name, gvk.GroupVersion(), gvk.Kind)
		if s := strictyaml.Suggest(gvk.Kind, append(cl.kinds(gvk.GroupVersion()), appKinds...)); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		o.errorf(valueNode(o.doc.Node, "kind"), "kind", "%s", msg)
	}
}

// valueNode returns the value of key in mapping n, or n itself when the
// key is not there, so that a problem is placed as near as possible.
func valueNode(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	}
	return n
}

// quoted joins names quoted, for messages.
func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
