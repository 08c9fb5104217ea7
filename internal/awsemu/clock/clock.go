// Package clock provides the emulated time source of the AWS emulator.
//
// The emulator never reads the wall clock directly: every time-dependent
// transition (a task starting, a target becoming healthy, a Lambda update
// finishing) is evaluated against a Clock. Tests use a Manual clock and move
// it explicitly; the demo uses a Scaled clock that follows real time,
// optionally sped up.
package clock

import (
	"sync"
	"time"
)

// Clock is a source of emulated time.
type Clock interface {
	// Now returns the current emulated time.
	Now() time.Time
	// Advance moves emulated time forward by d. Negative durations are ignored.
	Advance(d time.Duration)
}

// Epoch is the default start of emulated time: a fixed instant, so that
// tests and golden files are reproducible.
var Epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Manual is a Clock that only moves when Advance is called.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a Manual clock reading start.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start}
}

// Now returns the current emulated time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
}

// Scaled is a Clock that follows the wall clock, multiplied by a speed
// factor, plus any offset added with Advance.
type Scaled struct {
	mu     sync.Mutex
	start  time.Time
	base   time.Time
	speed  float64
	offset time.Duration
	wall   func() time.Time
}

// NewScaled returns a Clock reading start now and then moving speed times
// faster than real time. A speed below or equal to zero means 1.
func NewScaled(start time.Time, speed float64) *Scaled {
	if speed <= 0 {
		speed = 1
	}
	return &Scaled{start: time.Now(), base: start, speed: speed, wall: time.Now}
}

// Now returns the current emulated time.
func (s *Scaled) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	elapsed := time.Duration(float64(s.wall().Sub(s.start)) * s.speed)
	return s.base.Add(elapsed + s.offset)
}

// Advance jumps the clock forward by d on top of the elapsed real time.
func (s *Scaled) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}
