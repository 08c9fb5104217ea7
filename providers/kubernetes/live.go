package kubernetes

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// Bounds of the waits of the live cache.
const (
	// syncTimeout bounds the first list of a new informer.
	syncTimeout = 30 * time.Second
	// freshTimeout bounds the wait for the cache to see Jibe's own writes,
	// after which the object is read directly.
	freshTimeout = 3 * time.Second
)

// liveCache serves Diff's reads of live objects from informers, one per
// resource (or per resource and namespace when the agent may not watch
// cluster-wide), started on first use and fed by a watch, so an idle
// application costs no request. Informers see only objects labelled
// jibe.dev/app. Objects Jibe wrote are read from the cache once it has
// caught up with the write (or directly after freshTimeout).
type liveCache struct {
	dyn dynamic.Interface
	// base bounds the informers' lives (the Platform's).
	base context.Context

	mu      sync.Mutex // guards entries; held while an informer starts
	entries map[cacheKey]*cacheEntry

	// changed is told the namespace and jibe.dev/app label of every object
	// an informer sees added, updated or deleted; nil for none. Set before
	// the first informer starts.
	changed func(namespace, app string)

	wmu sync.Mutex // guards written
	// written holds the resourceVersion of Jibe's last write of each object
	// the cache has not confirmed yet ("" for a delete).
	written map[string]string
}

type cacheKey struct {
	gvr       schema.GroupVersionResource
	namespace string
}

type cacheEntry struct {
	informer cache.SharedIndexInformer
	// direct is set when the informer could not start (e.g. no list or
	// watch permission): reads go to the API server.
	direct bool
	// stop stops the informer.
	stop context.CancelFunc
}

func newLiveCache(base context.Context, dyn dynamic.Interface) *liveCache {
	return &liveCache{dyn: dyn, base: base, entries: map[cacheKey]*cacheEntry{}, written: map[string]string{}}
}

// handler passes the informers' events on to c.changed.
func (c *liveCache) handler() cache.ResourceEventHandler {
	note := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if m, err := meta.Accessor(obj); err == nil && c.changed != nil {
			c.changed(m.GetNamespace(), m.GetLabels()[LabelApp])
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    note,
		UpdateFunc: func(_, obj any) { note(obj) },
		DeleteFunc: note,
	}
}

// noteWrite records that Jibe wrote (or, with rv "", deleted) an object.
func (c *liveCache) noteWrite(id, rv string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.written[id] = rv
}

// get returns the live object (nil when it does not exist).
func (c *liveCache) get(ctx context.Context, gvr schema.GroupVersionResource, ref objectRef) (*unstructured.Unstructured, error) {
	e := c.entry(ctx, gvr, ref.Namespace)
	if e.direct {
		return getDirect(ctx, c.dyn, gvr, ref)
	}
	key := ref.Name
	if ref.Namespace != "" {
		key = ref.Namespace + "/" + ref.Name
	}
	if c.awaitFresh(ctx, e, key, ref.id()) {
		return cached(e, key), nil
	}
	return getDirect(ctx, c.dyn, gvr, ref)
}

// awaitFresh waits until the cache reflects Jibe's last write of the
// object, and reports whether it does.
func (c *liveCache) awaitFresh(ctx context.Context, e *cacheEntry, key, id string) bool {
	c.wmu.Lock()
	want, pending := c.written[id]
	c.wmu.Unlock()
	if !pending {
		return true
	}
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, freshTimeout, true, func(context.Context) (bool, error) {
		return isFresh(cached(e, key), want), nil
	})
	// Either the cache caught up or the caller reads directly: the write
	// needs no more checking (someone else may have changed the object).
	c.wmu.Lock()
	if c.written[id] == want {
		delete(c.written, id)
	}
	c.wmu.Unlock()
	return err == nil
}

// isFresh reports whether obj is at least at resourceVersion want, or
// absent when want is "" (deleted). Resource versions are compared as
// numbers, as etcd-backed API servers issue them.
func isFresh(obj *unstructured.Unstructured, want string) bool {
	if want == "" {
		return obj == nil
	}
	if obj == nil {
		return false
	}
	have := obj.GetResourceVersion()
	h, err1 := strconv.ParseUint(have, 10, 64)
	w, err2 := strconv.ParseUint(want, 10, 64)
	if err1 != nil || err2 != nil {
		return have == want
	}
	return h >= w
}

func cached(e *cacheEntry, key string) *unstructured.Unstructured {
	obj, ok, err := e.informer.GetStore().GetByKey(key)
	if err != nil || !ok {
		return nil
	}
	u, _ := obj.(*unstructured.Unstructured)
	return u
}

// entry returns the informer serving objects of gvr in namespace, starting
// it on first use: one cluster-wide informer per resource when the agent
// may list and watch it cluster-wide, else one per namespace.
func (c *liveCache) entry(ctx context.Context, gvr schema.GroupVersionResource, namespace string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	wide := c.lookup(ctx, cacheKey{gvr: gvr})
	if !wide.direct || namespace == "" {
		return wide
	}
	return c.lookup(ctx, cacheKey{gvr: gvr, namespace: namespace})
}

// lookup returns the entry of key, starting its informer if needed. Only
// a started informer or a refusal to list is kept: after a timeout or a
// transient error, the next call tries again.
func (c *liveCache) lookup(ctx context.Context, key cacheKey) *cacheEntry {
	if e, ok := c.entries[key]; ok {
		return e
	}
	e, keep := c.start(ctx, key)
	if keep {
		c.entries[key] = e
	}
	return e
}

// start starts an informer, running until the cache's base context ends,
// and waits for its first list. An informer that may not list (forbidden)
// or does not list in time is stopped and the entry reads directly; keep
// reports whether that outcome is lasting (synced or forbidden).
func (c *liveCache) start(ctx context.Context, key cacheKey) (e *cacheEntry, keep bool) {
	tweak := func(o *metav1.ListOptions) { o.LabelSelector = LabelApp }
	inf := dynamicinformer.NewFilteredDynamicInformer(c.dyn, key.gvr, key.namespace, 0, cache.Indexers{}, tweak).Informer()
	_, _ = inf.AddEventHandler(c.handler())
	var forbidden atomic.Bool
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			forbidden.Store(true)
		}
	})
	run, stop := context.WithCancel(c.base)
	go inf.RunWithContext(run)
	_ = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, syncTimeout, true, func(context.Context) (bool, error) {
		return inf.HasSynced() || forbidden.Load(), nil
	})
	if !inf.HasSynced() {
		stop()
		return &cacheEntry{direct: true}, forbidden.Load()
	}
	return &cacheEntry{informer: inf, stop: stop}, true
}
