// Package clockstep drives a k8s.io/utils fake clock through the waits of
// the code under test, so that retries and backoffs pass without sleeping
// and tests can assert how long each wait was.
package clockstep

import (
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// Stepper moves a fake clock whenever something waits on it, by Step at a
// time until nothing waits any more, and records each wait's length
// (rounded up to a multiple of Step).
type Stepper struct {
	// Clock is the fake clock being driven.
	Clock *clocktesting.FakeClock
	step  time.Duration

	mu    sync.Mutex
	waits []time.Duration
}

// Start drives clock in steps of step until the test ends.
func Start(t testing.TB, clock *clocktesting.FakeClock, step time.Duration) *Stepper {
	s := &Stepper{Clock: clock, step: step}
	done := make(chan struct{})
	finished := make(chan struct{})
	t.Cleanup(func() { close(done); <-finished })
	go func() {
		defer close(finished)
		s.run(done)
	}()
	return s
}

// run polls for waiters every millisecond until done is closed.
func (s *Stepper) run(done <-chan struct{}) {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		if s.Clock.HasWaiters() {
			s.passWait()
		}
	}
}

// passWait steps the clock until nothing waits, recording the wait before
// each step so that whoever it wakes already sees it in Waits.
func (s *Stepper) passWait() {
	s.mu.Lock()
	s.waits = append(s.waits, 0)
	n := len(s.waits) - 1
	s.mu.Unlock()
	for s.Clock.HasWaiters() {
		s.mu.Lock()
		s.waits[n] += s.step
		s.mu.Unlock()
		s.Clock.Step(s.step)
	}
}

// Waits returns the waits seen so far, in order.
func (s *Stepper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}
