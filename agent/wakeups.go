package agent

import (
	"errors"
	"sync"

	"github.com/jibe-dev/jibe/reconcile"
)

// wakeups re-queue an application whose rollout waits for a change on a
// platform (a health wait) as soon as the platform reports one
// (reconcile.Watcher), instead of when the wait's timer fires. A change
// reported while the application is being reconciled is kept, so that a
// wait that began on a state the change already replaced is evaluated
// again at once.
type wakeups struct {
	mu sync.Mutex
	// keys are the applications being reconciled or waiting on a change,
	// by queue key.
	keys map[string]*wakeup
	// woken are the keys queued again by a change and not yet taken by
	// the work queue's lanes.
	woken map[string]bool
}

// wakeup is the state of one application's key.
type wakeup struct {
	// waiting: the key waits on a change (set once its reconcile ended so).
	waiting bool
	// changed: a change was reported while the key was being reconciled.
	changed bool
}

// begin notes that key is being reconciled.
func (w *wakeups) begin(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.keys == nil {
		w.keys = map[string]*wakeup{}
	}
	w.keys[key] = &wakeup{}
}

// end notes how key's reconcile ended and reports whether it must be
// reconciled again at once: it waits on a change that was reported while
// it ran.
func (w *wakeups) end(key string, err error) bool {
	var waiting *reconcile.WaitingError
	onChange := errors.As(err, &waiting) && waiting.OnChange
	w.mu.Lock()
	defer w.mu.Unlock()
	k := w.keys[key]
	if !onChange {
		delete(w.keys, key)
		return false
	}
	if k == nil {
		k = &wakeup{}
		w.keys[key] = k
	}
	again := k.changed
	k.waiting, k.changed = !again, false
	if again {
		w.markWoken(key)
	}
	return again
}

// markWoken notes that key is queued because of a change; w.mu is held.
func (w *wakeups) markWoken(key string) {
	if w.woken == nil {
		w.woken = map[string]bool{}
	}
	w.woken[key] = true
}

// take reports whether key was queued because of a change, and forgets
// it: the work queue's lanes put it first.
func (w *wakeups) take(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	woken := w.woken[key]
	delete(w.woken, key)
	return woken
}

// wake reports whether key must be queued now that a change was reported
// for it: it waits on one; the work queue then takes it before keys not
// woken. A change during its reconcile is kept for end.
func (w *wakeups) wake(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := w.keys[key]
	switch {
	case k == nil:
		return false
	case k.waiting:
		k.waiting = false
		w.markWoken(key)
		return true
	}
	k.changed = true
	return false
}

// watchPlatforms has every platform that reports changes wake the
// applications it names.
func (a *Agent) watchPlatforms() {
	for _, p := range a.opts.Platforms {
		if w, ok := p.(reconcile.Watcher); ok {
			w.Watch(a.changed)
		}
	}
}

// changed queues application id at once if its rollout waits on a change.
func (a *Agent) changed(id reconcile.AppID) {
	a.mu.Lock()
	st := a.byID[id]
	a.mu.Unlock()
	if st != nil && a.wakes.wake(st.key) {
		a.queue.Add(st.key)
	}
}
