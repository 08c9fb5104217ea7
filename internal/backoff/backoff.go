// Package backoff is the one exponential backoff of the agent: the
// engine's retries of transient errors (through the work queue), the
// sources' polls of failing repositories, Slack deliveries and GitHub
// commit statuses all space their retries with it. AWS SDK calls keep the
// SDK's own retryer.
//
// A Backoff is a value with no state and no clock: it computes delays, and
// callers wait them out on their injected clock, so that tests driving a
// fake clock see exactly the delays asked for.
package backoff

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Backoff computes retry delays: Base before the first retry, doubled for
// each further one up to Max, spread by up to ±Jitter.
type Backoff struct {
	// Base is the delay before the first retry, and the least delay.
	Base time.Duration
	// Max caps the delay before jitter. A Max below Base is Base.
	Max time.Duration
	// Jitter spreads each delay uniformly by up to ±Jitter (a fraction
	// of it), so that many callers failing together do not retry in step.
	// Zero or negative for none.
	Jitter float64
}

// Ceiling returns the delay before retry n (1 for the first) without
// jitter: Base·2ⁿ⁻¹, at most Max, never less than Base. n below 1 counts
// as 1.
func (b Backoff) Ceiling(n int) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return max(min(d, b.Max), b.Base)
}

// Delay returns the delay before retry n: Ceiling(n) spread by Jitter,
// drawing from r (the process-wide source when nil).
func (b Backoff) Delay(n int, r *rand.Rand) time.Duration {
	d := b.Ceiling(n)
	if b.Jitter <= 0 || d <= 0 {
		return d
	}
	u := rand.Float64
	if r != nil {
		u = r.Float64
	}
	return time.Duration(float64(d) * (1 + b.Jitter*(2*u()-1)))
}

// PerItem counts the consecutive failures of each item and spaces its
// retries with a Backoff. It has the methods of client-go's
// workqueue.TypedRateLimiter, so a work queue can be limited by it. It is
// safe for concurrent use.
type PerItem[T comparable] struct {
	// Backoff spaces the retries of one item.
	Backoff Backoff

	mu       sync.Mutex
	failures map[T]int
}

// NewPerItem returns a PerItem spacing retries with b.
func NewPerItem[T comparable](b Backoff) *PerItem[T] {
	return &PerItem[T]{Backoff: b, failures: map[T]int{}}
}

// When records a failure of item and returns the delay before its retry.
func (p *PerItem[T]) When(item T) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures[item]++
	return p.Backoff.Delay(p.failures[item], nil)
}

// Forget clears item's failures: its next retry waits Base again.
func (p *PerItem[T]) Forget(item T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.failures, item)
}

// NumRequeues returns how many consecutive failures item has had.
func (p *PerItem[T]) NumRequeues(item T) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failures[item]
}
