package reconcile

import (
	"sync"
	"time"
)

// How soon a waiting health step is evaluated again.
const (
	// minHealthPoll is the first re-check after a step starts or its
	// platform's answer changes: soon after an action.
	minHealthPoll = time.Second
	// healthPoll is the longest interval between re-checks while a
	// platform's answer stays the same.
	healthPoll = 5 * time.Second
	// watchedHealthPoll is the safety net of a platform that reports
	// changes (Watcher): its events re-queue the wait, so the timer only
	// covers what a watch could miss.
	watchedHealthPoll = 30 * time.Second
)

// Watcher is a Platform that reports changes to what its deployments'
// health depends on as they happen (Kubernetes: the watch events its
// caches receive). A wait on such a platform's health is evaluated again
// when it reports a change, rather than on a timer.
type Watcher interface {
	// Watch has changed called, on any goroutine and without blocking
	// for long, with the application of a deployment whose health may
	// have changed since the platform last reported it. Call it once,
	// before the first deployment.
	Watch(changed func(AppID))
}

// pacer spaces the re-checks of waiting health steps on platforms that
// do not report changes: minHealthPoll after the step starts or the
// answer changes, then backing off, doubling up to healthPoll while
// nothing changes. The zero value is ready; it is safe for concurrent
// use and forgets a rollout when it ends.
type pacer struct {
	mu    sync.Mutex
	waits map[string]paced // by rollout ID
}

// paced is the last answer of a rollout's waiting step and since when it
// has been the same.
type paced struct {
	step   int
	reason string
	since  time.Time
}

// next returns when to evaluate rollout id's step again, given its
// platform's answer reason at time now.
func (p *pacer) next(id string, step int, reason string, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waits == nil {
		p.waits = map[string]paced{}
	}
	w, ok := p.waits[id]
	if !ok || w.step != step || w.reason != reason {
		w = paced{step: step, reason: reason, since: now}
		p.waits[id] = w
	}
	return backOff(now.Sub(w.since))
}

// backOff is the interval after an answer has stayed the same for
// unchanged: minHealthPoll, doubled each time it has stayed the same as
// long again, up to healthPoll.
func backOff(unchanged time.Duration) time.Duration {
	d := minHealthPoll
	for d < healthPoll && unchanged >= d {
		d *= 2
	}
	return min(d, healthPoll)
}

// forget drops what p knows of rollout id.
func (p *pacer) forget(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waits, id)
}

// healthWait returns the WaitingError of a health wait on p: re-queued
// by the platform's changes with a long safety net when p is a Watcher,
// else on the pacer's cadence.
func (x *Executor) healthWait(p Platform, r *Rollout, reason string) *WaitingError {
	if _, ok := p.(Watcher); ok {
		return &WaitingError{Reason: reason, RequeueAfter: watchedHealthPoll, OnChange: true}
	}
	return &WaitingError{Reason: reason, RequeueAfter: x.pace.next(r.ID, r.Next, reason, x.now()), OnChange: true}
}
