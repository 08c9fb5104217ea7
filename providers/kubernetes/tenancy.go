package kubernetes

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/jibe-dev/jibe/reconcile"
)

// Scopes a CustomResourceDefinition declares in spec.scope.
const (
	scopeNamespaced = "Namespaced"
	scopeCluster    = "Cluster"
)

// writeOpts are how a session writes.
type writeOpts struct {
	// force takes over fields of other managers.
	force bool
	// allow admits every object written or deleted by its scope; nil
	// admits all.
	allow reconcile.Tenancy
}

// admit returns a stalled *reconcile.RefusedError naming where unless the
// deployment's tenancy lets it write ref, namespaced or cluster-scoped.
func (w writeOpts) admit(where string, ref objectRef, namespaced bool) error {
	if w.allow == nil {
		return nil
	}
	var err error
	switch {
	case namespaced && ref.Namespace == "":
		err = errors.New("the cluster serves this kind as namespaced, but it was placed as cluster-scoped; plan again")
	case namespaced:
		err = w.allow.AllowNamespace(ref.Namespace)
	case ref.Namespace != "":
		err = errors.New("the cluster serves this kind as cluster-scoped, but it was placed in a namespace; plan again")
	default:
		err = w.allow.AllowClusterScoped(ref.Group, ref.Kind, ref.Name)
	}
	return refuse(where, err)
}

// admitMapping is admit with the scope of a REST mapping, the cluster's
// answer at the time of the write.
func (w writeOpts) admitMapping(where string, ref objectRef, m *meta.RESTMapping) error {
	return w.admit(where, ref, m.Scope.Name() == meta.RESTScopeNameNamespace)
}

// refuse wraps err, when not nil, as a stalled refusal of the object
// where names.
func refuse(where string, err error) error {
	if err == nil {
		return nil
	}
	return reconcile.Stalled(&reconcile.RefusedError{Object: where, Err: err})
}

// namespaced reports whether o's kind is namespaced. The cluster decides,
// from discovery (read again once when the kind is unknown, so that CRDs
// installed since are found); a kind the cluster does not serve yet takes
// the scope of the CustomResourceDefinition among objs that defines it.
// A kind whose scope neither tells, or that the two tell differently, is
// refused: nothing of the deployment may be written until it is known.
func (cl *cluster) namespaced(o object, objs []object) (bool, error) {
	ref := o.ref()
	m, err := cl.mapping(ref)
	if err != nil && !meta.IsNoMatchError(err) {
		return false, classify("discover "+ref.String(), err)
	}
	declared, found, derr := declaredScope(ref, objs)
	switch {
	case derr != nil:
		return false, refuse(o.where(), derr)
	case err == nil && found && declared != (m.Scope.Name() == meta.RESTScopeNameNamespace):
		return false, refuse(o.where(), fmt.Errorf("the cluster serves this kind with another scope than the application's CustomResourceDefinition declares, and a CRD's scope cannot change; fix spec.scope of the CRD"))
	case err == nil:
		return m.Scope.Name() == meta.RESTScopeNameNamespace, nil
	case found:
		return declared, nil
	}
	return false, refuse(o.where(), fmt.Errorf("cannot tell whether this kind is namespaced or cluster-scoped: the cluster does not serve it and no CustomResourceDefinition among the application's manifests defines it; install the CRD first, include it in the application, or fix apiVersion"))
}

// declaredScope returns whether the CustomResourceDefinitions among objs
// declare ref's kind namespaced, and whether one declares it at all.
// CRDs that disagree, or a scope that is neither Namespaced nor Cluster,
// are an error.
func declaredScope(ref objectRef, objs []object) (namespaced, found bool, err error) {
	var scopes []string
	for _, o := range objs {
		if o.ref().groupKind() != crdGroupKind {
			continue
		}
		group, _, _ := unstructured.NestedString(o.u.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.u.Object, "spec", "names", "kind")
		if group != ref.Group || kind != ref.Kind {
			continue
		}
		scope, _, _ := unstructured.NestedString(o.u.Object, "spec", "scope")
		if scope != scopeNamespaced && scope != scopeCluster {
			return false, false, fmt.Errorf("CustomResourceDefinition %s (%s) declares spec.scope %q; use Namespaced or Cluster", o.u.GetName(), o.source, scope)
		}
		scopes = append(scopes, scope)
	}
	for _, s := range scopes {
		if s != scopes[0] {
			return false, false, errors.New("several CustomResourceDefinitions of the application define this kind with different scopes; keep one")
		}
	}
	return len(scopes) > 0 && scopes[0] == scopeNamespaced, len(scopes) > 0, nil
}
