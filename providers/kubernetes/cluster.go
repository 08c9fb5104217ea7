package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/jibe-dev/jibe/reconcile"
)

// crdEstablishedTimeout bounds the wait for applied CRDs to be served.
const crdEstablishedTimeout = time.Minute

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// cluster holds the clients of one cluster.
type cluster struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	cache  *liveCache

	// mappings memoises the mapper's answers by kind and version until
	// discovery is read again (resetDiscovery): the mapper searches every
	// served group on each call, which an idle drift pass over many
	// applications would pay for every object.
	mu       sync.Mutex
	gen      uint64
	mappings map[mappingKey]*meta.RESTMapping
}

type mappingKey struct {
	gk      schema.GroupKind
	version string
}

// newCluster builds the clients of cfg. Discovery is cached in memory and
// refreshed only when a kind is unknown or CRDs were applied.
func newCluster(base context.Context, cfg *rest.Config) (*cluster, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, reconcile.Stalled(fmt.Errorf("dynamic client: %w", err))
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, reconcile.Stalled(fmt.Errorf("discovery client: %w", err))
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	return &cluster{dyn: dyn, mapper: mapper, cache: newLiveCache(base, dyn)}, nil
}

// mapping returns how ref's kind is served, refreshing discovery once when
// the kind is unknown.
func (cl *cluster) mapping(ref objectRef) (*meta.RESTMapping, error) {
	key := mappingKey{ref.groupKind(), ref.Version}
	cl.mu.Lock()
	m, gen := cl.mappings[key], cl.gen
	cl.mu.Unlock()
	if m != nil {
		return m, nil
	}
	m, err := cl.mapper.RESTMapping(key.gk, key.version)
	if meta.IsNoMatchError(err) {
		cl.resetDiscovery()
		m, err = cl.mapper.RESTMapping(key.gk, key.version)
		gen++
	}
	if err == nil {
		cl.mu.Lock()
		if cl.gen == gen { // not reset meanwhile: the answer is current
			if cl.mappings == nil {
				cl.mappings = map[mappingKey]*meta.RESTMapping{}
			}
			cl.mappings[key] = m
		}
		cl.mu.Unlock()
	}
	return m, err
}

// resetDiscovery makes the next mappings read discovery again.
func (cl *cluster) resetDiscovery() {
	cl.mu.Lock()
	cl.gen++
	clear(cl.mappings)
	cl.mu.Unlock()
	cl.mapper.Reset()
}

// resource returns the client of ref's resource.
func (cl *cluster) resource(ref objectRef) (dynamic.ResourceInterface, schema.GroupVersionResource, error) {
	m, err := cl.mapping(ref)
	if err != nil {
		return nil, schema.GroupVersionResource{}, classify("find "+ref.String(), err)
	}
	return cl.client(m, ref), m.Resource, nil
}

// client returns the client of ref's resource as m maps it.
func (cl *cluster) client(m *meta.RESTMapping, ref objectRef) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return cl.dyn.Resource(m.Resource).Namespace(ref.Namespace)
	}
	return cl.dyn.Resource(m.Resource)
}

// getDirect reads an object from the API server; nil when it does not exist.
func getDirect(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, ref objectRef) (*unstructured.Unstructured, error) {
	var ri dynamic.ResourceInterface = dyn.Resource(gvr)
	if ref.Namespace != "" {
		ri = dyn.Resource(gvr).Namespace(ref.Namespace)
	}
	u, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return u, classify("get "+ref.String(), err)
}

// get reads an object from the API server; nil when it does not exist.
func (cl *cluster) get(ctx context.Context, ref objectRef) (*unstructured.Unstructured, error) {
	_, gvr, err := cl.resource(ref)
	if err != nil {
		return nil, err
	}
	return getDirect(ctx, cl.dyn, gvr, ref)
}

