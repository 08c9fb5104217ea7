package kubernetes

import (
	"sync"

	"github.com/jibe-dev/jibe/reconcile"
)

// watchKey is where an application's objects live: its cluster, a
// namespace ("" for cluster-scoped objects) and its jibe.dev/app label.
type watchKey struct {
	cluster, namespace, app string
}

// watchers maps the informers' events to the applications whose health
// they may change. An application is registered by the objects its
// health is read from, so that an event reaches only the applications
// (of any source) that deploy objects there under that label.
type watchers struct {
	mu     sync.Mutex
	notify func(reconcile.AppID)
	apps   map[watchKey]map[reconcile.AppID]bool
}

// Watch has changed called with the application of a deployment whose
// objects changed in the cluster (added, updated or deleted, as the live
// caches' watches see it) once its health has been read. changed is
// called on the informers' goroutines and must not block.
func (p *Platform) Watch(changed func(reconcile.AppID)) {
	p.watch.mu.Lock()
	defer p.watch.mu.Unlock()
	p.watch.notify = changed
}

// add registers d's application for the events of objs.
func (w *watchers) add(d *reconcile.Deployment, objs []object) {
	id := reconcile.AppID{Source: d.Source, Name: d.App}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.apps == nil {
		w.apps = map[watchKey]map[reconcile.AppID]bool{}
	}
	for _, o := range objs {
		k := watchKey{cluster: d.Cluster, namespace: o.ref().Namespace, app: d.App}
		if w.apps[k] == nil {
			w.apps[k] = map[reconcile.AppID]bool{}
		}
		w.apps[k][id] = true
	}
}

// changed tells the applications registered for an object of app in
// namespace of cluster that it changed.
func (w *watchers) changed(cluster, namespace, app string) {
	w.mu.Lock()
	notify := w.notify
	var ids []reconcile.AppID
	for id := range w.apps[watchKey{cluster: cluster, namespace: namespace, app: app}] {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	if notify == nil {
		return
	}
	for _, id := range ids {
		notify(id)
	}
}
