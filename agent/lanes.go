package agent

import (
	"slices"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
)

// lanes is the storage of the agent's work queue (a workqueue.Queue, used
// under the queue's lock): applications woken by a change on a platform
// while their rollout waits on it (see wakeups) are taken before anything
// else queued (new revisions, timers, retries), each lane first in, first
// out. In a sync of many applications, a rollout whose platform got where
// it waited for goes on at once instead of after every application queued
// before the change. Woken keys come only from platform changes to
// rollouts in progress, so the other lane waits at most until those
// rollouts stop changing.
type lanes struct {
	// woken reports, once, whether key was queued by a wake.
	woken       func(key string) bool
	first, rest []string
}

// newQueue returns the agent's work queue: retries spaced by limiter and
// delays over lanes, with the agent's queue metrics.
func newQueue(clk clock.WithTicker, metrics workqueue.MetricsProvider, limiter workqueue.TypedRateLimiter[string],
	woken func(string) bool) workqueue.TypedRateLimitingInterface[string] {
	const name = "applications"
	base := workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[string]{
		Name: name, Clock: clk, MetricsProvider: metrics, Queue: &lanes{woken: woken}})
	delaying := workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[string]{
		Name: name, Clock: clk, MetricsProvider: metrics, Queue: base})
	return workqueue.NewTypedRateLimitingQueueWithConfig(limiter,
		workqueue.TypedRateLimitingQueueConfig[string]{Name: name, Clock: clk, MetricsProvider: metrics, DelayingQueue: delaying})
}

// Push implements workqueue.Queue.
func (l *lanes) Push(key string) {
	if l.woken(key) {
		l.first = append(l.first, key)
		return
	}
	l.rest = append(l.rest, key)
}

// Touch implements workqueue.Queue: a queued key that is woken moves to
// the end of the first lane.
func (l *lanes) Touch(key string) {
	if !l.woken(key) {
		return
	}
	if i := slices.Index(l.rest, key); i >= 0 {
		l.rest = slices.Delete(l.rest, i, i+1)
		l.first = append(l.first, key)
	}
}

// Len implements workqueue.Queue.
func (l *lanes) Len() int { return len(l.first) + len(l.rest) }

// Pop implements workqueue.Queue; the queue calls it only when Len > 0.
func (l *lanes) Pop() string {
	lane := &l.rest
	if len(l.first) > 0 {
		lane = &l.first
	}
	key := (*lane)[0]
	*lane = (*lane)[1:]
	return key
}