// cached reads an object from the live cache; nil when it does not exist.
func (cl *cluster) cached(ctx context.Context, ref objectRef) (*unstructured.Unstructured, error) {
	_, gvr, err := cl.resource(ref)
	if err != nil {
		return nil, err
	}
	return cl.cache.get(ctx, gvr, ref)
}

// applyOne server-side applies one object as FieldManager, taking over
// fields other managers own when w.force is set. The object is admitted
// by w with the scope the cluster serves its kind with now, so that a
// scope that changed since the object was placed cannot slip through.
func (cl *cluster) applyOne(ctx context.Context, o object, w writeOpts) (*unstructured.Unstructured, error) {
	m, err := cl.mapping(o.ref())
	if err != nil {
		return nil, classify("find "+o.ref().String(), err)
	}
	if err := w.admitMapping(o.where(), o.ref(), m); err != nil {
		return nil, err
	}
	live, err := cl.client(m, o.ref()).Apply(ctx, o.u.GetName(), o.u, metav1.ApplyOptions{FieldManager: FieldManager, Force: w.force})
	if err != nil {
		return nil, classify("apply "+o.describe(), err)
	}
	cl.cache.noteWrite(o.ref().id(), live.GetResourceVersion())
	return live, nil
}

// applyAll applies objs: namespaces and CRDs first, then, once the CRDs are
// established, the rest in manifest order. It stops at the first error.
func (cl *cluster) applyAll(ctx context.Context, objs []object, w writeOpts) error {
	first := slices.DeleteFunc(slices.Clone(objs), func(o object) bool { return o.ref().applyRank() != 0 })
	rest := slices.DeleteFunc(slices.Clone(objs), func(o object) bool { return o.ref().applyRank() == 0 })
	for _, o := range first {
		if _, err := cl.applyOne(ctx, o, w); err != nil {
			return err
		}
	}
	if err := cl.awaitCRDs(ctx, first); err != nil {
		return err
	}
	for _, o := range rest {
		if _, err := cl.applyOne(ctx, o, w); err != nil {
			return err
		}
	}
	return nil
}

// awaitCRDs waits until the CRDs among objs are Established, then refreshes
// discovery so that their kinds map.
func (cl *cluster) awaitCRDs(ctx context.Context, objs []object) error {
	var names []string
	for _, o := range objs {
		if o.ref().groupKind() == crdGroupKind {
			names = append(names, o.u.GetName())
		}
	}
	if len(names) == 0 {
		return nil
	}
	for _, name := range names {
		if err := cl.awaitEstablished(ctx, name); err != nil {
			return err
		}
	}
	cl.resetDiscovery()
	return nil
}

var crdGroupKind = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}

func (cl *cluster) awaitEstablished(ctx context.Context, name string) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, crdEstablishedTimeout, true, func(ctx context.Context) (bool, error) {
		u, err := cl.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err
			return false, nil
		}
		return conditionStatus(u, "Established") == "True", nil
	})
	if err != nil {
		return reconcile.Waiting(requeueAfter, "waiting for CustomResourceDefinition %s to be established (%v)", name, errors.Join(err, last))
	}
	return nil
}

// deleteOne deletes an object; one already gone counts as deleted. The
// object is admitted by w first, so that an inventory naming objects the
// source may not write prunes none of them.
func (cl *cluster) deleteOne(ctx context.Context, ref objectRef, w writeOpts) error {
	m, err := cl.mapping(ref)
	if meta.IsNoMatchError(err) {
		return nil // The kind is gone (its CRD was deleted), and its objects with it.
	}
	if err != nil {
		return classify("find "+ref.String(), err)
	}
	if err := w.admitMapping(ref.String(), ref, m); err != nil {
		return err
	}
	policy := metav1.DeletePropagationBackground
	err = cl.client(m, ref).Delete(ctx, ref.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) {
		return classify("delete "+ref.String(), err)
	}
	cl.cache.noteWrite(ref.id(), "")
	return nil
}
