package kubejournal

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// observeEvent records an object the informer delivered, and reports a
// change of its part to the listeners.
func (s *Store) observeEvent(obj any) {
	if cm, ok := obj.(*corev1.ConfigMap); ok && s.observe(cm) {
		s.notify(cm.Annotations[AnnotationPart])
	}
}

// forgetEvent removes an object the informer saw deleted, and reports a
// change of its part to the listeners.
func (s *Store) forgetEvent(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return
	}
	part := cm.Annotations[AnnotationPart]
	if part != "" && s.forget(part, cm) {
		s.notify(part)
	}
}

// forget removes cm, an object of part, unless the copy holds a newer
// version of it, and reports whether part changed.
func (s *Store) forget(part string, cm *corev1.ConfigMap) bool {
	if cm.Labels[LabelSpill] == "true" {
		return s.setPart(part, func(p *partState) *partState { return p.withSpill(part, cm, nil) })
	}
	return s.setPart(part, func(p *partState) *partState {
		if p == nil || p.main == nil || p.main.Name != cm.Name || newer(p.main.ResourceVersion, cm.ResourceVersion) {
			return p
		}
		return p.withMain(part, nil, nil)
	})
}

// forgetMain removes part's object, found missing.
func (s *Store) forgetMain(part string) {
	s.setPart(part, func(p *partState) *partState {
		if p == nil {
			return nil
		}
		return p.withMain(part, nil, nil)
	})
}

// observe records cm, one of the journal's objects read or written,
// unless the copy holds a newer version of it, and reports whether its
// part changed.
func (s *Store) observe(cm *corev1.ConfigMap) bool {
	part := cm.Annotations[AnnotationPart]
	if part == "" {
		return false
	}
	recs, err := decode(part, cm)
	if err != nil {
		s.opts.Logger.Error("journal object ignored: a data key is not one the journal writes",
			"object", cm.Name, "namespace", cm.Namespace, "err", err)
		return false
	}
	if cm.Labels[LabelSpill] == "true" {
		return s.setPart(part, func(p *partState) *partState {
			if p != nil {
				if old, ok := p.spills[cm.Name]; ok && !newer(cm.ResourceVersion, old.obj.ResourceVersion) {
					return p
				}
			}
			return p.withSpill(part, cm, recs)
		})
	}
	return s.setPart(part, func(p *partState) *partState {
		if p != nil && p.main != nil && !newer(cm.ResourceVersion, p.main.ResourceVersion) {
			return p
		}
		return p.withMain(part, cm, recs)
	})
}

// setPart replaces part's state by change's result, and the index with
// it, and reports whether it changed.
func (s *Store) setPart(part string, change func(*partState) *partState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.parts[part]
	n := change(old)
	if n == old {
		return false
	}
	var before, after records
	if old != nil {
		before = old.merged
	}
	if n != nil {
		after = n.merged
	}
	s.ix.replace(before, after)
	if n == nil {
		delete(s.parts, part)
		return true
	}
	s.parts[part] = n
	return true
}

// OnPartChange is reconcile.Notifier's: fn is called on the informer's
// goroutine after each change of a part it delivers.
func (s *Store) OnPartChange(fn func(part string)) {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	s.listeners = append(s.listeners, fn)
}

// notify calls the listeners with part.
func (s *Store) notify(part string) {
	s.listenMu.Lock()
	fns := slices.Clone(s.listeners)
	s.listenMu.Unlock()
	for _, fn := range fns {
		fn(part)
	}
}
